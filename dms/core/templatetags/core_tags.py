from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from dms.core.formatting import format_hours, format_money

register = template.Library()


@register.simple_tag(takes_context=True)
def query_transform(context, **kwargs) -> str:
    """The current query string with some parameters replaced (keeps filters across pagination and sorting)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def nav_menu(context) -> SafeString:
    """The main menu. It depends only on the visible links, which is active and the language — rendered once per such
    combination instead of on every page (a few hundred template nodes).
    """
    groups = tuple(
        (str(group["label"]), group["active"], tuple((i["url"], str(i["label"]), i["active"]) for i in group["items"]))
        for group in context.get("nav_groups") or ()
    )
    return _rendered_menu(groups, get_language())


@lru_cache(maxsize=512)
def _rendered_menu(groups: tuple, language: str | None) -> SafeString:
    nav_groups = [
        {"label": label, "active": active, "items": [{"url": u, "label": t, "active": a} for u, t, a in items]}
        for label, active, items in groups
    ]
    return mark_safe(render_to_string("includes/nav_menu.html", {"nav_groups": nav_groups}))  # noqa: S308


@register.filter
def money(value, currency=None) -> str:
    """``{{ amount|money }}``: grouped, two decimals and the request's currency («6 200,00 ₽»); empty for None."""
    return format_money(value, currency or None)


@register.filter
def hours(value) -> str:
    """``{{ job.standard_hours|hours }}``: «2,5» in Russian, «2.5» in English, «8» for 8.00 (issue 18)."""
    return format_hours(value)
