"""The dashboard's filters, shared by the page, the exports and ``/api/orders/`` (django-filter)."""

import copy

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from dms.core import filters as core_filters
from dms.core.tenancy import user_dealerships

from . import selectors
from .models import OrderKind, OrderStatus

SORT_CHOICES = [(key, key) for key in selectors.SORT_FIELDS] + [(f"-{key}", f"-{key}") for key in selectors.SORT_FIELDS]
YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


class _CopiedShallowly:
    """django-filter deep-copies every filter of a FilterSet per request — here ~1 ms spent copying lazy translations
    in choices. These filters keep no state of their own beyond ``model``/``parent`` (set on the copy), so a shallow
    copy serves the same.
    """

    def __deepcopy__(self, memo):
        clone = copy.copy(self)
        if clone.method is not None:
            clone.method = clone.method  # binds the filter's method to the copy, not to the class-level filter
        return clone


class MultipleChoiceFilter(_CopiedShallowly, django_filters.MultipleChoiceFilter):
    pass


class ChoiceFilter(_CopiedShallowly, django_filters.ChoiceFilter):
    pass


class IdFilter(_CopiedShallowly, core_filters.IdFilter):
    pass


class BooleanFilter(_CopiedShallowly, django_filters.BooleanFilter):
    pass


class DateFilter(_CopiedShallowly, django_filters.DateFilter):
    pass


class CharFilter(_CopiedShallowly, django_filters.CharFilter):
    pass


class CustomerOrderFilter(core_filters.FilterSet):
    """Validates the query parameters; the selector does the filtering (one place for page, exports and API)."""

    status = MultipleChoiceFilter(choices=OrderStatus.choices, label=_("Status"), method="_noop")
    kind = ChoiceFilter(choices=OrderKind.choices, label=_("Kind"), method="_noop")
    author = IdFilter(label=_("Author"), method="_noop", help_text=_("User id of the author"))
    manager = IdFilter(label=_("Parts manager"), method="_noop", help_text=_("User id of the parts manager"))
    overdue = BooleanFilter(label=_("ETA overdue"), method="_noop", widget=forms.Select(choices=YES_NO))
    on_waiting_lot = BooleanFilter(label=_("Car waits on the lot"), method="_noop", widget=forms.Select(choices=YES_NO))
    # Issue 15 item 8: received parts nobody collected whose supplier's return window is closing.
    return_due = BooleanFilter(
        label=_("Срок возврата поставщику истекает"), method="_noop", widget=forms.Select(choices=YES_NO)
    )
    date_from = DateFilter(label=_("Ordered from"), method="_noop", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DateFilter(label=_("Ordered to"), method="_noop", widget=forms.DateInput(attrs={"type": "date"}))
    search = CharFilter(
        label=_("Search"), method="_noop", help_text=_("Order number, customer, phone, VIN, plate or part")
    )
    sort = ChoiceFilter(
        choices=SORT_CHOICES,
        label=_("Sort"),
        method="_noop",
        help_text=_("Column to sort by; a leading minus sorts descending."),
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, dealership=None, today=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.dealership = dealership
        self.today = today

    def _noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.filter_customer_orders(
            queryset,
            status=data.get("status") or None,
            kind=data.get("kind") or None,
            author_id=data.get("author"),
            parts_manager_id=data.get("manager"),
            overdue=data.get("overdue"),
            on_waiting_lot=data.get("on_waiting_lot"),
            return_due=data.get("return_due"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            search=data.get("search") or "",
            sort=data.get("sort") or None,
            today=self.today,
            tz=self.dealership.tz if self.dealership is not None else None,
            today_by_dealership=self._today_by_dealership() if self.today is None else None,
        )

    def _today_by_dealership(self) -> dict | None:
        """Without one dealership (the API over all of the user's): each dealership's own date, so «overdue» says
        what each row's colour says (R1), not what the server's calendar does."""
        user = getattr(self.request, "user", None)
        if user is None:
            return None
        return {pk: selectors.local_today(dealership) for pk, dealership in user_dealerships(user).items()}
