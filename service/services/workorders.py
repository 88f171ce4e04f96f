"""Work orders: reception (R25, odometer rollback), preparation (R17), jobs and consent (R30), quality (R31)."""

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core import roles as core_roles
from dms.core import services as core_services
from dms.core.exceptions import ConflictError
from dms.core.models import AuditAction, Customer, Dealership, Vehicle
from dms.core.transitions import is_available
from dms.core.validation import check_owned
from dms.core.validators import ensure_vehicle_of_customer
from parts import services as parts_services
from parts.models import Reservation

from .. import selectors, workshop
from ..models import (
    Appointment,
    AppointmentStatus,
    FuelLevel,
    JobKind,
    OdometerRollbackReport,
    WorkOrder,
    WorkOrderJob,
    WorkOrderPart,
    WorkOrderRevision,
    WorkOrderStatus,
)
from .common import _check_advisor, _lock_work_order, _now, _run
from .workshop_load import WorkshopLoadCheck

User = get_user_model()

EDITABLE_STATUSES = (
    WorkOrderStatus.OPENED,
    WorkOrderStatus.DIAGNOSIS,
    WorkOrderStatus.AWAITING_APPROVAL,
    WorkOrderStatus.IN_REPAIR,
)


@transaction.atomic
def workorder_open(
    *,
    actor,
    dealership: Dealership,
    customer: Customer,
    vehicle: Vehicle,
    advisor=None,
    appointment: Appointment | None = None,
    complaint: str = "",
) -> WorkOrder:
    advisor = advisor or actor
    errors = {}
    if customer is None:
        errors["customer"] = _("This field is required.")
    if vehicle is None:
        errors["vehicle"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    check_owned(dealership.pk, customer=customer, vehicle=vehicle, appointment=appointment)
    ensure_vehicle_of_customer(customer=customer, vehicle=vehicle)  # R15
    _check_advisor(dealership.pk, advisor)
    work_order = WorkOrder.objects.create(
        dealership=dealership,
        appointment=appointment,
        customer=customer,
        vehicle=vehicle,
        advisor=advisor,
        complaint=complaint,
    )
    work_order.number = f"ЗН-{work_order.pk:06d}"
    work_order.save(update_fields=["number"])
    events.record_created(actor=actor, instance=work_order, fields=["number", "customer", "vehicle", "advisor"])
    return work_order


@transaction.atomic
def appointment_open_work_order(*, actor, appointment: Appointment) -> WorkOrder:
    """R17: the work order is opened when the visit is prepared (or at the latest at reception)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    existing = WorkOrder.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise ConflictError(_("The appointment is cancelled."))
    return workorder_open(
        actor=actor,
        dealership=appointment.dealership,
        customer=appointment.customer,
        vehicle=appointment.vehicle,
        advisor=appointment.advisor,
        appointment=appointment,
        complaint=appointment.reason,
    )


def _warranty_engineers(dealership_id: int):
    return User.objects.filter(
        is_active=True, groups__name=core_roles.WARRANTY_ENGINEER, staff_profile__dealerships=dealership_id
    ).distinct()


def _notify_rollback(report_id: int) -> None:
    report = OdometerRollbackReport.objects.select_related("vehicle", "work_order", "dealership").get(pk=report_id)
    recipients = [u.email for u in _warranty_engineers(report.dealership_id) if u.email]
    if recipients:
        send_mail(
            _("Possible odometer rollback: %(vin)s") % {"vin": report.vehicle.vin},
            _(
                "At reception of work order %(number)s the odometer showed %(recorded)s km, "
                "lower than the last recorded %(previous)s km for VIN %(vin)s (%(vehicle)s). "
                "Please check it before any warranty claim."
            )
            % {
                "number": report.work_order.number,
                "recorded": report.recorded_mileage,
                "previous": report.previous_mileage,
                "vin": report.vehicle.vin,
                "vehicle": report.vehicle,
            },
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
    OdometerRollbackReport.objects.filter(pk=report_id).update(notified_at=timezone.now())


@transaction.atomic
def workorder_record_reception(
    *,
    actor,
    work_order: WorkOrder,
    mileage: int,
    fuel_level: str,
    damage_notes: str = "",
    customer_words: str = "",
    now: datetime.datetime | None = None,
) -> WorkOrder:
    """Arrival check-in: mileage (a lower reading is a possible rollback), fuel, damage, complaint; R25 prompt."""
    now = _now(now)
    work_order = _lock_work_order(work_order)
    if work_order.arrived_at is not None:
        raise ConflictError(_("The car has already been received on this work order."))
    if work_order.status != WorkOrderStatus.OPENED:
        raise ConflictError(_("Reception is recorded on an opened work order."))
    errors = {}
    if mileage is None or mileage < 0:
        errors["mileage"] = _("Enter the odometer reading.")
    if fuel_level not in FuelLevel.values:
        errors["fuel_level"] = _("Choose the fuel level.")
    if not (customer_words or "").strip():
        errors["customer_words"] = _("Write down the customer's complaint in their own words.")
    if errors:
        raise ValidationError(errors)
    vehicle = Vehicle.objects.select_for_update().get(pk=work_order.vehicle_id)
    before = events.snapshot(work_order, ["mileage_in", "fuel_level", "odometer_rollback"])
    work_order.arrived_at = now
    work_order.mileage_in = mileage
    work_order.fuel_level = fuel_level
    work_order.damage_notes = damage_notes
    work_order.customer_words = customer_words
    if mileage < vehicle.mileage:
        # Odometer rollback (里程倒走): flag, keep the last known mileage, tell the warranty engineer.
        work_order.odometer_rollback = True
        report = OdometerRollbackReport.objects.create(
            dealership_id=work_order.dealership_id,
            vehicle=vehicle,
            work_order=work_order,
            recorded_mileage=mileage,
            previous_mileage=vehicle.mileage,
            reported_by=actor,
        )
        events.record_created(actor=actor, instance=report, fields=["recorded_mileage", "previous_mileage"])
        transaction.on_commit(lambda: _notify_rollback(report.pk))
    else:
        vehicle = core_services.vehicle_record_mileage(
            actor=actor, vehicle=vehicle, mileage=mileage, source=_("reception, work order %s") % work_order.number
        )
    # R25: the car as it arrives decides the interview — today's reading (the known higher one after a possible
    # rollback) tells whether the warranty is ending or over, not the reading of the last visit.
    work_order.interview_reasons = selectors.interview_reasons(
        dealership=work_order.dealership, customer=work_order.customer, vehicle=vehicle, now=now
    )
    work_order.save()
    _snapshot_revision(work_order, actor=actor, reason=_("Agreed with the customer at reception"))
    events.record_updated(
        actor=actor, instance=work_order, before=before, message=events.text(gettext_noop("car received"))
    )
    if work_order.appointment_id:
        appointment = Appointment.objects.select_for_update().get(pk=work_order.appointment_id)
        if appointment.status != AppointmentStatus.ARRIVED:
            _run(appointment, "arrive", actor=actor, check_perm=False)
    return work_order


@transaction.atomic
def reception_check_in(
    *,
    actor,
    appointment: Appointment,
    mileage: int,
    fuel_level: str,
    damage_notes: str = "",
    customer_words: str = "",
    now: datetime.datetime | None = None,
) -> WorkOrder:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not is_available(appointment, "arrive"):
        raise ConflictError(_("Only a booked appointment can be checked in."))
    work_order = appointment_open_work_order(actor=actor, appointment=appointment)
    return workorder_record_reception(
        actor=actor,
        work_order=work_order,
        mileage=mileage,
        fuel_level=fuel_level,
        damage_notes=damage_notes,
        customer_words=customer_words or appointment.reason,
        now=now,
    )


@transaction.atomic
def workorder_record_interview(*, actor, work_order: WorkOrder, notes: str, now=None) -> WorkOrder:
    work_order = _lock_work_order(work_order)
    if not (notes or "").strip():
        raise ValidationError({"interview_notes": _("Write down what the customer said in the interview.")})
    if work_order.interview_done_at is not None:
        raise ConflictError(_("The interview is already recorded."))
    work_order.interview_done_at = _now(now)
    work_order.interview_notes = notes
    work_order.save(update_fields=["interview_done_at", "interview_notes", "updated_at"])
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("interview recorded")),
    )
    return work_order


# --------------------------------------------------------------------------------------------------------------
# Jobs, parts, consent and revisions (R30)
# --------------------------------------------------------------------------------------------------------------


def _revision_content(work_order: WorkOrder) -> dict[str, Any]:
    jobs = []
    for job in work_order.jobs.prefetch_related("parts__part"):
        jobs.append(
            {
                "description": job.description,
                "standard_hours": str(job.standard_hours),
                "rate": str(job.rate),
                "labour": str(job.labour_amount),
                "consent": job.consent,
                "extra": job.is_extra,
                "parts": [
                    {"number": p.part.number, "name": p.part.name, "quantity": str(p.quantity), "price": str(p.price)}
                    for p in job.parts.all()
                ],
            }
        )
    return {"jobs": jobs}


def _snapshot_revision(work_order: WorkOrder, *, actor, reason: str) -> WorkOrderRevision:
    last = work_order.revisions.order_by("-number").first()
    number = last.number + 1 if last else 1
    work_order = WorkOrder.objects.get(pk=work_order.pk)
    revision = WorkOrderRevision.objects.create(
        work_order=work_order,
        number=number,
        reason=reason[:300],
        content=_revision_content(work_order),
        total=work_order.total,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    WorkOrder.objects.filter(pk=work_order.pk).update(revision=number)
    return revision


def _check_editable(work_order: WorkOrder) -> None:
    if work_order.status not in EDITABLE_STATUSES:
        raise ConflictError(
            _("Jobs cannot be changed while the status is «%(status)s».") % {"status": work_order.get_status_display()}
        )


@transaction.atomic
def workorder_job_add(
    *,
    actor,
    work_order: WorkOrder,
    description: str,
    standard_hours: Decimal,
    rate: Decimal | None = None,
    is_important: bool = False,
    kind: JobKind | None = None,
    now: datetime.datetime | None = None,
) -> WorkOrderJob:
    """Add a job. Once diagnosis has started it is extra work: it waits for the customer's consent (R30). The answer
    carries ``load_warning`` when the job overloads its day (refused where the dealership refuses, issue 18)."""
    work_order = _lock_work_order(work_order)
    _check_editable(work_order)
    errors = {}
    if not (description or "").strip():
        errors["description"] = _("Describe the job.")
    if standard_hours is None or Decimal(standard_hours) <= 0:
        errors["standard_hours"] = _("Standard hours must be greater than zero.")
    if rate is not None and Decimal(rate) < 0:
        errors["rate"] = _("The rate cannot be negative.")
    if errors:
        raise ValidationError(errors)
    extra = work_order.status != WorkOrderStatus.OPENED
    # Issue 18 item 3: a job adds hours to the day its work order counts in (extra work only once agreed).
    load_check = WorkshopLoadCheck(
        dealership=work_order.dealership,
        day=workshop.work_order_load_day(work_order, _now(now)),
        now=_now(now),
        field="standard_hours",
    )
    with load_check:
        job = WorkOrderJob.objects.create(
            work_order=work_order,
            description=description.strip(),
            standard_hours=Decimal(standard_hours),
            rate=Decimal(rate)
            if rate is not None
            else selectors.service_settings(dealership=work_order.dealership).labour_rate,
            is_important=is_important,
            kind=kind,  # its checklist is what the inspector ticks (R31, issue 14 item 6)
            is_extra=extra,
            consent=WorkOrderJob.Consent.PENDING if extra else WorkOrderJob.Consent.INCLUDED,
            added_in_revision=work_order.revision,
        )
    job.load_warning = load_check.warning
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={"job": job.description, "hours": str(job.standard_hours), "extra": extra},
        message=events.text(
            gettext_noop("extra work added, awaiting the customer's consent") if extra else gettext_noop("job added")
        ),
    )
    if extra and is_available(work_order, "request_approval"):
        _run(work_order, "request_approval", actor=actor, message=events.text(gettext_noop("extra work found")))
    return job


def _job_for_update(job: WorkOrderJob) -> tuple[WorkOrder, WorkOrderJob]:
    work_order = _lock_work_order(job.work_order)
    return work_order, WorkOrderJob.objects.select_for_update().get(pk=job.pk)


def _release_reservation(*, actor, reservation_ref: str) -> None:
    """Give a part line's reserved stock back to the warehouse (the line keeps the reservation's id)."""
    reservation = Reservation.objects.filter(pk=reservation_ref).first() if reservation_ref else None
    if reservation is not None:
        parts_services.reservation_release(actor=actor, reservation=reservation)


def _check_job_changeable(work_order: WorkOrder, job: WorkOrderJob) -> None:
    _check_editable(work_order)
    if job.consent == WorkOrderJob.Consent.INCLUDED and work_order.status != WorkOrderStatus.OPENED:
        raise ConflictError(
            _(
                "The agreed work order cannot be changed after diagnosis started: "
                "add extra work for the customer's consent."
            )
        )
    if job.consent in (WorkOrderJob.Consent.AGREED, WorkOrderJob.Consent.DECLINED):
        raise ConflictError(_("The customer has already decided on this job; add a new job instead."))


@transaction.atomic
def workorder_job_remove(*, actor, job: WorkOrderJob) -> None:
    work_order, job = _job_for_update(job)
    _check_job_changeable(work_order, job)
    for line in job.parts.all():
        _release_reservation(actor=actor, reservation_ref=line.reservation_ref)
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("job removed: %(job)s"), job=job),
    )
    job.delete()


@transaction.atomic
def workorder_part_add(
    *, actor, job: WorkOrderJob, part, quantity: Decimal, price: Decimal | None = None
) -> WorkOrderPart:
    work_order, job = _job_for_update(job)
    _check_job_changeable(work_order, job)
    check_owned(work_order.dealership_id, part=part)
    if quantity is None or Decimal(quantity) <= 0:
        raise ValidationError({"quantity": _("The quantity must be greater than zero.")})
    line = WorkOrderPart.objects.create(
        job=job, part=part, quantity=Decimal(quantity), price=part.price if price is None else Decimal(price)
    )
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={"part": str(part), "quantity": str(line.quantity)},
        message=events.text(gettext_noop("part added to %(job)s"), job=job),
    )
    return line


@transaction.atomic
def workorder_part_remove(*, actor, line: WorkOrderPart) -> None:
    work_order, job = _job_for_update(line.job)
    _check_job_changeable(work_order, job)
    _release_reservation(actor=actor, reservation_ref=line.reservation_ref)
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("part removed: %(line)s"), line=line),
    )
    line.delete()


@transaction.atomic
def workorder_consent_record(
    *,
    actor,
    job: WorkOrderJob,
    agreed: bool,
    given_by: str,
    channel: str,
    now: datetime.datetime | None = None,
) -> WorkOrderJob:
    """R30: record the customer's answer on extra work; the work order is revised (a new revision is kept)."""
    work_order, job = _job_for_update(job)
    if work_order.status == WorkOrderStatus.DELIVERED:
        # R30: extra work is agreed before it is done; a handed-over car has no work left to agree (a stale page or
        # an old customer link cannot revise a closed work order).
        raise ConflictError(_("The car has been handed over: its work order is closed."))
    if job.consent != WorkOrderJob.Consent.PENDING:
        raise ConflictError(_("This job is not waiting for the customer's consent."))
    errors = {}
    if not (given_by or "").strip():
        errors["given_by"] = _("Record who gave the answer.")
    if not (channel or "").strip():
        errors["channel"] = _("Record how the answer was given (in person, by phone…).")
    if errors:
        raise ValidationError(errors)
    # Issue 18 item 3: agreed extra work adds its hours to the day; the customer's consent is only warned about,
    # never refused for the workshop's load (R30: the answer is theirs; the advisor plans the work around it).
    load_check = WorkshopLoadCheck(
        dealership=work_order.dealership,
        day=workshop.work_order_load_day(work_order, _now(now)),
        now=_now(now),
        field="agreed",
        can_refuse=False,
    )
    with load_check:
        job.consent = WorkOrderJob.Consent.AGREED if agreed else WorkOrderJob.Consent.DECLINED
        job.consent_by = given_by.strip()
        job.consent_channel = channel.strip()
        job.consent_at = _now(now)
        job.consent_recorded_by = actor
        job.save()
    job.load_warning = load_check.warning
    if not agreed:
        for line in job.parts.all():
            _release_reservation(actor=actor, reservation_ref=line.reservation_ref)
    revision = _snapshot_revision(
        work_order,
        actor=actor,
        reason=(_("Customer agreed: %(job)s") if agreed else _("Customer declined: %(job)s")) % {"job": job},
    )
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={"job": job.description, "consent": job.consent, "by": job.consent_by, "revision": revision.number},
        message=events.text(gettext_noop("customer's consent recorded")),
    )
    return job


@transaction.atomic
def workorder_job_complete(*, actor, job: WorkOrderJob, now=None) -> WorkOrderJob:
    work_order, job = _job_for_update(job)
    if job.consent not in WorkOrderJob.DOABLE:
        raise ConflictError(_("Extra work is done only after the customer agrees."))  # R30
    if work_order.status != WorkOrderStatus.IN_REPAIR:
        raise ConflictError(_("Jobs are done while the car is in repair."))
    if job.done_at is not None:
        raise ConflictError(_("This job is already done."))
    job.done_at = _now(now)
    job.save(update_fields=["done_at"])
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("job done: %(job)s"), job=job),
    )
    return job


# --------------------------------------------------------------------------------------------------------------
# Status transitions (R30, R31)
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def workorder_start_diagnosis(*, actor, work_order: WorkOrder) -> WorkOrder:
    work_order = _lock_work_order(work_order)
    if work_order.status == WorkOrderStatus.OPENED and work_order.arrived_at is None:
        raise ConflictError(_("Record the car's reception (mileage, fuel, damage) before diagnosis."))
    return _run(work_order, "start_diagnosis", actor=actor)


@transaction.atomic
def workorder_start_repair(*, actor, work_order: WorkOrder) -> WorkOrder:
    work_order = _lock_work_order(work_order)
    if is_available(work_order, "start_repair"):
        if work_order.has_pending_consent():
            raise ConflictError(_("Extra work is waiting for the customer's consent; record the answer first."))  # R30
        if not work_order.has_jobs():
            raise ValidationError({"jobs": _("Add at least one job before the repair.")})
    return _run(work_order, "start_repair", actor=actor)


@transaction.atomic
def workorder_submit_for_quality_check(
    *, actor, work_order: WorkOrder, technician: str, notes: str = "", now=None
) -> WorkOrder:
    """R31: the technician's self-check comes first; then the car goes to the inspector."""
    work_order = _lock_work_order(work_order)
    if not is_available(work_order, "submit_for_quality_check"):
        return _run(work_order, "submit_for_quality_check", actor=actor)
    if work_order.has_pending_consent():
        raise ConflictError(_("Extra work is waiting for the customer's consent."))  # R30
    if work_order.has_unfinished_jobs():
        raise ConflictError(_("Mark every agreed job as done before the self-check."))
    if not (technician or "").strip():
        raise ValidationError({"technician": _("Name the technician who did the self-check.")})
    work_order.technician = technician.strip()
    work_order.self_check_at = _now(now)
    work_order.self_check_notes = notes
    return _run(
        work_order,
        "submit_for_quality_check",
        actor=actor,
        message=events.text(gettext_noop("self-check done by %(technician)s"), technician=technician),
    )


@transaction.atomic
def workorder_deliver(*, actor, work_order: WorkOrder, signed_by: str, now=None) -> WorkOrder:
    """R31: delivery is signed by the customer (name and time)."""
    work_order = _lock_work_order(work_order)
    if is_available(work_order, "deliver") and not (signed_by or "").strip():
        raise ValidationError({"signed_by": _("The customer signs for the delivery: enter their name.")})
    work_order.signed_by = (signed_by or "").strip()
    work_order.delivered_at = _now(now)
    return _run(
        work_order,
        "deliver",
        actor=actor,
        message=events.text(gettext_noop("signed by %(signed_by)s"), signed_by=work_order.signed_by),
    )
