"""What the service app adds to core pages (issue 14 item 5): the advisor's day starts with today's appointments and
arrivals on the home dashboard; the quality inspector's with the work orders waiting in quality check."""

import datetime
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dms.core import roles
from dms.core.formatting import format_money
from dms.core.history import HistoryItem, HistorySection, QuickAction

from .models import ACTIVE_APPOINTMENT_STATUSES, AppointmentStatus, FollowUpOutcome, ReminderReason, WorkOrderStatus
from .selectors import (
    appointment_history,
    appointment_list,
    declined_findings,
    loaner_history,
    mileage_history,
    open_recalls_for_vin,
    reminder_calls_due,
    reminder_history,
    workorder_history,
)

ROLE_LANDINGS = {
    roles.QUALITY_INSPECTOR: f"service:workorder_list?status={WorkOrderStatus.QUALITY_CHECK}",
    # Issue 18 item 2: the technician's day starts at the tablet page of their jobs.
    roles.TECHNICIAN: "service:my_jobs",
}

PANEL_ROWS = 10


def _today_bounds(dealership) -> tuple[datetime.datetime, datetime.datetime, datetime.date]:
    today = timezone.localtime(timezone.now(), dealership.tz).date()
    start = datetime.datetime.combine(today, datetime.time.min, tzinfo=dealership.tz)
    return start, start + datetime.timedelta(days=1), today


def _reminder_panel(request) -> list[str]:
    """Issue 17 item 5: the advisor's follow-up calls — service due (customers who are phoned, not messaged) and work
    the customer declined."""
    if not request.user.has_perm("service.call_servicereminder"):
        return []
    due = reminder_calls_due(user=request.user, dealership=request.dealership)
    return [
        render_to_string(
            "service/home_reminders.html",
            {
                "reminders": list(due[:PANEL_ROWS]),
                "total": due.count(),
                "next": request.get_full_path(),
                "outcomes": FollowUpOutcome.choices,
                "scores": range(1, 6),
            },
            request=request,
        )
    ]


def my_calls_panels(request) -> list[str]:
    """«Мои звонки» (notifications) lists the employee's follow-ups from service too: service due, declined work."""
    return _reminder_panel(request)


def home_panels(request) -> list[str]:
    if not request.user.has_perm("service.view_appointment"):
        return []
    return _appointment_panels(request) + _reminder_panel(request)


def _appointment_panels(request) -> list[str]:
    dealership = request.dealership
    start, end, today = _today_bounds(dealership)
    todays = appointment_list(dealership_ids=[dealership.pk], date_from=start, date_to=end).order_by("starts_at")
    expected = todays.filter(status__in=[s for s in ACTIVE_APPOINTMENT_STATUSES if s != AppointmentStatus.ARRIVED])
    arrived = todays.filter(status=AppointmentStatus.ARRIVED)
    return [
        render_to_string(
            "service/home_appointments.html",
            {
                "panel_id": "home-appointments",
                "title": _("Today's appointments"),
                "empty": _("No more appointments expected today."),
                "appointments": list(expected[:PANEL_ROWS]),
                "total": expected.count(),
                "url": f"{reverse('service:appointment_calendar')}?date={today.isoformat()}",
            },
            request=request,
        ),
        render_to_string(
            "service/home_appointments.html",
            {
                "panel_id": "home-arrivals",
                "title": _("Arrivals today"),
                "empty": _("No car has arrived yet today."),
                "appointments": list(arrived[:PANEL_ROWS]),
                "total": arrived.count(),
                "url": f"{reverse('service:appointment_list')}?status={AppointmentStatus.ARRIVED}",
            },
            request=request,
        ),
    ]


# Issue 14 item 3: the customer's and the vehicle's cards — appointments, work orders, loans; for a vehicle also its
# visits with the mileage read at reception and the open recalls for its VIN; booking and walk-in prefilled.
def _appointment_item(appointment) -> HistoryItem:
    title = f"{appointment.vehicle.make} {appointment.vehicle.model}"
    return HistoryItem.of(
        appointment, "appointment", title=title, date=appointment.starts_at, detail=appointment.reason
    )


def _workorder_item(order) -> HistoryItem:
    detail = " · ".join(p for p in (f"{order.vehicle.make} {order.vehicle.model}", order.complaint) if p)
    title, date = order.number or f"#{order.pk}", order.created_at
    return HistoryItem.of(order, "work_order", title=title, date=date, detail=detail, mileage=order.mileage_in)


def _visit_item(order) -> HistoryItem:
    return HistoryItem.of(
        order,
        "service_visit",
        title=order.number or f"#{order.pk}",
        date=order.visited_at,
        is_open=order.status != WorkOrderStatus.DELIVERED,
        detail=order.complaint,
        mileage=order.mileage_in,
    )


def _loan_item(reservation) -> HistoryItem:
    return HistoryItem.of(
        reservation,
        "loan",
        title=str(reservation.loaner),
        date=reservation.starts_on,
        # A reservation has no page of its own: the appointment it belongs to.
        url=reverse("service:appointment_detail", args=[reservation.appointment_id]),
        detail=_("until %(day)s") % {"day": date_format(reservation.ends_on, "SHORT_DATE_FORMAT")},
    )


def _recall_item(campaign) -> HistoryItem:
    return HistoryItem(
        kind="recall",
        id=campaign.pk,
        title=f"{campaign.code} {campaign.title}",
        status="open",
        status_label=pgettext("recall campaign", "Open"),
        date=None,
        is_open=True,
        url=f"{reverse('service:recall_list')}?{urlencode({'q': campaign.code})}",
        detail=Truncator(campaign.description).chars(120),
    )


def _declined_item(finding) -> HistoryItem:
    # Issue 17: a recommendation the customer declined stays on the vehicle's card (5a: a call follows it up).
    return HistoryItem(
        kind="declined_finding",
        id=finding.pk,
        title=finding.item,
        status=finding.colour,
        status_label=finding.get_colour_display(),
        date=finding.job.consent_at if finding.job_id else finding.created_at,
        is_open=True,
        url=finding.work_order.get_absolute_url(),
        detail=Truncator(
            " · ".join(p for p in (finding.work_order.number, format_money(finding.price), finding.comment) if p)
        ).chars(120),
    )


def _reminder_item(reminder) -> HistoryItem:
    """A follow-up (issue 17 item 5): why (service due; the declined work and its price), then how the call went."""
    declined = reminder.reason == ReminderReason.DECLINED
    # The title names a declined-work call; its detail leads with the work and its price (the card cuts at 120).
    parts = [
        f"{reminder.finding.item} · {format_money(reminder.finding.price)}"
        if declined
        else reminder.get_reason_display()
    ]
    if reminder.estimated_mileage:
        parts.append(f"~{reminder.estimated_mileage} km")
    if reminder.outcome:
        parts.append(reminder.get_outcome_display())
    if reminder.note:
        parts.append(reminder.note)
    if reminder.satisfaction:
        parts.append(_("satisfaction %(score)s/5") % {"score": reminder.satisfaction})
    return HistoryItem(
        kind="service_reminder",
        id=reminder.pk,
        title=str(_("Call about declined work") if declined else _("Service reminder")),
        status=reminder.status,
        status_label=reminder.get_status_display(),
        date=reminder.due_on,
        is_open=reminder.history_open,
        url=reminder.finding.work_order.get_absolute_url() if declined else None,
        detail=Truncator(" · ".join(str(part) for part in parts)).chars(120),
    )


def _sections(user, dealership, **subject) -> list[HistorySection]:
    sections = []
    if user.has_perm("service.view_appointment"):
        sections.append(
            HistorySection("appointment", _("Appointments"), appointment_history(**subject), _appointment_item)
        )
    if user.has_perm("service.view_workorder"):
        sections.append(HistorySection("work_order", _("Work orders"), workorder_history(**subject), _workorder_item))
    if user.has_perm("service.view_loanerreservation"):
        today = timezone.localtime(timezone.now(), dealership.tz).date()
        sections.append(HistorySection("loan", _("Loaner cars"), loaner_history(today=today, **subject), _loan_item))
    if user.has_perm("service.view_servicereminder"):
        reminders = reminder_history(**subject)
        sections.append(HistorySection("service_reminder", _("Service reminders"), reminders, _reminder_item))
    return sections


def customer_history(user, customer) -> list[HistorySection]:
    return _sections(user, customer.dealership, customer=customer)


def vehicle_history(user, vehicle) -> list[HistorySection]:
    dealership = vehicle.dealership
    sections = []
    if user.has_perm("service.view_recallcampaign"):
        recalls = open_recalls_for_vin(dealership=dealership, vin=vehicle.vin)
        sections.append(HistorySection("recall", _("Open recall campaigns"), recalls, _recall_item, priority=0))
    if user.has_perm("service.view_workorder"):
        visits = mileage_history(vehicle=vehicle)
        sections.append(
            HistorySection(
                "service_visit", _("Service history"), visits, _visit_item, chronological=True, in_api=False, priority=1
            )
        )
        sections.append(
            HistorySection(
                "declined_finding",
                _("Declined recommendations"),
                declined_findings(vehicle=vehicle),
                _declined_item,
                priority=2,
            )
        )
    return sections + _sections(user, dealership, vehicle=vehicle)


def _prefilled(url_name: str, **params) -> str:
    return f"{reverse(url_name)}?{urlencode(params)}"


def _actions(user, **params) -> list[QuickAction]:
    actions = []
    if user.has_perm("service.add_appointment"):
        url = _prefilled("service:appointment_create", **params)
        actions.append(QuickAction(_("Book an appointment"), url, "appointment"))
    if user.has_perm("service.add_workorder"):
        url = _prefilled("service:workorder_create", **params)
        actions.append(QuickAction(_("Walk-in work order"), url, "work_order"))
    return actions


def customer_actions(user, customer) -> list[QuickAction]:
    return _actions(user, customer=customer.pk)


def vehicle_actions(user, vehicle) -> list[QuickAction]:
    return _actions(user, customer=vehicle.customer_id, vehicle=vehicle.pk)
