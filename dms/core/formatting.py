"""Date formatting for pages rendered in Python (long lists): the result of the template ``date`` filter, faster.

``date_formatter("SHORT_DATE_FORMAT")`` gives a function that formats a date or an aware datetime (shown in the
current time zone, as the template filter does) in the active language's format. Formats made only of day, month,
year, hour and minute are turned into ``strftime`` once; anything else falls back to Django's ``dateformat``.
"""

import datetime
from collections.abc import Callable
from functools import lru_cache

from django.utils import dateformat, formats, timezone
from django.utils.translation import get_language

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
