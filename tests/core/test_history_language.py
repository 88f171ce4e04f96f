"""Issue 14 item 8: history in the reader's language and time zone, money with its currency."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from dms.core import events
from dms.core.formatting import activate_currency, deactivate_currency, format_money
from dms.core.models import AuditEntry
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_system_text_is_stored_untranslated_and_read_in_each_language():
    customer = CustomerFactory()
    with translation.override("ru"):
        entry = events.record(actor=None, instance=customer, action="action", message=events.text("car received"))
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.message == "car received" and entry.message_params == {}
    with translation.override("ru"):
        assert entry.shown_message == "автомобиль принят"
    with translation.override("zh-hans"):
        assert entry.shown_message == "车辆已接待"
    with translation.override("en"):
        assert entry.shown_message == "car received"


def test_a_persons_own_words_are_shown_as_written():
    customer = CustomerFactory()
    entry = events.record(actor=None, instance=customer, action="action", message="car received")
    with translation.override("ru"):
        assert AuditEntry.objects.get(pk=entry.pk).shown_message == "car received"


def test_parameters_that_are_moments_follow_the_readers_format_and_zone():
    customer = CustomerFactory()
    moment = datetime.datetime(2026, 12, 1, 7, 31, 36, tzinfo=datetime.UTC)
    entry = events.record(actor=None, instance=customer, action="action", message=events.text("%(when)s", when=moment))
    entry = AuditEntry.objects.get(pk=entry.pk)
    with translation.override("ru"), timezone.override("Europe/Moscow"):
        assert entry.shown_message == "01.12.2026 10:31"


def test_changed_dates_are_not_shown_as_iso_text():
    customer = CustomerFactory()
    before = events.snapshot(customer, ["created_at"])
    before["created_at"] = "2026-12-01 07:31:36+00:00"
    entry = events.record(
        actor=None, instance=customer, action="updated", changes={"created_at": [before["created_at"], None]}
    )
    with translation.override("ru"), timezone.override("Europe/Moscow"):
        rows = AuditEntry.objects.get(pk=entry.pk).readable_changes()
    assert rows[0]["old"] == "01.12.2026 10:31"
    assert "T07" not in str(rows) and "+00:00" not in str(rows)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "6\u00a0200,00\u00a0₽"), ("en", "6,200.00\u00a0₽"), ("zh-hans", "6,200.00\u00a0₽")],
)
def test_money_has_grouping_two_decimals_and_the_currency(language, expected):
    with translation.override(language):
        assert format_money(Decimal("6200")) == expected
        assert format_money(None) == ""


def test_money_follows_the_dealerships_currency():
    token = activate_currency(lambda: "CNY")
    try:
        with translation.override("en"):
            assert format_money(Decimal("1300.5")) == "1,300.50\u00a0¥"
    finally:
        deactivate_currency(token)


def test_pages_show_money_with_its_currency_in_the_dealerships_time_zone(client, parts_manager, dealership):
    from django.urls import reverse

    from parts.models import Part

    part = Part.objects.create(dealership=dealership, number="04465-33471", name="Колодки", price=Decimal("6200"))
    client.force_login(parts_manager)
    page = client.get(reverse("parts:part_detail", args=[part.pk])).content.decode()
    assert "6\u00a0200,00\u00a0₽" in page
    dealership.currency = "CNY"
    dealership.save()
    page = client.get(reverse("parts:part_detail", args=[part.pk])).content.decode()
    assert "6\u00a0200,00\u00a0¥" in page


def test_pages_use_the_dealerships_time_zone(rf, advisor, dealership):
    from django.contrib.sessions.backends.db import SessionStore

    from dms.core.formatting import active_currency
    from dms.core.middleware import ActiveDealershipMiddleware

    dealership.time_zone = "Asia/Vladivostok"
    dealership.currency = "KZT"
    dealership.save()
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        seen["currency"] = active_currency()
        return None

    request = rf.get("/")
    request.user, request.session = advisor, SessionStore()
    ActiveDealershipMiddleware(view)(request)
    assert seen == {"zone": "Asia/Vladivostok", "currency": "KZT"}
    assert timezone.get_current_timezone_name() != "Asia/Vladivostok"  # deactivated after the request
    assert active_currency() == "RUB"
