"""Validation helpers the apps' services share (issue 13 item 1): quantities, money, text, staff and records of the
dealership, document numbers.

Every helper raises ``django.core.exceptions.ValidationError`` keyed by the field it checks (a 400 naming the field
in the API, a form error on a page) and keeps the wording the apps used before, so their tests and translations
hold. Each takes the field name as a keyword so the message lands on the input the user filled in.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from .tenancy import allowed_dealership_ids

# The largest amount a money column (max_digits=12, decimal_places=2) holds.
MAX_AMOUNT = Decimal("9999999999.99")
CENT = Decimal("0.01")


def _decimal(value: Any, field: str, message: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: message}) from None
    return number


def _has_more_places(number: Decimal, places: int) -> bool:
    """More decimal places than ``places`` (a value too long to quantize counts as too precise, never a 500)."""
    try:
        return number != number.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return True


def positive_quantity(
    value: Any,
    *,
    field: str = "quantity",
    places: int | None = 2,
    below: Decimal | None = None,
    too_precise: str = "",
) -> Decimal:
    """A quantity greater than zero with at most ``places`` decimal places and less than ``below``.

    ``too_precise`` replaces the message for too many places or digits (parts count to three places and say so).
    """
    quantity = _decimal(value, field, _("Enter a number."))
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({field: _("The quantity must be greater than zero.")})
    if (places is not None and _has_more_places(quantity, places)) or (below is not None and quantity >= below):
        raise ValidationError({field: too_precise or _("The quantity has too many digits.")})
    return quantity


def money_amount(
    value: Any,
    *,
    field: str = "amount",
    required: bool = True,
    maximum: Decimal = MAX_AMOUNT,
    invalid: str = "",
    out_of_range: str = "",
) -> Decimal | None:
    """An amount of money from 0 to ``maximum`` (inclusive), rounded to cents; None when empty and not required.

    ``invalid`` and ``out_of_range`` replace the messages for text that is no number and for a number out of
    range (an order's purchase price names its own bounds for both).
    """
    if value is None or value == "":
        if required:
            raise ValidationError({field: _("Enter the amount.")})
        return None
    amount = _decimal(value, field, invalid or _("Enter a number."))
    if not amount.is_finite() or amount < 0 or amount > maximum:
        raise ValidationError({field: out_of_range or _("Enter an amount between 0 and 9 999 999 999.")})
    return amount.quantize(CENT)


def clean_text(value: Any) -> str:
    """Text as stored: stripped; None is empty; other values (a number from JSON) as their text."""
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else str(value).strip()


def satisfaction_score(value: Any, *, field: str = "satisfaction") -> int | None:
    """Issue 18 item 6: the customer's satisfaction heard on a follow-up call — a whole 1 to 5 (the complaint
    closing's scale, R33) or empty (not asked)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isdigit() and 1 <= int(text) <= 5):
        raise ValidationError({field: _("Rate the customer's satisfaction from 1 to 5, or leave it empty.")})
    return int(text)


def _dealership_id(dealership: Any) -> int:
    return dealership.pk if isinstance(dealership, models.Model) else dealership


def check_staff(
    dealership_id: Any,
    user,
    *,
    field: str,
    role: str | None = None,
    role_message: str = "",
    required: bool = False,
) -> None:
    """``user`` works in the dealership (an id or a Dealership), is active and, with ``role``, belongs to that group.

    An empty user passes unless ``required`` (then "This field is required."). ``role_message`` is what a user
    without the role is told (the service app: "This employee is not a service advisor.").
    """
    if user is None:
        if required:
            raise ValidationError({field: _("This field is required.")})
        return
    if _dealership_id(dealership_id) not in allowed_dealership_ids(user):
        raise ValidationError({field: _("This employee does not work in the dealership.")})
    if not user.is_active:  # a departed employee keeps the dealership in the profile, not the work
        raise ValidationError({field: _("This employee's account is deactivated.")})
    if role and not user.groups.filter(name=role).exists():
        raise ValidationError({field: role_message or _("This employee does not have the role this needs.")})


def check_owned(dealership_id: Any, *, by_verbose_name: bool = False, **objects: Any) -> None:
    """Each given record (None is skipped) belongs to the dealership (an id or a Dealership); all foreign ones
    are reported at once as "Unknown <field>." — named by the keyword, or by the model's verbose name."""
    owner = _dealership_id(dealership_id)
    errors = {}
    for field, obj in objects.items():
        if obj is not None and obj.dealership_id != owner:
            name = obj._meta.verbose_name if by_verbose_name else field
            errors[field] = _("Unknown %(field)s.") % {"field": name}
    if errors:
        raise ValidationError(errors)


def next_document_number(counter_model: type[models.Model], *, prefix: str, digits: int, **lookup: Any) -> str:
    """The next number of a numbered document: ``prefix`` + the counter, zero-padded to ``digits``.

    ``counter_model`` has a ``last_value`` column and one row per ``lookup`` (e.g. ``dealership=…, kind=…``); the
    row is created on first use and locked (``SELECT … FOR UPDATE``) so two documents never share a number. Call
    inside the service's transaction. Orders: ``prefix=dealership.order_prefix, digits=9`` (Ф000004181); claims:
    ``prefix="ЖЛ-", digits=6`` (ЖЛ-000001).
    """
    counter, _created = counter_model._default_manager.get_or_create(**lookup)
    counter = counter_model._default_manager.select_for_update().get(pk=counter.pk)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return f"{prefix}{counter.last_value:0{digits}d}"
