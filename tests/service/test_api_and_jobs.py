"""REST API, the R17/R19 beat jobs (with the exact 24-hour boundary), the reply link, iCalendar and PDFs."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from dms.core import roles
from dms.core.models import AuditEntry
from service import ical, pdf, services
from service.models import Appointment, AppointmentConfirmation, AppointmentStatus, WorkOrderStatus
from service.services import confirmations
from service.tasks import list_appointments_for_preparation, send_appointment_confirmations
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import NOW, at
from .factories import LoanerFactory

pytestmark = pytest.mark.django_db


def _payload(advisor, vehicle, start, handover, **extra):
    return {
        "advisor": advisor.pk,
        "customer": vehicle.customer_id,
        "vehicle": vehicle.pk,
        "reason": "ТО-3",
        "area": "express",
        "starts_at": start.isoformat(),
        "handover_at": handover.isoformat(),
        **extra,
    }


@pytest.fixture
def future(monkeypatch):
    """The API books relative to the real clock: use a Monday next year."""
    today = datetime.date.today()
    monday = today + datetime.timedelta(days=(7 - today.weekday()) + 364 // 7 * 7)
    return monday


def test_api_books_and_refuses_off_grid_and_a_fourth_customer(api_as, booking_advisor, dealership, future):
    client = api_as(booking_advisor)
    v = [VehicleFactory(customer=CustomerFactory(dealership=dealership)) for _ in range(5)]
    off = client.post("/api/appointments/", _payload(booking_advisor, v[0], at(10, 5, future), at(16, 0, future)))
    assert off.status_code == 400 and "starts_at" in off.json()
    for n in range(3):
        ok = client.post(
            "/api/appointments/", _payload(booking_advisor, v[n], at(10, 15 * n, future), at(16, 15 * n, future))
        )
        assert ok.status_code == 201, ok.json()
    fourth = client.post("/api/appointments/", _payload(booking_advisor, v[3], at(10, 45, future), at(17, 0, future)))
    assert fourth.status_code == 400 and "3" in fourth.json()["starts_at"][0]
    assert Appointment.objects.count() == 3
    slots = client.get("/api/appointments/slots/", {"advisor": booking_advisor.pk, "date": future.isoformat()})
    assert slots.status_code == 200
    by_time = {c["time"]: c for c in slots.json()}
    assert by_time["10:00"]["free"] is False and by_time["10:45"]["bookable"] is False and by_time["11:00"]["bookable"]
    bad = client.get("/api/appointments/slots/", {"advisor": "x", "date": "tomorrow"})
    assert bad.status_code == 400 and set(bad.json()) == {"advisor", "date"}


def test_api_foreign_ids_are_refused_and_other_dealerships_hidden(
    api_as, booking_advisor, dealership, other_dealership, future
):
    foreign = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    response = api_as(booking_advisor).post(
        "/api/appointments/", _payload(booking_advisor, foreign, at(10, 0, future), at(16, 0, future))
    )
    assert response.status_code == 400 and "vehicle" in response.json()


def test_api_roles_inspector_cannot_book_director_reads(api_as, make_user, booking_advisor, dealership, future):
    inspector = make_user(roles.QUALITY_INSPECTOR)
    v = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    assert (
        api_as(inspector)
        .post("/api/appointments/", _payload(booking_advisor, v, at(10, 0, future), at(16, 0, future)))
        .status_code
        == 403
    )
    director = make_user(roles.DIRECTOR)
    assert api_as(director).get("/api/appointments/").status_code == 200
    assert api_as(director).get("/api/work-orders/").status_code == 200


def test_api_work_order_transitions_409_out_of_order_and_qc_by_inspector(
    api_as, book, booking_advisor, inspector, dealership
):
    appointment = book(10, 0)
    wo = services.reception_check_in(
        actor=booking_advisor, appointment=appointment, mileage=20000, fuel_level="1", customer_words="ТО", now=NOW
    )
    client = api_as(booking_advisor)
    assert client.post(f"/api/work-orders/{wo.pk}/deliver/", {"signed_by": "X"}).status_code == 409
    r = client.post(f"/api/work-orders/{wo.pk}/add-job/", {"description": "ТО", "standard_hours": "2"})
    assert r.status_code == 200 and r.json()["total"] == "5000.00"
    job_id = r.json()["jobs"][0]["id"]
    assert client.post(f"/api/work-orders/{wo.pk}/start-diagnosis/").json()["status"] == "diagnosis"
    extra = client.post(f"/api/work-orders/{wo.pk}/add-job/", {"description": "Диски", "standard_hours": "1"})
    assert extra.json()["status"] == "awaiting_approval"
    extra_id = [j for j in extra.json()["jobs"] if j["is_extra"]][0]["id"]
    assert client.post(f"/api/work-orders/{wo.pk}/start-repair/").status_code == 409
    client.post(
        f"/api/work-orders/{wo.pk}/consent/", {"job": extra_id, "agreed": True, "given_by": "Клиент", "channel": "SMS"}
    )
    assert client.post(f"/api/work-orders/{wo.pk}/start-repair/").json()["status"] == "in_repair"
    for j in (job_id, extra_id):
        assert client.post(f"/api/work-orders/{wo.pk}/complete-job/", {"job": j}).status_code == 200
    r = client.post(f"/api/work-orders/{wo.pk}/submit-for-quality-check/", {"technician": "Петров"})
    assert r.json()["status"] == "quality_check"
    payload = {"passed": True, "checked_jobs": [job_id, extra_id]}
    assert client.post(f"/api/work-orders/{wo.pk}/quality-check/", payload, format="json").status_code == 403
    r = api_as(inspector).post(f"/api/work-orders/{wo.pk}/quality-check/", payload, format="json")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    r = client.post(f"/api/work-orders/{wo.pk}/deliver/", {"signed_by": "Клиент"})
    assert r.json()["status"] == WorkOrderStatus.DELIVERED and r.json()["signed_by"] == "Клиент"


def test_api_overlapping_loaner_is_refused(api_as, book, booking_advisor, dealership):
    loaner = LoanerFactory(dealership=dealership)
    a1, a2 = book(10, 0), book(10, 15)
    client = api_as(booking_advisor)
    first = client.post("/api/loaner-reservations/", {"loaner": loaner.pk, "appointment": a1.pk})
    assert first.status_code == 201, first.json()
    second = client.post("/api/loaner-reservations/", {"loaner": loaner.pk, "appointment": a2.pk})
    assert second.status_code == 400 and loaner.plate in second.json()["loaner"][0]
    client.post(f"/api/loaner-reservations/{first.json()['id']}/cancel/")
    assert client.post("/api/loaner-reservations/", {"loaner": loaner.pk, "appointment": a2.pk}).status_code == 201


def test_r17_beat_job_lists_48h_then_24h_ahead(book, booking_advisor, django_capture_on_commit_callbacks):
    appointment = book(10, 0)  # Monday 10:00
    # 48 h + 1 s before: not yet.
    assert services.preparation_mark_due(now=at(10, 0) - datetime.timedelta(hours=48, seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.preparation_mark_due(now=at(10, 0) - datetime.timedelta(hours=48)) == 1
    appointment.refresh_from_db()
    assert appointment.preparation_stage == "48h" and len(mail.outbox) == 1
    assert services.preparation_mark_due(now=at(10, 0) - datetime.timedelta(hours=30)) == 0  # already listed
    assert services.preparation_mark_due(now=at(10, 0) - datetime.timedelta(hours=24)) == 1
    appointment.refresh_from_db()
    assert appointment.preparation_stage == "24h"
    assert list_appointments_for_preparation.delay().get() == 0


def test_r19_confirmation_goes_exactly_24h_before_by_email(book, dealership, django_capture_on_commit_callbacks):
    customer = CustomerFactory(dealership=dealership, preferred_channel="email", email="c@example.com")
    appointment = book(10, 0, vehicle=VehicleFactory(customer=customer))
    assert confirmations.confirmations_send_due(now=at(10) - datetime.timedelta(hours=24, seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert confirmations.confirmations_send_due(now=at(10) - datetime.timedelta(hours=24)) == 1
    confirmation = AppointmentConfirmation.objects.get()
    assert confirmation.status == "sent" and len(mail.outbox) == 1 and mail.outbox[0].to == ["c@example.com"]
    # issue 17: the message carries the customer's status link (confirm or move the visit there)
    assert "/c/" in mail.outbox[0].body
    # Sent once only.
    assert confirmations.confirmations_send_due(now=at(9)) == 0
    appointment.refresh_from_db()
    assert appointment.confirmation_sent_at == at(10) - datetime.timedelta(hours=24)


def test_r19_phone_customer_becomes_a_call_task_for_the_advisor(book, dealership, booking_advisor, client):
    customer = CustomerFactory(dealership=dealership, preferred_channel="phone")
    appointment = book(10, 0, vehicle=VehicleFactory(customer=customer))
    confirmations.confirmations_send_due(now=at(10) - datetime.timedelta(hours=20))
    task = AppointmentConfirmation.objects.get()
    assert task.status == "call_due" and task.assigned_to == booking_advisor and len(mail.outbox) == 0
    client.force_login(booking_advisor)
    page = client.get(reverse("service:confirmation_calls"))
    assert customer.name in page.content.decode()
    client.post(reverse("service:confirmation_calls"), {"pk": task.pk, "result": "confirmed", "note": "ok"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_r19_signed_reply_link_confirms_or_asks_to_reschedule_without_login(book, client):
    appointment = book(10, 0)
    other = book(11, 0)
    url = reverse("service:public_reply", args=[confirmations.reply_token(appointment)])
    assert client.get(url).status_code == 200
    answered = client.post(url, {"answer": "confirm"})
    # Post/Redirect/Get: the thank-you page is a GET of the same link, so a reload does not post again
    assert answered.status_code == 302 and answered["Location"] == url
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    thanks = client.get(url)
    assert thanks.status_code == 200 and 'id="reply-result"' in thanks.content.decode()
    # issue 14 item 8: how it was confirmed is kept untranslated and read in each reader's language
    entry = AuditEntry.objects.get(object_id=appointment.pk, content_type__model="appointment", action="transition")
    assert entry.message == "customer's reply link"
    with translation.override("ru"):
        russian = entry.shown_message
    with translation.override("en"):
        assert entry.shown_message == "customer's reply link" != russian
    client.post(reverse("service:public_reply", args=[confirmations.reply_token(other)]), {"answer": "reschedule"})
    other.refresh_from_db()
    assert other.status == AppointmentStatus.RESCHEDULE
    assert AppointmentConfirmation.objects.get(appointment=other).status == "reschedule"
    tampered = confirmations.reply_token(appointment)[:-2] + "xx"
    assert client.get(reverse("service:public_reply", args=[tampered])).status_code == 403  # issue 17


def test_send_confirmations_task_runs(book):
    book(10, 0)
    assert send_appointment_confirmations.delay().get() == 0  # real clock: 2030 is far away


def test_ical_feed_lists_arrival_and_handover(book, booking_advisor, client):
    appointment = book(10, 0, duration=30, handover=at(16, 0))
    response = client.get(ical.feed_url(ical.calendar_feed_token_renew(actor=booking_advisor)))
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20300304T070000Z" in body and "DTEND:20300304T073000Z" in body
    assert f"UID:handover-{appointment.pk}@dms" in body
    assert client.get("/calendar-feed/forged/appointments.ics").status_code == 404


def test_pdfs_are_generated(book, booking_advisor, dealership):
    appointment = book(10, 0)
    wo = services.appointment_open_work_order(actor=booking_advisor, appointment=appointment)
    services.workorder_job_add(actor=booking_advisor, work_order=wo, description="ТО", standard_hours=Decimal("1"))
    reservation = services.loaner_reserve(
        actor=booking_advisor, appointment=appointment, loaner=LoanerFactory(dealership=dealership)
    )
    for content in (pdf.work_order_pdf(wo), pdf.bin_label_pdf(wo), pdf.loaner_contract_pdf(reservation)):
        assert content.startswith(b"%PDF") and len(content) > 1000
        # The shipped DejaVu font is embedded, so Cyrillic prints on any server.
        assert b"DejaVuSans" in content
