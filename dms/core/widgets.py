"""Search-as-you-type pickers (issue 14 item 4): a <select> that Tom Select (static/js/pickers.js) fills from a
server-side search endpoint as the user types.

The page never receives the whole table: the <select> holds only the current choice. Validation stays on the
server — the form field is still a ``ModelChoiceField`` over the dealership-scoped queryset, so a forged id is "not
one of the choices" (``DealershipScopedFormMixin``).
"""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class SearchSelect(forms.Select):
    """A ``<select data-picker>`` searched at ``url`` (a URL name) with ``?q=``.

    ``depends_on`` maps a query parameter of the endpoint to the name of another field of the same form whose value
    narrows the search (``{"customer": "customer"}``: the vehicle picker lists the chosen customer's cars); when that
    field changes, this picker is emptied. ``params`` are fixed query parameters (``{"role": "parts_manager"}``).
    ``value_field`` is the key of the endpoint's results posted as the value (``"vin"`` for a field whose
    ``to_field_name`` is the VIN; the record id by default).
    """

    def __init__(
        self,
        *,
        url: str,
        depends_on: dict[str, str] | None = None,
        params: dict | None = None,
        value_field: str = "id",
        attrs=None,
    ):
        super().__init__(attrs=attrs)
        self.url = url
        self.value_field = value_field
        self.depends_on = dict(depends_on or {})
        self.params = dict(params or {})

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.depends_on = dict(self.depends_on)
        copy.params = dict(self.params)
        return copy

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs.update(
            {
                "data-picker": "search",
                "data-url": reverse(self.url),
                "data-placeholder": str(_("Type to search…")),
                "data-no-results": str(_("Nothing found")),
                "data-loading": str(_("Searching…")),
                "data-clear": str(_("Clear the choice")),
                "data-value-field": self.value_field,
            }
        )
        if self.depends_on:
            widget_attrs["data-depends-on"] = ",".join(f"{param}:{field}" for param, field in self.depends_on.items())
        if self.params:
            widget_attrs["data-params"] = urlencode(self.params)
        return context

    def optgroups(self, name, value, attrs=None):
        # Only the current choice (and the empty one): never the whole queryset.
        full = self.choices
        self.choices = self._current_choices(value)
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = full

    def _current_choices(self, value) -> list:
        chosen = [str(v) for v in value if v not in (None, "")]
        choices = self.choices
        empty = [("", "")]
        if not chosen:
            return empty
        if isinstance(choices, ModelChoiceIterator):
            key = choices.field.to_field_name or "pk"
            try:
                objects = list(choices.queryset.filter(**{f"{key}__in": chosen})[: len(chosen)])
            except (ValueError, TypeError, ValidationError):
                return empty  # a malformed posted value: the field reports it, the widget shows nothing
            return empty + [choices.choice(obj) for obj in objects]
        return empty + [(v, label) for v, label in choices if str(v) in chosen]
