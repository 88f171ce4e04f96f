"""Outbound webhooks for integrators (issue 16 item 5): the outbox, its delivery, the subscriptions' services.

Where events come from: every service write records an audit entry through ``dms.core.events.record`` inside the
service's transaction. ``emit_for_audit`` maps that entry (app label, model, action, status target — strings only:
dms.core never imports a domain app) to an event type and writes one outbox row (``WebhookDelivery``) per
subscription that wants it, in the same transaction — a rolled-back change leaves no row and sends nothing. Writes
that bypass the audit (the call-event generator's INSERT … SELECT) call ``emit_for_rows`` in their own transaction.

How rows leave: after commit a Celery task per row is published (``dms.core.broker.publish``: a dead broker never
fails the request); the beat task ``dispatch_due`` (every minute) publishes every row that is due — never published,
waiting for a retry whose backoff has passed, or claimed by a worker that died — so nothing is lost while the broker
is down. A worker claims
a row (status «sending»), POSTs it with a short timeout, logs the attempt (``WebhookAttempt``: response code, time)
and either marks it delivered, schedules a retry with exponential backoff (network error, 5xx, 429) or gives up.
``WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts in a row switch the subscription off, with the reason.

Each POST is signed: ``X-DMS-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`` with
``X-DMS-Timestamp`` (Unix seconds), ``X-DMS-Event`` and ``X-DMS-Delivery`` (the same for every attempt of one
delivery, so receivers can drop duplicates).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .broker import publish
from .exceptions import ConflictError
from .models import (
    AuditAction,
    AuditEntry,
    Dealership,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

E = WebhookEventType

# -- which audited changes are events (model = "app_label.model_name", as strings) ---------------------------------
# A status transition of these models is a "status changed" event.
STATUS_CHANGED = {
    "orders.customerorder": E.ORDER_STATUS_CHANGED,
    "service.workorder": E.WORK_ORDER_STATUS_CHANGED,
    "claims.warrantyclaim": E.CLAIM_STATUS_CHANGED,
    "claims.goodwillclaim": E.CLAIM_STATUS_CHANGED,
    "claims.complaint": E.COMPLAINT_STATUS_CHANGED,
}
# Transitions into these targets are events of their own (model, target) → event type.
TRANSITION_TO = {
    ("orders.customerorder", "partially_received"): E.ORDER_PARTS_RECEIVED,
    ("orders.customerorder", "received"): E.ORDER_PARTS_RECEIVED,
    ("notifications.callevent", "done"): E.CALL_EVENT_COMPLETED,
    ("service.appointment", "confirmed"): E.APPOINTMENT_CONFIRMED,
    ("service.appointment", "cancelled"): E.APPOINTMENT_CANCELLED,
}
CREATED = {
    "service.appointment": E.APPOINTMENT_CREATED,
    "notifications.callevent": E.CALL_EVENT_CREATED,
}
# Fields copied into an event's ``data.object`` when the model has them (ids as ids, dates as ISO strings).
OBJECT_FIELDS = (
    "number",
    "status",
    "kind",
    "customer_id",
    "vehicle_id",
    "order_id",
    "work_order_id",
    "appointment_id",
    "due_date",
    "starts_at",
    "outcome",
)


def event_types_for(*, model: str, action: str, changes: dict[str, Any]) -> list[str]:
    """The event types an audit entry of ``model`` ("app_label.model_name") stands for."""
    found: list[str] = []
    if action == AuditAction.CREATED and model in CREATED:
        found.append(CREATED[model])
    if action == AuditAction.TRANSITION:
        source, target = (list(changes.get("status") or []) + [None, None])[:2]
        if model in STATUS_CHANGED and source != target:
            found.append(STATUS_CHANGED[model])
        if (model, target) in TRANSITION_TO:
            found.append(TRANSITION_TO[(model, target)])
    return found


def _model_label(instance: models.Model) -> str:
    meta = instance._meta.concrete_model._meta
    return f"{meta.app_label}.{meta.model_name}"


def object_data(instance: models.Model) -> dict[str, Any]:
    data: dict[str, Any] = {"type": _model_label(instance), "id": instance.pk, "display": str(instance)[:200]}
    for name in OBJECT_FIELDS:
        if hasattr(instance, name):
            value = getattr(instance, name)
            if not isinstance(value, models.Model):
                data[name] = value
    return data


def emit_for_audit(entry: AuditEntry, instance: models.Model) -> int:
    """Called by ``events.record`` in the service's transaction: the outbox rows this audited change makes."""
    if entry.dealership_id is None:
        return 0
    types = event_types_for(model=_model_label(instance), action=entry.action, changes=entry.changes or {})
    if not types:
        return 0
    subscriptions = _subscriptions(types, dealership_ids={entry.dealership_id})
    if not subscriptions:
        return 0
    data: dict[str, Any] = {"object": object_data(instance)}
    if entry.action == AuditAction.TRANSITION:
        data["previous_status"], data["status"] = (list(entry.changes.get("status") or []) + [None, None])[:2]
    if entry.message:
        data["message"] = entry.message
    data["actor"] = entry.actor.get_username() if entry.actor_id else None
    if E.ORDER_PARTS_RECEIVED in types:
        receipt = instance.receipts.order_by("-pk").first() if hasattr(instance, "receipts") else None
        data["receipt_id"] = receipt.pk if receipt else None
    written = 0
    for event_type in types:
        written += _write(event_type, dealership_id=entry.dealership_id, data=data, subscriptions=subscriptions)
    return written


def emit_for_rows(*, event_type: str, model: str, pks: Iterable[int]) -> int:
    """Outbox rows for records written without an audit entry (bulk SQL), in the caller's transaction."""
    pks = list(pks)
    if not pks or not WebhookSubscription.objects.filter(is_active=True).exists():
        return 0
    subscriptions = _subscriptions([event_type], dealership_ids=None)
    if not subscriptions:
        return 0
    dealership_ids = {s.dealership_id for s in subscriptions}
    written = 0
    rows = apps.get_model(model).objects.filter(pk__in=pks, dealership_id__in=dealership_ids).order_by("pk")
    for instance in rows:
        data = {"object": object_data(instance), "actor": None}
        written += _write(event_type, dealership_id=instance.dealership_id, data=data, subscriptions=subscriptions)
    return written


def _subscriptions(types: list[str], *, dealership_ids: set[int] | None) -> list[WebhookSubscription]:
    qs = WebhookSubscription.objects.filter(is_active=True)
    if dealership_ids is not None:
        qs = qs.filter(dealership_id__in=dealership_ids)
    return [s for s in qs if any(s.wants(t) for t in types)]


def _write(event_type: str, *, dealership_id: int, data: dict, subscriptions: list[WebhookSubscription]) -> int:
    event_id = uuid.uuid4()
    payload = json.loads(
        json.dumps(
            {
                "event_id": str(event_id),
                "type": str(event_type),
                "occurred_at": timezone.now(),
                "dealership": dealership_id,
                "data": data,
            },
            cls=DjangoJSONEncoder,
        )
    )
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            dealership_id=dealership_id,
            subscription=subscription,
            delivery_id=uuid.uuid4(),
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
        )
        for subscription in subscriptions
        if subscription.dealership_id == dealership_id and subscription.wants(event_type)
    )
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(lambda: publish_deliveries(ids))
    return len(ids)


def publish_deliveries(delivery_ids: list[int], *, now: datetime.datetime | None = None) -> int:
    """One delivery task per row; stops at the first broker failure (``dispatch_due`` catches up)."""
    from .tasks import deliver_webhook

    replay = {"now": now.isoformat()} if now is not None else {}
    ids = list(delivery_ids)
    stamp = now or timezone.now()
    # Stamped before publishing: a worker that runs the task at once and schedules a retry clears it afterwards.
    WebhookDelivery.objects.filter(pk__in=ids).update(published_at=stamp)
    for index, pk in enumerate(ids):
        if not publish(deliver_webhook, pk, **replay):
            WebhookDelivery.objects.filter(pk__in=ids[index:], published_at=stamp).update(published_at=None)
            return index
    return len(ids)


# -- signing and URLs ----------------------------------------------------------------------------------------------
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``timestamp + "." + body`` (what receivers recompute)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def validate_target_url(url: str) -> None:
    """https only; plain http only to this machine or with DEBUG (development receivers). Other schemes never."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"target_url": _("Enter an http(s) URL.")})
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS and not settings.DEBUG:
        raise ValidationError({"target_url": _("Webhooks are sent over https only (http only to localhost).")})
    if parts.username or parts.password:
        raise ValidationError({"target_url": _("Put no user name or password in the URL: the secret signs requests.")})


def validate_event_types(values: Any) -> list[str]:
    if not isinstance(values, list) or not values:
        raise ValidationError({"event_types": _("Choose at least one event type.")})
    unknown = [v for v in values if v not in E.values]
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown event type: %(types)s.") % {"types": ", ".join(map(str, unknown))}}
        )
    return sorted(set(values), key=E.values.index)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# -- subscriptions -------------------------------------------------------------------------------------------------
def _audit(actor, instance, action: str, message: str = "", changes: dict | None = None) -> None:
    from . import events  # events imports this module (the audit's outbox)

    events.record(actor=actor, instance=instance, action=action, message=message, changes=changes)


def _system_text(msgid: str):
    """A history text kept untranslated and read in the reader's language (issue 14 item 8)."""
    from . import events

    return events.text(msgid)


@transaction.atomic
def webhook_subscription_create(
    *,
    actor,
    dealership: Dealership,
    target_url: str,
    event_types: list[str],
    is_active: bool = True,
    description: str = "",
) -> WebhookSubscription:
    validate_target_url(target_url)
    subscription = WebhookSubscription.objects.create(
        dealership=dealership,
        target_url=target_url,
        event_types=validate_event_types(event_types),
        is_active=is_active,
        description=description,
        secret=new_secret(),
    )
    _audit(actor, subscription, AuditAction.CREATED, changes={"target_url": target_url, "event_types": event_types})
    return subscription


@transaction.atomic
def webhook_subscription_update(
    *, actor, subscription: WebhookSubscription, data: dict[str, Any]
) -> WebhookSubscription:
    from . import events

    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    before = events.snapshot(subscription, ["target_url", "event_types", "is_active", "description"])
    if "target_url" in data:
        validate_target_url(data["target_url"])
        subscription.target_url = data["target_url"]
    if "event_types" in data:
        subscription.event_types = validate_event_types(data["event_types"])
    if "description" in data:
        subscription.description = data["description"]
    if "is_active" in data:
        if data["is_active"] and not subscription.is_active:
            # Switched back on by hand: the failure count starts over.
            subscription.consecutive_failures = 0
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        subscription.is_active = data["is_active"]
    subscription.save()
    events.record_updated(actor=actor, instance=subscription, before=before)
    return subscription


@transaction.atomic
def webhook_subscription_rotate_secret(*, actor, subscription: WebhookSubscription) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret", "updated_at"])
    _audit(actor, subscription, AuditAction.ACTION, message=_system_text(gettext_noop("secret rotated")))
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, actor, subscription: WebhookSubscription) -> None:
    _audit(actor, subscription, AuditAction.DELETED, message=str(subscription))
    subscription.delete()


@transaction.atomic
def webhook_delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again by hand (any state), with the same X-DMS-Delivery id; the retry budget starts over."""
    delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
    if not delivery.subscription.is_active:
        raise ConflictError(_("The subscription is disabled: enable it before redelivering."))
    if delivery.status == WebhookDeliveryStatus.SENDING:
        raise ConflictError(_("This delivery is being sent right now."))
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.claimed_at = None
    delivery.published_at = None
    delivery.save()
    _audit(actor, delivery, AuditAction.ACTION, message=_system_text(gettext_noop("redelivery requested")))
    pk = delivery.pk
    transaction.on_commit(lambda: publish_deliveries([pk]))
    return delivery


# -- delivering ----------------------------------------------------------------------------------------------------
def backoff(attempts: int) -> datetime.timedelta:
    """30 s, 1 min, 2 min, 4 min … (base doubles per attempt), at most 6 hours."""
    base = settings.WEBHOOK_BACKOFF_SECONDS
    return datetime.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


# A worker that claimed a row and died leaves it «sending»: after this long it is due again.
STALE_CLAIM = datetime.timedelta(minutes=5)
# A task handed to the broker this recently is still on its way (a busy worker): not published again yet.
REPUBLISH_AFTER = datetime.timedelta(minutes=5)


def deliveries_due(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending rows whose time has come and whose task is not on its way, and stale claims."""
    now = now or timezone.now()
    not_queued = models.Q(published_at__isnull=True) | models.Q(published_at__lt=now - REPUBLISH_AFTER)
    pending = models.Q(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now) & not_queued
    stale = models.Q(status=WebhookDeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return list(
        WebhookDelivery.objects.filter(pending | stale, subscription__is_active=True)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def dispatch_due(*, now: datetime.datetime | None = None) -> int:
    """The beat tick: publish every delivery that is due (never published, retry time come, stale claim)."""
    return publish_deliveries(deliveries_due(now=now), now=now)


def _claim(delivery_id: int, now: datetime.datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or not delivery.subscription.is_active:
            return None
        due = delivery.status == WebhookDeliveryStatus.PENDING and (
            delivery.next_attempt_at is None or delivery.next_attempt_at <= now
        )
        stale = delivery.status == WebhookDeliveryStatus.SENDING and (
            delivery.claimed_at is None or delivery.claimed_at < now - STALE_CLAIM
        )
        if not (due or stale):
            return None
        delivery.status = WebhookDeliveryStatus.SENDING
        delivery.claimed_at = now
        delivery.attempts += 1
        delivery.save(update_fields=["status", "claimed_at", "attempts", "updated_at"])
    return delivery


@dataclass
class PostResult:
    status_code: int | None
    error: str
    duration_ms: int
    refused: bool = False  # the URL itself is refused (scheme, host): trying again cannot help

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.refused:
            return False
        return self.status_code is None or self.status_code == 429 or self.status_code >= 500


def post(delivery: WebhookDelivery, *, now: datetime.datetime) -> PostResult:
    """One signed POST; never raises (refused URLs and network errors come back as a result without a code)."""
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "DMS-Webhooks/1",
        "X-DMS-Event": delivery.event_type,
        "X-DMS-Delivery": str(delivery.delivery_id),
        "X-DMS-Timestamp": timestamp,
        "X-DMS-Signature": sign(subscription.secret, timestamp, body),
    }
    started = time.monotonic()
    try:
        validate_target_url(subscription.target_url)
        response = requests.post(
            subscription.target_url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_READ_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        response.close()
        result = PostResult(response.status_code, "", 0)
        if not result.ok:
            result.error = f"HTTP {response.status_code}"
    except ValidationError as error:
        result = PostResult(None, "; ".join(m for msgs in error.message_dict.values() for m in msgs), 0, refused=True)
    except requests.RequestException as error:
        result = PostResult(None, f"{type(error).__name__}: {error}", 0)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def webhook_delivery_attempt(*, delivery_id: int, now: datetime.datetime | None = None) -> str:
    """Claim, POST, log the attempt and settle the row. Returns "delivered", "retry", "failed" or "skipped"."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "skipped"
    result = post(delivery, now=now)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error[:500],
        )
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error[:500]
        delivery.claimed_at = None
        if result.ok:
            delivery.status = WebhookDeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            subscription.consecutive_failures = 0
            outcome = "delivered"
        else:
            subscription.consecutive_failures += 1
            if result.retryable and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
                # The minute tick sends it again once the backoff has passed.
                delivery.status = WebhookDeliveryStatus.PENDING
                delivery.next_attempt_at = now + backoff(delivery.attempts)
                delivery.published_at = None
                outcome = "retry"
            else:
                delivery.status = WebhookDeliveryStatus.FAILED
                delivery.next_attempt_at = None
                outcome = "failed"
            limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
            if subscription.is_active and subscription.consecutive_failures >= limit:
                subscription.is_active = False
                subscription.disabled_at = now
                subscription.disabled_reason = _(
                    "Disabled after %(n)s failed deliveries in a row; the last: %(error)s"
                ) % {"n": subscription.consecutive_failures, "error": result.error[:300]}
                _audit(None, subscription, AuditAction.ACTION, message=subscription.disabled_reason)
                logger.warning("webhook subscription %s disabled: %s", subscription.pk, result.error)
        delivery.save()
        subscription.save(update_fields=["consecutive_failures", "is_active", "disabled_at", "disabled_reason"])
    if outcome == "retry":
        logger.info("webhook delivery %s: %s, retry at %s", delivery.pk, result.error, delivery.next_attempt_at)
    return outcome


# -- reads ---------------------------------------------------------------------------------------------------------
def subscription_list(*, dealership_ids: Iterable[int]):
    return WebhookSubscription.objects.filter(dealership_id__in=list(dealership_ids)).order_by("id")


def delivery_list(*, dealership_ids: Iterable[int]):
    return (
        WebhookDelivery.objects.filter(dealership_id__in=list(dealership_ids))
        .select_related("subscription")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )
