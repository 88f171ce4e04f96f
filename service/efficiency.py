"""Technician efficiency and productivity per technician and week (issue 18 item 5). Reads only.

Definitions (the tests derive each figure from the rows they create by these words):

* **Week** — Monday 00:00 to the next Monday 00:00 in the dealership's time zone (an ISO week, ``YYYY-Www``).
* **Present hours** — the technician's working hours of the week's days less breaks, none on a day of absence
  (``service.workshop.present_hours``, the load planner's own figure).
* **Clocked hours** — the parts of the technician's clocked intervals (``JobClock``) that fall in the week; a running
  interval counts up to now.
* **Sold hours** — the standard hours of the jobs assigned to the technician and finished (``done_at``) in the week.
* **Efficiency** = sold hours ÷ all hours the technician clocked on those finished jobs (whenever clocked), in per
  cent: above 100 % the technician beat the standard time.
* **Productivity** = clocked hours ÷ present hours, in per cent: the share of the time in the workshop spent on jobs.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Sum

from .models import JobClock, TechnicianProfile, WorkOrderJob
from .workshop import present_hours

ZERO = Decimal("0.00")
HOURS = Decimal("0.01")


@dataclasses.dataclass
class EfficiencyRow:
    technician_id: int  # the TechnicianProfile
    user_id: int
    name: str
    dealership_id: int
    present_hours: Decimal = ZERO
    clocked_hours: Decimal = ZERO
    jobs_finished: int = 0
    sold_hours: Decimal = ZERO
    clocked_on_finished: Decimal = ZERO
    efficiency: Decimal | None = None  # per cent
    productivity: Decimal | None = None  # per cent


def week_code(monday: datetime.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.1")) if whole else None


def _overlap_hours(start, end, lower, upper) -> Decimal:
    seconds = (min(end, upper) - max(start, lower)).total_seconds()
    return Decimal(seconds) / 3600 if seconds > 0 else Decimal("0")


def technician_efficiency(
    *,
    dealership_ids: Iterable[int],
    week_start: datetime.date,
    now: datetime.datetime,
    user_id: int | None = None,
) -> list[EfficiencyRow]:
    """One row per technician (profile) of the dealerships given for the week starting ``week_start`` (a Monday);
    ``user_id``: that technician's rows only."""
    profiles = list(
        TechnicianProfile.objects.filter(dealership_id__in=list(dealership_ids))
        .select_related("user", "dealership")
        .prefetch_related("hours")
    )
    if user_id is not None:
        profiles = [p for p in profiles if p.user_id == user_id]
    week_end = week_start + datetime.timedelta(days=6)
    present = present_hours(profiles=profiles, date_from=week_start, date_to=week_end)
    rows = []
    for profile in profiles:
        tz = profile.dealership.tz
        lower = datetime.datetime.combine(week_start, datetime.time.min, tzinfo=tz)
        upper = lower + datetime.timedelta(days=7)
        row = EfficiencyRow(
            technician_id=profile.pk,
            user_id=profile.user_id,
            name=profile.user.get_full_name() or profile.user.get_username(),
            dealership_id=profile.dealership_id,
            present_hours=sum(present[profile.pk].values(), ZERO).quantize(HOURS),
        )
        clocked = Decimal("0")
        clocks = JobClock.objects.filter(
            dealership_id=profile.dealership_id, technician_id=profile.user_id, started_at__lt=upper
        ).exclude(ended_at__lt=lower)
        for clock in clocks:
            clocked += _overlap_hours(clock.started_at, clock.ended_at or max(now, clock.started_at), lower, upper)
        row.clocked_hours = clocked.quantize(HOURS)
        finished = WorkOrderJob.objects.filter(
            work_order__dealership_id=profile.dealership_id,
            technician_id=profile.user_id,
            done_at__gte=lower,
            done_at__lt=upper,
        )
        row.jobs_finished = finished.count()
        row.sold_hours = (finished.aggregate(h=Sum("standard_hours"))["h"] or ZERO).quantize(HOURS)
        on_finished = Decimal("0")
        for clock in JobClock.objects.filter(job__in=finished, technician_id=profile.user_id):
            end = clock.ended_at or max(now, clock.started_at)
            on_finished += Decimal((end - clock.started_at).total_seconds()) / 3600
        row.clocked_on_finished = on_finished.quantize(HOURS)
        row.efficiency = _percent(row.sold_hours, row.clocked_on_finished)
        row.productivity = _percent(row.clocked_hours, row.present_hours)
        rows.append(row)
    return sorted(rows, key=lambda r: (r.name, r.dealership_id))


def efficiency_totals(rows: list[EfficiencyRow]) -> dict:
    totals: dict = defaultdict(lambda: ZERO)
    for row in rows:
        for name in ("present_hours", "clocked_hours", "sold_hours", "clocked_on_finished"):
            totals[name] += getattr(row, name)
    return {
        **totals,
        "efficiency": _percent(totals["sold_hours"], totals["clocked_on_finished"]),
        "productivity": _percent(totals["clocked_hours"], totals["present_hours"]),
    }
