"""Issue 17 item 3 (R19): a text reply to the appointment confirmation confirms it or asks to move it."""

import datetime

import pytest

from notifications import conversations
from notifications.models import Delivery, InboundMessage
from service.models import AppointmentConfirmation, AppointmentStatus
from service.services import confirmations

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed_by_sms(book, django_capture_on_commit_callbacks):
    def make(answer: str, sid: str):
        appointment = book(10, 0)
        with django_capture_on_commit_callbacks(execute=True):
            confirmations.confirmation_send(appointment=appointment, now=NOW)
        delivery = Delivery.objects.get(reference=f"appointment:{appointment.pk}")
        conversations.inbound_message_receive(
            provider_id=sid, sender=delivery.recipient, body=answer, now=NOW + datetime.timedelta(hours=1)
        )
        appointment.refresh_from_db()
        return appointment, InboundMessage.objects.get(provider_id=sid)

    return make


def test_da_confirms_the_appointment(confirmed_by_sms):
    appointment, message = confirmed_by_sms("Да", "SM1")
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert message.intent == "confirm" and message.status == "handled"
    assert AppointmentConfirmation.objects.get(appointment=appointment).status == "confirmed"


def test_perenesti_asks_to_move_it_and_the_advisor_calls(confirmed_by_sms, booking_advisor):
    appointment, message = confirmed_by_sms("перенести", "SM2")
    assert appointment.status == AppointmentStatus.RESCHEDULE
    confirmation = AppointmentConfirmation.objects.get(appointment=appointment)
    assert (confirmation.status, confirmation.assigned_to) == ("reschedule", booking_advisor)
    assert message.status == "handled"  # the advisor's confirmation call task holds it, not a second task


def test_other_words_are_the_advisors_task(confirmed_by_sms, booking_advisor):
    appointment, message = confirmed_by_sms("А во сколько точно?", "SM3")
    assert appointment.status == AppointmentStatus.BOOKED
    assert (message.status, message.assignee) == ("open", booking_advisor)
