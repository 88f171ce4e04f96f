"""Writes for call-backs and customer notifications (R3, R5–R14)."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events, links, webhooks
from dms.core.exceptions import ConflictError
from dms.core.models import ContactChannel, Customer
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import is_available, locked, run_transition
from dms.core.validation import satisfaction_score
from orders.models import CustomerOrder

from . import generator, selectors, signals, sms
from .models import (
    DELIVERY_RANK,
    FINAL_DELIVERY_STATUSES,
    ORDER_STATUSES_WITH_CALLS,
    RETRY_DAYS,
    RETRY_OUTCOMES,
    CallEvent,
    CallKind,
    CallOutcome,
    CallStatus,
    Delivery,
    DeliveryStatus,
    OptOut,
)

logger = logging.getLogger(__name__)

MAX_AGREED_DAYS_AHEAD = 365
MAX_COMMENT = 2000


def local_today(dealership, now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localtime(now or timezone.now(), dealership.tz).date()


# -- the generator -------------------------------------------------------------------------------------------------
def call_events_generate(
    *, now: datetime.datetime | None = None, order_ids: list[int] | None = None, notify: bool = True
) -> generator.TickResult:
    """One tick (R3, R5–R7, R10, 30-day rule): close what is over, create what is due. Idempotent, set-wise.

    The beat runs it over every order; an order's status change runs it over that order at once
    (``receivers.on_status_changed``), as of the change's moment."""
    now = now or timezone.now()
    with transaction.atomic():
        cancelled = call_events_close(order_ids=order_ids)
        result = generator.tick(now=now, order_ids=order_ids)
        result.cancelled = cancelled
        # Issue 16 item 5: the generator writes events with INSERT … SELECT (no audit entry, so no webhook from
        # dms.core.events): their outbox rows are written here, in the same transaction.
        webhooks.emit_for_rows(
            event_type=webhooks.E.CALL_EVENT_CREATED, model="notifications.CallEvent", pks=result.created_ids
        )
        if notify and result.arrival_ids:
            deliveries_for_arrivals(event_ids=result.arrival_ids)
    if result.created or result.cancelled:
        logger.info("call events: %s created, %s cancelled", result.created, result.cancelled)
    return result


@transaction.atomic(savepoint=False)  # inside a tick: no savepoint round trips (the tick's query budget)
def call_events_close(*, order_ids: list[int] | None = None) -> int:
    """The one path that ends call events (R3; issue 15 item 8): every open event whose order moved on is
    cancelled through its FSM transition — locked, saved and audited like any other status change."""
    closing = selectors.call_events_to_close(order_ids=order_ids).select_for_update(of=("self",))
    count = 0
    for event in closing:
        run_transition(event, "cancel", actor=None, reason=event.closing_reason)
        count += 1
    return count


# -- recording a call's result -------------------------------------------------------------------------------------
def _follow_up(*, event: CallEvent, kind: str, due: datetime.date) -> CallEvent:
    try:
        with transaction.atomic():
            follow, created = CallEvent.objects.get_or_create(
                order_id=event.order_id,
                kind=kind,
                due_date=due,
                defaults={
                    "dealership_id": event.dealership_id,
                    "assignee_id": event.assignee_id,
                    "source_event": event,
                },
            )
    except IntegrityError:  # created by someone else between the get and the create
        follow = CallEvent.objects.get(order_id=event.order_id, kind=kind, due_date=due)
    else:
        if created:  # written without an audit entry: its webhook event is written here (issue 16 item 5)
            webhooks.emit_for_rows(
                event_type=webhooks.E.CALL_EVENT_CREATED, model="notifications.CallEvent", pks=[follow.pk]
            )
    return follow


def _check_call_result(
    *, event: CallEvent, outcome: str, comment: str, agreed_date: datetime.date | None, today: datetime.date
) -> None:
    """The recorded result fits the event (R13): its outcomes, the comment's length, an agreed date (R8)."""
    errors: dict[str, str] = {}
    if outcome not in CallOutcome.values:
        errors["outcome"] = _("Unknown outcome.")
    elif outcome not in event.allowed_outcomes():
        errors["outcome"] = _("This outcome does not fit a «%(kind)s» event.") % {"kind": event.get_kind_display()}
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("The comment is too long (at most %(n)s characters).") % {"n": MAX_COMMENT}
    if agreed_date is not None:
        if agreed_date < today:
            errors["agreed_date"] = _("The agreed date is in the past.")
        elif (agreed_date - today).days > MAX_AGREED_DAYS_AHEAD:
            errors["agreed_date"] = _("The agreed date is more than a year ahead.")
        elif outcome in CallOutcome.values and outcome != CallOutcome.REACHED:
            errors["agreed_date"] = _("A date can be agreed only when the customer was reached.")
    if outcome == CallOutcome.DID_NOT_COME and "outcome" not in errors and today < event.due_date:
        errors["outcome"] = _("The agreed date has not come yet.")
    if errors:
        raise ValidationError(errors)


def _retry_due(*, event: CallEvent, today: datetime.date) -> datetime.date:
    """R9: the day the next call is due, within RETRY_DAYS of ``today`` — the last such day that has no retry of
    the order yet or whose retry is still open. A retry already called (say twice the same day: its follow-up
    wants the very day it was due) holds its day in the one-event-per-order-kind-day constraint; the next call
    then takes the day before, never none at all."""
    latest = today + datetime.timedelta(days=RETRY_DAYS)
    taken = dict(
        CallEvent.objects.filter(
            order_id=event.order_id, kind=CallKind.RETRY, due_date__gte=today, due_date__lte=latest
        ).values_list("due_date", "status")
    )
    for offset in range(RETRY_DAYS, -1, -1):
        day = today + datetime.timedelta(days=offset)
        if taken.get(day, CallStatus.OPEN) == CallStatus.OPEN:
            return day
    return latest


def _follow_ups(*, event: CallEvent, outcome: str, agreed_date: datetime.date | None, today: datetime.date) -> None:
    """The calls a recorded result asks for, while the order still has calls."""
    if outcome in RETRY_OUTCOMES:
        # R9: customer unreachable → the next call within 3 days.
        _follow_up(event=event, kind=CallKind.RETRY, due=_retry_due(event=event, today=today))
    if agreed_date is not None:
        # R8: later calls strictly on the agreed date.
        _follow_up(event=event, kind=CallKind.AGREED_DATE, due=agreed_date)
    if outcome == CallOutcome.DID_NOT_COME:
        # R12: the customer did not come on the agreed date → a call the same day.
        _follow_up(event=event, kind=CallKind.NO_SHOW, due=event.due_date)


@transaction.atomic
def call_event_complete(
    *,
    actor,
    event: CallEvent,
    outcome: str,
    comment: str = "",
    agreed_date: datetime.date | None = None,
    satisfaction: int | str | None = None,
    now: datetime.datetime | None = None,
) -> CallEvent:
    """Record a call's result (R13) and create the follow-up it requires (R8 agreed date, R9 retry, R12 no-show);
    ``satisfaction``: the customer's score heard on the call, 1–5 or empty (issue 18 item 6)."""
    now = now or timezone.now()
    if event.dealership_id not in allowed_dealership_ids(actor):
        raise ValidationError({"event": _("Unknown call event.")})
    event = locked(event, "dealership")
    if not is_available(event, "complete"):
        raise ConflictError(
            _("This call event is already %(status)s; its result cannot be recorded again.")
            % {"status": event.get_status_display().lower()}
        )
    today = local_today(event.dealership, now)
    comment = (comment or "").strip()
    satisfaction = satisfaction_score(satisfaction)
    _check_call_result(event=event, outcome=outcome, comment=comment, agreed_date=agreed_date, today=today)
    run_transition(
        event,
        "complete",
        actor=actor,
        # issue 14 item 8: the outcome's label is kept as its msgid, so each reader sees it in their language
        message=events.text(
            gettext_noop("%(outcome)s: %(comment)s") if comment else "%(outcome)s",
            outcome=CallOutcome(outcome).label,
            **({"comment": comment[:400]} if comment else {}),
        ),
        by=actor,
        at=now,
        on=today,
        outcome=outcome,
        comment=comment,
        agreed_date=agreed_date,
        satisfaction=satisfaction,
    )
    if CustomerOrder.objects.filter(pk=event.order_id, status__in=ORDER_STATUSES_WITH_CALLS).exists():
        _follow_ups(event=event, outcome=outcome, agreed_date=agreed_date, today=today)
    return event


# -- opt-outs ------------------------------------------------------------------------------------------------------
@transaction.atomic
def opt_out_create(*, actor, customer: Customer, channel: str, reason: str) -> OptOut:
    reason = (reason or "").strip()
    errors = {}
    if channel not in ContactChannel.values:
        errors["channel"] = _("Unknown channel.")
    if not reason:
        errors["reason"] = _("Enter the customer's reason.")
    if customer.dealership_id not in allowed_dealership_ids(actor):
        errors["customer"] = _("Unknown customer.")
    if errors:
        raise ValidationError(errors)
    if OptOut.objects.filter(customer=customer, channel=channel).exists():
        raise ConflictError(_("The customer has already opted out of this channel."))
    opt_out = OptOut.objects.create(
        dealership_id=customer.dealership_id, customer=customer, channel=channel, reason=reason[:500], created_by=actor
    )
    events.record_created(actor=actor, instance=opt_out, fields=["customer", "channel", "reason"])
    return opt_out


@transaction.atomic
def opt_out_delete(*, actor, opt_out: OptOut) -> None:
    events.record(actor=actor, instance=opt_out, action="deleted", message=opt_out.reason)
    opt_out.delete()


def is_opted_out(customer_id: int, channel: str) -> bool:
    return OptOut.objects.filter(customer_id=customer_id, channel=channel).exists()


# -- notifications -------------------------------------------------------------------------------------------------
def _recipient(customer: Customer, channel: str) -> str:
    if channel in (ContactChannel.SMS, ContactChannel.WHATSAPP):
        return customer.phone.as_e164 if customer.phone else ""
    if channel == ContactChannel.EMAIL:
        return customer.email or ""
    return ""


def message_channels() -> tuple[str, ...]:
    """The channels a notification can go by: SMS, e-mail, and WhatsApp where its sender is configured (issue 17)."""
    if settings.TWILIO_WHATSAPP_FROM:
        return (ContactChannel.SMS, ContactChannel.EMAIL, ContactChannel.WHATSAPP)
    return (ContactChannel.SMS, ContactChannel.EMAIL)


def _address(customer: Customer) -> tuple[str, str] | None:
    """(channel, recipient) a message to the customer goes to: their preferred channel when it is a message channel,
    not opted out of, with an address; None otherwise."""
    channel = customer.preferred_channel
    if channel not in message_channels() or is_opted_out(customer.pk, channel):
        return None
    recipient = _recipient(customer, channel)
    return (channel, recipient) if recipient else None


def _delivery_once(**fields) -> Delivery | None:
    """The message row, or None when it already exists (the unique constraints keep one per event or reference
    and channel, whoever writes it concurrently)."""
    try:
        with transaction.atomic():
            return Delivery.objects.create(**fields)
    except IntegrityError:
        return None


def _queue(delivery_ids: list[int]) -> None:
    """After commit, announce the new deliveries: the tasks module (which imports this one, never the reverse)
    publishes their sending tasks (``notifications.apps``)."""
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(lambda: signals.deliveries_queued.send(sender=Delivery, delivery_ids=ids))


# A queued delivery nobody tried for this long lost its task (broker down when it was published).
UNPUBLISHED_AFTER = datetime.timedelta(minutes=10)


def deliveries_unpublished(*, now: datetime.datetime | None = None, limit: int = 1000) -> list[int]:
    """Queued deliveries never tried and older than ``UNPUBLISHED_AFTER``: their sending task was never published.

    Publishing one twice is harmless: ``delivery_claim`` locks the row, so at most one task ever sends a message.
    """
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status=DeliveryStatus.QUEUED, attempts=0, created_at__lt=now - UNPUBLISHED_AFTER)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def customer_notify(*, actor, customer: Customer, subject: str, body: str, reference: str) -> Delivery | None:
    """Tell a customer something on their preferred channel (R19 confirmations use it).

    Returns the Delivery (sent by a Celery task after commit), or None when the customer prefers phone calls, has
    opted out of the channel, or has no address for it. The same ``reference`` never sends twice on one channel.
    """
    address = _address(customer)
    if address is None:
        return None
    channel, recipient = address
    reference = (reference or "")[:100]
    with transaction.atomic():
        if reference:
            existing = Delivery.objects.filter(customer=customer, reference=reference, channel=channel).first()
            if existing is not None:
                return existing
        delivery = _delivery_once(
            dealership_id=customer.dealership_id,
            customer=customer,
            reference=reference,
            channel=channel,
            recipient=recipient,
            subject=(subject or "")[:200],
            body=body,
        )
        if delivery is None:
            return Delivery.objects.get(customer=customer, reference=reference, channel=channel)
        events.record_created(actor=actor, instance=delivery, fields=["channel", "recipient", "reference"])
        _queue([delivery.pk])
    return delivery


_ARRIVAL_DELIVERIES_SQL = """
INSERT INTO notifications_delivery
       (dealership_id, customer_id, event_id, reference, channel, recipient, subject, body, status, provider_id,
        attempts, last_error, created_at, updated_at)
SELECT e.dealership_id, c.id, e.id, '', c.preferred_channel,
       CASE c.preferred_channel WHEN 'email' THEN c.email ELSE c.phone END,
       replace(t.subject, '{number}', o.number),
       replace(replace(replace(t.body, '{number}', o.number), '{dealership}', d.name),
               '{phone}', CASE WHEN d.phone <> '' THEN t.phone_prefix || d.phone ELSE '' END),
       'queued', '', 0, '', now(), now()
  FROM notifications_callevent AS e
  JOIN orders_customerorder AS o ON o.id = e.order_id
  JOIN core_customer AS c ON c.id = o.customer_id
  JOIN core_dealership AS d ON d.id = e.dealership_id
  -- the texts in each language; a customer reads theirs, the default language when none is stored (issue 17)
  JOIN unnest(%(languages)s::text[], %(subjects)s::text[], %(bodies)s::text[], %(phone_prefixes)s::text[])
       AS t(language, subject, body, phone_prefix)
    ON t.language = CASE WHEN c.language = ANY(%(languages)s) THEN c.language ELSE %(default)s END
 WHERE e.id = ANY(%(ids)s) AND e.kind = 'arrival'
   AND c.preferred_channel = ANY(%(channels)s)
   AND CASE c.preferred_channel WHEN 'email' THEN c.email ELSE c.phone END <> ''
   AND NOT EXISTS (SELECT 1 FROM notifications_optout AS x
                    WHERE x.customer_id = c.id AND x.channel = c.preferred_channel)
ON CONFLICT DO NOTHING
RETURNING id
"""


def message_language(customer: Customer) -> str:
    """Issue 17: the language a message to the customer is written in (``Customer.message_language``)."""
    return customer.message_language()


def _arrival_templates(language: str = "ru") -> tuple[str, str, str]:
    with translation.override(language):
        subject = _("Parts for order %(number)s have arrived") % {"number": "{number}"}
        body = _(
            "Hello! The parts for your order %(number)s have arrived at %(dealership)s. "
            "We will call you to agree when you come%(phone)s."
        ) % {"number": "{number}", "dealership": "{dealership}", "phone": "{phone}"}
        phone_prefix = ", " + _("phone") + " "
    return subject, body, phone_prefix


def deliveries_for_arrivals(*, event_ids: list[int]) -> list[int]:
    """R5: tell each customer (on their preferred channel, unless opted out) that the parts arrived.

    Set-wise on PostgreSQL (one INSERT … SELECT; the unique constraint keeps it once per event and channel).
    """
    created: list[int] = []
    if connection.vendor == "postgresql":
        languages = [code for code, _name in settings.LANGUAGES]
        texts = [_arrival_templates(language) for language in languages]
        with connection.cursor() as cursor:
            cursor.execute(
                _ARRIVAL_DELIVERIES_SQL,
                {
                    "ids": list(event_ids),
                    "languages": languages,
                    "subjects": [subject for subject, _body, _prefix in texts],
                    "bodies": [body for _subject, body, _prefix in texts],
                    "phone_prefixes": [prefix for _subject, _body, prefix in texts],
                    "default": settings.LANGUAGE_CODE,
                    "channels": list(message_channels()),
                },
            )
            created = [row[0] for row in cursor.fetchall()]
        _queue(created)
        return created
    events_qs = CallEvent.objects.filter(pk__in=event_ids, kind=CallKind.ARRIVAL).select_related(
        "order__customer", "order__dealership"
    )
    for event in events_qs:
        customer = event.order.customer
        address = _address(customer)
        if address is None:
            continue
        channel, recipient = address
        subject, body, phone_prefix = _arrival_templates(message_language(customer))
        dealership = event.order.dealership
        phone = (phone_prefix + str(dealership.phone)) if dealership.phone else ""
        values = {"{number}": event.order.number, "{dealership}": dealership.name, "{phone}": phone}
        text = body
        for key, value in values.items():
            text = text.replace(key, value)
        delivery = _delivery_once(
            dealership_id=event.dealership_id,
            customer=customer,
            event=event,
            channel=channel,
            recipient=recipient,
            subject=subject.replace("{number}", event.order.number),
            body=text,
        )
        if delivery is not None:
            created.append(delivery.pk)
    _queue(created)
    return created


# The delivery state machine used by the sending task and the status webhook.
def delivery_claim(*, delivery_id: int) -> Delivery | None:
    """Take a queued delivery for sending (one transaction). None when it was already sent or is being sent."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return None
        if delivery.status == DeliveryStatus.SENDING:
            # A previous attempt died between the provider call and recording its answer: the message may have
            # gone out. Never re-send blindly; an operator can look at it.
            delivery.status = DeliveryStatus.UNKNOWN
            delivery.last_error = _("The sending attempt was interrupted; the message may or may not have been sent.")
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return None
        if delivery.status != DeliveryStatus.QUEUED:
            return None
        if is_opted_out(delivery.customer_id, delivery.channel):
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = _("The customer opted out of this channel.")
            delivery.save(update_fields=["status", "last_error", "updated_at"])
            return None
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        fields = ["status", "attempts", "updated_at"]
        if delivery.attempts == 1 and _add_status_link(delivery):
            fields.append("body")
        delivery.save(update_fields=fields)
        return delivery


def delivery_record(
    *, delivery_id: int, status: str, provider_id: str = "", error: str = "", now: datetime.datetime | None = None
) -> Delivery:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        delivery.status = status
        if provider_id:
            delivery.provider_id = provider_id
        delivery.last_error = error[:2000]
        if status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
            delivery.sent_at = delivery.sent_at or now or timezone.now()
        delivery.save()
    return delivery


STATUS_LINK_PURPOSE = "status"


def _add_status_link(delivery: Delivery) -> bool:
    """Issue 17: every SMS and e-mail to a customer carries their status link — issued here, as the message goes
    out, one link per message (its channel and message recorded on the link, so a consent given through it names
    both). Short for SMS: just the URL on its own line. False when no app provides the status page."""
    if not links.has_link_page(STATUS_LINK_PURPOSE):
        return False
    issued = links.link_issue(
        customer=delivery.customer,
        purpose=STATUS_LINK_PURPOSE,
        channel=delivery.channel,
        sent_with=f"delivery:{delivery.pk}",
    )
    if delivery.channel == ContactChannel.SMS:
        delivery.body = f"{delivery.body.rstrip()}\n{issued.url}"
    else:
        with translation.override(message_language(delivery.customer)):
            label = _("Your orders, repairs and appointments:")
        delivery.body = f"{delivery.body.rstrip()}\n\n{label} {issued.url}"
    return True


TWILIO_STATUS_MAP = {
    "accepted": DeliveryStatus.SENDING,
    "scheduled": DeliveryStatus.SENDING,
    "queued": DeliveryStatus.SENDING,
    "sending": DeliveryStatus.SENDING,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


@transaction.atomic
def delivery_status_callback(*, provider_id: str, provider_status: str, error_code: str = "") -> Delivery | None:
    """Twilio's status callback: move forward only; a final status never changes; repeats change nothing."""
    delivery = Delivery.objects.select_for_update().filter(provider_id=provider_id).first()
    if delivery is None:
        return None
    new = TWILIO_STATUS_MAP.get((provider_status or "").lower())
    if new is None or delivery.status in FINAL_DELIVERY_STATUSES:
        return delivery
    if DELIVERY_RANK[new] <= DELIVERY_RANK[delivery.status] and delivery.status != DeliveryStatus.UNKNOWN:
        return delivery
    if new == DeliveryStatus.SENDING and delivery.status == DeliveryStatus.UNKNOWN:
        return delivery
    delivery.status = new
    if error_code:
        delivery.last_error = f"Twilio error {error_code}"
    if new in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) and delivery.sent_at is None:
        delivery.sent_at = timezone.now()
    delivery.save(update_fields=["status", "last_error", "sent_at", "updated_at"])
    return delivery


# -- one-off texts to a number -------------------------------------------------------------------------------------
def sms_send_code(*, to: str, body: str) -> bool:
    """A verification code to a phone that need not be a customer's yet (issue 17 item 4, online booking).

    Sent at once through the SMS backend (Twilio, or the console without credentials) — never queued: a code that
    arrives after it expired is useless, and it is no message to keep on a customer's card. Call it after commit.
    True when the provider took it; a refusal or an outage is logged and answers False (the customer asks again).
    """
    try:
        sms.get_sms_backend().send(to=to, body=body)
    except (sms.SmsRateLimited, sms.SmsTimeout, sms.SmsTemporaryError, sms.SmsRejected) as error:
        logger.warning("verification code to %s not sent: %s", to[-4:], error)
        return False
    return True
