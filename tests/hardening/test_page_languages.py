"""Pages in English and Simplified Chinese show no Russian UI text; numbers and dates follow the locale (issue 8, 5).

The records here have Latin names, so any Cyrillic on a page is an untranslated interface string.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from dms.core import roles
from tests.factories import CustomerFactory, DealershipFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

CYRILLIC = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё\s«»,.:;()-]*")
# The language switcher names Russian in Russian, as language menus do.
ALLOWED = {"Русский"}

MAIN_PAGES = [
    "core:customer_list",
    "core:customer_create",
    "core:vehicle_list",
    "orders:dashboard",
    "orders:create",
    "notifications:my_calls",
    "notifications:call_compliance",
    "parts:part_list",
    "parts:dashboard",
    "parts:stock_list",
    "parts:movement_list",
    "parts:count_list",
    "parts:sales_list",
    "parts:return_list",
    "parts:requisition_list",
    "parts:stock_value",
    "service:appointment_calendar",
    "service:appointment_list",
    "service:appointment_create",
    "service:workorder_list",
    "service:workshop_board",
    "service:loaner_list",
    "service:recall_list",
    "service:schedule",
    "claims:complaint_list",
    "claims:complaint_create",
    "claims:claim_list",
    "claims:goodwill_list",
    "claims:quarantine_list",
    "claims:kpi",
    "claims:settings",
]


@pytest.fixture
def latin_client(client):
    dealership = DealershipFactory(name="Latin Motors", code="latin")
    user = UserFactory(
        username="admin_latin", first_name="Alex", last_name="Admin", role=roles.ADMINISTRATOR, dealership=[dealership]
    )
    customer = CustomerFactory(dealership=dealership, name="John Smith")
    VehicleFactory(customer=customer, dealership=dealership, make="Toyota", model="Corolla")
    client.force_login(user)
    return client


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    html = re.sub(r"<[^>]+>", " ", html)
    return html


def russian_words(html: str) -> list[str]:
    found = {m.group(0).strip() for m in CYRILLIC.finditer(visible_text(html))}
    return sorted(found - ALLOWED)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("name", MAIN_PAGES)
def test_page_has_no_russian_ui_text(latin_client, name, language):
    latin_client.cookies["django_language"] = language
    response = latin_client.get(reverse(name))
    assert response.status_code == 200, f"{name}: {response.status_code}"
    assert response.headers["Content-Language"] == language
    leaks = russian_words(response.content.decode())
    assert not leaks, f"{name} in {language} shows Russian: {leaks[:15]}"


@pytest.mark.parametrize(
    "language, expected",
    [
        ("ru", "12\xa0345,50 · 24.11.2026 · 24.11.2026 09:05"),
        ("en", "12,345.50 · 11/24/2026 · 11/24/2026 9:05 a.m."),
        ("zh-hans", "12345.50 · 2026年11月24日 · 2026年11月24日 09:05"),  # Django's zh_Hans formats
    ],
)
def test_money_and_dates_in_templates_follow_the_locale(language, expected):
    """Templates show money with ``floatformat:"2g"`` and dates with the SHORT_* formats (not a fixed d.m.Y)."""
    import datetime

    from django.template import Context, Template

    template = Template(
        '{{ v|floatformat:"2g" }} · {{ d|date:"SHORT_DATE_FORMAT" }} · {{ t|date:"SHORT_DATETIME_FORMAT" }}'
    )
    context = Context(
        {"v": Decimal("12345.50"), "d": datetime.date(2026, 11, 24), "t": datetime.datetime(2026, 11, 24, 9, 5)}
    )
    with translation.override(language):
        assert template.render(context) == expected


def test_templates_use_no_fixed_date_or_ungrouped_money_format():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(p.relative_to(root))
        for p in root.glob("**/templates/**/*.html")
        if ".venv" not in p.parts and re.search(r'date:"d\.m\.Y|floatformat:2\b', p.read_text())
    ]
    assert not offenders, f"fixed date formats / ungrouped money in {offenders}"
