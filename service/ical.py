"""iCalendar (RFC 5545) feed of an advisor's appointments, at a secret URL calendar apps can poll without a login.

Issue 12 item 7: the URL's key is stored with an expiry and replaced on demand (``calendar_feed_token_renew``); every
text value is escaped as RFC 5545 TEXT (3.3.11) and every line folded at 75 octets (3.1); the feed carries no
personal data but the customer's name (no phone, e-mail, VIN or plate: the link works without a login).
"""

import datetime
import re
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import ACTIVE_APPOINTMENT_STATUSES, Appointment, CalendarFeedToken

# Control characters TEXT may not hold (RFC 5545 3.3.11: TSAFE-CHAR excludes CONTROL; HTAB is WSP and stays);
# C1 controls too. Line breaks are handled before: they become the escaped \n.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MAX_LINE_OCTETS = 75
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")  # secrets.token_urlsafe(32): 43 characters


def escape_text(value: object) -> str:
    """A TEXT property value: backslash, semicolon and comma escaped, any line break (CRLF, LF, bare CR) as \\n,
    other control characters removed."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = _LINE_BREAK.sub("\\\\n", text)
    return _CONTROL.sub("", text)


def fold(line: str) -> list[str]:
    """A content line split into lines of at most 75 octets, never inside a UTF-8 sequence (RFC 5545 3.1);
    continuation lines start with a space, which counts toward their 75 octets."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > MAX_LINE_OCTETS:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return out


def _stamp(dt: datetime.datetime) -> str:
    return dt.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


# ------------------------------------------------------------------------------------------------------------------
# The link
# ------------------------------------------------------------------------------------------------------------------


def feed_token_of(user) -> CalendarFeedToken | None:
    """The user's feed link, expired or not (the page says which)."""
    return CalendarFeedToken.objects.filter(user=user).first()


def feed_url(token: CalendarFeedToken) -> str:
    return reverse("service:advisor_feed", args=[token.key])


@transaction.atomic
def calendar_feed_token_renew(*, actor, now: datetime.datetime | None = None) -> CalendarFeedToken:
    """A new feed link for the acting user; the previous one stops working at once (issue 12 item 7)."""
    now = now or timezone.now()
    token, _ = CalendarFeedToken.objects.select_for_update().update_or_create(
        user=actor,
        defaults={
            "key": secrets.token_urlsafe(32),
            "created_at": now,
            "expires_at": now + datetime.timedelta(days=settings.CALENDAR_FEED_DAYS),
        },
    )
    return token


def advisor_from_token(key: str, *, now: datetime.datetime | None = None):
    """The active user whose unexpired feed link this is, or None (also for anything that is not a key at all —
    a NUL byte or a megabyte of text never reaches the database)."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    token = (
        CalendarFeedToken.objects.filter(key=key, expires_at__gt=now or timezone.now(), user__is_active=True)
        .select_related("user")
        .first()
    )
    return token.user if token else None


# ------------------------------------------------------------------------------------------------------------------
# The feed
# ------------------------------------------------------------------------------------------------------------------


def advisor_feed(advisor, *, now: datetime.datetime | None = None) -> str:
    now = now or timezone.now()
    appointments = Appointment.objects.filter(
        advisor=advisor, status__in=ACTIVE_APPOINTMENT_STATUSES, starts_at__gte=now - datetime.timedelta(days=30)
    ).select_related("customer", "vehicle", "dealership")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//DMS//Service appointments//RU", "CALSCALE:GREGORIAN"]
    for a in appointments:
        # The customer's name and the car's make and model; nothing that reaches the customer (issue 12 item 7).
        summary = f"{a.customer.name}: {a.vehicle.make} {a.vehicle.model}"
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
                f"SUMMARY:{escape_text(title)}",
                f"DESCRIPTION:{escape_text(a.reason)}",
                f"LOCATION:{escape_text(a.dealership.name)}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(folded for line in lines for folded in fold(line)) + "\r\n"
