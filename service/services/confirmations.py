"""R19: the confirmation 24 hours before the appointment, the customer's signed reply link, and call tasks."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events, links
from dms.core.exceptions import ConflictError
from dms.core.models import ContactChannel
from notifications import services as notification_services

from .. import scheduling, selectors
from ..models import Appointment, AppointmentConfirmation, AppointmentStatus, ConfirmationStatus
from .common import _now, _run

# Issue 17: the reply link is a customer link (dms.core.links) of this purpose, about the appointment: it expires,
# can be revoked from the customer's card, and a tampered one is refused like every other customer link.
REPLY_PURPOSE = "appointment_reply"
REPLY_DAYS = 30


def reply_token(appointment: Appointment, *, channel: str = "") -> str:
    return links.link_issue(
        customer=appointment.customer,
        purpose=REPLY_PURPOSE,
        subject_id=appointment.pk,
        channel=channel,
        sent_with=f"appointment:{appointment.pk}",
        days=REPLY_DAYS,
    ).token


def reply_url(appointment: Appointment) -> str:
    return links.link_url(reply_token(appointment), REPLY_PURPOSE)


def appointment_of_link(link) -> Appointment | None:
    """The appointment a reply link is about (only the link's own customer's)."""
    return (
        Appointment.objects.filter(pk=link.subject_id, customer_id=link.customer_id)
        .select_related("dealership", "customer", "vehicle")
        .first()
    )


def _message(appointment: Appointment) -> tuple[str, str]:
    # In the customer's language, whoever or whatever (the hourly job, a request) triggers it (issue 17).
    with translation.override(notification_services.message_language(appointment.customer)):
        return _message_text(appointment)


def _message_text(appointment: Appointment) -> tuple[str, str]:
    tz = appointment.dealership.tz
    subject = _("Your service appointment on %(date)s") % {
        "date": scheduling.local(appointment.starts_at, tz).strftime("%d.%m.%Y %H:%M")
    }
    # Issue 17: the message carries the customer's status link (added as it is sent, notifications), where the
    # customer confirms or asks to move the visit — one link keeps the SMS short.
    body = _(
        "%(dealership)s is expecting your %(vehicle)s on %(date)s (%(area)s). Confirm or ask to move the visit "
        "by the link:"
    ) % {
        "dealership": appointment.dealership.name,
        "vehicle": f"{appointment.vehicle.make} {appointment.vehicle.model}",
        "date": scheduling.local(appointment.starts_at, tz).strftime("%d.%m.%Y %H:%M"),
        "area": appointment.get_area_display(),
    }
    return subject, body


def _deliver(confirmation_id: int) -> None:
    """After commit: send by the customer's channel; a customer to be phoned becomes the advisor's call task."""
    confirmation = AppointmentConfirmation.objects.select_related(
        "appointment__customer", "appointment__vehicle", "appointment__dealership"
    ).get(pk=confirmation_id)
    appointment = confirmation.appointment
    subject, body = _message(appointment)
    try:
        delivery = notification_services.customer_notify(
            actor=None,
            customer=appointment.customer,
            subject=subject,
            body=body,
            reference=f"appointment:{appointment.pk}",
        )
    except Exception:  # noqa: BLE001 - a failed send becomes a call task, the advisor confirms by phone
        delivery = None
    if delivery is None:  # the customer is phoned instead
        AppointmentConfirmation.objects.filter(pk=confirmation_id).update(
            status=ConfirmationStatus.CALL_DUE, assigned_to_id=appointment.advisor_id
        )


@transaction.atomic
def confirmation_send(
    *, appointment: Appointment, now: datetime.datetime | None = None
) -> AppointmentConfirmation | None:
    now = _now(now)
    appointment = Appointment.objects.select_for_update().select_related("customer").get(pk=appointment.pk)
    if appointment.confirmation_sent_at is not None or appointment.status != AppointmentStatus.BOOKED:
        return None
    channel = appointment.customer.preferred_channel
    phone = channel == ContactChannel.PHONE
    confirmation = AppointmentConfirmation.objects.create(
        dealership_id=appointment.dealership_id,
        appointment=appointment,
        channel=channel,
        status=ConfirmationStatus.CALL_DUE if phone else ConfirmationStatus.SENT,
        sent_at=now,
        assigned_to_id=appointment.advisor_id if phone else None,
    )
    appointment.confirmation_sent_at = now
    appointment.save(update_fields=["confirmation_sent_at", "updated_at"])
    events.record(
        actor=None,
        instance=appointment,
        action="action",
        changes={"channel": channel},
        message=events.text(
            gettext_noop("confirmation call task for the advisor") if phone else gettext_noop("confirmation sent")
        ),
    )
    if not phone:
        transaction.on_commit(lambda: _deliver(confirmation.pk))
    return confirmation


def confirmations_send_due(*, now: datetime.datetime | None = None) -> int:
    now = _now(now)
    count = 0
    for appointment in selectors.appointments_due_for_confirmation(now=now).only("pk"):
        if confirmation_send(appointment=appointment, now=now) is not None:
            count += 1
    return count


@transaction.atomic
def appointment_confirm(*, actor, appointment: Appointment, via: str, now=None) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == AppointmentStatus.CONFIRMED:
        return appointment
    appointment.confirmed_at = _now(now)
    _run(
        appointment,
        "confirm",
        actor=actor,
        message=events.text(via),  # issue 14 item 8: a msgid (gettext_noop), read in the reader's language
        check_perm=False,
        not_allowed=_("This appointment can no longer be confirmed."),
    )
    AppointmentConfirmation.objects.filter(appointment=appointment).update(
        status=ConfirmationStatus.CONFIRMED, answered_at=appointment.confirmed_at
    )
    return appointment


@transaction.atomic
def appointment_request_reschedule(*, actor, appointment: Appointment, via: str, now=None) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == AppointmentStatus.RESCHEDULE:
        return appointment
    _run(
        appointment,
        "ask_reschedule",
        actor=actor,
        message=events.text(via),  # issue 14 item 8: a msgid (gettext_noop), read in the reader's language
        check_perm=False,
        not_allowed=_("This appointment can no longer be moved from here; please call us."),
    )
    confirmation, _created = AppointmentConfirmation.objects.get_or_create(
        appointment=appointment,
        defaults={
            "dealership_id": appointment.dealership_id,
            "channel": "web",
            "status": ConfirmationStatus.RESCHEDULE,
            "sent_at": _now(now),
        },
    )
    # The advisor calls the customer to agree a new time.
    confirmation.status = ConfirmationStatus.RESCHEDULE
    confirmation.assigned_to_id = appointment.advisor_id
    confirmation.answered_at = _now(now)
    confirmation.save()
    return appointment


def confirmation_reply(*, appointment: Appointment, answer: str, now=None) -> Appointment:
    if answer == "confirm":
        return appointment_confirm(
            actor=None, appointment=appointment, via=gettext_noop("customer's reply link"), now=now
        )
    if answer == "reschedule":
        return appointment_request_reschedule(
            actor=None, appointment=appointment, via=gettext_noop("customer's reply link"), now=now
        )
    raise ValidationError({"answer": _("Choose to confirm or to reschedule.")})


CALL_RESULTS = ("confirmed", "reschedule", "unreachable")


@transaction.atomic
def confirmation_call_record(*, actor, confirmation: AppointmentConfirmation, result: str, note: str = "", now=None):
    confirmation = AppointmentConfirmation.objects.select_for_update().get(pk=confirmation.pk)
    if result not in CALL_RESULTS:
        raise ValidationError({"result": _("Choose the call's result.")})
    if confirmation.status not in (
        ConfirmationStatus.CALL_DUE,
        ConfirmationStatus.RESCHEDULE,
        ConfirmationStatus.UNREACHABLE,
    ):
        raise ConflictError(_("This confirmation needs no call."))
    confirmation.result_note = note[:300]
    confirmation.answered_by = actor
    confirmation.answered_at = _now(now)
    if result == "confirmed":
        confirmation.save()
        appointment_confirm(actor=actor, appointment=confirmation.appointment, via=gettext_noop("by phone"), now=now)
        return confirmation
    if result == "reschedule":
        confirmation.save()
        appointment_request_reschedule(
            actor=actor, appointment=confirmation.appointment, via=gettext_noop("by phone"), now=now
        )
        return confirmation
    confirmation.status = ConfirmationStatus.UNREACHABLE
    confirmation.save()
    events.record(
        actor=actor,
        instance=confirmation.appointment,
        action="action",
        message=events.text(gettext_noop("customer not reached")),
    )
    return confirmation
