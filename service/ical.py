"""iCalendar (RFC 5545) feed of an advisor's appointments, at a signed URL calendar apps can poll."""

import datetime

from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import ACTIVE_APPOINTMENT_STATUSES, Appointment

FEED_SALT = "service.advisor-ics"
User = get_user_model()


def feed_token(advisor) -> str:
    return signing.dumps({"u": advisor.pk}, salt=FEED_SALT, compress=True)


def feed_url(advisor) -> str:
    return reverse("service:advisor_feed", args=[feed_token(advisor)])


def advisor_from_token(token: str):
    try:
        data = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=data.get("u"), is_active=True).first()


def _escape(text: str) -> str:
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return out


def _stamp(dt: datetime.datetime) -> str:
    return dt.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def advisor_feed(advisor, *, now: datetime.datetime | None = None) -> str:
    now = now or timezone.now()
    appointments = Appointment.objects.filter(
        advisor=advisor, status__in=ACTIVE_APPOINTMENT_STATUSES, starts_at__gte=now - datetime.timedelta(days=30)
    ).select_related("customer", "vehicle", "dealership")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//DMS//Service appointments//RU", "CALSCALE:GREGORIAN"]
    for a in appointments:
        summary = f"{a.customer.name}: {a.vehicle.make} {a.vehicle.model}"
        description = f"{a.reason}\n{a.vehicle.vin} {a.vehicle.plate}\n{a.customer.phone}"
        for uid, start, end, title in (
            (f"appointment-{a.pk}", a.starts_at, a.ends_at, summary),
            (f"handover-{a.pk}", a.handover_at, a.handover_at + datetime.timedelta(minutes=15), "⇄ " + summary),
        ):
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}@dms",
                f"DTSTAMP:{_stamp(a.updated_at)}",
                f"DTSTART:{_stamp(start)}",
                f"DTEND:{_stamp(end)}",
                f"SUMMARY:{_escape(title)}",
                f"DESCRIPTION:{_escape(description)}",
                f"LOCATION:{_escape(a.dealership.name)}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(folded for line in lines for folded in _fold(line)) + "\r\n"
