"""KPIs for directors: complaint handling timeliness per employee and department (R33), claim turnaround and
rejection rate, warranty cost by model and by part (R22)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dms.core.formatting import Money, money_title
from dms.core.inputs import parse_date_param

from .models import Complaint, Department, WarrantyClaim, WarrantyStatus

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @classmethod
    def from_params(cls, params, dealership, now: datetime.datetime | None = None) -> "Period":
        today = timezone.localtime(now or timezone.now(), dealership.tz).date()

        def parse(name, default):
            # Malformed or outside the sane range (issue 12 item 5): the default period's end.
            return parse_date_param(params.get(name, "")) or default

        end = parse("end", today)
        start = parse("start", end - datetime.timedelta(days=DEFAULT_DAYS))
        if start > end:
            start, end = end, start
        return cls(start, end)

    def bounds(self, tz) -> tuple[datetime.datetime, datetime.datetime]:
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=tz)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        return start, end


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def complaint_timeliness(*, dealership, period: Period, now: datetime.datetime | None = None) -> dict:
    """Per employee and per department: closed on time, closed late, open and overdue; on-time rate."""
    now = now or timezone.now()
    tz = dealership.tz
    today = timezone.localtime(now, tz).date()
    start, end = period.bounds(tz)
    rows = (
        Complaint.objects.filter(dealership=dealership, received_at__gte=start, received_at__lt=end)
        .exclude(deadline__isnull=True)
        .select_related("assignee")
    )

    def blank():
        return {"total": 0, "on_time": 0, "late": 0, "open_overdue": 0, "open": 0, "days": [], "satisfaction": []}

    by_employee: dict = defaultdict(blank)
    by_department: dict = defaultdict(blank)
    names: dict = {}
    for c in rows:
        key = c.assignee_id
        names[key] = (c.assignee.get_full_name() or c.assignee.username) if c.assignee else "—"
        for bucket in (by_employee[key], by_department[c.department]):
            bucket["total"] += 1
            if c.closed_at:
                closed_day = timezone.localtime(c.closed_at, tz).date()
                bucket["on_time" if closed_day <= c.deadline else "late"] += 1
                bucket["days"].append((c.closed_at - c.received_at).total_seconds() / 86400)
                if c.satisfaction:
                    bucket["satisfaction"].append(c.satisfaction)
            elif c.deadline < today:
                bucket["open_overdue"] += 1
            else:
                bucket["open"] += 1

    def finish(label, b):
        judged = b["on_time"] + b["late"] + b["open_overdue"]
        return {
            "label": label,
            "total": b["total"],
            "on_time": b["on_time"],
            "late": b["late"],
            "open_overdue": b["open_overdue"],
            "open": b["open"],
            "on_time_rate": _rate(b["on_time"], judged),
            "avg_days": _avg(b["days"]),
            "avg_satisfaction": _avg(b["satisfaction"]),
            # claims.staff_kpi combines these exact sums with the calls' scores (issue 18 item 6)
            "satisfaction_total": sum(b["satisfaction"]),
            "satisfaction_count": len(b["satisfaction"]),
        }

    departments = dict(Department.choices)
    # "user_id": the employee's id (None: not assigned) — claims.staff_kpi joins these rows to its own (seed 004).
    employees = sorted(
        ({**finish(names[k], b), "user_id": k} for k, b in by_employee.items()), key=lambda r: r["label"]
    )
    depts = sorted(
        (finish(str(departments.get(k, k or "—")), b) for k, b in by_department.items()), key=lambda r: r["label"]
    )
    return {"employees": employees, "departments": depts}


def claim_turnaround(*, dealership, period: Period) -> dict:
    """Claims submitted in the period: days from submission to decision and to payment; rejection rate."""
    start, end = period.bounds(dealership.tz)
    claims = list(
        WarrantyClaim.objects.filter(dealership=dealership, submitted_at__gte=start, submitted_at__lt=end).only(
            "status", "submitted_at", "confirmed_at", "rejected_at", "paid_at"
        )
    )
    decided = [
        c for c in claims if c.status in (WarrantyStatus.CONFIRMED, WarrantyStatus.PAID, WarrantyStatus.REJECTED)
    ]
    rejected = [c for c in decided if c.status == WarrantyStatus.REJECTED]
    to_decision = [
        ((c.confirmed_at or c.rejected_at) - c.submitted_at).total_seconds() / 86400
        for c in decided
        if (c.confirmed_at or c.rejected_at)
    ]
    to_payment = [(c.paid_at - c.submitted_at).total_seconds() / 86400 for c in claims if c.paid_at]
    return {
        "submitted": len(claims),
        "decided": len(decided),
        "rejected": len(rejected),
        "paid": len(to_payment),
        "in_progress": len(claims) - len(decided),
        "rejection_rate": _rate(len(rejected), len(decided)),
        "avg_days_to_decision": _avg(to_decision),
        "avg_days_to_payment": _avg(to_payment),
    }


def _cost_rows(qs, group_by: list[str], label) -> list[dict]:
    money = DecimalField(max_digits=14, decimal_places=2)
    rows = (
        qs.values(*group_by)
        .annotate(
            claims=Count("id"),
            cost=Coalesce(
                Sum(Coalesce("paid_amount", "approved_amount", output_field=money)), Decimal("0"), output_field=money
            ),
        )
        .order_by("-cost")
    )
    # SQLite sums decimals as numbers: money always has its two decimal places
    cents = Decimal("0.01")
    result = [{"label": label(r), "claims": r["claims"], "cost": Decimal(r["cost"]).quantize(cents)} for r in rows]
    top = max((r["cost"] for r in result), default=Decimal("0"))
    for r in result:
        r["share"] = float(r["cost"] / top * 100) if top else 0.0
    return result


def warranty_cost(*, dealership, period: Period) -> dict:
    """Accepted claims (confirmed or paid) by decision date: cost by vehicle model and by causal part."""
    start, end = period.bounds(dealership.tz)
    qs = WarrantyClaim.objects.filter(
        dealership=dealership,
        status__in=[WarrantyStatus.CONFIRMED, WarrantyStatus.PAID],
        confirmed_at__gte=start,
        confirmed_at__lt=end,
    )
    return {
        "by_model": _cost_rows(
            qs, ["vehicle__make", "vehicle__model"], lambda r: f"{r['vehicle__make']} {r['vehicle__model']}"
        ),
        "by_part": _cost_rows(qs, ["causal_part_number"], lambda r: r["causal_part_number"]),
    }


def report(*, dealership, period: Period, now: datetime.datetime | None = None) -> dict:
    timeliness = complaint_timeliness(dealership=dealership, period=period, now=now)
    for group in timeliness.values():
        for row in group:
            row["bar"] = row["on_time_rate"] or 0
    return {
        "timeliness": timeliness,
        "turnaround": claim_turnaround(dealership=dealership, period=period),
        "cost": warranty_cost(dealership=dealership, period=period),
    }


SECTIONS = ("complaints_by_employee", "complaints_by_department", "claims_turnaround", "cost_by_model", "cost_by_part")


def csv_rows(*, dealership, period: Period, section: str, now: datetime.datetime | None = None) -> list[list] | None:
    """The section's header and rows as raw typed values (ints, floats, Decimal costs, None for "no value"):
    dms.core.exports writes them in the request language's dialect (issue 16 item 3)."""
    if section not in SECTIONS:
        return None
    if section.startswith("complaints_"):
        data = complaint_timeliness(dealership=dealership, period=period, now=now)
        rows = data["employees" if section == "complaints_by_employee" else "departments"]
        header = [
            _("Employee") if section == "complaints_by_employee" else _("Department"),
            _("Complaints"),
            _("Closed on time"),
            _("Closed late"),
            _("Open, overdue"),
            _("Open, on track"),
            _("On-time rate, %"),
            _("Average days to close"),
            _("Average satisfaction"),
        ]
        return [header] + [
            [
                r["label"],
                r["total"],
                r["on_time"],
                r["late"],
                r["open_overdue"],
                r["open"],
                r["on_time_rate"],
                r["avg_days"],
                r["avg_satisfaction"],
            ]
            for r in rows
        ]
    if section == "claims_turnaround":
        t = claim_turnaround(dealership=dealership, period=period)
        return [[_("Indicator"), pgettext("KPI", "Value")]] + [
            [_("Claims submitted"), t["submitted"]],
            [_("Decided"), t["decided"]],
            [_("Rejected"), t["rejected"]],
            [_("Paid"), t["paid"]],
            [_("Rejection rate, %"), t["rejection_rate"]],
            [_("Average days to decision"), t["avg_days_to_decision"]],
            [_("Average days to payment"), t["avg_days_to_payment"]],
        ]
    cost = warranty_cost(dealership=dealership, period=period)
    rows = cost["by_model" if section == "cost_by_model" else "by_part"]
    header = [_("Model") if section == "cost_by_model" else _("Causal part"), _("Claims"), money_title(_("Cost"))]
    return [header] + [[r["label"], r["claims"], Money.of(r["cost"])] for r in rows]
