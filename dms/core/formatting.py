"""Date formatting for pages rendered in Python (long lists): the result of the template ``date`` filter, faster.

``date_formatter("SHORT_DATE_FORMAT")`` gives a function that formats a date or an aware datetime (shown in the
current time zone, as the template filter does) in the active language's format. Formats made only of day, month,
year, hour and minute are turned into ``strftime`` once; anything else falls back to Django's ``dateformat``.
"""

import contextvars
import datetime
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.utils import dateformat, formats, numberformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from phonenumber_field.phonenumber import PhoneNumber

# Django format character → strftime directive (zero-padded ones only: strftime has no portable unpadded form).
_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M", "s": "%S"}


@lru_cache(maxsize=64)
def _compile(django_format: str) -> str | None:
    pattern, escaped = [], False
    for char in django_format:
        if escaped:
            pattern.append(char.replace("%", "%%"))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _STRFTIME:
            pattern.append(_STRFTIME[char])
        elif char.isalpha():
            return None  # names of months/days, unpadded numbers …: leave them to Django
        else:
            pattern.append(char.replace("%", "%%"))
    return "".join(pattern)


@lru_cache(maxsize=64)
def _format_for(format_name: str, language: str | None) -> str:
    return formats.get_format(format_name) if format_name.isupper() else format_name


def date_formatter(format_name: str) -> Callable[[datetime.date | None], str]:
    """A formatter for ``format_name`` (a setting name like ``SHORT_DATE_FORMAT`` or a format like ``d.m H:i``) in
    the active language and time zone of the moment it is made.
    """
    django_format = _format_for(format_name, get_language())
    pattern = _compile(django_format)
    tz = timezone.get_current_timezone()

    def format_value(value: datetime.date | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.astimezone(tz)
        if pattern is not None:
            return value.strftime(pattern)
        return dateformat.format(value, django_format)

    return format_value


# -- money (issue 14 item 8): one way to show an amount — grouped, two decimals, with its currency ------------------
CURRENCY_SYMBOLS = {"RUB": "₽", "CNY": "¥", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br", "UZS": "сўм"}
DEFAULT_CURRENCY = "RUB"
# Decimal mark and thousands mark per language (Django's zh_Hans format has no thousands mark; money groups by 3).
_MONEY_MARKS = {"ru": (",", "\u00a0"), "en": (".", ","), "zh": (".", ",")}
_active_currency: contextvars.ContextVar[Callable[[], str] | str] = contextvars.ContextVar(
    "active_currency", default=DEFAULT_CURRENCY
)


def activate_currency(currency: Callable[[], str] | str) -> contextvars.Token:
    """The currency pages show for the request (a callable is asked only when an amount is shown)."""
    return _active_currency.set(currency)


def deactivate_currency(token: contextvars.Token) -> None:
    _active_currency.reset(token)


def active_currency() -> str:
    currency = _active_currency.get()
    return (currency() if callable(currency) else currency) or DEFAULT_CURRENCY


def currency_symbol(currency: str | None = None) -> str:
    code = currency or active_currency()
    return CURRENCY_SYMBOLS.get(code, code)


def _hundredths(value: Any) -> Decimal | str:
    """The value rounded half up to the hundredth; '' for nothing, the text itself when it is not a number."""
    if value is None or value == "":
        return ""
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def format_money(value: Any, currency: str | None = None, *, symbol: bool = True) -> str:
    """«6 200,00 ₽» in Russian, «6,200.00 ₽» in English and Chinese: the active language's grouping and decimal
    mark, always two decimals, the currency after the amount (non-breaking spaces: never split over two lines)."""
    amount = _hundredths(value)
    if not isinstance(amount, Decimal):
        return amount
    decimal_mark, group_mark = _MONEY_MARKS.get((get_language() or "ru")[:2], _MONEY_MARKS["en"])
    text = numberformat.format(amount, decimal_mark, 2, 3, group_mark, force_grouping=True)
    return f"{text}\u00a0{currency_symbol(currency)}" if symbol else text


class Money(Decimal):
    """An amount of money (issue 14 item 8): a Decimal that exports recognise — XLSX shows it with the currency
    symbol (``#,##0.00 "₽"``) and still as a number; CSV writes the plain number and names the currency in the
    column's header (:func:`money_title`)."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> "Money | None":
        if value is None or value == "":
            return None
        return cls(str(value))


def money_title(title: Any, currency: str | None = None) -> str:
    """A money column's header naming its currency: «Сумма, ₽»."""
    return f"{title}, {currency_symbol(currency)}"


# -- dates in texts built in Python (messages, errors): the active language's format, never a fixed one -----------
def short_date(value: datetime.date) -> str:
    """«01.12.2026» in Russian, «12/01/2026» in English: the active language's SHORT_DATE_FORMAT."""
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def short_datetime(value: datetime.datetime) -> str:
    """A wall-clock time (already in the dealership's zone) in the active language's SHORT_DATETIME_FORMAT."""
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


def plain_quantity(value: Decimal) -> str:
    """«10», «1.5»: a quantity without its trailing zeros, for a message, an audit text or an input's value —
    ``str(Decimal("10.000").normalize())`` is «1E+1»."""
    return f"{value.normalize():f}"


# -- hours of work (issue 18): the active language's decimal mark, no trailing zeros ------------------------------
def format_hours(value: Any) -> str:
    """«2,5» in Russian, «2.5» in English and Chinese, «8» for 8.00: a number of hours to the hundredth, in the
    active language's decimal mark and grouping, without the zeros that add nothing ("2.00" read as noise)."""
    hours = _hundredths(value)
    if not isinstance(hours, Decimal):
        return hours
    hours = hours.normalize() if hours else Decimal("0")
    return formats.number_format(hours, use_l10n=True, force_grouping=True)


def svg_chart(body: SafeString, *, title, width: int, height: int, chart_id: str = "") -> SafeString:
    """A KPI page's bar chart: ``body`` (the bars, already escaped) in an ``<svg class="kpi-chart">`` named by
    ``title`` for screen readers, scaled by its view box."""
    id_attr = format_html(' id="{}"', chart_id) if chart_id else ""
    return format_html(
        '<svg class="kpi-chart"{} role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}">{}</svg>',
        id_attr,
        title,
        width,
        height,
        width,
        height,
        body,
    )


def format_phone(phone: Any) -> str:
    """A stored phone number in the international format («+7 912 345-67-89»), "" where there is none.

    Not ``phone.as_international if phone else ""``: a PhoneNumber's truth is the length of its text, so that test
    checked the number's validity and formatted it once more — 40 µs a row, 1 ms of a page of customers (issue 19).
    A stored number always keeps the text it was given (``raw_input``), which makes it true.
    """
    if not isinstance(phone, PhoneNumber):
        return ""  # None or "": the field's empty values
    return phone.as_international if phone.raw_input or phone.is_valid() else ""
