"""Work orders: reception (R25, odometer rollback), preparation (R17), jobs and consent (R30), quality (R31)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from dms.core import events
from dms.core import roles as core_roles
from dms.core import services as core_services
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.models import AuditAction, Customer, Dealership, Vehicle
from dms.core.uploads import IMAGE_UPLOADS, validate_upload
from dms.core.validators import ensure_vehicle_of_customer

from . import notify, orders_link, scheduling, selectors, stock
from .models import (
    Appointment,
    AppointmentStatus,
    FuelLevel,
    JobKind,
    OdometerRollbackReport,
    QualityCheck,
    QualityChecklistItem,
    QualityJobResult,
    QualityPhoto,
    WorkOrder,
    WorkOrderJob,
    WorkOrderPart,
    WorkOrderRevision,
    WorkOrderStatus,
)
from .service_helpers import _check_owned, _check_staff, _now, _transition

__all__ = [
    "workorder_open",
    "appointment_open_work_order",
    "reception_check_in",
    "workorder_record_reception",
    "workorder_record_interview",
    "workorder_job_add",
    "workorder_job_remove",
    "workorder_part_add",
    "workorder_part_remove",
    "workorder_consent_record",
    "workorder_job_complete",
    "workorder_start_diagnosis",
    "workorder_start_repair",
    "workorder_submit_for_quality_check",
    "workorder_quality_check",
    "JobQualityResult",
    "jobs_waiting_for_quality_check",
    "checklist_items_of",
    "workorder_deliver",
    "workorder_prepare_parts",
    "preparation_mark_due",
]

User = get_user_model()
EDITABLE_STATUSES = (
    WorkOrderStatus.OPENED,
    WorkOrderStatus.DIAGNOSIS,
    WorkOrderStatus.AWAITING_APPROVAL,
    WorkOrderStatus.IN_REPAIR,
)


def _lock(work_order: WorkOrder) -> WorkOrder:
    return (
        WorkOrder.objects.select_for_update().select_related("dealership", "vehicle", "customer").get(pk=work_order.pk)
    )


# --------------------------------------------------------------------------------------------------------------
# Opening and reception
# --------------------------------------------------------------------------------------------------------------


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
    _check_owned(dealership.pk, customer=customer, vehicle=vehicle, appointment=appointment)
    ensure_vehicle_of_customer(customer=customer, vehicle=vehicle)  # R15
    _check_staff(dealership.pk, "advisor", advisor, core_roles.SERVICE_ADVISOR)
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
    work_order = _lock(work_order)
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
    work_order.interview_reasons = selectors.interview_reasons(
        dealership=work_order.dealership, customer=work_order.customer, vehicle=vehicle, now=now
    )
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
        core_services.vehicle_record_mileage(
            actor=actor, vehicle=vehicle, mileage=mileage, source=_("reception, work order %s") % work_order.number
        )
    work_order.save()
    _snapshot_revision(work_order, actor=actor, reason=_("Agreed with the customer at reception"))
    events.record_updated(actor=actor, instance=work_order, before=before, message=_("car received"))
    if work_order.appointment_id:
        appointment = Appointment.objects.select_for_update().get(pk=work_order.appointment_id)
        if appointment.status != AppointmentStatus.ARRIVED:
            _transition(actor, appointment, "arrive", check_perm=False)
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
    if appointment.status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.RESCHEDULE,
    ):
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
    work_order = _lock(work_order)
    if not (notes or "").strip():
        raise ValidationError({"interview_notes": _("Write down what the customer said in the interview.")})
    if work_order.interview_done_at is not None:
        raise ConflictError(_("The interview is already recorded."))
    work_order.interview_done_at = _now(now)
    work_order.interview_notes = notes
    work_order.save(update_fields=["interview_done_at", "interview_notes", "updated_at"])
    events.record(actor=actor, instance=work_order, action=AuditAction.ACTION, message=_("interview recorded"))
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
) -> WorkOrderJob:
    """Add a job. Once diagnosis has started it is extra work: it waits for the customer's consent (R30)."""
    work_order = _lock(work_order)
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
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={"job": job.description, "hours": str(job.standard_hours), "extra": extra},
        message=_("extra work added, awaiting the customer's consent") if extra else _("job added"),
    )
    if extra and work_order.status in (WorkOrderStatus.DIAGNOSIS, WorkOrderStatus.IN_REPAIR):
        _transition(actor, work_order, "request_approval", message=_("extra work found"))
    return job


def _job_for_update(job: WorkOrderJob) -> tuple[WorkOrder, WorkOrderJob]:
    work_order = _lock(job.work_order)
    return work_order, WorkOrderJob.objects.select_for_update().get(pk=job.pk)


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
        stock.release(actor=actor, reservation_ref=line.reservation_ref)
    events.record(actor=actor, instance=work_order, action=AuditAction.ACTION, message=_("job removed: %s") % job)
    job.delete()


@transaction.atomic
def workorder_part_add(
    *, actor, job: WorkOrderJob, part, quantity: Decimal, price: Decimal | None = None
) -> WorkOrderPart:
    work_order, job = _job_for_update(job)
    _check_job_changeable(work_order, job)
    _check_owned(work_order.dealership_id, part=part)
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
        message=_("part added to %s") % job,
    )
    return line


@transaction.atomic
def workorder_part_remove(*, actor, line: WorkOrderPart) -> None:
    work_order, job = _job_for_update(line.job)
    _check_job_changeable(work_order, job)
    stock.release(actor=actor, reservation_ref=line.reservation_ref)
    events.record(actor=actor, instance=work_order, action=AuditAction.ACTION, message=_("part removed: %s") % line)
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
    if job.consent != WorkOrderJob.Consent.PENDING:
        raise ConflictError(_("This job is not waiting for the customer's consent."))
    errors = {}
    if not (given_by or "").strip():
        errors["given_by"] = _("Record who gave the answer.")
    if not (channel or "").strip():
        errors["channel"] = _("Record how the answer was given (in person, by phone…).")
    if errors:
        raise ValidationError(errors)
    job.consent = WorkOrderJob.Consent.AGREED if agreed else WorkOrderJob.Consent.DECLINED
    job.consent_by = given_by.strip()
    job.consent_channel = channel.strip()
    job.consent_at = _now(now)
    job.consent_recorded_by = actor
    job.save()
    if not agreed:
        for line in job.parts.all():
            stock.release(actor=actor, reservation_ref=line.reservation_ref)
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
        message=_("customer's consent recorded"),
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
    events.record(actor=actor, instance=work_order, action=AuditAction.ACTION, message=_("job done: %s") % job)
    return job


# --------------------------------------------------------------------------------------------------------------
# Status transitions (R30, R31)
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def workorder_start_diagnosis(*, actor, work_order: WorkOrder) -> WorkOrder:
    work_order = _lock(work_order)
    if work_order.status == WorkOrderStatus.OPENED and work_order.arrived_at is None:
        raise ConflictError(_("Record the car's reception (mileage, fuel, damage) before diagnosis."))
    return _transition(actor, work_order, "start_diagnosis")


@transaction.atomic
def workorder_start_repair(*, actor, work_order: WorkOrder) -> WorkOrder:
    work_order = _lock(work_order)
    if work_order.status in (WorkOrderStatus.DIAGNOSIS, WorkOrderStatus.AWAITING_APPROVAL):
        if work_order.has_pending_consent():
            raise ConflictError(_("Extra work is waiting for the customer's consent; record the answer first."))  # R30
        if not work_order.has_jobs():
            raise ValidationError({"jobs": _("Add at least one job before the repair.")})
    return _transition(actor, work_order, "start_repair")


@transaction.atomic
def workorder_submit_for_quality_check(
    *, actor, work_order: WorkOrder, technician: str, notes: str = "", now=None
) -> WorkOrder:
    """R31: the technician's self-check comes first; then the car goes to the inspector."""
    work_order = _lock(work_order)
    if work_order.status != WorkOrderStatus.IN_REPAIR:
        return _transition(actor, work_order, "submit_for_quality_check")
    if work_order.has_pending_consent():
        raise ConflictError(_("Extra work is waiting for the customer's consent."))  # R30
    if work_order.has_unfinished_jobs():
        raise ConflictError(_("Mark every agreed job as done before the self-check."))
    if not (technician or "").strip():
        raise ValidationError({"technician": _("Name the technician who did the self-check.")})
    work_order.technician = technician.strip()
    work_order.self_check_at = _now(now)
    work_order.self_check_notes = notes
    return _transition(actor, work_order, "submit_for_quality_check", message=_("self-check done by %s") % technician)


@dataclass(frozen=True)
class JobQualityResult:
    """The inspector's result for one job (R31, issue 14 item 6)."""

    job: WorkOrderJob
    passed: bool
    comment: str = ""
    ticked_items: list[QualityChecklistItem] = field(default_factory=list)
    photos: list[Any] = field(default_factory=list)


def jobs_waiting_for_quality_check(work_order: WorkOrder) -> list[WorkOrderJob]:
    """The agreed jobs that have not passed yet: after a rework only the failed jobs (issue 14 item 6)."""
    return [job for job in work_order.doable_jobs() if job.quality_status != WorkOrderJob.QualityStatus.PASSED]


def checklist_items_of(
    job: WorkOrderJob, item_ids: list, *, field: str = "checklist_items"
) -> list[QualityChecklistItem]:
    """The checklist items ``item_ids`` names, each one of the job's kind; an unknown id is a 400, never dropped."""
    wanted = [parse_id(item_id) if not isinstance(item_id, int) else item_id for item_id in item_ids]
    found = {
        item.pk: item
        for item in QualityChecklistItem.objects.filter(kind_id=job.kind_id, pk__in=[i for i in wanted if i])
    }
    if job.kind_id is None or any(item_id not in found for item_id in wanted):
        if wanted:
            raise ValidationError({field: _("%(job)s: a checklist item of another kind of job.") % {"job": job}})
    return [found[item_id] for item_id in wanted]


def _check_job_result(result: JobQualityResult, errors: list[str]) -> None:
    job = result.job
    items = list(job.kind.checklist.filter(active=True)) if job.kind_id else []
    item_ids = {item.pk for item in items}
    ticked = {item.pk for item in result.ticked_items}
    if not ticked <= item_ids:
        errors.append(_("%(job)s: a checklist item of another kind of job.") % {"job": job})
    if not result.passed and not (result.comment or "").strip():
        errors.append(_("%(job)s: describe what must be redone.") % {"job": job})
    if result.passed and item_ids - ticked:
        missing = ", ".join(item.text for item in items if item.pk not in ticked)
        errors.append(
            _("%(job)s: tick every checklist item (%(items)s) or fail the job.") % {"job": job, "items": missing}
        )


@transaction.atomic
def workorder_quality_check(
    *,
    actor,
    work_order: WorkOrder,
    passed: bool | None = None,
    checked_jobs: list[WorkOrderJob] | None = None,
    results: list[JobQualityResult] | None = None,
    notes: str = "",
    now=None,
) -> QualityCheck:
    """R31: the inspector passes or fails EACH job (issue 14 item 6) against its kind's checklist; a full inspection
    when a job waiting for the check is important. Only the failed jobs go back for rework; passed jobs stay passed,
    and the next check covers only the jobs that have not passed yet.

    ``passed`` + ``checked_jobs`` is the earlier form (one result for all ticked jobs, ``notes`` as their comment)."""
    work_order = _lock(work_order)
    if not actor.has_perm("service.qc_workorder"):
        raise PermissionDenied
    # The FSM says whether the check is possible now (no source states repeated here).
    if not can_proceed(work_order.pass_quality_check):
        raise ConflictError(_("The work order is not waiting for the quality check."))
    legacy = results is None
    if legacy:
        results = [JobQualityResult(job=job, passed=bool(passed), comment=notes) for job in checked_jobs or []]
    due = jobs_waiting_for_quality_check(work_order)
    due_ids = {job.pk for job in due}
    checked_ids = [r.job.pk for r in results]
    if len(set(checked_ids)) != len(checked_ids):
        raise ValidationError({"results": _("Each job is checked once.")})
    if not set(checked_ids) <= due_ids:
        raise ValidationError({"checked_jobs": _("Unknown job, or a job that has already passed.")})
    full = any(job.is_important for job in due)
    if full and set(checked_ids) != due_ids:
        raise ValidationError(
            {"checked_jobs": _("The work order has important jobs: a full inspection checks every job.")}
        )
    if not checked_ids:
        raise ValidationError({"checked_jobs": _("Tick the jobs you inspected.")})
    if legacy and not passed and not (notes or "").strip():
        raise ValidationError({"notes": _("Describe what must be redone.")})
    errors: list[str] = []
    for result in results:
        _check_job_result(result, errors)
    if errors:
        raise ValidationError({"results": errors})
    photo_types = {
        id(photo): validate_upload(photo, allowed=IMAGE_UPLOADS, field="photos")
        for result in results
        for photo in result.photos
    }
    failed = [r for r in results if not r.passed]
    check = QualityCheck.objects.create(
        work_order=work_order, inspector=actor, passed=not failed, full_inspection=full, notes=notes
    )
    check.checked_jobs.set(checked_ids)
    for result in results:
        row = QualityJobResult.objects.create(
            quality_check=check, job=result.job, passed=result.passed, comment=(result.comment or "").strip()
        )
        row.ticked_items.set(result.ticked_items)
        for photo in result.photos:
            original = (getattr(photo, "name", "") or "photo").rsplit("/", 1)[-1][:200]
            stored = QualityPhoto(
                result=row, original_name=original, content_type=photo_types[id(photo)], size=photo.size
            )
            stored.file.save(original, photo, save=False)
            stored.save()
    failed_ids = [r.job.pk for r in failed]
    # A spot check (no important job) passes the jobs not ticked as well: nothing was found against them.
    WorkOrderJob.objects.filter(pk__in=due_ids - set(failed_ids)).update(
        quality_status=WorkOrderJob.QualityStatus.PASSED
    )
    if not failed:
        _transition(actor, work_order, "pass_quality_check", message=notes)
    else:
        # Rework: only the failed jobs are redone (and self-checked again); passed jobs stay passed.
        WorkOrderJob.objects.filter(pk__in=failed_ids).update(
            done_at=None, quality_status=WorkOrderJob.QualityStatus.REWORK
        )
        work_order.rework_count += 1
        work_order.self_check_at = None
        names = ", ".join(r.job.description for r in failed)
        _transition(actor, work_order, "fail_quality_check", message=notes or _("rework: %s") % names)
    return check


@transaction.atomic
def workorder_deliver(*, actor, work_order: WorkOrder, signed_by: str, now=None) -> WorkOrder:
    """R31: delivery is signed by the customer (name and time)."""
    work_order = _lock(work_order)
    if work_order.status == WorkOrderStatus.READY and not (signed_by or "").strip():
        raise ValidationError({"signed_by": _("The customer signs for the delivery: enter their name.")})
    work_order.signed_by = (signed_by or "").strip()
    work_order.delivered_at = _now(now)
    return _transition(actor, work_order, "deliver", message=_("signed by %s") % work_order.signed_by)


# --------------------------------------------------------------------------------------------------------------
# Preparation (R17)
# --------------------------------------------------------------------------------------------------------------


def _parts_eta(lines: list[WorkOrderPart], today: datetime.date) -> datetime.date:
    days = max((line.part.default_supplier.delivery_days if line.part.default_supplier else 7) for line in lines)
    return today + datetime.timedelta(days=days)


def _warn_missing_parts(appointment_id: int, eta: datetime.date, actor_id: int | None) -> None:
    appointment = Appointment.objects.select_related("customer", "dealership").get(pk=appointment_id)
    actor = User.objects.filter(pk=actor_id).first()
    tz = appointment.dealership.tz
    result = notify.notify_customer(
        actor=actor,
        customer=appointment.customer,
        subject=_("Your service appointment: parts are on order"),
        body=_(
            "%(dealership)s: some parts for your visit on %(date)s are not in stock yet; we expect them by %(eta)s. "
            "We will call you to agree a new time if needed."
        )
        % {
            "dealership": appointment.dealership.name,
            "date": scheduling.local(appointment.starts_at, tz).strftime("%d.%m.%Y %H:%M"),
            "eta": eta.strftime("%d.%m.%Y"),
        },
        reference=f"appointment:{appointment.pk}:parts",
    )
    if result == notify.SENT:
        Appointment.objects.filter(pk=appointment_id).update(parts_warning_sent_at=timezone.now())


@transaction.atomic
def workorder_prepare_parts(
    *, actor, work_order: WorkOrder, order_kind: str = "commercial", now: datetime.datetime | None = None
) -> dict[str, Any]:
    """R17: check each needed part, reserve what is in stock, order what is missing, warn the customer if late."""
    now = _now(now)
    work_order = _lock(work_order)
    if order_kind not in ("commercial", "warranty"):
        raise ValidationError({"order_kind": _("Choose warranty or commercial.")})
    if work_order.status in (WorkOrderStatus.READY, WorkOrderStatus.DELIVERED):
        raise ConflictError(_("The work order is already finished."))
    lines = list(
        WorkOrderPart.objects.select_for_update(of=("self",))
        .filter(job__work_order=work_order, job__consent__in=WorkOrderJob.DOABLE)
        .select_related("part__default_supplier")
    )
    if not lines:
        raise ValidationError({"parts": _("Add the parts the job needs first.")})
    reference = f"{work_order.number}"
    reserved, missing = [], []
    for line in lines:
        need = line.quantity - line.reserved_quantity - line.ordered_quantity
        if need <= 0:
            continue
        on_hand = stock.available(dealership=work_order.dealership, part=line.part)
        take = min(need, on_hand) if on_hand > 0 else Decimal("0")
        if take > 0:
            reservation = stock.reserve(
                actor=actor, dealership=work_order.dealership, part=line.part, quantity=take, reference=reference
            )
            line.reserved_quantity += take
            if reservation is not None:
                line.reservation_ref = str(reservation.pk)
            reserved.append((line, take))
        if need - take > 0:
            missing.append((line, need - take))
    order = None
    if missing:
        order = orders_link.create_customer_order(
            actor=actor,
            dealership=work_order.dealership,
            customer=work_order.customer,
            vehicle=work_order.vehicle,
            kind=order_kind,
            lines=[{"part": line.part, "quantity": qty} for line, qty in missing],
            comment=_("Preparation of work order %(number)s") % {"number": work_order.number},
        )
        for line, qty in missing:
            line.ordered_quantity += qty
        work_order.customer_order = order
    for line in {id(line): line for line, _q in reserved + missing}.values():
        line.save(update_fields=["reserved_quantity", "ordered_quantity", "reservation_ref"])
    work_order.save()
    appointment = work_order.appointment
    if appointment is not None:
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        appointment.prepared_at = now
        update = ["prepared_at", "updated_at"]
        if order is not None:
            appointment.customer_order = order
            update.append("customer_order")
        appointment.save(update_fields=update)
        if missing:
            eta = _parts_eta([line for line, _q in missing], timezone.localtime(now, work_order.dealership.tz).date())
            arrival = scheduling.local(appointment.starts_at, work_order.dealership.tz).date()
            if eta > arrival:
                actor_id = getattr(actor, "pk", None)
                transaction.on_commit(lambda: _warn_missing_parts(appointment.pk, eta, actor_id))
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={
            "reserved": ", ".join(f"{line.part.number} × {qty.normalize()}" for line, qty in reserved),
            "ordered": ", ".join(f"{line.part.number} × {qty.normalize()}" for line, qty in missing),
            "customer_order": str(order) if order else "",
        },
        message=_("parts prepared"),
    )
    return {"reserved": reserved, "missing": missing, "order": order}


def _email_preparation_list(advisor_id: int, lines: list[str]) -> None:
    advisor = User.objects.filter(pk=advisor_id).first()
    if advisor is None or not advisor.email:
        return
    send_mail(
        _("Appointments to prepare"),
        _("Prepare these arrivals: open the work order, check and reserve parts, order what is missing.")  # R17
        + "\n\n"
        + "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        [advisor.email],
    )


@transaction.atomic
def preparation_mark_due(*, now: datetime.datetime | None = None) -> int:
    """R17 beat job: arrivals 48 h and 24 h ahead that are not prepared are listed for their advisors."""
    now = _now(now)
    due = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE],
            starts_at__gt=now,
            starts_at__lte=now + datetime.timedelta(hours=48),
            prepared_at__isnull=True,
        )
        .select_related("customer", "vehicle", "dealership")
    )
    by_advisor: dict[int, list[str]] = {}
    for appointment in due:
        stage = "24h" if appointment.starts_at - now <= datetime.timedelta(hours=24) else "48h"
        if appointment.preparation_stage == stage:
            continue
        appointment.preparation_stage = stage
        appointment.save(update_fields=["preparation_stage", "updated_at"])
        local = scheduling.local(appointment.starts_at, appointment.dealership.tz)
        by_advisor.setdefault(appointment.advisor_id, []).append(
            f"{local:%d.%m %H:%M} [{stage}] {appointment.customer.name}, {appointment.vehicle}: {appointment.reason}"
        )
    for advisor_id, lines in by_advisor.items():
        transaction.on_commit(lambda a=advisor_id, ls=lines: _email_preparation_list(a, ls))
    return sum(len(v) for v in by_advisor.values())
