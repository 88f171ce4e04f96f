"""Staff KPIs by the parts procedure (seed 004 «绩效考核»), per employee, for a month or a year (issue 18 item 6).

Seed 004 names the indicators: parts sales, repair volume, return/exchange rate, complaint-handling timeliness
(R33) and customer satisfaction. Each figure is defined here in words; the tests derive it from the rows they create
by these words, never by calling this module.

* **Parts sales** — sales orders (R20, R21) shipped in the period whose responsible manager is the employee: orders,
  lines, and the amount (quantity × price of their lines). **Parts issued** — lines of requisitions (R32) the
  employee issued to jobs in the period.
* **Repair volume** — work orders delivered to the customer in the period whose advisor is the employee, and their
  sold labour hours (standard hours of the jobs done: those in the original order or agreed by the customer, R30);
  for a technician, the jobs assigned to him that he finished in the period (``done_at``) and their sold hours.
* **Return/exchange rate** — return or exchange requests (R29) made in the period (``requested_on``) against the
  employee's sales orders, except those refused, divided by the lines of the employee's sales orders shipped in the
  period; in per cent.
* **Complaint-handling timeliness** — ``claims.kpi.complaint_timeliness`` (the directors' complaint KPI, reused):
  complaints received in the period and assigned to the employee, closed on time, late, open overdue; on-time rate.
* **Customer satisfaction** — the average of every score (1–5) customers gave about the employee: the closings of
  those complaints (same source) and the follow-up calls completed in the period where the customer was asked —
  the order's call events (``notifications.selectors.call_satisfaction``) and service's follow-ups on service due or
  declined work (``service.selectors.follow_up_satisfaction``). A call's score is the employee's *responsible for the
  customer served* — the call event's assignee (the order's author), the follow-up's advisor (of the work order) —
  not whoever dialled: it rates the service the customer got. ``satisfaction_scores`` counts the scores. Also the
  employee's follow-up calls (R13, R14: ``notifications.selectors.call_compliance``, reused) due in the period: due,
  done on time, on-time share.

Rows: every active employee of the dealerships in a staff role, and anyone else with a figure in the period.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from dms.core import roles
from dms.core.formatting import Money, money_title, svg_chart
from dms.core.models import Dealership
from dms.core.names import user_name
from notifications.selectors import call_compliance, call_satisfaction
from parts.models import RequisitionLine, ReturnRequest, SalesOrder, SalesOrderLine
from service.selectors import follow_up_satisfaction

from . import kpi
from .models import AppraisalPeriod
from .workorders import delivered_work_orders, finished_jobs

APPRAISED_ROLES = (
    roles.SERVICE_ADVISOR,
    roles.PARTS_MANAGER,
    roles.WARRANTY_ENGINEER,
    roles.STOREKEEPER,
    roles.QUALITY_INSPECTOR,
    roles.TECHNICIAN,
)
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
CENTS = Decimal("0.01")


@dataclasses.dataclass(frozen=True)
class StaffPeriod:
    kind: str  # AppraisalPeriod
    start: datetime.date

    @property
    def end(self) -> datetime.date:
        """The last day."""
        if self.kind == AppraisalPeriod.YEAR:
            return datetime.date(self.start.year, 12, 31)
        following = (self.start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        return following - datetime.timedelta(days=1)

    @property
    def code(self) -> str:
        return f"{self.start:%Y}" if self.kind == AppraisalPeriod.YEAR else f"{self.start:%Y-%m}"

    def bounds(self, tz) -> tuple[datetime.datetime, datetime.datetime]:
        return kpi.Period(self.start, self.end).bounds(tz)

    @classmethod
    def parse(cls, raw: str | None, *, today: datetime.date) -> StaffPeriod:
        """``YYYY-MM`` (a month) or ``YYYY`` (a year); empty: this month. Anything else is a 400 naming the field."""
        raw = (raw or "").strip()
        if not raw:
            return cls(AppraisalPeriod.MONTH, today.replace(day=1))
        try:
            if len(raw) == 4 and raw.isdigit():
                year = int(raw)
                if 2000 <= year <= 2100:
                    return cls(AppraisalPeriod.YEAR, datetime.date(year, 1, 1))
            elif len(raw) == 7 and raw[4] == "-" and raw[:4].isdigit() and raw[5:].isdigit():
                year, month = int(raw[:4]), int(raw[5:])
                if 2000 <= year <= 2100:
                    return cls(AppraisalPeriod.MONTH, datetime.date(year, month, 1))
        except ValueError:
            pass
        raise ValidationError({"period": _("Enter a month as YYYY-MM or a year as YYYY.")})

    @classmethod
    def of(cls, kind: str, start: datetime.date) -> StaffPeriod:
        if kind == AppraisalPeriod.YEAR:
            return cls(kind, datetime.date(start.year, 1, 1))
        return cls(AppraisalPeriod.MONTH, start.replace(day=1))


@dataclasses.dataclass
class StaffRow:
    user_id: int
    name: str
    sales_orders: int = 0
    sales_lines: int = 0
    sales_amount: Decimal = Decimal("0.00")
    issued_lines: int = 0
    work_orders: int = 0
    labour_hours: Decimal = Decimal("0.00")
    jobs_done: int = 0  # a technician's repair volume: jobs he finished in the period
    jobs_hours: Decimal = Decimal("0.00")  # their sold hours
    returns: int = 0
    return_rate: float | None = None  # per cent of sold lines
    complaints: int = 0
    complaints_on_time: int = 0
    complaints_late: int = 0
    complaints_open_overdue: int = 0
    complaint_on_time_rate: float | None = None  # per cent
    satisfaction: float | None = None  # average 1–5 of the complaints' closings and the calls' scores
    satisfaction_scores: int = 0  # how many scores the average is of
    calls_due: int = 0
    calls_on_time: int = 0
    calls_on_time_rate: float | None = None  # per cent

    def as_json(self) -> dict:
        """The frozen copy an appraisal keeps (decimals as strings, so they come back exact)."""
        data = dataclasses.asdict(self)
        data["sales_amount"] = str(self.sales_amount)
        data["labour_hours"] = str(self.labour_hours)
        data["jobs_hours"] = str(self.jobs_hours)
        return data


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _staff(dealership_ids: list[int]) -> dict[int, str]:
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_profile__dealerships__in=dealership_ids,
            groups__name__in=APPRAISED_ROLES,
        )
        .distinct()
    )
    return {user.pk: user_name(user) for user in users}


def _add_sales(row_for, dealership, start, end) -> None:
    shipped = SalesOrder.objects.filter(
        dealership=dealership, status=SalesOrder.Status.SHIPPED, shipped_at__gte=start, shipped_at__lt=end
    )
    for r in shipped.values("manager_id").annotate(n=Count("id")).order_by():
        row_for(r["manager_id"]).sales_orders += r["n"]
    lines = (
        SalesOrderLine.objects.filter(order__in=shipped)
        .values("order__manager_id")
        .annotate(
            n=Count("id"),
            amount=Coalesce(Sum(F("quantity") * F("unit_price"), output_field=MONEY_FIELD), Decimal("0")),
        )
        .order_by()
    )
    for r in lines:
        row = row_for(r["order__manager_id"])
        row.sales_lines += r["n"]
        row.sales_amount = (row.sales_amount + Decimal(r["amount"])).quantize(CENTS)
    issued = RequisitionLine.objects.filter(
        requisition__dealership=dealership,
        requisition__issued_at__gte=start,
        requisition__issued_at__lt=end,
        requisition__issued_by__isnull=False,
    )
    for r in issued.values("requisition__issued_by_id").annotate(n=Count("id")).order_by():
        row_for(r["requisition__issued_by_id"]).issued_lines += r["n"]


def _add_returns(row_for, dealership, period: StaffPeriod) -> None:
    returns = (
        ReturnRequest.objects.filter(
            dealership=dealership,
            sales_order__isnull=False,
            requested_on__gte=period.start,
            requested_on__lte=period.end,
        )
        .exclude(status=ReturnRequest.Status.REFUSED)
        .values("sales_order__manager_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in returns:
        row_for(r["sales_order__manager_id"]).returns += r["n"]


def _add_repairs(row_for, dealership, start, end) -> None:
    for advisor_id, orders, hours in delivered_work_orders(dealership=dealership, start=start, end=end):
        row = row_for(advisor_id)
        row.work_orders += orders
        row.labour_hours = (row.labour_hours + hours).quantize(CENTS)
    for technician_id, jobs, hours in finished_jobs(dealership=dealership, start=start, end=end):
        row = row_for(technician_id)
        row.jobs_done += jobs
        row.jobs_hours = (row.jobs_hours + hours).quantize(CENTS)


def _add_complaints(row_for, dealership, period: StaffPeriod, now, scores) -> None:
    timeliness = kpi.complaint_timeliness(dealership=dealership, period=kpi.Period(period.start, period.end), now=now)
    for r in timeliness["employees"]:
        if r["user_id"] is None:
            continue
        row = row_for(r["user_id"])
        _add_scores(scores, {r["user_id"]: (r["satisfaction_total"], r["satisfaction_count"])})
        row.complaints += r["total"]
        row.complaints_on_time += r["on_time"]
        row.complaints_late += r["late"]
        row.complaints_open_overdue += r["open_overdue"]


def _add_scores(scores: dict[int, list[int]], totals: dict[int, tuple[int, int]]) -> None:
    """Sums and counts of the satisfaction scores per employee, over every source and dealership (exact: no
    average of averages)."""
    for user_id, (total, count) in totals.items():
        if count:
            bucket = scores.setdefault(user_id, [0, 0])
            bucket[0] += total
            bucket[1] += count


def staff_kpis(
    *,
    dealership_ids: Iterable[int],
    period: StaffPeriod,
    now: datetime.datetime,
    employee_id: int | None = None,
) -> list[StaffRow]:
    """The KPIs of the module docstring, one row per employee over the dealerships given (a director: all of his);
    ``employee_id``: that employee's row only (an employee reads his own)."""
    dealerships = list(Dealership.objects.filter(pk__in=list(dealership_ids)).order_by("pk"))
    ids = [d.pk for d in dealerships]
    names = _staff(ids)
    rows: dict[int, StaffRow] = {}

    def row_for(user_id: int) -> StaffRow:
        if user_id not in rows:
            rows[user_id] = StaffRow(user_id=user_id, name=names.get(user_id, ""))
        return rows[user_id]

    for user_id in names:
        row_for(user_id)
    scores: dict[int, list[int]] = {}
    for dealership in dealerships:
        start, end = period.bounds(dealership.tz)
        _add_sales(row_for, dealership, start, end)
        _add_returns(row_for, dealership, period)
        _add_repairs(row_for, dealership, start, end)
        _add_complaints(row_for, dealership, period, now, scores)
        _add_scores(scores, call_satisfaction(dealership=dealership, start=start, end=end))
        _add_scores(scores, follow_up_satisfaction(dealership=dealership, start=start, end=end))
    for user_id, (total, count) in scores.items():
        row = row_for(user_id)
        row.satisfaction, row.satisfaction_scores = round(total / count, 1), count
    today = {d.pk: timezone.localtime(now, d.tz).date() for d in dealerships}
    calls = call_compliance(
        dealership_ids=ids, date_from=period.start, date_to=period.end, today_by_dealership=today, order_limit=0
    )
    for r in calls.employees:
        row = row_for(r.key)
        row.calls_due += r.due
        row.calls_on_time += r.on_time
        settled = r.on_time + r.late + r.missed
        row.calls_on_time_rate = _rate(r.on_time, settled)
    missing = [user_id for user_id, row in rows.items() if not row.name]
    for user in get_user_model().objects.filter(pk__in=missing):
        rows[user.pk].name = user_name(user)
    for row in rows.values():
        row.return_rate = _rate(row.returns, row.sales_lines)
        row.complaint_on_time_rate = _rate(
            row.complaints_on_time, row.complaints_on_time + row.complaints_late + row.complaints_open_overdue
        )
    result = sorted(rows.values(), key=lambda r: (r.name, r.user_id))
    if employee_id is not None:
        result = [row for row in result if row.user_id == employee_id]
    return result


def employee_row(*, dealership_ids: Iterable[int], period: StaffPeriod, employee_id: int, now) -> StaffRow:
    rows = staff_kpis(dealership_ids=dealership_ids, period=period, now=now, employee_id=employee_id)
    return rows[0] if rows else StaffRow(user_id=employee_id, name="")


def monthly_trend(
    *, dealership_ids: Iterable[int], year: int, now: datetime.datetime, employee_id: int | None = None
) -> list[tuple[str, Decimal, Decimal]]:
    """(month, parts sales, labour hours) of each month of the year: the yearly page's trend chart."""
    ids = list(dealership_ids)
    trend = []
    for month in range(1, 13):
        period = StaffPeriod(AppraisalPeriod.MONTH, datetime.date(year, month, 1))
        rows = staff_kpis(dealership_ids=ids, period=period, now=now, employee_id=employee_id)
        trend.append(
            (
                f"{month:02d}",
                sum((r.sales_amount for r in rows), Decimal("0.00")),
                sum((r.labour_hours for r in rows), Decimal("0.00")),
            )
        )
    return trend


# -- exports (dms.core.exports writes the cells) ---------------------------------------------------------------------
def export_header() -> list[str]:
    return [
        _("Employee"),
        _("Sales orders shipped"),
        _("Lines sold"),
        money_title(_("Parts sales")),
        _("Lines issued to jobs"),
        _("Work orders delivered"),
        _("Labour hours sold"),
        _("Returns and exchanges"),
        _("Return rate, %"),
        _("Complaints"),
        _("Closed on time"),
        _("On-time rate, %"),
        _("Average satisfaction"),
        _("Calls due"),
        _("Calls on time, %"),
        # Appended, so the columns of earlier exports keep their places.
        _("Jobs finished"),
        _("Sold hours of the jobs finished"),
    ]


def export_rows(rows: list[StaffRow]) -> list[list]:
    return [
        [
            r.name,
            r.sales_orders,
            r.sales_lines,
            Money.of(r.sales_amount),
            r.issued_lines,
            r.work_orders,
            r.labour_hours,
            r.returns,
            r.return_rate,
            r.complaints,
            r.complaints_on_time,
            r.complaint_on_time_rate,
            r.satisfaction,
            r.calls_due,
            r.calls_on_time_rate,
            r.jobs_done,
            r.jobs_hours,
        ]
        for r in rows
    ]


# -- charts: plain SVG rendered here (no CDN, no script; CSP) --------------------------------------------------------
def bar_chart(items: list[tuple[str, Decimal | float | None, str]], *, title: str, chart_id: str) -> str:
    """Horizontal bars: (label, value, value as shown) per item; the value in each bar's tooltip."""
    width, bar_h, gap, label_w = 520, 18, 6, 190
    height = max(len(items), 1) * (bar_h + gap) + gap
    peak = max([float(value or 0) for _label, value, _shown in items] + [1.0])
    bars = []
    for index, (label, value, shown) in enumerate(items):
        y = gap + index * (bar_h + gap)
        w = float(value or 0) / peak * (width - label_w - 70)
        bars.append((y + 13, label[:28], label_w, y, f"{w:.1f}", bar_h, label, shown, label_w + w + 4, y + 13, shown))
    body = format_html_join(
        "",
        '<text x="0" y="{}" font-size="12">{}</text>'
        '<rect class="kpi-bar" x="{}" y="{}" width="{}" height="{}" fill="#0d6efd"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" font-size="11">{}</text>',
        bars,
    )
    chart = svg_chart(body, title=title, width=width, height=height, chart_id=chart_id)
    return format_html('<h2 class="h6">{}</h2>{}', title, chart)


# -- technician efficiency (issue 18 item 5, service.efficiency): the week asked for, exports ---------------------
def parse_week(raw: str | None, *, today: datetime.date) -> datetime.date:
    """``YYYY-Www`` (what ``<input type=week>`` sends) or a date ``YYYY-MM-DD`` in the week; empty: this week. The
    Monday of the week; anything else is a 400 naming the field."""
    raw = (raw or "").strip()
    if not raw:
        return today - datetime.timedelta(days=today.weekday())
    try:
        if len(raw) == 8 and raw[4:6] == "-W" and raw[:4].isdigit() and raw[6:].isdigit():
            year, week = int(raw[:4]), int(raw[6:])
            if 2000 <= year <= 2100:
                return datetime.date.fromisocalendar(year, week, 1)
        elif len(raw) == 10:
            day = datetime.date.fromisoformat(raw)
            if 2000 <= day.year <= 2100:
                return day - datetime.timedelta(days=day.weekday())
    except ValueError:
        pass
    raise ValidationError({"week": _("Enter a week as YYYY-Www (for example 2026-W48).")})


# -- exports -------------------------------------------
def efficiency_export_header() -> list[str]:
    return [
        _("Technician"),
        _("Present hours"),
        _("Clocked hours"),
        _("Jobs finished"),
        _("Sold hours"),
        _("Clocked on finished jobs"),
        _("Efficiency, %"),
        _("Productivity, %"),
    ]


def efficiency_export_rows(rows) -> list[list]:
    return [
        [
            r.name,
            r.present_hours,
            r.clocked_hours,
            r.jobs_finished,
            r.sold_hours,
            r.clocked_on_finished,
            r.efficiency,
            r.productivity,
        ]
        for r in rows
    ]
