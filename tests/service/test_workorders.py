"""R17 preparation, reception (rollback, R25), R30 consent and revisions, R31 quality, signed delivery."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from dms.core import roles
from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from orders.models import CustomerOrder
from parts import selectors as parts_selectors
from parts import services as parts_services
from service import selectors, services
from service.models import AppointmentStatus, OdometerRollbackReport, WorkOrder, WorkOrderJob, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import NOW, at
from .factories import PartFactory

pytestmark = pytest.mark.django_db
ARRIVAL = at(10, 0)


@pytest.fixture
def appointment(book, dealership):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership), mileage=30000)
    return book(10, 0, vehicle=vehicle, reason="Замена тормозных колодок")


@pytest.fixture
def received(appointment, booking_advisor):
    return services.reception_check_in(
        actor=booking_advisor,
        appointment=appointment,
        mileage=31000,
        fuel_level="1/2",
        damage_notes="Царапина на заднем бампере",
        customer_words="Скрипят тормоза",
        now=ARRIVAL,
    )


def _repair_ready(wo, advisor, *, important=False):
    job = services.workorder_job_add(
        actor=advisor,
        work_order=wo,
        description="Замена колодок",
        standard_hours=Decimal("1.5"),
        is_important=important,
    )
    services.workorder_start_diagnosis(actor=advisor, work_order=wo)
    services.workorder_start_repair(actor=advisor, work_order=wo)
    return job


def test_reception_records_arrival_raises_mileage_and_marks_the_appointment_arrived(received, appointment):
    wo = received
    appointment.refresh_from_db()
    wo.vehicle.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED
    assert wo.mileage_in == 31000 and wo.vehicle.mileage == 31000 and wo.odometer_rollback is False
    assert wo.fuel_level == "1/2" and wo.customer_words == "Скрипят тормоза" and wo.number.startswith("ЗН-")
    assert wo.revisions.get().number == 1
    assert OdometerRollbackReport.objects.count() == 0


def test_lower_mileage_is_flagged_as_rollback_and_the_warranty_engineer_is_emailed(
    appointment, booking_advisor, make_user, django_capture_on_commit_callbacks
):
    engineer = make_user(roles.WARRANTY_ENGINEER, email="warranty@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        wo = services.reception_check_in(
            actor=booking_advisor,
            appointment=appointment,
            mileage=29000,
            fuel_level="1/4",
            customer_words="ТО",
            now=ARRIVAL,
        )
    wo.vehicle.refresh_from_db()
    assert wo.odometer_rollback is True and wo.vehicle.mileage == 30000  # the known mileage is kept
    report = OdometerRollbackReport.objects.get()
    assert (report.recorded_mileage, report.previous_mileage) == (29000, 30000) and report.notified_at
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [engineer.email]
    assert wo.vehicle.vin in mail.outbox[0].subject


def test_reception_needs_fuel_and_the_customers_words(appointment, booking_advisor):
    with pytest.raises(ValidationError) as error:
        services.reception_check_in(
            actor=booking_advisor, appointment=appointment, mileage=31000, fuel_level="x", customer_words=" "
        )
    assert "fuel_level" in error.value.message_dict
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    ("vehicle_kw", "customer_kw", "expected"),
    [
        ({"warranty_start": datetime.date(2029, 10, 1), "warranty_end": datetime.date(2032, 10, 1)}, {}, ["new_car"]),
        (
            {"warranty_start": datetime.date(2027, 4, 1), "warranty_end": datetime.date(2030, 4, 1)},
            {},
            ["warranty_ending"],
        ),
        (
            {"warranty_start": datetime.date(2025, 1, 1), "warranty_end": datetime.date(2028, 1, 1)},
            {},
            ["out_of_warranty"],
        ),
        ({}, {"is_vip": True}, ["vip"]),
        ({}, {}, []),
    ],
)
def test_r25_interview_prompt_by_customer_type(dealership, vehicle_kw, customer_kw, expected):
    customer = CustomerFactory(dealership=dealership, **customer_kw)
    vehicle = VehicleFactory(customer=customer, **vehicle_kw)
    assert selectors.interview_reasons(dealership=dealership, customer=customer, vehicle=vehicle, now=NOW) == expected


def test_r25_complaint_within_3_days_of_delivery_and_not_after_two_interviews(dealership, booking_advisor):
    customer = CustomerFactory(dealership=dealership, is_vip=True)
    vehicle = VehicleFactory(customer=customer)
    for n in range(3):
        wo = services.workorder_open(actor=booking_advisor, dealership=dealership, customer=customer, vehicle=vehicle)
        wo.interview_done_at = NOW - datetime.timedelta(days=30 * (n + 1))
        wo.save()
        if n == 1:
            # Two interviews so far: still interviewed ("more than twice" stops it).
            reasons = selectors.interview_reasons(dealership=dealership, customer=customer, vehicle=vehicle, now=NOW)
            assert reasons == ["vip"]
    assert selectors.interview_reasons(dealership=dealership, customer=customer, vehicle=vehicle, now=NOW) == []
    other = CustomerFactory(dealership=dealership)
    other_vehicle = VehicleFactory(customer=other)
    wo = services.workorder_open(actor=booking_advisor, dealership=dealership, customer=other, vehicle=other_vehicle)
    type(wo).objects.filter(pk=wo.pk).update(status="delivered", delivered_at=NOW - datetime.timedelta(days=2))
    reasons = selectors.interview_reasons(dealership=dealership, customer=other, vehicle=other_vehicle, now=NOW)
    assert reasons == ["complaint_3_days"]
    type(wo).objects.filter(pk=wo.pk).update(delivered_at=NOW - datetime.timedelta(days=3, seconds=1))
    assert selectors.interview_reasons(dealership=dealership, customer=other, vehicle=other_vehicle, now=NOW) == []


def test_r30_extra_work_waits_for_consent_and_the_work_order_is_revised(received, booking_advisor):
    wo = received
    planned = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Колодки", standard_hours=Decimal("1")
    )
    assert planned.consent == WorkOrderJob.Consent.INCLUDED and planned.rate == Decimal("2500.00")
    services.workorder_start_diagnosis(actor=booking_advisor, work_order=wo)
    extra = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Замена дисков", standard_hours=Decimal("2")
    )
    wo.refresh_from_db()
    assert extra.is_extra and extra.consent == WorkOrderJob.Consent.PENDING
    assert wo.status == WorkOrderStatus.AWAITING_APPROVAL
    # No repair and no work on the extra job without consent.
    with pytest.raises(ConflictError):
        services.workorder_start_repair(actor=booking_advisor, work_order=wo)
    with pytest.raises(ConflictError) as error:
        services.workorder_job_complete(actor=booking_advisor, job=extra)
    assert error.value.message == "Extra work is done only after the customer agrees."  # R30
    with pytest.raises(ValidationError):
        services.workorder_consent_record(actor=booking_advisor, job=extra, agreed=True, given_by="", channel="")
    services.workorder_consent_record(
        actor=booking_advisor, job=extra, agreed=True, given_by="Клиент лично", channel="телефон", now=NOW
    )
    wo.refresh_from_db()
    assert wo.revision == 2
    revision = wo.revisions.get(number=2)
    assert revision.total == Decimal("7500.00") and len(revision.content["jobs"]) == 2
    services.workorder_start_repair(actor=booking_advisor, work_order=wo)
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.IN_REPAIR
    assert services.workorder_job_complete(actor=booking_advisor, job=extra).done_at is not None


def test_r30_a_handed_over_car_has_no_extra_work_left_to_agree(received, booking_advisor):
    """A pending extra job on a work order closed at hand-over (a stale page, an old customer link): the answer is a
    409 and the work order is not revised."""
    wo = received
    services.workorder_start_diagnosis(actor=booking_advisor, work_order=wo)
    extra = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Замена дисков", standard_hours=Decimal("2")
    )
    WorkOrder.objects.filter(pk=wo.pk).update(status=WorkOrderStatus.DELIVERED)
    revision = WorkOrder.objects.get(pk=wo.pk).revision
    with pytest.raises(ConflictError) as error:
        services.workorder_consent_record(
            actor=booking_advisor, job=extra, agreed=True, given_by="Клиент лично", channel="телефон", now=NOW
        )
    assert error.value.message == "The car has been handed over: its work order is closed."
    extra.refresh_from_db()
    assert extra.consent == WorkOrderJob.Consent.PENDING and WorkOrder.objects.get(pk=wo.pk).revision == revision


def test_r30_declined_extra_work_is_not_in_the_total_and_cannot_be_done(received, booking_advisor):
    wo = received
    services.workorder_job_add(actor=booking_advisor, work_order=wo, description="Колодки", standard_hours=Decimal("1"))
    services.workorder_start_diagnosis(actor=booking_advisor, work_order=wo)
    extra = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Диски", standard_hours=Decimal("2")
    )
    services.workorder_consent_record(
        actor=booking_advisor, job=extra, agreed=False, given_by="Клиент", channel="SMS", now=NOW
    )
    wo.refresh_from_db()
    assert wo.total == Decimal("2500.00") and wo.revisions.count() == 2
    services.workorder_start_repair(actor=booking_advisor, work_order=wo)
    with pytest.raises(ConflictError):
        services.workorder_job_complete(actor=booking_advisor, job=extra)


def test_transition_out_of_order_is_refused(received, booking_advisor):
    with pytest.raises(ConflictError):
        services.workorder_deliver(actor=booking_advisor, work_order=received, signed_by="Клиент")
    received.refresh_from_db()
    assert received.status == WorkOrderStatus.OPENED and received.delivered_at is None


def test_r31_self_check_quality_check_rework_and_signed_delivery(received, booking_advisor, inspector):
    wo = received
    job = _repair_ready(wo, booking_advisor)
    with pytest.raises(ConflictError):  # job not done yet
        services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician="Петров")
    services.workorder_job_complete(actor=booking_advisor, job=job)
    with pytest.raises(ValidationError):
        services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician=" ")
    services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician="Петров")
    # Only the inspector checks quality.
    with pytest.raises(PermissionDenied):
        services.workorder_quality_check(actor=booking_advisor, work_order=wo, passed=True, checked_jobs=[job])
    with pytest.raises(ValidationError):
        services.workorder_quality_check(actor=inspector, work_order=wo, passed=False, checked_jobs=[job], notes="")
    services.workorder_quality_check(actor=inspector, work_order=wo, passed=False, checked_jobs=[job], notes="Скрип")
    wo.refresh_from_db()
    job.refresh_from_db()
    assert wo.status == WorkOrderStatus.IN_REPAIR and wo.rework_count == 1 and wo.self_check_at is None
    assert job.done_at is None
    services.workorder_job_complete(actor=booking_advisor, job=job)
    services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician="Петров")
    services.workorder_quality_check(actor=inspector, work_order=wo, passed=True, checked_jobs=[job])
    with pytest.raises(ValidationError):
        services.workorder_deliver(actor=booking_advisor, work_order=wo, signed_by="")
    services.workorder_deliver(actor=booking_advisor, work_order=wo, signed_by="Иванов И.П.", now=at(17))
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.DELIVERED and wo.signed_by == "Иванов И.П." and wo.delivered_at == at(17)
    statuses = list(
        AuditEntry.objects.filter(object_id=wo.pk, action="transition", content_type__model="workorder")
        .order_by("id")
        .values_list("changes__status", flat=True)
    )
    assert [s[1] for s in statuses] == [
        "diagnosis", "in_repair", "quality_check", "in_repair", "quality_check", "ready", "delivered",
    ]  # fmt: skip


def test_r31_important_job_needs_a_full_inspection(received, booking_advisor, inspector):
    wo = received
    important = _repair_ready(wo, booking_advisor, important=True)
    # A second, ordinary job can only be added as extra work now; agree it.
    other = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Мойка", standard_hours=Decimal("0.5")
    )
    services.workorder_consent_record(actor=booking_advisor, job=other, agreed=True, given_by="Клиент", channel="лично")
    services.workorder_start_repair(actor=booking_advisor, work_order=wo)
    for job in (important, other):
        services.workorder_job_complete(actor=booking_advisor, job=job)
    services.workorder_submit_for_quality_check(actor=booking_advisor, work_order=wo, technician="Петров")
    with pytest.raises(ValidationError) as error:
        services.workorder_quality_check(actor=inspector, work_order=wo, passed=True, checked_jobs=[important])
    assert "full inspection" in " ".join(error.value.message_dict["checked_jobs"])
    check = services.workorder_quality_check(
        actor=inspector, work_order=wo, passed=True, checked_jobs=[important, other]
    )
    assert check.full_inspection is True


def test_r17_preparation_reserves_stock_and_orders_the_missing_part(
    appointment, booking_advisor, dealership, monkeypatch, django_capture_on_commit_callbacks
):
    in_stock = PartFactory(dealership=dealership, number="04465-02220")
    missing = PartFactory(dealership=dealership, number="48510-09P20")
    missing.default_supplier.delivery_days = 21
    missing.default_supplier.save()
    reserved_calls = []
    monkeypatch.setattr(
        parts_selectors,
        "stock_available",
        lambda *, dealership, part: Decimal("5") if part == in_stock else Decimal("0"),
    )
    monkeypatch.setattr(parts_services, "stock_reserve", lambda **kw: reserved_calls.append(kw))
    wo = services.appointment_open_work_order(actor=booking_advisor, appointment=appointment)
    job = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Колодки", standard_hours=Decimal("1")
    )
    services.workorder_part_add(actor=booking_advisor, job=job, part=in_stock, quantity=Decimal("2"))
    services.workorder_part_add(actor=booking_advisor, job=job, part=missing, quantity=Decimal("1"))
    with django_capture_on_commit_callbacks(execute=True):
        result = services.workorder_prepare_parts(actor=booking_advisor, work_order=wo, now=NOW)
    order = result["order"]
    assert isinstance(order, CustomerOrder) and order.status == "not_placed"
    assert [(line.part, line.quantity) for line in order.lines.all()] == [(missing, Decimal("1"))]
    appointment.refresh_from_db()
    wo.refresh_from_db()
    assert appointment.customer_order == order and wo.customer_order == order and appointment.prepared_at == NOW
    assert reserved_calls[0]["part"] == in_stock and reserved_calls[0]["quantity"] == Decimal("2")
    lines = {line.part: line for line in job.parts.all()}
    assert lines[in_stock].reserved_quantity == 2 and lines[missing].ordered_quantity == 1
    # 21 days of delivery > the appointment 3 days away: the customer is warned (e-mail fallback or notifications).
    assert appointment.parts_warning_sent_at is not None or appointment.customer.preferred_channel == "phone"
    # Preparing again orders nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.workorder_prepare_parts(actor=booking_advisor, work_order=wo, now=NOW)
    assert again["order"] is None and CustomerOrder.objects.count() == 1


def test_r17_preparation_needs_parts_on_the_work_order(appointment, booking_advisor):
    wo = services.appointment_open_work_order(actor=booking_advisor, appointment=appointment)
    with pytest.raises(ValidationError) as error:
        services.workorder_prepare_parts(actor=booking_advisor, work_order=wo, now=NOW)
    assert "parts" in error.value.message_dict


def test_r17_preparation_reserves_real_warehouse_stock(appointment, booking_advisor, dealership):
    """Same rule against the real parts warehouse: the reservation is a ledger fact, not a stand-in."""
    from parts import services as parts_services
    from parts.models import Reservation, StockBalance

    in_stock = PartFactory(dealership=dealership, number="04465-02220")
    missing = PartFactory(dealership=dealership, number="48510-09P20")
    parts_services.stock_receive(
        actor=booking_advisor, dealership=dealership, part=in_stock, quantity=Decimal("5"), unit_cost=Decimal("100")
    )
    wo = services.appointment_open_work_order(actor=booking_advisor, appointment=appointment)
    job = services.workorder_job_add(
        actor=booking_advisor, work_order=wo, description="Колодки", standard_hours=Decimal("1")
    )
    services.workorder_part_add(actor=booking_advisor, job=job, part=in_stock, quantity=Decimal("2"))
    services.workorder_part_add(actor=booking_advisor, job=job, part=missing, quantity=Decimal("1"))

    result = services.workorder_prepare_parts(actor=booking_advisor, work_order=wo, now=NOW)

    balance = StockBalance.objects.get(part=in_stock)
    assert (balance.on_hand, balance.reserved) == (Decimal("5"), Decimal("2"))
    reservation = Reservation.objects.get(part=in_stock)
    assert reservation.quantity == Decimal("2") and reservation.reference == wo.number
    assert job.parts.get(part=in_stock).reservation_ref == str(reservation.pk)
    assert [(line.part, line.quantity) for line in result["order"].lines.all()] == [(missing, Decimal("1"))]
