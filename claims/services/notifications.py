"""E-mails of the claims app: the R24 emergency alert to the FMC and TAC, the R33 overdue escalation to directors.

Each e-mail leaves only after the transaction commits; its ``ComplaintNotification`` rows record success or failure.
"""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.models import AuditAction, Dealership

from ..models import Complaint, ComplaintNotification
from .contacts import claims_settings

logger = logging.getLogger("claims.services")


def mail_on_commit(
    subject: str, body: str, recipients: list[str], *, notification_ids: Iterable[int] = (), log: str = ""
) -> None:
    """Send after the transaction commits; record success or failure on the notification rows."""
    ids = list(notification_ids)

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        except Exception as error:  # noqa: BLE001 - an SMTP failure must not break the request; it is recorded
            logger.exception("claims: e-mail %s to %s failed", log or subject, recipients)
            ComplaintNotification.objects.filter(pk__in=ids).update(
                status=ComplaintNotification.Status.FAILED, error=str(error)[:300]
            )
            return
        ComplaintNotification.objects.filter(pk__in=ids).update(
            status=ComplaintNotification.Status.SENT, sent_at=timezone.now()
        )

    transaction.on_commit(send)


def _emergency_body(complaint: Complaint, subject: str) -> str:
    vehicle = complaint.vehicle
    lines = [
        subject,
        "",
        _("Received: %(at)s via %(channel)s")
        % {
            "at": timezone.localtime(complaint.received_at, complaint.dealership.tz).strftime("%d.%m.%Y %H:%M"),
            "channel": complaint.get_channel_display(),
        },
        _("Customer: %(name)s %(phone)s")
        % {
            "name": complaint.display_name,
            "phone": complaint.customer.phone if complaint.customer_id else complaint.contact_phone,
        },
        _("Vehicle: %(vehicle)s") % {"vehicle": vehicle or complaint.vin_text or "—"},
        "",
        complaint.description,
        "",
        _("Checklist: insurance; aftermarket equipment; police report; photos as TAC instructs."),  # R24
    ]
    if complaint.involves_media:
        lines.append(
            _("Media: %(outlet)s, %(programme)s, journalist %(journalist)s (%(contact)s)")
            % {
                "outlet": complaint.media_outlet,
                "programme": complaint.media_programme,
                "journalist": complaint.journalist,
                "contact": complaint.journalist_contact,
            }
        )
    return "\n".join(str(line) for line in lines)


def notify_emergency(complaint: Complaint, *, actor, now: datetime.datetime) -> None:
    """R24: tell the field manager and the technical centre at once, with the checklist to gather."""
    contacts = claims_settings(complaint.dealership)
    subject = _("EMERGENCY complaint %(number)s: %(kind)s, %(dealership)s") % {
        "number": complaint.number,
        "kind": complaint.get_emergency_kind_display(),
        "dealership": complaint.dealership,
    }
    body = _emergency_body(complaint, subject)
    for recipient, address in (
        (ComplaintNotification.Recipient.FMC, contacts.fmc_email),
        (ComplaintNotification.Recipient.TAC, contacts.tac_email),
    ):
        note = ComplaintNotification.objects.create(
            complaint=complaint,
            recipient=recipient,
            channel="email",
            address=address,
            subject=subject[:200],
            status=ComplaintNotification.Status.QUEUED if address else ComplaintNotification.Status.NO_ADDRESS,
            created_at=now,
        )
        if address:
            mail_on_commit(subject, body, [address], notification_ids=[note.pk], log=f"emergency {complaint.number}")
    complaint.contacts_notified_at = now
    complaint.save(update_fields=["contacts_notified_at", "updated_at"])
    events.record(
        actor=actor,
        instance=complaint,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("Emergency reported to the field manager and the technical centre.")),
    )


def escalate_overdue(dealership: Dealership, complaints: list[Complaint], directors: list, *, now) -> None:
    """R33: one e-mail per dealership to its directors listing the complaints just flagged overdue."""
    subject = _("Overdue complaints at %(dealership)s: %(count)s") % {
        "dealership": dealership,
        "count": len(complaints),
    }
    body = "\n".join(
        [str(subject), ""]
        + [
            _("%(number)s, deadline %(deadline)s, %(status)s, responsible: %(assignee)s — %(customer)s")
            % {
                "number": c.number,
                "deadline": c.deadline.strftime("%d.%m.%Y"),
                "status": c.get_status_display(),
                "assignee": (c.assignee.get_full_name() or c.assignee.username) if c.assignee else "—",
                "customer": c.display_name,
            }
            for c in complaints
        ]
    )
    ids = [
        ComplaintNotification.objects.create(
            complaint=complaint,
            recipient=ComplaintNotification.Recipient.DIRECTOR,
            address=director.email,
            subject=str(subject)[:200],
            created_at=now,
        ).pk
        for complaint in complaints
        for director in directors
    ]
    mail_on_commit(str(subject), body, [d.email for d in directors], notification_ids=ids, log="overdue escalation")
