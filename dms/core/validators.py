"""Control characters at the input boundary of every text field (issue 12 item 2).

A unit separator (U+001F) in a vehicle's make once broke the order dashboard for a whole dealership; NULs make
PostgreSQL refuse a query; a bare CR breaks line-based formats (.ics, CSV). So text input is *rejected* (a 400 in
the API, a form error on a page; never silently changed) when it carries a C0 control character (U+0000–U+001F)
or DEL (U+007F):

* single-line text (``CharField``) allows none of them — not even a line break or a tab;
* multi-line text (``TextField``, a ``Textarea`` form field, a DRF field styled as a textarea) allows line breaks
  (``\\n`` and ``\\r\\n``, which browsers send) and tabs, but not a bare CR.

One validator class does both; :func:`install_text_validators` (called once from ``CoreConfig.ready``) attaches it
to every text field the project reads input through: each ``CharField``/``TextField`` of the project's models
(so model forms, model serializers and the admin validate it, and a ``pre_save`` guard keeps services that take
raw strings from storing it), every ``forms.CharField`` and every DRF ``serializers.CharField`` (plain forms and
serializers included). Query strings are checked by :class:`dms.core.middleware.ControlCharacterQueryMiddleware`.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Every C0 control and DEL; the multi-line pattern leaves out TAB, LF and a CR that starts a CRLF.
_SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")

# The apps whose models' text fields get the validator: the project's own apps and the user model they show.
PROJECT_APP_LABELS = frozenset({"core", "orders", "parts", "service", "claims", "notifications", "auth"})


def find_control_character(value: str, *, multiline: bool) -> str | None:
    """The first control character ``value`` may not contain (None when it is clean)."""
    match = (_MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN).search(value)
    return match.group()[0] if match else None


@deconstructible
class ControlCharacterValidator:
    """Rejects C0 control characters and DEL; ``multiline`` text may hold line breaks (LF, CRLF) and tabs."""

    code = "control_character"

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if value is None or isinstance(value, dict | list | tuple):  # a form JSONField's parsed value, not text
            return
        character = find_control_character(str(value), multiline=self.multiline)
        if character is None:
            return
        if not self.multiline and character in "\n\r\t":
            message = _("Enter a single line: line breaks, tabs and control characters (%(code)s) are not allowed.")
        else:
            message = _("Remove the control character %(code)s: such characters are not allowed in text.")
        raise ValidationError(message, code=self.code, params={"code": f"U+{ord(character):04X}"})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ControlCharacterValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((ControlCharacterValidator, self.multiline))


validate_single_line_text = ControlCharacterValidator(multiline=False)
validate_multi_line_text = ControlCharacterValidator(multiline=True)


def _has_text_validator(validators: list) -> bool:
    return any(isinstance(validator, ControlCharacterValidator) for validator in validators)


def text_model_fields(model: type) -> list:
    """The model's own text fields (``CharField``, ``TextField`` and their subclasses) that take input."""
    from django.db import models

    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and not field.primary_key
    ]


def _attach_to_model_fields() -> None:
    from django.apps import apps
    from django.db import models

    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APP_LABELS:
            continue
        for field in text_model_fields(model):
            # Field.validators is a cached list; Django appends its own MaxLengthValidator the same way. Kept out of
            # the field's deconstruction, so migrations do not change.
            if not _has_text_validator(field.validators):
                multiline = isinstance(field, models.TextField)
                field.validators.append(validate_multi_line_text if multiline else validate_single_line_text)


def _guard_model_saves(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Services that store a string read straight from a request (no form, no serializer) are held too: a save
    whose text fields carry a control character raises the field's ValidationError (400 / a form error)."""
    if raw or sender._meta.app_label not in PROJECT_APP_LABELS:
        return
    errors: dict[str, list[ValidationError]] = {}
    update_fields = kwargs.get("update_fields")
    for field in text_model_fields(sender):
        if update_fields is not None and field.name not in update_fields:
            continue
        value = getattr(instance, field.attname, None)
        if not isinstance(value, str):
            continue
        for validator in field.validators:
            if isinstance(validator, ControlCharacterValidator):
                try:
                    validator(value)
                except ValidationError as error:
                    errors.setdefault(field.name, []).append(error)
    if errors:
        raise ValidationError(errors)


def _extend_form_char_field() -> None:
    from django import forms

    original_init = forms.CharField.__init__
    if getattr(original_init, "_checks_control_characters", False):
        return

    def __init__(self: forms.CharField, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if not _has_text_validator(self.validators):
            multiline = isinstance(self.widget, forms.Textarea)
            self.validators.append(validate_multi_line_text if multiline else validate_single_line_text)

    __init__._checks_control_characters = True  # type: ignore[attr-defined]
    forms.CharField.__init__ = __init__  # type: ignore[method-assign]


def _extend_serializer_char_field() -> None:
    from rest_framework import serializers

    original_init = serializers.CharField.__init__
    if getattr(original_init, "_checks_control_characters", False):
        return

    def __init__(self: serializers.CharField, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if not _has_text_validator(self.validators):
            # ModelSerializer styles a TextField's field as a textarea; a plain one may opt in the same way.
            multiline = self.style.get("base_template") == "textarea.html"
            self.validators.append(validate_multi_line_text if multiline else validate_single_line_text)

    __init__._checks_control_characters = True  # type: ignore[attr-defined]
    serializers.CharField.__init__ = __init__  # type: ignore[method-assign]


def install_text_validators() -> None:
    """Attach the validator to every text input of the project (issue 12 item 2); idempotent."""
    from django.db.models.signals import pre_save

    _attach_to_model_fields()
    pre_save.connect(_guard_model_saves, dispatch_uid="core.text_control_characters")
    _extend_form_char_field()
    _extend_serializer_char_field()


# ------------------------------------------------------------------------------------------------------------------
# R15 (issue 14 item 2): a vehicle paired with a customer must be that customer's. One check for every service that
# takes both (appointments, work orders, customer orders, complaints, goodwill claims): booking another customer's
# car used to pass, and reception then refused it.
# ------------------------------------------------------------------------------------------------------------------


def vehicle_of_another_customer_error(*, customer: Any, vehicle: Any) -> str | None:
    """The error for a vehicle that is not ``customer``'s, or None when either is missing or they belong together."""
    if customer is None or vehicle is None:
        return None
    customer_id = getattr(customer, "pk", customer)
    if vehicle.customer_id == customer_id:
        return None
    return str(_("The vehicle belongs to another customer."))


def ensure_vehicle_of_customer(*, customer: Any, vehicle: Any, field: str = "vehicle") -> None:
    """Raise a ValidationError naming ``field`` when ``vehicle`` is not ``customer``'s (R15)."""
    error = vehicle_of_another_customer_error(customer=customer, vehicle=vehicle)
    if error is not None:
        raise ValidationError({field: error})
