"""What the service app adds to core pages (issue 14 item 5): the advisor's day starts with today's appointments and
arrivals on the home dashboard; the quality inspector's with the work orders waiting in quality check."""

import datetime

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.core import roles

from .models import ACTIVE_APPOINTMENT_STATUSES, AppointmentStatus, WorkOrderStatus
from .selectors import appointment_list

ROLE_LANDINGS = {roles.QUALITY_INSPECTOR: f"service:workorder_list?status={WorkOrderStatus.QUALITY_CHECK}"}

PANEL_ROWS = 10


def _today_bounds(dealership) -> tuple[datetime.datetime, datetime.datetime, datetime.date]:
    today = timezone.localtime(timezone.now(), dealership.tz).date()
    start = datetime.datetime.combine(today, datetime.time.min, tzinfo=dealership.tz)
    return start, start + datetime.timedelta(days=1), today


def home_panels(request) -> list[str]:
    if not request.user.has_perm("service.view_appointment"):
        return []
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
