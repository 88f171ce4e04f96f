"""Two-way messages (issue 17 item 3): customers' SMS/WhatsApp replies through Twilio's inbound webhook, their
meaning, and employees' replies in the customer's thread.

- ``inbound_message_receive``: one message from the webhook — idempotent on Twilio's MessageSid; matched to the
  customer through the last message we sent to that number (or the customer's phone); unknown numbers are kept
  unmatched. Its meaning (``reply_intent``): confirm, reschedule, STOP/START (the channel's opt-out, which every
  send path honours), anything else a task of the responsible employee on «Мои звонки». A reply to an arrival
  message reaches the customer (R6, R7): the call event is completed through its FSM, audited.
- ``message_send``: an employee's reply (SMS or WhatsApp), refused when the customer opted out of the channel.
- ``inbound_message_handle``: the employee marks a message task as handled.
"""

import datetime
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.models import ContactChannel, Customer
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import locked, run_transition

from . import signals
from .models import (
    REPLY_CHANNELS,
    CallEvent,
    CallOutcome,
    CallStatus,
    Delivery,
    InboundMessage,
    InboundStatus,
    OptOut,
    ReplyIntent,
)
from .services import _queue, is_opted_out, local_today

MAX_BODY = 1600  # Twilio's limit for one message
WHATSAPP_PREFIX = "whatsapp:"

# Whole replies (case, spaces and punctuation ignored) that mean something; anything else is for a person.
REPLY_WORDS = {
    ReplyIntent.CONFIRM: {"да", "подтверждаю", "подтверждено", "ок", "ok", "okay", "yes", "y", "1", "confirm"},
    ReplyIntent.RESCHEDULE: {"перенести", "перенос", "перенесите", "reschedule", "2"},
    ReplyIntent.STOP: {"stop", "стоп", "unsubscribe", "отписаться", "stopall", "end", "quit"},
    ReplyIntent.START: {"start", "старт", "unstop", "подписаться"},
}
_NOT_WORD = re.compile(r"[^\w+]+", re.UNICODE)


def reply_intent(text: str) -> str:
    words = _NOT_WORD.sub(" ", (text or "").lower().replace("ё", "е")).split()
    normalised = " ".join(words)
    for intent, vocabulary in REPLY_WORDS.items():
        if normalised in vocabulary:
            return intent
    return ReplyIntent.OTHER


def whatsapp_enabled() -> bool:
    return bool(settings.TWILIO_WHATSAPP_FROM)


def _sender(raw: str) -> tuple[str, str]:
    """(channel, number in E.164 when it parses, else as given) of a Twilio ``From`` address."""
    raw = (raw or "").strip()
    channel = ContactChannel.SMS
    if raw.lower().startswith(WHATSAPP_PREFIX):
        channel, raw = ContactChannel.WHATSAPP, raw[len(WHATSAPP_PREFIX) :]
    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        return channel, raw[:64]
    return channel, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _replied_delivery(number: str) -> Delivery | None:
    """The last text message we sent to this number: what the customer answers."""
    return (
        Delivery.objects.filter(recipient=number, channel__in=REPLY_CHANNELS)
        .select_related("customer", "event")
        .order_by("-created_at", "-id")
        .first()
    )


def _customer_by_phone(number: str) -> Customer | None:
    return Customer.objects.filter(phone=number).order_by("-updated_at", "-id").first() if number else None


def _responsible_id(message: InboundMessage, handled: list[signals.ReplyHandled]) -> int | None:
    """Who answers a reply left to a person: the call event's assignee, the owner of what the message was about
    (an appointment's advisor), the employee who wrote the message answered, the customer's manager (R20), the
    assignee of the customer's latest call."""
    if message.event_id:
        return message.event.assignee_id
    for result in handled:
        if result.responsible_id:
            return result.responsible_id
    if message.reply_to_id and message.reply_to.author_id:
        return message.reply_to.author_id
    if message.customer.assigned_manager_id:
        return message.customer.assigned_manager_id
    latest = CallEvent.objects.filter(order__customer_id=message.customer_id).order_by("-due_date", "-id").first()
    return latest.assignee_id if latest else None


def _reach(message: InboundMessage, now: datetime.datetime) -> None:
    """R6, R7: the customer answered the arrival message — the call event is done, reached, by its assignee."""
    event = locked(message.event, "dealership")
    if event.status != CallStatus.OPEN:
        return
    channel = message.get_channel_display()
    run_transition(
        event,
        "complete",
        actor=None,
        message=events.text(gettext_noop("The customer replied (%(channel)s)"), channel=channel),
        by=event.assignee,
        at=now,
        on=local_today(event.dealership, now),
        outcome=CallOutcome.REACHED,
        comment=f"{channel}: {message.body}"[:2000],
        agreed_date=None,
    )


def _opt_out(message: InboundMessage) -> None:
    existing = OptOut.objects.filter(customer_id=message.customer_id, channel=message.channel).first()
    if message.intent == ReplyIntent.STOP and existing is None:
        with translation.override("ru"):
            reason = _("The customer replied «%(text)s»") % {"text": message.body.strip()[:100]}
        opt_out = OptOut.objects.create(
            dealership_id=message.dealership_id, customer_id=message.customer_id, channel=message.channel, reason=reason
        )
        events.record_created(actor=None, instance=opt_out, fields=["customer", "channel", "reason"])
    elif message.intent == ReplyIntent.START and existing is not None:
        events.record(actor=None, instance=existing, action="deleted", message=message.body[:100])
        existing.delete()


def _apply(message: InboundMessage, now: datetime.datetime) -> None:
    """What the reply means: opt-out, the answered reference's owner, reaching the customer, or a person's task."""
    if message.intent in (ReplyIntent.STOP, ReplyIntent.START):
        _opt_out(message)
    handled: list[signals.ReplyHandled] = []
    reference = message.reply_to.reference if message.reply_to_id else ""
    # The owner of what was answered acts on confirm/reschedule and names who answers anything else.
    if message.intent not in (ReplyIntent.STOP, ReplyIntent.START) and reference:
        answers = signals.customer_replied.send(
            sender=InboundMessage,
            customer_id=message.customer_id,
            reference=reference,
            intent=message.intent,
            message_id=message.pk,
        )
        handled = [result for _receiver, result in answers if isinstance(result, signals.ReplyHandled)]
    reached = message.event_id is not None and message.event.status == CallStatus.OPEN
    if reached:
        _reach(message, now)
    understood = message.intent in (ReplyIntent.STOP, ReplyIntent.START) or any(r.handled for r in handled)
    if message.intent == ReplyIntent.CONFIRM and reached:
        understood = True
    if not understood:
        message.status = InboundStatus.OPEN
        message.assignee_id = _responsible_id(message, handled)
        message.save(update_fields=["status", "assignee"])


def inbound_message_receive(
    *, provider_id: str, sender: str, recipient: str = "", body: str = "", now: datetime.datetime | None = None
) -> InboundMessage:
    """One message from Twilio's inbound webhook; a repeated MessageSid returns the stored message unchanged."""
    now = now or timezone.now()
    provider_id = (provider_id or "").strip()[:64]
    if not provider_id or not (sender or "").strip():
        raise ValidationError({"MessageSid": _("A message id and a sender are required.")})
    with transaction.atomic():
        existing = InboundMessage.objects.filter(provider_id=provider_id).first()
        if existing is not None:
            return existing
        channel, number = _sender(sender)
        reply_to = _replied_delivery(number)
        customer = reply_to.customer if reply_to is not None else _customer_by_phone(number)
        body = (body or "")[: MAX_BODY * 3]
        try:
            with transaction.atomic():
                message = InboundMessage.objects.create(
                    dealership_id=customer.dealership_id if customer else None,
                    customer=customer,
                    reply_to=reply_to,
                    event=reply_to.event if reply_to is not None else None,
                    channel=channel,
                    sender=number,
                    recipient=(recipient or "")[:64],
                    body=body,
                    provider_id=provider_id,
                    intent=reply_intent(body),
                    # an unknown sender's message waits for someone to look at it in the staff list
                    status=InboundStatus.HANDLED if customer else InboundStatus.OPEN,
                    received_at=now,
                )
        except IntegrityError:  # the same MessageSid, delivered twice at once
            return InboundMessage.objects.get(provider_id=provider_id)
        events.record_created(actor=None, instance=message, fields=["channel", "sender", "intent"])
        if customer is not None:
            _apply(message, now)
    return message


# -- employees' replies ----------------------------------------------------------------------------------------------
def _reply_channel(customer: Customer, channel: str) -> str:
    if not channel:
        last = InboundMessage.objects.filter(customer=customer).order_by("-received_at", "-id").first()
        channel = last.channel if last else customer.preferred_channel
        if channel not in REPLY_CHANNELS or (channel == ContactChannel.WHATSAPP and not whatsapp_enabled()):
            channel = ContactChannel.SMS
    if channel not in REPLY_CHANNELS:
        raise ValidationError({"channel": _("Replies go by SMS or WhatsApp.")})
    if channel == ContactChannel.WHATSAPP and not whatsapp_enabled():
        raise ValidationError({"channel": _("WhatsApp is not configured.")})
    return channel


@transaction.atomic
def message_send(
    *, actor, customer: Customer, body: str, channel: str = "", event: CallEvent | None = None
) -> Delivery:
    """An employee's message in the customer's thread (optionally about one call event), sent after commit."""
    if customer.dealership_id not in allowed_dealership_ids(actor):
        raise ValidationError({"customer": _("Unknown customer.")})
    if not actor.has_perm("notifications.add_delivery"):
        raise PermissionDenied
    body = (body or "").strip()
    errors = {}
    if not body:
        errors["body"] = _("Write the message.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("The message is too long (at most %(n)s characters).") % {"n": MAX_BODY}
    if event is not None and (event.dealership_id != customer.dealership_id or event.order.customer_id != customer.pk):
        errors["event"] = _("This call event is not about this customer.")
    if not customer.phone:
        errors["customer"] = _("The customer has no phone number.")
    if errors:
        raise ValidationError(errors)
    channel = _reply_channel(customer, channel)
    if is_opted_out(customer.pk, channel):
        raise ConflictError(_("The customer opted out of %(channel)s messages.") % {"channel": channel.upper()})
    delivery = Delivery.objects.create(
        dealership_id=customer.dealership_id,
        customer=customer,
        event=event,
        channel=channel,
        recipient=customer.phone.as_e164,
        body=body,
        author=actor,
    )
    events.record_created(actor=actor, instance=delivery, fields=["channel", "recipient", "body"])
    _queue([delivery.pk])
    return delivery


@transaction.atomic
def inbound_message_handle(*, actor, message: InboundMessage, now: datetime.datetime | None = None) -> InboundMessage:
    """The employee dealt with the customer's message (answered, called back): the task leaves «Мои звонки»."""
    if message.dealership_id is not None and message.dealership_id not in allowed_dealership_ids(actor):
        raise ValidationError({"message": _("Unknown message.")})
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != InboundStatus.OPEN:
        raise ConflictError(_("This message is already handled."))
    message.status = InboundStatus.HANDLED
    message.handled_at = now or timezone.now()
    message.handled_by = actor
    message.save(update_fields=["status", "handled_at", "handled_by"])
    events.record(actor=actor, instance=message, action="action", message=events.text(gettext_noop("handled")))
    return message
