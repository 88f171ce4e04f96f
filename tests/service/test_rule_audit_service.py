"""An audit of R15–R19, R25, R30, R31 read literally, as an outside tester would: every entry point (service, REST
API, pages, beat jobs), time zones other than Moscow's, the loaner's dates after a move."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dms.core.exceptions import ConflictError
from service import selectors, services
from service.models import (
    Appointment,
    AppointmentConfirmation,
    LoanerDay,
    LoanerReservation,
    WorkOrderJob,
    WorkOrderStatus,
)
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, NOW, at
from .factories import LoanerFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + datetime.timedelta(days=1)
WEDNESDAY = MONDAY + datetime.timedelta(days=2)


# -- R18: the loaner follows the arrival date ----------------------------------------------------------------------
def test_r18_a_moved_appointment_keeps_its_loaner_for_the_new_arrival_date(book, booking_advisor, dealership):
    appointment = book(10, 0)  # Monday
    loaner = LoanerFactory(dealership=dealership)
    services.loaner_reserve(actor=booking_advisor, appointment=appointment, loaner=loaner)
    services.appointment_reschedule(
        actor=booking_advisor,
        appointment=appointment,
        starts_at=at(10, 0, WEDNESDAY),
        handover_at=at(16, 0, WEDNESDAY),
        now=NOW,
    )
    reservation = LoanerReservation.objects.get(appointment=appointment, status=LoanerReservation.Status.RESERVED)
    assert (reservation.loaner, reservation.starts_on, reservation.ends_on) == (loaner, WEDNESDAY, WEDNESDAY)
    assert list(LoanerDay.objects.filter(loaner=loaner).values_list("day", flat=True)) == [WEDNESDAY]
    # Monday is free again for another customer.
    other = book(11, 0)
    assert services.loaner_reserve(actor=booking_advisor, appointment=other, loaner=loaner).starts_on == MONDAY


def test_r18_a_move_to_a_day_the_loaner_is_taken_is_refused(book, booking_advisor, dealership, api_as):
    appointment = book(10, 0)  # Monday
    loaner = LoanerFactory(dealership=dealership)
    services.loaner_reserve(actor=booking_advisor, appointment=appointment, loaner=loaner)
    services.loaner_reserve(actor=booking_advisor, appointment=book(10, 0, day=WEDNESDAY), loaner=loaner)
    response = api_as(booking_advisor).post(
        f"/api/appointments/{appointment.pk}/reschedule/",
        {"starts_at": at(11, 0, WEDNESDAY).isoformat(), "handover_at": at(16, 30, WEDNESDAY).isoformat()},
    )
    assert response.status_code == 400, response.json()
    assert loaner.plate in str(response.json())
    appointment.refresh_from_db()
    assert appointment.starts_at == at(10, 0)  # nothing moved
    reservation = LoanerReservation.objects.get(appointment=appointment)
    assert (reservation.starts_on, reservation.ends_on, reservation.status) == (MONDAY, MONDAY, "reserved")


def test_r18_a_move_within_the_loan_keeps_the_reservation(book, booking_advisor, dealership):
    appointment = book(10, 0)
    loaner = LoanerFactory(dealership=dealership)
    reservation = services.loaner_reserve(
        actor=booking_advisor, appointment=appointment, loaner=loaner, starts_on=MONDAY, ends_on=WEDNESDAY
    )
    services.appointment_reschedule(
        actor=booking_advisor, appointment=appointment, starts_at=at(12, 0), handover_at=at(17, 0), now=NOW
    )
    reservation.refresh_from_db()
    assert (reservation.status, reservation.starts_on, reservation.ends_on) == ("reserved", MONDAY, WEDNESDAY)
    assert LoanerDay.objects.filter(reservation=reservation).count() == 3


def test_r18_page_move_takes_the_loaner_along(client, book, booking_advisor, dealership):
    appointment = book(10, 0)
    loaner = LoanerFactory(dealership=dealership)
    services.loaner_reserve(actor=booking_advisor, appointment=appointment, loaner=loaner)
    client.force_login(booking_advisor)
    client.post(
        reverse("service:appointment_action", args=[appointment.pk, "reschedule"]),
        {"date": TUESDAY.isoformat(), "time": "10:00", "handover_date": TUESDAY.isoformat(), "handover_time": "16:00"},
    )
    appointment.refresh_from_db()
    assert appointment.starts_at == at(10, 0, TUESDAY)
    reservation = LoanerReservation.objects.get(appointment=appointment, status="reserved")
    assert reservation.starts_on == TUESDAY


# -- R16: the grid and three customers an hour on every entry point ----------------------------------------------
def test_r16_api_reschedule_off_grid_or_into_a_full_hour_is_refused(book, booking_advisor, api_as):
    moving = book(12, 0)
    for minute in (0, 15, 30):
        book(10, minute)
    client = api_as(booking_advisor)
    url = f"/api/appointments/{moving.pk}/reschedule/"
    off = client.post(url, {"starts_at": at(12, 5).isoformat(), "handover_at": at(17, 0).isoformat()})
    assert off.status_code == 400 and "starts_at" in off.json()
    full = client.post(url, {"starts_at": at(10, 45).isoformat(), "handover_at": at(17, 0).isoformat()})
    assert full.status_code == 400 and "starts_at" in full.json()
    moving.refresh_from_db()
    assert moving.starts_at == at(12, 0)


@pytest.mark.parametrize("zone", ["Asia/Vladivostok", "Asia/Kathmandu", "America/New_York"])
def test_r16_grid_and_hour_are_the_dealerships_in_any_zone(dealership, advisor, zone):
    dealership.time_zone = zone
    dealership.save()
    tz = zoneinfo.ZoneInfo(zone)
    for weekday in range(5):
        WorkingHoursFactory(dealership=dealership, advisor=advisor, weekday=weekday)
    now = datetime.datetime(2030, 3, 1, 10, 0, tzinfo=tz)

    def book(hour, minute):
        vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
        return services.appointment_book(
            actor=advisor,
            dealership=dealership,
            advisor=advisor,
            customer=vehicle.customer,
            vehicle=vehicle,
            reason="ТО",
            area="mechanical",
            starts_at=datetime.datetime.combine(MONDAY, datetime.time(hour, minute), tzinfo=tz),
            handover_at=datetime.datetime.combine(MONDAY, datetime.time(hour + 6, minute), tzinfo=tz),
            now=now,
        )

    for minute in (0, 15, 30):
        book(10, minute)
    with pytest.raises(ValidationError) as error:
        book(10, 45)
    assert "10:00" in str(error.value) and "11:00" in str(error.value)
    with pytest.raises(ValidationError):
        book(11, 5)
    assert book(11, 0).pk
    cells = {c["time"]: c for c in selectors.advisor_day_slots(dealership=dealership, advisor=advisor, day=MONDAY)}
    assert cells["10:45"]["bookable"] is False and cells["11:15"]["bookable"] is True


# -- R19: 24 hours before, in the dealership's zone --------------------------------------------------------------
def test_r19_confirmation_24_hours_ahead_in_a_far_eastern_zone(dealership, advisor):
    dealership.time_zone = "Asia/Vladivostok"
    dealership.save()
    tz = zoneinfo.ZoneInfo("Asia/Vladivostok")
    for weekday in range(5):
        WorkingHoursFactory(dealership=dealership, advisor=advisor, weekday=weekday)
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership, preferred_channel="email"))
    starts = datetime.datetime.combine(MONDAY, datetime.time(9, 0), tzinfo=tz)
    appointment = services.appointment_book(
        actor=advisor,
        dealership=dealership,
        advisor=advisor,
        customer=vehicle.customer,
        vehicle=vehicle,
        reason="ТО",
        area="mechanical",
        starts_at=starts,
        handover_at=starts + datetime.timedelta(hours=8),
        now=NOW,
    )
    day_before = starts - datetime.timedelta(hours=24)
    assert services.confirmations_send_due(now=day_before - datetime.timedelta(minutes=1)) == 0
    assert services.confirmations_send_due(now=day_before) == 1
    confirmation = AppointmentConfirmation.objects.get(appointment=appointment)
    assert confirmation.sent_at == day_before


# -- R25: the interview is decided on the car as it arrives ---------------------------------------------------------
def test_r25_reception_reading_past_the_warranty_limit_prompts_out_of_warranty(book, booking_advisor, dealership):
    customer = CustomerFactory(dealership=dealership)
    vehicle = VehicleFactory(
        customer=customer,
        mileage=90000,
        warranty_start=datetime.date(2028, 1, 1),
        warranty_end=datetime.date(2033, 1, 1),
        warranty_mileage_limit=100000,
    )
    appointment = book(10, 0, vehicle=vehicle)
    wo = services.reception_check_in(
        actor=booking_advisor, appointment=appointment, mileage=101000, fuel_level="1/2", customer_words="ТО", now=NOW
    )
    assert "out_of_warranty" in wo.interview_reasons and "warranty_ending" not in wo.interview_reasons


def test_r25_reception_reading_near_the_warranty_limit_prompts_warranty_ending(booking_advisor, dealership):
    customer = CustomerFactory(dealership=dealership)
    vehicle = VehicleFactory(
        customer=customer,
        mileage=50000,
        warranty_start=datetime.date(2028, 1, 1),
        warranty_end=datetime.date(2033, 1, 1),
        warranty_mileage_limit=100000,
    )
    wo = services.workorder_open(actor=booking_advisor, dealership=dealership, customer=customer, vehicle=vehicle)
    wo = services.workorder_record_reception(
        actor=booking_advisor, work_order=wo, mileage=97000, fuel_level="1", customer_words="Стук", now=NOW
    )
    assert wo.interview_reasons == ["warranty_ending"]


def test_r25_a_lower_reading_does_not_hide_the_known_mileage(booking_advisor, dealership):
    # A possible odometer rollback: the known (higher) mileage still says the car is out of warranty.
    customer = CustomerFactory(dealership=dealership)
    vehicle = VehicleFactory(customer=customer, mileage=120000, warranty_mileage_limit=100000)
    wo = services.workorder_open(actor=booking_advisor, dealership=dealership, customer=customer, vehicle=vehicle)
    wo = services.workorder_record_reception(
        actor=booking_advisor, work_order=wo, mileage=60000, fuel_level="1", customer_words="Стук", now=NOW
    )
    assert wo.odometer_rollback and wo.interview_reasons == ["out_of_warranty"]


# -- R30 / R31 over the API ---------------------------------------------------------------------------------------
@pytest.fixture
def in_repair(book, booking_advisor):
    appointment = book(10, 0)
    wo = services.reception_check_in(
        actor=booking_advisor, appointment=appointment, mileage=1000, fuel_level="1", customer_words="ТО", now=NOW
    )
    job = services.workorder_job_add(actor=booking_advisor, work_order=wo, description="ТО", standard_hours=1)
    services.workorder_start_diagnosis(actor=booking_advisor, work_order=wo)
    services.workorder_start_repair(actor=booking_advisor, work_order=wo)
    return wo, job


def test_r30_api_extra_work_cannot_be_done_before_consent(in_repair, booking_advisor, api_as):
    wo, _job = in_repair
    client = api_as(booking_advisor)
    extra = services.workorder_job_add(actor=booking_advisor, work_order=wo, description="Диски", standard_hours=1)
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.AWAITING_APPROVAL
    assert client.post(f"/api/work-orders/{wo.pk}/complete-job/", {"job": extra.pk}).status_code == 409
    assert client.post(f"/api/work-orders/{wo.pk}/start-repair/").status_code == 409
    services.workorder_consent_record(actor=booking_advisor, job=extra, agreed=False, given_by="Клиент", channel="тел")
    assert client.post(f"/api/work-orders/{wo.pk}/start-repair/").status_code == 200
    assert client.post(f"/api/work-orders/{wo.pk}/complete-job/", {"job": extra.pk}).status_code == 409
    extra.refresh_from_db()
    assert extra.done_at is None and extra.consent == WorkOrderJob.Consent.DECLINED


def test_r31_api_quality_check_cannot_be_skipped(in_repair, booking_advisor, inspector, api_as):
    wo, job = in_repair
    client = api_as(booking_advisor)
    # no self-check while a job is unfinished; no delivery before the quality check
    assert client.post(f"/api/work-orders/{wo.pk}/submit-for-quality-check/", {"technician": "П"}).status_code == 409
    assert client.post(f"/api/work-orders/{wo.pk}/deliver/", {"signed_by": "Клиент"}).status_code == 409
    client.post(f"/api/work-orders/{wo.pk}/complete-job/", {"job": job.pk})
    assert client.post(f"/api/work-orders/{wo.pk}/submit-for-quality-check/", {"technician": ""}).status_code == 400
    assert client.post(f"/api/work-orders/{wo.pk}/submit-for-quality-check/", {"technician": "П"}).status_code == 200
    assert client.post(f"/api/work-orders/{wo.pk}/deliver/", {"signed_by": "Клиент"}).status_code == 409
    empty = api_as(inspector).post(
        f"/api/work-orders/{wo.pk}/quality-check/", {"passed": True, "checked_jobs": []}, format="json"
    )
    assert empty.status_code == 400
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.QUALITY_CHECK


def test_r31_failed_job_goes_back_and_needs_a_new_self_check(in_repair, booking_advisor, inspector):
    wo, job = in_repair
    services.workorder_job_complete(actor=booking_advisor, job=job)
    services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician="П")
    services.workorder_quality_check(actor=inspector, work_order=wo, passed=False, checked_jobs=[job], notes="Течь")
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.IN_REPAIR and wo.self_check_at is None
    with pytest.raises(ConflictError):
        services.workorder_deliver(actor=booking_advisor, work_order=wo, signed_by="Клиент")
    with pytest.raises(ConflictError):
        services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician="П")


def test_r15_a_second_visit_for_the_same_problem_is_flagged(book, dealership):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    first = book(10, 0, vehicle=vehicle, reason="Стук в подвеске")
    second = book(11, 0, vehicle=vehicle, reason="Стук в подвеске спереди", day=TUESDAY)
    assert second.is_repeat_visit and second.repeat_of == first
    assert Appointment.objects.count() == 2


def test_r18_a_no_show_frees_the_loaner(book, booking_advisor, dealership):
    appointment = book(10, 0)
    loaner = LoanerFactory(dealership=dealership)
    reservation = services.loaner_reserve(
        actor=booking_advisor, appointment=appointment, loaner=loaner, starts_on=MONDAY, ends_on=WEDNESDAY
    )
    services.appointment_mark_no_show(actor=booking_advisor, appointment=appointment)
    reservation.refresh_from_db()
    assert reservation.status == LoanerReservation.Status.CANCELLED
    assert not LoanerDay.objects.filter(loaner=loaner).exists()
    assert services.loaner_reserve(actor=booking_advisor, appointment=book(10, 0, day=TUESDAY), loaner=loaner).pk


def test_r15_a_rebooking_after_a_no_show_is_not_a_repeat_visit(book, booking_advisor, dealership):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    missed = book(10, 0, vehicle=vehicle, reason="Стук в подвеске")
    services.appointment_mark_no_show(actor=booking_advisor, appointment=missed)
    again = book(10, 0, vehicle=vehicle, reason="Стук в подвеске", day=TUESDAY)
    assert again.is_repeat_visit is False and again.repeat_of is None


def test_r25_page_reception_with_an_absurd_mileage_is_a_form_error_not_a_500(client, book, booking_advisor):
    appointment = book(10, 0)
    client.force_login(booking_advisor)
    response = client.post(
        reverse("service:appointment_reception", args=[appointment.pk]),
        {"mileage": "99999999999", "fuel_level": "1/2", "customer_words": "Стук"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "mileage" in response.context["form"].errors
    appointment.refresh_from_db()
    assert appointment.status == "booked"
