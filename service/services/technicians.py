"""Technicians, job assignment and job clocking (issue 18 items 1-2); the load check is in ``workshop_load.py``.

A technician is a user with the TECHNICIAN role and a profile in the dealership: skills (kinds of job), a
certification level, working hours per weekday, absences. A job is assigned to a technician of its work order's
dealership who has the job's skill; the technician clocks it (start, pause, finish) on the tablet page. One open
interval per technician: the technician's user row is locked while the clock changes, and the partial unique index
``job_clock_one_open_per_technician`` is the final word.
"""

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core import roles as core_roles
from dms.core.exceptions import ConflictError
from dms.core.formatting import short_date
from dms.core.models import AuditAction, Dealership
from dms.core.transitions import audited_update
from dms.core.validation import check_staff

from .. import workshop
from ..models import (
    JobClock,
    JobKind,
    TechnicianAbsence,
    TechnicianHours,
    TechnicianProfile,
    WorkOrderJob,
    WorkOrderStatus,
)
from .common import _now
from .workorders import workorder_job_complete
from .workshop_load import CapacityLoadCheck

# How far ahead shorter working hours or a removed working day are checked against the booked load (issue 18 item
# 3): the appointment book's usual horizon; later bookings are counted when they are made.
HOURS_CHECK_DAYS = 28

User = get_user_model()

TECHNICIAN_FIELDS = ("user", "certification_level", "is_active", "notes")


def _check_technician_user(dealership_id: int, user, *, field: str = "user") -> None:
    check_staff(
        dealership_id,
        user,
        field=field,
        role=core_roles.TECHNICIAN,
        role_message=_("This employee is not a technician."),
        required=True,
    )


def _set_skills(profile: TechnicianProfile, skills) -> None:
    if skills is not None:
        profile.skills.set(list(skills))


@transaction.atomic
def technician_create(
    *,
    actor,
    dealership: Dealership,
    user,
    certification_level: int = 2,
    skills: list[JobKind] | None = None,
    is_active: bool = True,
    notes: str = "",
) -> TechnicianProfile:
    _check_technician_user(dealership.pk, user)
    if TechnicianProfile.objects.filter(dealership=dealership, user=user).exists():
        raise ValidationError({"user": _("This employee already has a technician's record in the dealership.")})
    profile = TechnicianProfile(
        dealership=dealership, user=user, certification_level=certification_level, is_active=is_active, notes=notes
    )
    profile.full_clean()
    profile.save()
    _set_skills(profile, skills)
    events.record_created(actor=actor, instance=profile, fields=TECHNICIAN_FIELDS)
    return profile


@transaction.atomic
def technician_update(
    *, actor, technician: TechnicianProfile, data: dict[str, Any], now: datetime.datetime | None = None
) -> TechnicianProfile:
    """Change a technician's profile; ``load_warning`` on the result names the days of the next weeks overloaded by
    taking the technician off the workshop (deactivated) or taking skills away — warned, never refused, as an absence
    (CapacityLoadCheck)."""
    skills = data.pop("skills", None)
    # The stored values, not the instance's: a page's ModelForm has already copied its input onto ``technician``.
    stored = TechnicianProfile.objects.filter(pk=technician.pk).values_list("is_active", flat=True).first()
    skills_before = set(technician.skills.values_list("pk", flat=True))
    deactivated = bool(stored) and data.get("is_active") is False
    skills_removed = skills is not None and bool(skills_before - {getattr(k, "pk", k) for k in skills})
    with _hours_check(technician, now, active=deactivated or skills_removed) as check:
        profile = _technician_write(actor, technician, data, skills)
    profile.load_warning = technician.load_warning = check.warning
    return profile


def _technician_write(actor, technician: TechnicianProfile, data: dict[str, Any], skills) -> TechnicianProfile:
    profile = audited_update(
        technician,
        actor=actor,
        data=data,
        allowed=("certification_level", "is_active", "notes"),
        check=TechnicianProfile.full_clean,
    )
    if skills is not None:
        before = sorted(str(k) for k in profile.skills.all())
        _set_skills(profile, skills)
        after = sorted(str(k) for k in skills)
        if before != after:
            events.record(
                actor=actor,
                instance=profile,
                action=AuditAction.UPDATED,
                changes={"skills": [before, after]},
                message=events.text(gettext_noop("skills changed")),
            )
    return profile


@transaction.atomic
def technician_hours_set(
    *,
    actor,
    technician: TechnicianProfile,
    weekday: int,
    starts_at: datetime.time,
    ends_at: datetime.time,
    break_minutes: int = 60,
    now: datetime.datetime | None = None,
) -> TechnicianHours:
    """Set a weekday's hours; ``load_warning`` on the result (and on ``technician``, which the API answers with)
    names the days of the next weeks that shorter hours overload (warned, never refused: see CapacityLoadCheck)."""
    if weekday not in range(7):
        raise ValidationError({"weekday": _("Choose a weekday.")})
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The working day must end after it starts.")})
    length = (datetime.datetime.combine(datetime.date.min, ends_at) - datetime.datetime.combine(
        datetime.date.min, starts_at
    )).total_seconds() // 60  # fmt: skip
    if not 0 <= (break_minutes or 0) < length:
        raise ValidationError({"break_minutes": _("The break must be shorter than the working day.")})
    was = TechnicianHours.objects.filter(technician=technician, weekday=weekday).first()
    shorter = was is not None and _day_hours(starts_at, ends_at, break_minutes) < was.hours
    with _hours_check(technician, now, active=shorter) as check:
        hours = _hours_write(actor, technician, weekday, starts_at, ends_at, break_minutes)
    hours.load_warning = technician.load_warning = check.warning
    return hours


def _day_hours(starts_at: datetime.time, ends_at: datetime.time, break_minutes: int):
    return TechnicianHours(starts_at=starts_at, ends_at=ends_at, break_minutes=break_minutes or 0).hours


def _hours_check(technician: TechnicianProfile, now, *, active: bool = True) -> CapacityLoadCheck:
    """The check of a write taking a weekday's hours away: the next HOURS_CHECK_DAYS days (none when not ``active``:
    longer hours or a new working day overload nothing)."""
    now = _now(now)
    today = timezone.localtime(now, technician.dealership.tz).date()
    date_to = today + datetime.timedelta(days=HOURS_CHECK_DAYS - 1 if active else -1)
    return CapacityLoadCheck(dealership=technician.dealership, date_from=today, date_to=date_to, now=now)


def _hours_write(actor, technician, weekday, starts_at, ends_at, break_minutes) -> TechnicianHours:
    hours, created = TechnicianHours.objects.select_for_update().get_or_create(
        technician=technician,
        weekday=weekday,
        defaults={
            "dealership_id": technician.dealership_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "break_minutes": break_minutes,
        },
    )
    if created:
        events.record_created(
            actor=actor, instance=hours, fields=["technician", "weekday", "starts_at", "ends_at", "break_minutes"]
        )
    else:
        before = events.snapshot(hours, ["starts_at", "ends_at", "break_minutes"])
        hours.starts_at, hours.ends_at, hours.break_minutes = starts_at, ends_at, break_minutes
        hours.save()
        events.record_updated(actor=actor, instance=hours, before=before)
    return hours


@transaction.atomic
def technician_hours_delete(*, actor, hours: TechnicianHours, now: datetime.datetime | None = None) -> str:
    """A weekday off; returns the load warning of the days of the next weeks it overloads (never refused)."""
    with _hours_check(hours.technician, now) as check:
        events.record(actor=actor, instance=hours, action=AuditAction.DELETED, message=str(hours))
        hours.delete()
    return check.warning


@transaction.atomic
def technician_absence_create(
    *,
    actor,
    technician: TechnicianProfile,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    kind: str = TechnicianAbsence.Kind.DAY_OFF,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> TechnicianAbsence:
    """Record an absence; ``load_warning`` on the result (and on ``technician``, which the API answers with) names
    the days of the absence, from today on, that it overloads. Warned, never refused, even where the dealership
    refuses overloading bookings: a sick technician is a fact (see CapacityLoadCheck)."""
    ends_on = ends_on or starts_on
    if starts_on is None:
        raise ValidationError({"starts_on": _("This field is required.")})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The absence must end on or after its first day.")})
    if (ends_on - starts_on).days > 366:
        raise ValidationError({"ends_on": _("An absence is at most a year long.")})
    if kind not in TechnicianAbsence.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of absence.")})
    overlap = TechnicianAbsence.objects.filter(technician=technician, starts_on__lte=ends_on, ends_on__gte=starts_on)
    if overlap.exists():
        first = overlap.order_by("starts_on").first()
        raise ValidationError(
            {"starts_on": _("The technician is already absent from %(date)s.") % {"date": short_date(first.starts_on)}}
        )
    now = _now(now)
    today = timezone.localtime(now, technician.dealership.tz).date()
    check = CapacityLoadCheck(
        dealership=technician.dealership, date_from=max(starts_on, today), date_to=ends_on, now=now
    )
    with check:
        absence = TechnicianAbsence.objects.create(
            dealership_id=technician.dealership_id,
            technician=technician,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=(reason or "").strip(),
        )
        events.record_created(
            actor=actor, instance=absence, fields=["technician", "kind", "starts_on", "ends_on", "reason"]
        )
    absence.load_warning = technician.load_warning = check.warning
    return absence


@transaction.atomic
def technician_absence_delete(*, actor, absence: TechnicianAbsence) -> None:
    events.record(actor=actor, instance=absence, action=AuditAction.DELETED, message=str(absence))
    absence.delete()


# --------------------------------------------------------------------------------------------------------------
# Assignment and clocking (issue 18 item 2)
# --------------------------------------------------------------------------------------------------------------


def _locked_job(job: WorkOrderJob) -> WorkOrderJob:
    return WorkOrderJob.objects.select_for_update(of=("self",)).select_related("work_order", "kind").get(pk=job.pk)


@transaction.atomic
def job_assign(*, actor, job: WorkOrderJob, technician, now: datetime.datetime | None = None) -> WorkOrderJob:
    """Give the job to a technician of the work order's dealership who has its skill (None takes it back)."""
    now = _now(now)
    job = _locked_job(job)
    work_order = job.work_order
    if work_order.status not in workshop.OPEN_WORK_ORDER_STATUSES:
        raise ConflictError(_("Jobs of a finished work order are not assigned."))
    if job.done_at is not None:
        raise ConflictError(_("This job is already done."))
    if job.consent not in WorkOrderJob.DOABLE:
        raise ConflictError(_("Extra work is done only after the customer agrees."))  # R30
    if technician is not None:
        profile = workshop.technician_of(dealership_id=work_order.dealership_id, user=technician)
        if profile is None or not profile.is_active:
            raise ValidationError({"technician": _("Choose a technician of this dealership's workshop.")})
        if job.kind_id is not None and not profile.skills.filter(pk=job.kind_id).exists():
            raise ValidationError(
                {"technician": _("%(name)s has no skill for “%(kind)s”.") % {"name": profile, "kind": job.kind}}
            )
    if JobClock.objects.filter(job=job, ended_at__isnull=True).exists():
        raise ConflictError(_("The job is being clocked; pause it before giving it to someone else."))
    # The names people know them by (the history shows them), not the login.
    before = {"technician": (job.technician.get_full_name() or job.technician.username) if job.technician else ""}
    job.technician = technician
    job.assigned_at = now if technician is not None else None
    job.save(update_fields=["technician", "assigned_at"])
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={
            "job": job.description,
            "technician": [
                before["technician"],
                (technician.get_full_name() or technician.username) if technician else "",
            ],
        },
        message=events.text(gettext_noop("job assigned: %(job)s"), job=job.description),
    )
    return job


def _lock_technician(user) -> None:
    # One technician's clock changes one at a time: the "one open interval" check cannot be raced.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _check_clockable(job: WorkOrderJob, actor) -> None:
    if workshop.technician_of(dealership_id=job.work_order.dealership_id, user=actor) is None:
        raise ValidationError({"job": _("Only a technician of this workshop clocks jobs.")})
    if job.technician_id != actor.pk:
        raise ValidationError({"job": _("This job is assigned to another technician.")})
    if job.done_at is not None:
        raise ConflictError(_("This job is already done."))
    if job.work_order.status not in workshop.CLOCKABLE_STATUSES:
        raise ConflictError(_("Jobs are clocked while the car is diagnosed or in repair."))


@transaction.atomic
def job_clock_start(*, actor, job: WorkOrderJob, now: datetime.datetime | None = None) -> JobClock:
    """Start (or resume) the job: a new open interval; the technician's other open one must be paused first."""
    now = _now(now)
    _lock_technician(actor)
    job = _locked_job(job)
    _check_clockable(job, actor)
    open_clock = JobClock.objects.filter(technician=actor, ended_at__isnull=True).select_related("job").first()
    if open_clock is not None:
        if open_clock.job_id == job.pk:
            raise ConflictError(_("This job is already running."))
        raise ConflictError(
            _("You are clocked on “%(job)s”; pause or finish it first.") % {"job": open_clock.job.description}
        )
    try:
        with transaction.atomic():
            clock = JobClock.objects.create(
                dealership_id=job.work_order.dealership_id, job=job, technician=actor, started_at=now
            )
    except IntegrityError as error:
        raise ConflictError(_("You are already clocked on a job.")) from error
    events.record(
        actor=actor,
        instance=job.work_order,
        action=AuditAction.ACTION,
        changes={"job": job.description, "started_at": now.isoformat()},
        message=events.text(gettext_noop("job started: %(job)s"), job=job.description),
    )
    return clock


def _close_open_clock(*, actor, job: WorkOrderJob, now: datetime.datetime) -> JobClock | None:
    clock = JobClock.objects.select_for_update().filter(technician=actor, job=job, ended_at__isnull=True).first()
    if clock is None:
        return None
    clock.ended_at = max(now, clock.started_at)
    clock.save(update_fields=["ended_at", "updated_at"])
    return clock


@transaction.atomic
def job_clock_pause(*, actor, job: WorkOrderJob, now: datetime.datetime | None = None) -> JobClock:
    now = _now(now)
    _lock_technician(actor)
    job = _locked_job(job)
    _check_clockable(job, actor)
    clock = _close_open_clock(actor=actor, job=job, now=now)
    if clock is None:
        raise ConflictError(_("This job is not running."))
    events.record(
        actor=actor,
        instance=job.work_order,
        action=AuditAction.ACTION,
        changes={"job": job.description, "ended_at": now.isoformat()},
        message=events.text(gettext_noop("job paused: %(job)s"), job=job.description),
    )
    return clock


@transaction.atomic
def job_clock_finish(*, actor, job: WorkOrderJob, now: datetime.datetime | None = None) -> WorkOrderJob:
    """Close the running interval and mark the job done (the work order's own 'job done' step, R31 path)."""
    now = _now(now)
    _lock_technician(actor)
    job = _locked_job(job)
    _check_clockable(job, actor)
    if job.work_order.status != WorkOrderStatus.IN_REPAIR:
        raise ConflictError(_("Jobs are done while the car is in repair."))
    _close_open_clock(actor=actor, job=job, now=now)
    if not JobClock.objects.filter(job=job, technician=actor).exists():
        raise ConflictError(_("Start the job before finishing it."))
    return workorder_job_complete(actor=actor, job=job, now=now)
