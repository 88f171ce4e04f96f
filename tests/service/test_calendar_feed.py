"""Issue 12 item 7: the advisor's iCalendar feed — RFC 5545 escaping and folding, a link that expires and can be
replaced from the appointment book, and no personal data but the customer's name."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dms.core import roles
from service import ical
from service.models import CalendarFeedToken
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import at

pytestmark = pytest.mark.django_db

# A TEXT value as RFC 5545 3.3.11 allows it: no control character but HTAB, and ; , \ only escaped.
TEXT_VALUE = re.compile(r"^(?:[^\\;,\x00-\x08\x0a-\x1f\x7f]|\\[\\;,nN])*$")
PROPERTY = re.compile(r"^(?P<name>[A-Z-]+)(?:;[^:]*)?:(?P<value>.*)$", re.S)
TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "LOCATION"}


def parse(body: str) -> list[dict[str, str]]:
    """The feed's events as {property: unescaped value}; asserts the line structure on the way (CRLF only, lines of
    at most 75 octets, every content line a NAME:value, every TEXT value escaped)."""
    assert body.endswith("\r\n")
    physical = body[:-2].split("\r\n")
    for line in physical:
        assert "\r" not in line and "\n" not in line, f"bare line break in {line!r}"
        assert len(line.encode()) <= 75, f"unfolded line of {len(line.encode())} octets: {line!r}"
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    assert logical[0] == "BEGIN:VCALENDAR" and logical[-1] == "END:VCALENDAR"
    events, current = [], None
    for line in logical:
        match = PROPERTY.match(line)
        assert match, f"not a content line: {line!r}"
        name, value = match["name"], match["value"]
        if (name, value) == ("BEGIN", "VEVENT"):
            assert current is None
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            events.append(current)
            current = None
        elif current is not None:
            if name in TEXT_PROPERTIES:
                assert TEXT_VALUE.match(value), f"{name} not escaped: {value!r}"
                value = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)
            assert name not in current, f"{name} twice in one event"
            current[name] = value
    assert current is None
    return events


@pytest.fixture
def feed_of(client):
    def get(advisor) -> str:
        token = ical.feed_token_of(advisor) or ical.calendar_feed_token_renew(actor=advisor)
        response = client.get(ical.feed_url(token))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        return response.content.decode()

    return get


# --------------------------------------------------------------------------------------------------------------
# Escaping and folding
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, escaped",
    [
        ("Анна", "Анна"),
        ("a\\b", "a\\\\b"),
        ("a;b,c", "a\\;b\\,c"),
        ("a\r\nb\nc\rd", "a\\nb\\nc\\nd"),  # CRLF, LF and a bare CR are all one escaped line break
        ("a\x00b\x1fc\x7fd\x85e", "abcde"),  # other control characters go
        ("a\tb", "a\tb"),  # HTAB is allowed white space
        ("\\n", "\\\\n"),  # a literal backslash-n stays literal
        (None, ""),
    ],
)
def test_escape_text(raw, escaped):
    assert ical.escape_text(raw) == escaped


def test_fold_keeps_utf8_sequences_whole_and_lines_within_75_octets():
    line = "SUMMARY:" + "Ж" * 100 + "x" * 80 + "你" * 40
    folded = ical.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded)
    assert all(part.startswith(" ") for part in folded[1:])
    assert folded[0] + "".join(part[1:] for part in folded[1:]) == line
    assert ical.fold("SHORT:x") == ["SHORT:x"]


def test_line_breaks_and_separators_in_a_name_cannot_forge_events(book, booking_advisor, feed_of, dealership):
    hostile = "Иван\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:pwned; x, y \\ z\n\x1f" + "Ж" * 60
    customer = CustomerFactory(dealership=dealership)
    # Text fields refuse control characters at input (issue 12 item 2); a name that arrived before that (an import,
    # old data) is written straight to the table, and the feed must still escape it.
    type(customer).objects.filter(pk=customer.pk).update(name=hostile)
    vehicle = VehicleFactory(customer=customer)
    book(10, 0, vehicle=vehicle, reason="ТО;\r\nмасло, фильтр")
    events = parse(feed_of(booking_advisor))
    assert len(events) == 2  # the arrival and the hand-over, nothing injected
    expected_name = "Иван\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:pwned; x, y \\ z\n" + "Ж" * 60
    arrival = next(e for e in events if e["UID"].startswith("appointment-"))
    assert arrival["SUMMARY"] == f"{expected_name}: {vehicle.make} {vehicle.model}"
    assert arrival["DESCRIPTION"] == "ТО;\nмасло, фильтр"


# --------------------------------------------------------------------------------------------------------------
# No personal data but the customer's name
# --------------------------------------------------------------------------------------------------------------


def test_feed_carries_no_phone_email_vin_or_plate(book, booking_advisor, feed_of, dealership):
    customer = CustomerFactory(
        dealership=dealership,
        name="Пётр Петров",
        phone="+79161112233",
        phone_alt="+79164445566",
        email="petrov@example.com",
    )
    vehicle = VehicleFactory(customer=customer, plate="А123ВС77")
    book(11, 0, vehicle=vehicle)
    body = feed_of(booking_advisor)
    unfolded = body.replace("\r\n ", "")
    assert "Пётр Петров" in unfolded
    for secret in ("9161112233", "9164445566", "petrov@example.com", "example.com", vehicle.vin, "А123ВС77"):
        assert secret not in unfolded, f"{secret} in the feed"


# --------------------------------------------------------------------------------------------------------------
# The link: expiry, renewal from the page, refusal of old and forged links
# --------------------------------------------------------------------------------------------------------------


def test_an_expired_link_is_refused(booking_advisor, client, settings):
    settings.CALENDAR_FEED_DAYS = 180
    token = ical.calendar_feed_token_renew(actor=booking_advisor)
    assert token.expires_at - token.created_at == datetime.timedelta(days=180)
    url = ical.feed_url(token)
    assert client.get(url).status_code == 200
    CalendarFeedToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(url).status_code == 404


def test_the_old_signed_links_and_forged_keys_are_refused(booking_advisor, client):
    from django.core import signing

    old_style = signing.dumps({"u": booking_advisor.pk}, salt="service.advisor-ics", compress=True)
    ical.calendar_feed_token_renew(actor=booking_advisor)
    for key in (old_style, "forged", "x" * 43, "x" * 5000, "ключ" * 11):
        assert client.get(reverse("service:advisor_feed", args=[key])).status_code == 404
    # A control character anywhere in the path is refused before any view (issue 12 item 2's middleware): 400.
    assert client.get(reverse("service:advisor_feed", args=["a\x00b" * 10])).status_code == 400
    assert (
        client.get(
            "/calendar-feed/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00/appointments.ics"
        ).status_code
        == 400
    )


def test_unknown_feed_keys_are_rate_limited_per_address(booking_advisor, client):
    """Every signed surface refuses guessing (issue 17): after the limit of unknown keys, even a good one waits."""
    from django.core.cache import cache

    from dms.core import links

    cache.clear()
    good = ical.feed_url(ical.calendar_feed_token_renew(actor=booking_advisor))
    for _ in range(links.REFUSALS_PER_HOUR):
        assert client.get(reverse("service:advisor_feed", args=["x" * 43])).status_code == 404
    assert client.get(good).status_code == 429
    assert client.get(good, REMOTE_ADDR="10.0.0.9").status_code == 200  # another address is not affected
    cache.clear()


def test_a_deactivated_or_demoted_advisor_has_no_feed(booking_advisor, client):
    url = ical.feed_url(ical.calendar_feed_token_renew(actor=booking_advisor))
    booking_advisor.groups.clear()
    assert client.get(url).status_code == 404
    booking_advisor.is_active = False
    booking_advisor.save()
    assert client.get(url).status_code == 404


def test_advisor_renews_the_link_from_the_appointment_book(book, booking_advisor, settings):
    settings.CALENDAR_FEED_DAYS = 30
    book(10, 0)
    page_url = reverse("service:appointment_calendar") + f"?view=week&advisor={booking_advisor.pk}&date=2030-03-04"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(booking_advisor)
    page = browser.get(page_url).content.decode()
    assert 'id="ics-renew"' in page and 'id="ics-url"' not in page  # no link until the advisor asks for one

    renew_url = reverse("service:calendar_feed_renew")
    assert browser.post(renew_url).status_code == 403  # CSRF
    assert browser.get(renew_url).status_code == 405
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(renew_url, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 302
    first = CalendarFeedToken.objects.get(user=booking_advisor)
    assert first.expires_at - first.created_at == datetime.timedelta(days=30)
    page = browser.get(page_url).content.decode()
    assert ical.feed_url(first) in page and 'id="ics-expires"' in page
    assert timezone.localtime(first.expires_at).strftime("%d.%m.%Y") in page

    anonymous = Client()
    assert anonymous.get(ical.feed_url(first)).status_code == 200
    browser.post(renew_url, HTTP_X_CSRFTOKEN=csrf)
    second = CalendarFeedToken.objects.get(user=booking_advisor)
    assert second.key != first.key
    assert anonymous.get(ical.feed_url(first)).status_code == 404  # the old link stops at once
    assert anonymous.get(ical.feed_url(second)).status_code == 200


def test_the_page_shows_only_ones_own_link(booking_advisor, make_user, working_week, client):
    colleague = working_week(make_user(roles.SERVICE_ADVISOR, username="colleague"))
    mine = ical.calendar_feed_token_renew(actor=booking_advisor)
    client.force_login(colleague)
    page_url = reverse("service:appointment_calendar") + f"?view=week&advisor={booking_advisor.pk}"
    page = client.get(page_url).content.decode()
    assert mine.key not in page
    # The colleague's renewal replaces the colleague's link, never the advisor's.
    client.post(reverse("service:calendar_feed_renew"))
    assert CalendarFeedToken.objects.get(user=booking_advisor).key == mine.key
    assert CalendarFeedToken.objects.filter(user=colleague).exists()


def test_the_feed_lists_the_arrival_and_the_hand_over(book, booking_advisor, feed_of):
    appointment = book(10, 0, duration=30, handover=at(16, 0))
    events = parse(feed_of(booking_advisor))
    by_uid = {e["UID"]: e for e in events}
    assert by_uid[f"appointment-{appointment.pk}@dms"]["DTSTART"] == "20300304T070000Z"
    assert by_uid[f"appointment-{appointment.pk}@dms"]["DTEND"] == "20300304T073000Z"
    assert by_uid[f"handover-{appointment.pk}@dms"]["DTSTART"] == "20300304T130000Z"
