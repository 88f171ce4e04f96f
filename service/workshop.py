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
    # In the day's bottleneck: with the other skills of ``DayLoad.short_kinds``, more hours than the technicians
    # who can do them have (not only ``load > capacity``: two skills may each fit and not both).
    overloaded: bool = False


@dataclass
class DayLoad:
    day: datetime.date
    technicians: int = 0
    capacity: Decimal = ZERO
    booked: Decimal = ZERO
    open_jobs: Decimal = ZERO
    skills: list[SkillLoad] = field(default_factory=list)
    # Hours of the day's demand that can be given to a present technician able to do them (the maximum assignment).
    assignable: Decimal = ZERO
    # The bottleneck: kinds of job (None: jobs of no kind) whose demand together exceeds the hours of the technicians
    # who can do any of them, with those two figures. Empty when every hour finds a technician.
    short_kinds: frozenset = frozenset()
    short_capacity: Decimal = ZERO
    short_load: Decimal = ZERO

    @property
    def load(self) -> Decimal:
        return self.booked + self.open_jobs

    @property
    def free(self) -> Decimal:
        return self.capacity - self.load

    @property
    def unassigned(self) -> Decimal:
        return self.load - self.assignable

    @property
    def overloaded(self) -> bool:
        """More hours than the workshop's present technicians have in total (each technician counted once)."""
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


# --------------------------------------------------------------------------------------------------------------
# Assigning a day's demand to its technicians (issue 18 item 3)
#
# A technician with skills A and B can give their present hours to A or to B, not to both. The demand fits iff the
# flow network source → kind (capacity: the kind's demand) → technician able to do it (unbounded) → sink (capacity:
# the technician's present hours) carries all the demand. That is the max-flow / Hall condition: for EVERY set S of
# kinds, demand(S) <= hours of the technicians having a skill in S. Checking the total and each skill alone is
# not enough (two technicians both with A and B, 8 h each: A 10 h and B 10 h pass both checks, yet 20 > 16). The
# network is small (the day's kinds × present technicians), so Edmonds-Karp on hundredths of an hour is exact; the
# kinds still reachable from the source in the residual network are the tightest violated set S (the min cut),
# which the page and the warning name. A job of no kind can be done by any technician.
# --------------------------------------------------------------------------------------------------------------

_SOURCE, _SINK = ("source",), ("sink",)


def _cents(hours: Decimal) -> int:
    return int((hours * 100).to_integral_value())


def _augment(residual: dict, parents: dict) -> int:
    """Push the bottleneck of the path found by BFS (``parents``) from the source to the sink."""
    path, node = [], _SINK
    while node != _SOURCE:
        path.append((parents[node], node))
        node = parents[node]
    pushed = min(residual[u][v] for u, v in path)
    for u, v in path:
        residual[u][v] -= pushed
        residual[v][u] = residual[v].get(u, 0) + pushed
    return pushed


def _reachable(residual: dict) -> dict:
    """BFS over edges with capacity left: {node: parent}."""
    parents = {_SOURCE: None}
    queue = [_SOURCE]
    while queue:
        node = queue.pop(0)
        for nxt, left in residual[node].items():
            if left > 0 and nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    return parents


def assign_demand(
    *, supply: dict[int, Decimal], skills_of: dict[int, set], demand: dict[int | None, Decimal]
) -> tuple[Decimal, frozenset]:
    """(hours assignable, the bottleneck set of kinds) for ``demand`` {kind id or None: hours} over technicians'
    ``supply`` {technician: hours present} and ``skills_of`` {technician: kind ids}. See the comment above."""
    residual: dict = defaultdict(dict)
    for kind, hours in demand.items():
        if hours > 0:
            residual[_SOURCE][("kind", kind)] = _cents(hours)
            for tech, skills in skills_of.items():
                if supply.get(tech) and (kind is None or kind in skills):
                    residual[("kind", kind)][("tech", tech)] = _cents(hours)  # never the limit: the kind's own
    for tech, hours in supply.items():
        if hours:
            residual[("tech", tech)][_SINK] = _cents(hours)
    flow = 0
    while True:
        parents = _reachable(residual)
        if _SINK not in parents:
            break
        flow += _augment(residual, parents)
    short = frozenset(node[1] for node in parents if node[0] == "kind")
    return Decimal(flow) / 100, short


def _demand_by_kind(rows: Iterable[tuple[Decimal, object]]) -> dict[int | None, Decimal]:
    demand: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for hours, kind in rows:
        demand[getattr(kind, "pk", None)] += hours
    return demand


def _settle(load: DayLoad, profiles: list[TechnicianProfile], present: dict, rows: list[tuple[Decimal, object]]):
    """Fill the day's skills and bottleneck from its technicians and its demand ``rows`` [(hours, kind)]."""
    supply = {p.pk: present[p.pk][load.day] for p in profiles if present[p.pk][load.day]}
    skills_of = {p.pk: {k.pk for k in p.skills.all()} for p in profiles}
    skills: dict[int | None, SkillLoad] = {}
    for profile in profiles:
        for kind in profile.skills.all():
            skills.setdefault(kind.pk, SkillLoad(kind.pk, kind.name)).capacity += supply.get(profile.pk, ZERO)
    # Only skills someone present has, or the day needs, are listed.
    skills = {pk: s for pk, s in skills.items() if s.capacity}
    for hours, kind in rows:
        if kind is not None:
            skills.setdefault(kind.pk, SkillLoad(kind.pk, kind.name)).load += hours
    demand = _demand_by_kind(rows)
    load.assignable, short = assign_demand(supply=supply, skills_of=skills_of, demand=demand)
    if load.assignable < load.load:
        load.short_kinds = short
        load.short_load = sum((demand[k] for k in short), ZERO)
        load.short_capacity = sum((h for tech, h in supply.items() if None in short or skills_of[tech] & short), ZERO)
        for skill in skills.values():
            skill.overloaded = skill.kind_id in short
    load.skills = sorted(skills.values(), key=lambda s: s.name)


def workshop_load(
    *,
    dealership: Dealership,
    date_from: datetime.date,
    date_to: datetime.date,
    now: datetime.datetime | None = None,
    exclude_appointment: int | None = None,
    extra: dict[datetime.date, list[tuple[Decimal, object]]] | None = None,
) -> list[DayLoad]:
    """The workshop's load per day of the range: capacity of the present technicians against booked and open hours,
    in total and per skill (kind of job). ``extra`` {day: [(hours, kind)]} adds demand not written yet (the
    booking or the job being checked, counted as booked)."""
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
        load.technicians = sum(1 for p in profiles if present[p.pk][day])
        load.capacity = sum((present[p.pk][day] for p in profiles), ZERO)
        rows = [row for a in appointments if scheduling.local(a.starts_at, tz).date() == day for row in hours_of[a.pk]]
        rows += (extra or {}).get(day, [])
        load.booked = sum((hours for hours, _kind in rows), ZERO)
        if day == today:
            open_rows = _open_job_hours(dealership, start_of_day=scheduling.day_bounds(day, tz)[0])
            load.open_jobs = sum((hours for hours, _kind in open_rows), ZERO)
            rows += open_rows
        _settle(load, profiles, present, rows)
        days.append(load)
        day += datetime.timedelta(days=1)
    return days


def _open_job_hours(dealership: Dealership, *, start_of_day: datetime.datetime) -> list[tuple[Decimal, object]]:
    """Today's share of the open work orders not counted by today's appointments (walk-ins, cars still in repair
    from earlier days): their remaining jobs, [(hours, kind)]."""
    jobs = _remaining_jobs(
        Q(work_order__dealership=dealership, work_order__status__in=OPEN_WORK_ORDER_STATUSES)
        & (Q(work_order__appointment__isnull=True) | Q(work_order__appointment__starts_at__lt=start_of_day))
    )
    return [(job.standard_hours, job.kind) for job in jobs]


def day_load(*, dealership: Dealership, day: datetime.date, now=None, exclude_appointment=None, extra=None) -> DayLoad:
    return workshop_load(
        dealership=dealership,
        date_from=day,
        date_to=day,
        now=now,
        exclude_appointment=exclude_appointment,
        extra={day: extra} if extra else None,
    )[0]


def work_order_load_day(work_order: WorkOrder, now: datetime.datetime) -> datetime.date | None:
    """The day whose load a work order's jobs count in (as ``workshop_load`` counts them): its appointment's day
    from today on, else today while the work order is open; None when its jobs count nowhere."""
    tz = work_order.dealership.tz
    today = timezone.localtime(now, tz).date()
    appointment = work_order.appointment
    if appointment is not None and appointment.starts_at >= scheduling.day_bounds(today, tz)[0]:
        return scheduling.local(appointment.starts_at, tz).date() if appointment.is_active else None
    return today if work_order.status in OPEN_WORK_ORDER_STATUSES else None


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


def _promised_at(job: WorkOrderJob) -> datetime.datetime | None:
    appointment = job.work_order.appointment
    return appointment.handover_at if appointment is not None else None


def _late_reasons(job: WorkOrderJob, clocked: Decimal, now: datetime.datetime) -> list[str]:
    reasons = []
    promised = _promised_at(job)
    if promised is not None and promised < now and job.work_order.status in OPEN_WORK_ORDER_STATUSES:
        reasons.append("promised")
    if job.standard_hours and clocked > job.standard_hours:
        reasons.append("over_sold")
    return reasons


def _mark_behind(items: list[BoardJob], now: datetime.datetime) -> None:
    """A technician's queue (the running job, then the next ones by promised time) projected from ``now`` with each
    job's sold hours not clocked yet: a job that would end after its promised hand-over is late already ("behind"),
    before the promise is broken — the board is where the foreman moves work to someone else in time."""
    cursor = now
    for item in items:
        left = max(item.job.standard_hours - item.clocked, ZERO)
        cursor += datetime.timedelta(hours=float(left))
        promised = _promised_at(item.job)
        if promised is not None and promised >= now and cursor > promised:
            item.late_reasons.append("behind")


def _queue_key(item: BoardJob):
    promised = _promised_at(item.job)
    return (promised is None, promised or datetime.datetime.max.replace(tzinfo=datetime.UTC), item.job.pk)


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
        row.next.sort(key=_queue_key)
        _mark_behind(([row.now] if row.now else []) + row.next, now)
        row.late = [i for i in ([row.now] if row.now else []) + row.next if i.late_reasons]
        rows.append(row)
    return rows


def unassigned_jobs(*, dealership: Dealership, now: datetime.datetime | None = None) -> list[BoardJob]:
    """The board's last row: jobs of open work orders nobody takes yet (issue 18 item 4), earliest promise first,
    with their late reasons — work that is nobody's "next" is the first to be late."""
    now = now or timezone.now()
    jobs = list(
        WorkOrderJob.objects.filter(
            work_order__dealership=dealership,
            work_order__status__in=OPEN_WORK_ORDER_STATUSES,
            technician__isnull=True,
            consent__in=WorkOrderJob.DOABLE,
            done_at__isnull=True,
        ).select_related("work_order__vehicle", "work_order__appointment", "kind")
    )
    clocked = clocked_hours(jobs=jobs, now=now)
    items = [
        BoardJob(j, clocked.get(j.pk, ZERO), "not_started", _late_reasons(j, clocked.get(j.pk, ZERO), now))
        for j in jobs
    ]
    items.sort(key=_queue_key)
    return items


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
