"""R14: the weekly call-compliance report — scoping, the chart, CSV/XLSX export and the Monday e-mail."""

import datetime

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from dms.core import roles
from dms.core.exports import csv_bytes, xlsx_bytes
from dms.core.inputs import parse_period_params
from dms.core.models import Dealership
from dms.core.tenancy import allowed_dealership_ids, report_today

from .selectors import ComplianceReport, call_compliance

User = get_user_model()
MAX_RANGE_DAYS = 366
TEAM_PERMISSION = "notifications.view_team_call_compliance"


def parse_range(
    raw_from: str | None, raw_to: str | None, *, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD; by default the last 7 days up to today (or the 7 days from a given start)."""
    return parse_period_params(
        raw_from, raw_to, today=today, default_days=7, max_days=MAX_RANGE_DAYS, end_follows_start=True
    )


def compliance_for_user(
    *,
    user,
    date_from: datetime.date,
    date_to: datetime.date,
    dealership_ids=None,
    now: datetime.datetime | None = None,
) -> ComplianceReport:
    """Directors see every employee of all their dealerships; everyone else only their own rows."""
    ids = set(allowed_dealership_ids(user))
    if dealership_ids is not None:
        ids &= set(dealership_ids)
    now = now or timezone.now()
    today_by = {d.pk: timezone.localtime(now, d.tz).date() for d in Dealership.objects.filter(pk__in=ids)}
    return call_compliance(
        dealership_ids=ids,
        date_from=date_from,
        date_to=date_to,
        today_by_dealership=today_by,
        assignee_id=None if user.has_perm(TEAM_PERMISSION) else user.pk,
    )


def report_as_dict(report: ComplianceReport) -> dict:
    def row(r):
        return {
            "id": r.key,
            "name": r.label,
            "due": r.due,
            "done_on_time": r.on_time,
            "done_late": r.late,
            "open_past_due": r.missed,
            "open_not_yet_due": r.open_not_due,
            "on_time_share": r.on_time_share,
        }

    return {
        "from": report.date_from.isoformat(),
        "to": report.date_to.isoformat(),
        "totals": row(report.totals) | {"id": None, "name": None},
        "employees": [
            row(r)
            | {
                "days": [
                    {
                        "date": day.isoformat(),
                        "on_time": report.daily.get(r.key, {}).get(day, (0, 0, 0))[0],
                        "late": report.daily.get(r.key, {}).get(day, (0, 0, 0))[1],
                        "missed": report.daily.get(r.key, {}).get(day, (0, 0, 0))[2],
                    }
                    for day in report.days
                ]
            }
            for r in report.employees
        ],
        "orders": [row(r) | {"number": r.label} for r in report.orders],
    }


# -- the chart: one small stacked bar chart per employee (inline SVG, no JavaScript) -------------------------------
COLOURS = {"on_time": "#198754", "late": "#fd7e14", "missed": "#dc3545"}


def employee_chart(report: ComplianceReport, employee_id: int, *, width: int = 320, height: int = 110) -> str:
    daily = report.daily.get(employee_id, {})
    days = report.days
    peak = max([sum(daily.get(d, (0, 0, 0))) for d in days] + [1])
    chart_h = height - 22
    slot = width / max(len(days), 1)
    bar_w = max(slot * 0.6, 2)
    parts = []
    for index, day in enumerate(days):
        on_time, late, missed = daily.get(day, (0, 0, 0))
        x = index * slot + (slot - bar_w) / 2
        y = chart_h
        for value, colour, label in (
            (on_time, COLOURS["on_time"], _("on time")),
            (late, COLOURS["late"], _("late")),
            (missed, COLOURS["missed"], _("missed")),
        ):
            if not value:
                continue
            h = value / peak * (chart_h - 4)
            y -= h
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} — {}: {}</title></rect>',
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{bar_w:.1f}",
                    f"{h:.1f}",
                    colour,
                    day.strftime("%d.%m"),
                    label,
                    value,
                )
            )
        if len(days) <= 14 or index % max(len(days) // 7, 1) == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#6c757d">{}</text>',
                    f"{x + bar_w / 2:.1f}",
                    height - 6,
                    day.strftime("%d.%m"),
                )
            )
    body = format_html_join("", "{}", ((p,) for p in parts))
    return format_html(
        '<svg class="compliance-chart" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}">'
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#dee2e6"/>{}</svg>',
        _("Calls per day"),
        width,
        height,
        width,
        height,
        chart_h,
        width,
        chart_h,
        body,
    )


# -- exports -------------------------------------------------------------------------------------------------------
def _header() -> list[str]:
    return [
        _("Section"),
        _("Employee / order"),
        _("Due"),
        _("Done on time"),
        _("Done late"),
        _("Open past due"),
        _("Open, not yet due"),
        _("On-time share, %"),
    ]


def _rows(report: ComplianceReport):
    """Raw typed values (counts as ints, the share as a number, None when nothing was due): dms.core.exports writes
    them in the language's dialect (issue 16 item 3)."""
    for section, rows in ((_("Employee"), report.employees), (_("Order"), report.orders)):
        for r in rows:
            share = None if r.on_time_share is None else round(r.on_time_share * 100, 1)
            yield [section, r.label, r.due, r.on_time, r.late, r.missed, r.open_not_due, share]


# Exactly one header row (issue 16 item 3): the period is in the file name, not in a title row above the header.
def export_csv(report: ComplianceReport) -> bytes:
    return csv_bytes(_header(), _rows(report))  # issue 12 item 3: text cells neutralised


def export_xlsx(report: ComplianceReport) -> bytes:
    # issue 12 item 3: text typed as strings and neutralised, never formulas
    return xlsx_bytes(_("Call compliance"), _header(), _rows(report))


# -- the Monday e-mail ---------------------------------------------------------------------------------------------
def previous_week(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return monday - datetime.timedelta(days=7), monday - datetime.timedelta(days=1)


def email_weekly_reports(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """R14: each director's last week, in the calendar of his dealerships (the first one's, as the report page's
    default) — the server's date would send a dealership far west of Moscow the week before, its Sunday not over."""
    now = now or timezone.now()
    sent = 0
    directors = User.objects.filter(is_active=True, groups__name=roles.DIRECTOR).exclude(email="").distinct()
    for director in directors:
        date_from, date_to = previous_week(today or report_today(allowed_dealership_ids(director), now))
        report = compliance_for_user(user=director, date_from=date_from, date_to=date_to, now=now)
        with translation.override("ru"):
            subject = _("Call compliance %(from)s – %(to)s") % {
                "from": date_from.strftime("%d.%m.%Y"),
                "to": date_to.strftime("%d.%m.%Y"),
            }
            lines = [subject, ""]
            for r in report.employees:
                share = "—" if r.on_time_share is None else f"{r.on_time_share * 100:.0f}%"
                lines.append(
                    _("%(name)s: due %(due)s, on time %(on_time)s, late %(late)s, missed %(missed)s, on time %(share)s")
                    % {
                        "name": r.label,
                        "due": r.due,
                        "on_time": r.on_time,
                        "late": r.late,
                        "missed": r.missed,
                        "share": share,
                    }
                )
            if not report.employees:
                lines.append(_("No calls were due in this period."))
            message = EmailMessage(subject, "\n".join(lines), None, [director.email])
            message.attach(f"call-compliance-{date_from}-{date_to}.csv", export_csv(report), "text/csv")
            message.send()
        sent += 1
    return sent


def legend_html() -> str:
    return mark_safe(
        "".join(
            format_html('<span class="me-3"><span class="legend-swatch" style="background:{}"></span>{}</span>', c, t)
            for c, t in (
                (COLOURS["on_time"], _("on time")),
                (COLOURS["late"], _("late")),
                (COLOURS["missed"], _("missed")),
            )
        )
    )
