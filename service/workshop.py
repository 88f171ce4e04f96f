"""Reads of the workshop (issue 18 items 1-4): technicians' present hours, the load per day and skill, clocked hours
per job, and the board by technician. Writes are in ``services/technicians.py``.

Present hours of a technician on a day = the weekday's working hours minus the break, none on a day of absence.
The load of a day = the labour hours of the day's active appointments (the remaining jobs of their work order once
it has jobs, else the hours planned at booking) plus, for today, the remaining jobs of the other open work orders.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from dms.core.models import Dealership
from dms.core.search import text_search

from . import scheduling
from .models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    JobClock,
    TechnicianAbsence,
    TechnicianProfile,
    WorkOrder,
    WorkOrderJob,
    WorkOrderStatus,
)

ZERO = Decimal("0.00")
# Work orders whose jobs still take workshop hours (ready and delivered cars do not).
OPEN_WORK_ORDER_STATUSES = (
    WorkOrderStatus.OPENED,
    WorkOrderStatus.DIAGNOSIS,
    WorkOrderStatus.AWAITING_APPROVAL,
    WorkOrderStatus.IN_REPAIR,
    WorkOrderStatus.QUALITY_CHECK,
)
# A job can be clocked while the car is diagnosed or repaired.
CLOCKABLE_STATUSES = (WorkOrderStatus.DIAGNOSIS, WorkOrderStatus.IN_REPAIR)


def technician_list(*, dealership_ids: Iterable[int], search: str = "", active_only: bool = False):
    qs = (
        TechnicianProfile.objects.filter(dealership_id__in=list(dealership_ids))
        .select_related("user", "dealership")
        .prefetch_related("skills", "hours")
    )
    if active_only:
        qs = qs.filter(is_active=True)
    return text_search(qs, search, "user__last_name", "user__first_name", "user__username")


def technician_of(*, dealership_id: int, user) -> TechnicianProfile | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return TechnicianProfile.objects.filter(dealership_id=dealership_id, user=user).first()


def _absent_days(profiles, date_from: datetime.date, date_to: datetime.date) -> dict[int, set[datetime.date]]:
    absent: dict[int, set[datetime.date]] = defaultdict(set)
    rows = TechnicianAbsence.objects.filter(
        technician__in=[p.pk for p in profiles], starts_on__lte=date_to, ends_on__gte=date_from
    )
    for row in rows:
        day = max(row.starts_on, date_from)
        while day <= min(row.ends_on, date_to):
            absent[row.technician_id].add(day)
            day += datetime.timedelta(days=1)
    return absent


def present_hours(
    *, profiles: list[TechnicianProfile], date_from: datetime.date, date_to: datetime.date
) -> dict[int, dict[datetime.date, Decimal]]:
    """{profile id: {day: hours present}} over the range, both ends included (issue 18 items 1, 3, 5)."""
    absent = _absent_days(profiles, date_from, date_to)
    result: dict[int, dict[datetime.date, Decimal]] = {}
    for profile in profiles:
        by_weekday = {h.weekday: h.hours for h in profile.hours.all()}
        days = {}
        day = date_from
        while day <= date_to:
            days[day] = ZERO if day in absent[profile.pk] else by_weekday.get(day.weekday(), ZERO)
            day += datetime.timedelta(days=1)
        result[profile.pk] = days
    return result


def technician_present_hours(
    *, technician: TechnicianProfile, date_from: datetime.date, date_to: datetime.date
) -> Decimal:
    """A technician's present hours over a range (productivity = clocked ÷ present, issue 18 item 5)."""
    days = present_hours(profiles=[technician], date_from=date_from, date_to=date_to)[technician.pk]
    return sum(days.values(), ZERO)


def clocked_hours(*, jobs: Iterable[WorkOrderJob], now: datetime.datetime | None = None) -> dict[int, Decimal]:
    """{job id: hours clocked}; an open interval counts up to ``now``."""
    now = now or timezone.now()
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for clock in JobClock.objects.filter(job__in=[j.pk for j in jobs]):
        end = clock.ended_at or max(now, clock.started_at)
        totals[clock.job_id] += Decimal((end - clock.started_at).total_seconds()) / 3600
    return {job_id: hours.quantize(Decimal("0.01")) for job_id, hours in totals.items()}


def job_work_state(job: WorkOrderJob, open_clock: JobClock | None, has_clocks: bool) -> str:
    """not_started / in_progress / paused / done: what the tablet and the board show."""
    if job.done_at is not None:
        return "done"
    if open_clock is not None:
        return "in_progress"
    return "paused" if has_clocks else "not_started"


def clock_list(*, dealership_ids: Iterable[int]) -> QuerySet[JobClock]:
    return JobClock.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "job__work_order", "technician"
    )


# --------------------------------------------------------------------------------------------------------------
# Load per day and skill (issue 18 item 3)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class SkillLoad:
    kind_id: int | None
    name: str
    capacity: Decimal = ZERO
    load: Decimal = ZERO

    @property
    def overloaded(self) -> bool:
        return self.load > self.capacity


@dataclass
class DayLoad:
    day: datetime.date
    technicians: int = 0
    capacity: Decimal = ZERO
    booked: Decimal = ZERO
    open_jobs: Decimal = ZERO
    skills: list[SkillLoad] = field(default_factory=list)

    @property
    def load(self) -> Decimal:
        return self.booked + self.open_jobs

    @property
    def free(self) -> Decimal:
        return self.capacity - self.load

    @property
    def overloaded(self) -> bool:
        return self.load > self.capacity

    @property
    def percent(self) -> int:
        if not self.capacity:
            return 100 if self.load else 0
        return int(self.load * 100 / self.capacity)

    @property
    def overloaded_skills(self) -> list[SkillLoad]:
        return [s for s in self.skills if s.overloaded]


def _remaining_jobs(job_filter: Q) -> QuerySet[WorkOrderJob]:
    return WorkOrderJob.objects.filter(
        job_filter, consent__in=WorkOrderJob.DOABLE, done_at__isnull=True
    ).select_related("kind")


def _appointment_hours(appointments: list[Appointment]) -> dict[int, list[tuple[Decimal, object]]]:
    """{appointment id: [(hours, kind)]}: its work order's remaining jobs, else what was planned at booking."""
    by_order = defaultdict(list)
    for job in _remaining_jobs(Q(work_order__appointment__in=[a.pk for a in appointments])).select_related(
        "work_order"
    ):
        by_order[job.work_order.appointment_id].append((job.standard_hours, job.kind))
    with_jobs = set(
        WorkOrderJob.objects.filter(
            work_order__appointment__in=[a.pk for a in appointments], consent__in=WorkOrderJob.DOABLE
        ).values_list("work_order__appointment_id", flat=True)
    )
    result = {}
    for appointment in appointments:
        if appointment.pk in with_jobs:
            result[appointment.pk] = by_order.get(appointment.pk, [])
        else:
            result[appointment.pk] = [(appointment.planned_hours, appointment.planned_kind)]
    return result


def workshop_load(
    *,
    dealership: Dealership,
    date_from: datetime.date,
    date_to: datetime.date,
    now: datetime.datetime | None = None,
    exclude_appointment: int | None = None,
) -> list[DayLoad]:
    """The workshop's load per day of the range: capacity of the present technicians against booked and open hours,
    in total and per skill (kind of job)."""
    now = now or timezone.now()
    tz = dealership.tz
    today = timezone.localtime(now, tz).date()
    profiles = list(
        TechnicianProfile.objects.filter(dealership=dealership, is_active=True).prefetch_related(
            "hours", Prefetch("skills")
        )
    )
    present = present_hours(profiles=profiles, date_from=date_from, date_to=date_to)
    start, _end = scheduling.day_bounds(date_from, tz)
    _start, end = scheduling.day_bounds(date_to, tz)
    appointments = list(
        Appointment.objects.filter(
            dealership=dealership, status__in=ACTIVE_APPOINTMENT_STATUSES, starts_at__gte=start, starts_at__lt=end
        )
        .exclude(pk=exclude_appointment)
        .select_related("planned_kind")
    )
    hours_of = _appointment_hours(appointments)
    days = []
    day = date_from
    while day <= date_to:
        load = DayLoad(day=day)
        skills: dict[int | None, SkillLoad] = {}
        for profile in profiles:
            hours = present[profile.pk][day]
            if not hours:
                continue
            load.technicians += 1
            load.capacity += hours
            for kind in profile.skills.all():
                skills.setdefault(kind.pk, SkillLoad(kind.pk, kind.name)).capacity += hours
        entries = [hours_of[a.pk] for a in appointments if scheduling.local(a.starts_at, tz).date() == day]
        for rows in entries:
            for hours, kind in rows:
                load.booked += hours
                if kind is not None:
                    skills.setdefault(kind.pk, SkillLoad(kind.pk, kind.name)).load += hours
        if day == today:
            load.open_jobs = _open_job_hours(dealership, start_of_day=scheduling.day_bounds(day, tz)[0], skills=skills)
        load.skills = sorted(skills.values(), key=lambda s: s.name)
        days.append(load)
        day += datetime.timedelta(days=1)
    return days


def _open_job_hours(dealership: Dealership, *, start_of_day: datetime.datetime, skills: dict) -> Decimal:
    """Today's share of the open work orders not counted by today's appointments (walk-ins, cars still in repair
    from earlier days): their remaining jobs."""
    jobs = _remaining_jobs(
        Q(work_order__dealership=dealership, work_order__status__in=OPEN_WORK_ORDER_STATUSES)
        & (Q(work_order__appointment__isnull=True) | Q(work_order__appointment__starts_at__lt=start_of_day))
    )
    total = ZERO
    for job in jobs:
        total += job.standard_hours
        if job.kind is not None:
            skills.setdefault(job.kind_id, SkillLoad(job.kind_id, job.kind.name)).load += job.standard_hours
    return total


def day_load(*, dealership: Dealership, day: datetime.date, now=None, exclude_appointment=None) -> DayLoad:
    return workshop_load(
        dealership=dealership, date_from=day, date_to=day, now=now, exclude_appointment=exclude_appointment
    )[0]


def planner_enabled(dealership: Dealership) -> bool:
    """The load planner counts only where the dealership keeps its technicians in the DMS."""
    return TechnicianProfile.objects.filter(dealership=dealership, is_active=True).exists()


# --------------------------------------------------------------------------------------------------------------
# Board by technician (issue 18 item 4)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class BoardJob:
    job: WorkOrderJob
    clocked: Decimal
    state: str
    late_reasons: list[str] = field(default_factory=list)

    @property
    def work_order(self) -> WorkOrder:
        return self.job.work_order


@dataclass
class BoardRow:
    technician: TechnicianProfile
    now: BoardJob | None = None
    next: list[BoardJob] = field(default_factory=list)
    late: list[BoardJob] = field(default_factory=list)
    present_today: Decimal = ZERO


def _late_reasons(job: WorkOrderJob, clocked: Decimal, now: datetime.datetime) -> list[str]:
    reasons = []
    appointment = job.work_order.appointment
    if appointment is not None and appointment.handover_at < now and job.work_order.status in OPEN_WORK_ORDER_STATUSES:
        reasons.append("promised")
    if job.standard_hours and clocked > job.standard_hours:
        reasons.append("over_sold")
    return reasons


def workshop_board_by_technician(*, dealership: Dealership, now: datetime.datetime | None = None) -> list[BoardRow]:
    """Each technician: the job clocked in now, the assigned jobs not started yet, the late ones (past the promised
    hand-over, or clocked over the sold hours)."""
    now = now or timezone.now()
    today = timezone.localtime(now, dealership.tz).date()
    profiles = list(technician_list(dealership_ids=[dealership.pk], active_only=True))
    present = present_hours(profiles=profiles, date_from=today, date_to=today)
    jobs = list(
        WorkOrderJob.objects.filter(
            work_order__dealership=dealership,
            work_order__status__in=OPEN_WORK_ORDER_STATUSES,
            technician__in=[p.user_id for p in profiles],
            consent__in=WorkOrderJob.DOABLE,
            done_at__isnull=True,
        ).select_related("work_order__vehicle", "work_order__appointment", "kind")
    )
    clocked = clocked_hours(jobs=jobs, now=now)
    open_clocks = {
        c.technician_id: c
        for c in JobClock.objects.filter(dealership=dealership, ended_at__isnull=True).select_related(
            "job__work_order__vehicle", "job__work_order__appointment", "job__kind"
        )
    }
    clocked_jobs = set(JobClock.objects.filter(job__in=[j.pk for j in jobs]).values_list("job_id", flat=True))
    rows = []
    for profile in profiles:
        row = BoardRow(technician=profile, present_today=present[profile.pk][today])
        open_clock = open_clocks.get(profile.user_id)
        if open_clock is not None:
            job = open_clock.job
            hours = clocked_hours(jobs=[job], now=now).get(job.pk, ZERO)
            row.now = BoardJob(job, hours, "in_progress", _late_reasons(job, hours, now))
        for job in jobs:
            if job.technician_id != profile.user_id or (row.now and row.now.job.pk == job.pk):
                continue
            hours = clocked.get(job.pk, ZERO)
            item = BoardJob(job, hours, "paused" if job.pk in clocked_jobs else "not_started")
            item.late_reasons = _late_reasons(job, hours, now)
            row.next.append(item)
        row.late = [i for i in ([row.now] if row.now else []) + row.next if i.late_reasons]
        rows.append(row)
    return rows


def technician_jobs(*, technician: TechnicianProfile, now: datetime.datetime | None = None) -> list[BoardJob]:
    """The tablet's list: the technician's unfinished jobs on open work orders, the clocked one first."""
    now = now or timezone.now()
    jobs = list(
        WorkOrderJob.objects.filter(
            work_order__dealership_id=technician.dealership_id,
            work_order__status__in=OPEN_WORK_ORDER_STATUSES,
            technician_id=technician.user_id,
            consent__in=WorkOrderJob.DOABLE,
            done_at__isnull=True,
        ).select_related("work_order__vehicle", "work_order__appointment", "kind")
    )
    clocked = clocked_hours(jobs=jobs, now=now)
    open_job = (
        JobClock.objects.filter(technician_id=technician.user_id, ended_at__isnull=True)
        .values_list("job_id", flat=True)
        .first()
    )
    with_clocks = set(JobClock.objects.filter(job__in=[j.pk for j in jobs]).values_list("job_id", flat=True))
    items = []
    for job in jobs:
        state = "in_progress" if job.pk == open_job else ("paused" if job.pk in with_clocks else "not_started")
        items.append(
            BoardJob(job, clocked.get(job.pk, ZERO), state, _late_reasons(job, clocked.get(job.pk, ZERO), now))
        )
    items.sort(key=lambda i: (i.state != "in_progress", i.work_order.pk, i.job.pk))
    return items
