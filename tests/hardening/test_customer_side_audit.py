"""An audit of the pages a dealership's customer sees without a staff login: the online booking, the status link,
the R19 reply link, the public complaint form — odd input, time zones, answers given twice, layouts."""

import datetime
import time
import zoneinfo

import pytest
from django.core import signing
from django.urls import reverse
from freezegun import freeze_time

from dms.core import links
from notifications import sms
from service import services
from service.models import Appointment, WorkingHours
from tests.factories import CustomerFactory, DealershipFactory, VehicleFactory
from tests.service.conftest import book, booking_advisor, working_week  # noqa: F401 - fixtures
from tests.service.online_booking_helpers import (
    booking_form,
    enable_online_booking,
    install_captured_sms,
)
from tests.service.online_booking_helpers import (
    page as booking_url,
)
from tests.service.test_customer_status import customer, findings, photo, work_order  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

VVO = zoneinfo.ZoneInfo("Asia/Vladivostok")  # UTC+10: 7 hours ahead of the server's Moscow default
MONDAY = datetime.date(2030, 3, 4)
FROZEN = datetime.datetime(2030, 3, 1, 10, 0, tzinfo=VVO)  # the Friday before, 10:00 in Vladivostok
PHONE = "+79161234567"


def vvo(hour: int, minute: int = 0, day: datetime.date = MONDAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=VVO)


@pytest.fixture
def far_east(db, make_user):
    """A dealership in Vladivostok with online booking on and one advisor working 9–18 local time, Monday–Friday."""
    from dms.core import roles

    dealership = DealershipFactory(name="Восток Моторс", code="vvo", time_zone="Asia/Vladivostok")
    advisor = make_user(roles.SERVICE_ADVISOR, dealerships=[dealership], username="vvo_advisor")
    for weekday in range(5):
        WorkingHours.objects.create(
            dealership=dealership,
            advisor=advisor,
            weekday=weekday,
            starts_at=datetime.time(9),
            ends_at=datetime.time(18),
        )
    enable_online_booking(dealership)
    dealership.advisor = advisor
    return dealership


@pytest.fixture
def texts(settings):
    captured = install_captured_sms(settings)
    yield captured
    sms.set_twilio_http_client(None)


def form_data(**overrides) -> dict:
    return booking_form(MONDAY, **overrides)


def book_far_east(dealership, owner, hour=10, minute=0):
    vehicle = VehicleFactory(customer=owner)
    return services.appointment_book(
        actor=dealership.advisor,
        dealership=dealership,
        advisor=dealership.advisor,
        customer=owner,
        vehicle=vehicle,
        reason="ТО-2",
        area="mechanical",
        starts_at=vvo(hour, minute),
        duration_minutes=15,
        handover_at=vvo(15, 0),
        now=FROZEN,
    )


# -- time zones: a dealership in Vladivostok, an anonymous visitor (the server's default zone is Moscow) ------------
def test_online_booking_shows_the_visit_in_the_dealerships_time(
    client, far_east, texts, django_capture_on_commit_callbacks
):
    with freeze_time(FROZEN):
        page = client.get(booking_url(far_east, date=MONDAY.isoformat())).content.decode()
        assert 'value="2030-03-04T09:00"' in page and ">09:00<" in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(booking_url(far_east), form_data())
        assert response.status_code == 200, response.content.decode()[:3000]
        assert "10:00" in response.content.decode()  # the code step repeats the chosen time
        token = response.context["token"]
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(booking_url(far_east), {"step": "code", "token": token, "code": texts.last_code(PHONE)})
    body = done.content.decode()
    assert done.status_code == 200 and 'id="booking-done"' in body
    assert Appointment.objects.get().starts_at == vvo(10, 0)
    assert "10:00" in body and "03:00" not in body


def test_status_page_shows_appointments_in_the_dealerships_time(client, far_east):
    person = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, person, 10, 30)
    with freeze_time(FROZEN):
        issued = links.link_issue(customer=person, purpose="status")
        body = client.get(issued.url).content.decode()
    section = body[body.index(f'id="appointment-{appointment.pk}"') :]
    assert "10:30" in section[:600] and "03:30" not in section[:600]


def test_reply_link_shows_the_appointment_in_the_dealerships_time(client, far_east):
    person = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, person, 11, 15)
    with freeze_time(FROZEN):
        issued = links.link_issue(customer=person, purpose="appointment_reply", subject_id=appointment.pk)
        body = client.get(issued.url).content.decode()
    assert "11:15" in body and "04:15" not in body


# -- the status link and the reply link: forged or repeated answers ------------------------------------------------
@pytest.fixture
def moscow_customer(dealership):
    return CustomerFactory(dealership=dealership, name="Ирина Волкова", preferred_channel="sms")


def test_forged_answers_on_the_status_page_are_messages_not_500s(client, far_east):
    person = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, person, 10, 0)
    with freeze_time(FROZEN):
        url = links.link_issue(customer=person, purpose="status").url
        bad = [
            {},
            {"answer": "approve"},
            {"answer": "approve", "finding": "x"},
            {"answer": "approve", "finding": "99999999999999999999999"},
            {"answer": "confirm", "appointment": "-1"},
            {"answer": "confirm", "appointment": "1\x00"},
            {"answer": "drop table", "appointment": appointment.pk},
            {"answer": ["confirm", "reschedule"], "appointment": appointment.pk},
            {"answer": "confirm", "appointment": [appointment.pk, appointment.pk + 1]},
        ]
        statuses = [client.post(url, data).status_code for data in bad]
        assert all(s in (302, 400) for s in statuses), statuses
        for method in ("put", "delete", "patch"):
            assert getattr(client, method)(url).status_code == 405


def test_another_dealerships_appointment_cannot_be_answered(client, far_east, dealership):
    stranger = CustomerFactory(dealership=dealership)
    mine = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, mine, 10, 0)
    with freeze_time(FROZEN):
        url = links.link_issue(customer=stranger, purpose="status").url
        response = client.post(url, {"answer": "confirm", "appointment": appointment.pk})
    assert response.status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_reply_link_odd_posts(client, far_east):
    person = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, person, 10, 0)
    with freeze_time(FROZEN):
        url = links.link_issue(customer=person, purpose="appointment_reply", subject_id=appointment.pk).url
        for data in ({}, {"answer": "x" * 5000}, {"answer": "confirm\x00"}, {"answer": ["confirm", "reschedule"]}):
            assert client.post(url, data).status_code < 500
        assert client.post(url, {"answer": "confirm"}).status_code == 302
        again = client.post(url, {"answer": "confirm"})
        assert again.status_code == 302
        other = CustomerFactory(dealership=far_east)
        foreign = links.link_issue(customer=other, purpose="appointment_reply", subject_id=appointment.pk).url
        assert client.get(foreign).status_code == 404
        assert client.post(foreign, {"answer": "reschedule"}).status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_a_cancelled_appointment_cannot_be_confirmed_through_a_forged_post(client, far_east):
    person = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, person, 10, 0)
    services.appointment_cancel(actor=far_east.advisor, appointment=appointment, reason="—")
    with freeze_time(FROZEN):
        status_url = links.link_issue(customer=person, purpose="status").url
        reply_url = links.link_issue(customer=person, purpose="appointment_reply", subject_id=appointment.pk).url
        assert f"appointment-{appointment.pk}" not in client.get(status_url).content.decode()
        for answer in ("confirm", "reschedule"):
            assert client.post(status_url, {"answer": answer, "appointment": appointment.pk}).status_code == 400
            assert client.post(reply_url, {"answer": answer}).status_code == 200  # the page with its message
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


# -- findings ---------------------------------------------------------------------------------------------------------
def test_photos_of_the_findings_the_page_shows_open(client, customer, work_order, booking_advisor):  # noqa: F811
    green = services.finding_create(
        actor=booking_advisor, work_order=work_order, item="Шины", colour="green", photos=[photo("tyres.png")]
    )
    issued = links.link_issue(customer=customer, purpose="status")
    body = client.get(issued.url).content.decode()
    photo_url = reverse("service:customer_finding_photo", args=[issued.token, green.photos.get().pk])
    assert f'id="finding-{green.pk}"' in body and photo_url in body  # the page shows it…
    assert client.get(photo_url).status_code == 200  # …so its photo opens


def test_an_unsent_finding_cannot_be_answered(client, customer, work_order, findings, booking_advisor):  # noqa: F811
    issued = links.link_issue(customer=customer, purpose="status")
    response = client.post(issued.url, {"answer": "approve", "finding": findings[0].pk})
    assert response.status_code == 400
    photo_url = reverse("service:customer_finding_photo", args=[issued.token, findings[0].photos.get().pk])
    assert client.get(photo_url).status_code == 404  # a red finding not sent yet is not the customer's to see


def test_a_finding_is_answered_once_even_approve_then_approve(client, customer, work_order, findings, booking_advisor):  # noqa: F811
    services.findings_send(actor=booking_advisor, work_order=work_order)
    issued = links.link_issue(customer=customer, purpose="status")
    assert client.post(issued.url, {"answer": "approve", "finding": findings[0].pk}).status_code == 302
    again = client.post(issued.url, {"answer": "approve", "finding": findings[0].pk})
    assert again.status_code == 400
    from service.models import FindingConsent

    assert FindingConsent.objects.count() == 1


# -- the public complaint form (R33) ----------------------------------------------------------------------------------
def complaint_url(dealership) -> str:
    return reverse("claims:public_complaint", args=[dealership.code])


def complaint_data(**overrides) -> dict:
    from claims.forms import PublicComplaintForm

    data = {
        "name": "Иван Петров",
        "phone": "+7 916 000-11-22",
        "email": "",
        "vin": "",
        "description": "Машину вернули грязной",
        "website": "",
        "started": signing.dumps(time.time() - 60, salt=PublicComplaintForm.SALT),
    }
    data.update(overrides)
    return data


ODD = [
    "😀🚗 жалоба 投诉",
    "\x00",
    "a\x00b",
    "\x07\x1b[31m",
    "'; DROP TABLE claims_complaint; --",
    "<script>alert(1)</script>",
    "x" * 10000,
    "\u202e\u200b",
    " ",
]


def test_public_complaint_odd_input_is_never_a_500(client, dealership, settings):
    from claims.models import Complaint

    settings.CLAIMS_PUBLIC_COMPLAINTS_PER_HOUR = 10000
    failures = []
    for field in ("name", "phone", "email", "vin", "description", "started", "website"):
        for value in ODD:
            response = client.post(complaint_url(dealership), complaint_data(**{field: value}))
            if response.status_code >= 500:
                failures.append(f"{field}={value[:10]!r}: {response.status_code}")
            if "<script>alert(1)</script>" in response.content.decode():
                failures.append(f"{field}: unescaped")
    for data in ({}, {"name": ["a", "b"], "description": ["x", "y"]}):
        if client.post(complaint_url(dealership), data).status_code >= 500:
            failures.append(f"{data}")
    for method in ("put", "delete", "patch"):
        if getattr(client, method)(complaint_url(dealership)).status_code >= 500:
            failures.append(method)
    assert not failures, failures
    assert not any("\x00" in c.description + c.contact_name for c in Complaint.objects.all())


def test_public_complaint_sent_twice_is_registered_once(client, dealership):
    """A double tap on «Send», or a reload of the thank-you page (the browser posts the form again)."""
    from claims.models import Complaint

    data = complaint_data()
    first = client.post(complaint_url(dealership), data)
    second = client.post(complaint_url(dealership), data)
    assert first.status_code == second.status_code == 200
    number = Complaint.objects.get().number
    assert number in second.content.decode()


# -- the online booking: a slot taken meanwhile, a slot in the past, another dealership's request --------------------
def test_a_slot_taken_meanwhile_is_a_message_and_booked_once(
    client, far_east, texts, django_capture_on_commit_callbacks
):
    other_phone = "+79167654321"
    with freeze_time(FROZEN):
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(booking_url(far_east), form_data()).context["token"]
            second = client.post(booking_url(far_east), form_data(phone=other_phone, vin="XW8ZZZ61ZJG054321")).context[
                "token"
            ]
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(booking_url(far_east), {"step": "code", "token": first, "code": texts.last_code(PHONE)})
            late = client.post(
                booking_url(far_east), {"step": "code", "token": second, "code": texts.last_code(other_phone)}
            )
    assert done.status_code == 200 and 'id="booking-done"' in done.content.decode()
    assert late.status_code == 400 and 'id="booking-errors"' in late.content.decode()
    assert Appointment.objects.filter(starts_at=vvo(10, 0)).count() == 1


@pytest.mark.parametrize(
    "slot",
    [
        "2030-03-01T09:00",  # earlier today (Vladivostok)
        "2030-02-28T10:00",  # yesterday
        "2030-03-04T08:45",  # before the advisor's day
        "2030-03-04T18:00",  # after it
        "2030-03-04T10:07",  # off the 15-minute grid
        "2030-03-02T10:00",  # Saturday: nobody works
        "2031-03-03T10:00",  # beyond the booking window
    ],
)
def test_times_the_page_does_not_offer_are_refused(client, far_east, texts, slot):
    with freeze_time(FROZEN):
        response = client.post(booking_url(far_east), form_data(slot=slot, date=slot[:10]))
    assert response.status_code == 400 and texts.messages == []


def test_another_dealerships_booking_token_opens_nothing(
    client,
    far_east,
    dealership,
    booking_advisor,  # noqa: F811 - the fixture
    texts,
    django_capture_on_commit_callbacks,
):
    enable_online_booking(dealership)
    with freeze_time(FROZEN):
        with django_capture_on_commit_callbacks(execute=True):
            token = client.post(booking_url(far_east), form_data()).context["token"]
        response = client.post(
            booking_url(dealership), {"step": "code", "token": token, "code": texts.last_code(PHONE)}
        )
    assert response.status_code == 400 and Appointment.objects.count() == 0


# -- languages and layout -----------------------------------------------------------------------------------------
def test_public_complaint_speaks_the_customers_language(client, dealership):
    from claims.models import Complaint

    url = complaint_url(dealership)
    assert "Leave a complaint" in client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    chinese = client.get(url + "?lang=zh-hans").content.decode()
    assert "Оставить жалобу" not in chinese and 'id="complaint-languages"' in chinese
    assert "Оставить жалобу" in client.get(url).content.decode()  # Russian first
    # The form keeps the language: its errors and the thank-you page come back in it.
    invalid = client.post(url + "?lang=en", complaint_data(description=""))
    assert "This field is required." in invalid.content.decode()
    done = client.post(url + "?lang=en", complaint_data())
    assert "Your complaint has been received." in done.content.decode() and "?lang=en" in done.content.decode()
    assert Complaint.objects.count() == 1


def test_the_reply_link_is_a_customer_page_not_a_staff_one(client, far_east):
    person = CustomerFactory(dealership=far_east)
    appointment = book_far_east(far_east, person, 10, 0)
    with freeze_time(FROZEN):
        url = links.link_issue(customer=person, purpose="appointment_reply", subject_id=appointment.pk).url
        body = client.get(url).content.decode()
    assert 'name="robots" content="noindex' in body and 'content="same-origin"' in body
    assert far_east.name in body and "navbar-brand" not in body  # the dealership's page, no link to the staff login
