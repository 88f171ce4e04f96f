"""Service's answers to lower apps' signals."""

from django.utils.translation import gettext_noop

from notifications.models import ReplyIntent
from notifications.signals import ReplyHandled

from .models import Appointment, AppointmentStatus
from .services import confirmations

APPOINTMENT_REFERENCE = "appointment:"


def on_customer_replied(sender, *, customer_id: int, reference: str, intent: str, **kwargs) -> ReplyHandled | None:
    """Issue 17 item 3 (R19): «да» / «перенести» in answer to the appointment confirmation confirms the appointment or
    asks to move it, as the reply link does; an appointment past answering is left to its advisor."""
    if not reference.startswith(APPOINTMENT_REFERENCE):
        return None
    pk = reference.removeprefix(APPOINTMENT_REFERENCE)
    appointment = Appointment.objects.filter(pk=int(pk) if pk.isdigit() else 0, customer_id=customer_id).first()
    if appointment is None:
        return None
    answerable = appointment.status in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.RESCHEDULE,
    )
    if not answerable:
        return ReplyHandled(handled=False, responsible_id=appointment.advisor_id)
    via = gettext_noop("customer's text reply")
    if intent == ReplyIntent.CONFIRM:
        confirmations.appointment_confirm(actor=None, appointment=appointment, via=via)
    elif intent == ReplyIntent.RESCHEDULE:
        confirmations.appointment_request_reschedule(actor=None, appointment=appointment, via=via)
    else:
        return ReplyHandled(handled=False, responsible_id=appointment.advisor_id)
    # A request to move the visit is the advisor's confirmation call task already (appointment_request_reschedule).
    return ReplyHandled(handled=True, responsible_id=appointment.advisor_id)
