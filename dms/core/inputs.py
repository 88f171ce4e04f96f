"""What a request may carry: ids, dates, numbers and JSON within the bounds the database and Python can hold.

Issue 12 item 5: an outside probe got 500s from non-ASCII digits (``"²".isdigit()`` is True, ``int("²")`` fails),
digit strings thousands long, dates at the ends of the calendar (adding a time-zone offset or a day to 9999-12-31
overflows), integers beyond their column and JSON nested thousands of levels deep. Every request-facing parser of
ids and dates in the project goes through this module; :func:`install_input_bounds` (called from
``CoreConfig.ready``) puts the date range and integer bounds on every model, form and serializer field at once.
"""

from __future__ import annotations

import datetime
import re

from django.core import validators
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# ---------------------------------------------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------------------------------------------

MAX_ID = 2**63 - 1  # PostgreSQL bigint: every primary key of the project fits
# [0-9], not \d: \d also matches Arabic-Indic, Devanagari and other digits (and int() would accept them).
_ASCII_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value: object) -> int | None:
    """A record id from a request (path, query parameter, header, form or JSON field), or None if it is not one.

    Only ASCII digits, at most 19 of them, a value from 1 to the bigint maximum; an int is accepted as is (JSON),
    a bool is not. Callers answer None with 400 (parameters and bodies) or 404 (a path id).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _ASCII_ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """The valid ids among several (e.g. checked boxes); anything else is left out."""
    return [number for number in map(parse_id, values) if number is not None]


# ---------------------------------------------------------------------------------------------------------------
# Phone numbers typed into a search box
# ---------------------------------------------------------------------------------------------------------------

_NOT_ASCII_DIGIT = re.compile(r"[^0-9]")
MIN_PHONE_DIGITS = 3  # fewer digits are part of a name, a plate or a part number, not a phone
# A typed phone: digits and the separators people type between them. A text with a letter (a VIN «JTD00000000000A»,
# a part number «04465-0E010», a plate) is no phone: its digits searched among the phones matched the trigrams of
# thousands of numbers for nothing (issue 19: 5 ms of the order dashboard's search by a VIN substring).
_PHONE_TEXT = re.compile(r"[0-9\s+()\-./]+")


def is_phone_text(text: str) -> bool:
    """Could ``text`` be (part of) a phone number as people type one?"""
    return bool(_PHONE_TEXT.fullmatch((text or "").strip()))


def phone_search_forms(text: str) -> tuple[str, str]:
    """What a typed phone searches for among E.164 numbers (stored as ``+79161234502``): ``(contains, prefix)``.

    ``contains`` is the typed digits (``916 123`` is found inside any number); ``prefix`` is the Russian national
    form turned international: a number typed with the trunk prefix 8 (``8 916 123-45-02``, ``89161234502`` or the
    beginning ``8916…``) starts with ``+7916…``. A full 11-digit 8-number searches by that prefix only. Empty
    strings when the text holds too few digits to be a phone, or anything but digits and separators.
    """
    digits = _NOT_ASCII_DIGIT.sub("", text or "")[:15]  # E.164 has at most 15 digits
    if len(digits) < MIN_PHONE_DIGITS or not is_phone_text(text):
        return "", ""
    if digits.startswith("8") and len(digits) <= 11:
        national = "+7" + digits[1:]
        return ("" if len(digits) == 11 else digits), national
    return digits, ""


# ---------------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------------

# Wide enough for any record of a dealership (a vehicle's first registration, a warranty's end), narrow enough that
# adding a time-zone offset, a day or a year never leaves Python's or PostgreSQL's range.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2199, 12, 31)


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def date_in_range(value: datetime.date | datetime.datetime) -> bool:
    return EARLIEST_DATE <= _as_date(value) <= LATEST_DATE


def validate_date_in_range(value) -> None:
    """Validator of every date and date-time field (models, forms, serializers, filters): 400 outside the range."""
    if isinstance(value, datetime.date) and not date_in_range(value):
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s."),
            code="date_out_of_range",
            params={"earliest": date_format(EARLIEST_DATE), "latest": date_format(LATEST_DATE)},
        )


def parse_date_param(raw: str | None) -> datetime.date | None:
    """A date from a query parameter read by hand (``YYYY-MM-DD``, ASCII, in range), or None if it is not one."""
    if not raw or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        return None
    try:
        value = datetime.date.fromisoformat(raw)
    except ValueError:
        return None
    return value if date_in_range(value) else None


def parse_period_params(
    raw_from: str | None,
    raw_to: str | None,
    *,
    today: datetime.date,
    default_days: int,
    max_days: int = 366,
    end_follows_start: bool = False,
) -> tuple[datetime.date, datetime.date]:
    """A report's ``?from=YYYY-MM-DD&to=YYYY-MM-DD``, both optional: by default the ``default_days`` up to ``today``
    (given only a start, the ``default_days`` from it when ``end_follows_start``); shorter than ``max_days``. A bad
    date is a ValidationError naming its parameter (a 400 / a message on the page)."""
    errors, parsed = {}, {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if raw in (None, ""):
            continue
        value = parse_date_param(raw)  # inside the sane range too (issue 12 item 5)
        if value is None:
            errors[name] = gettext("Enter a date as YYYY-MM-DD.")
        else:
            parsed[name] = value
    if errors:
        raise ValidationError(errors)
    span = datetime.timedelta(days=default_days - 1)
    date_to = parsed.get("to") or (parsed["from"] + span if end_follows_start and "from" in parsed else today)
    date_from = parsed.get("from") or date_to - span
    if date_from > date_to:
        raise ValidationError({"from": gettext("The start date is after the end date.")})
    if (date_to - date_from).days >= max_days:
        raise ValidationError({"to": gettext("The period is longer than a year.")})
    return date_from, date_to


# ---------------------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------------------

# A field without its own bounds (a plain form or serializer field, not mapped from a model column) is bounded
# like PostgreSQL's integer: what a service stores, multiplies or adds as days and minutes stays representable.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
integer_bounds = [validators.MinValueValidator(INT_MIN), validators.MaxValueValidator(INT_MAX)]


# ---------------------------------------------------------------------------------------------------------------
# Installing the bounds on every field class
# ---------------------------------------------------------------------------------------------------------------


def install_input_bounds() -> None:
    """Give every date/date-time field (models, forms and django-filter's filters, DRF) the date range, and every
    plain integer form/serializer field the integer bounds — once, as the classes' default validators.

    Default validators run in addition to a field's own (Django forms, models) or when the field is declared
    without explicit ``validators`` (DRF; a ModelSerializer's fields get the model field's validators, which
    include these and the column's own range). Model fields' default validators are not part of migrations.
    """
    from django import forms
    from django.apps import apps
    from django.db import models
    from rest_framework import serializers

    date_range = [validate_date_in_range]
    for field_class in (
        models.DateField,  # also DateTimeField
        forms.DateField,
        forms.DateTimeField,
        serializers.DateField,
        serializers.DateTimeField,
    ):
        field_class.default_validators = [*date_range]
    for field_class in (forms.IntegerField, serializers.IntegerField):
        field_class.default_validators = [*integer_bounds]
    # Django's form DecimalField and FloatField subclass IntegerField: they keep their own bounds (max_digits).
    forms.DecimalField.default_validators = []
    forms.FloatField.default_validators = []
    # Model fields cache their validators on first use: drop any cached before this ran.
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.DateField):
                field.__dict__.pop("validators", None)
