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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import events
from .exceptions import ConflictError
from .models import (
    AuditAction,
    Dealership,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)
E = WebhookEventType


# The outbox (what is an event, writing and publishing rows) is dms.core.outbox; these names stay importable here.
from .outbox import (  # noqa: E402
    CREATED,
    OBJECT_FIELDS,
    STATUS_CHANGED,
    TRANSITION_TO,
    emit_for_audit,
    emit_for_rows,
    event_types_for,
    object_data,
    publish_deliveries,
)

__all__ = [
    "CREATED",
    "OBJECT_FIELDS",
    "STATUS_CHANGED",
    "TRANSITION_TO",
    "emit_for_audit",
    "emit_for_rows",
    "event_types_for",
    "object_data",
    "publish_deliveries",
]


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
    events.record(actor=actor, instance=instance, action=action, message=message, changes=changes)


def _system_text(msgid: str):
    """A history text kept untranslated and read in the reader's language (issue 14 item 8)."""
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
