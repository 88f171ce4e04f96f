"""List pages' table rows rendered in Python (issue 19 item 2), for every list that shows a page of 25–50 rows.

The template engine resolves each ``{{ row.field }}`` through its lookup chain and renders each tag as a node: for a
page of rows most of the page's time outside its query (the order dashboard met its goal by rendering its rows in
Python, ``orders/rendering.py``). A list's view builds its rows' cells with these helpers and the template shows
``{{ rows_html }}``; every value goes through :func:`show` — what ``{{ value }}`` renders (localized, in the active
time zone, escaped) — or an escaping helper, so the page reads the same.
"""

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

_PLACEHOLDER = 987654321

# A list's rows that show a customer's name but not his phones defer them (``qs.defer(*CUSTOMER_PHONES)``): each
# phone read is parsed into a PhoneNumber, ~40 µs a row (issue 19).
CUSTOMER_PHONES = ("customer__phone", "customer__phone_alt")


def url_for(name: str) -> Callable[[Any], str]:
    """``{% url name pk %}`` for many rows: reversed once, the id put in its place."""
    head, tail = reverse(name, args=[_PLACEHOLDER]).split(str(_PLACEHOLDER))
    return lambda pk: f"{head}{pk}{tail}"


def display_for(model, field_name: str) -> Callable[[Any], str]:
    """``obj.get_<field>_display()`` for many rows: the field's labels read once, in the active language (Django
    rebuilds a dict of every choice on each call — half a millisecond over a page of 25 rows)."""
    labels = {value: str(label) for value, label in model._meta.get_field(field_name).flatchoices}
    return lambda value: labels.get(value, value)


def once_per_value(format_value: Callable[[Any], str]) -> Callable[[Any], str]:
    """``format_value`` for a page of rows, each distinct value formatted once: quantities and statuses repeat down a
    page, and Django's ``floatformat`` costs ~15 µs a call (a millisecond over a stock page)."""
    done: dict[Any, str] = {}

    def formatted(value: Any) -> str:
        text = done.get(value)
        if text is None:
            text = done[value] = format_value(value)
        return text

    return formatted


def show(value: Any, default: str | None = None) -> str:
    """What ``{{ value }}`` renders (``{{ value|default:"—" }}`` with ``default``): localized, escaped."""
    if default is not None and not value:
        return escape(default)
    if value is None:
        return "None"
    if isinstance(value, str):
        return value if isinstance(value, SafeString) else escape(value)
    return str(conditional_escape(localize(template_localtime(value))))


def render_rows(rows: Iterable, row: Callable[[Any], str], *, empty: str, columns: int) -> SafeString:
    """``row(r)`` for each row (each value in it escaped by the caller), or the table's «nothing found» row."""
    html = "".join(row(r) for r in rows)
    if not html:
        html = f'<tr><td colspan="{columns}" class="text-secondary p-3">{escape(str(empty))}</td></tr>'
    return mark_safe(html)  # noqa: S308 - every value is escaped by show()/escape() where the row is built
