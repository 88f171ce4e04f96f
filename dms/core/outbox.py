"""The webhook outbox (issue 16 item 5): which audited changes are events, the outbox rows written in the change's
own transaction, and publishing them after commit. ``dms.core.events`` calls ``emit_for_audit``; the delivery and
the subscriptions' services live in ``dms.core.webhooks``. This module imports neither (no cycle): the delivery task
is published by its registered name.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from celery import signature
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .broker import publish
from .models import (
    AuditAction,
    AuditEntry,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

E = WebhookEventType
# The delivery task (dms.core.tasks), published by name: tasks import the delivery code, which imports the audit.
DELIVER_TASK = "dms.core.tasks.deliver_webhook"

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
    replay = {"now": now.isoformat()} if now is not None else {}
    ids = list(delivery_ids)
    stamp = now or timezone.now()
    # Stamped before publishing: a worker that runs the task at once and schedules a retry clears it afterwards.
    WebhookDelivery.objects.filter(pk__in=ids).update(published_at=stamp)
    for index, pk in enumerate(ids):
        if not publish(signature(DELIVER_TASK), pk, **replay):
            WebhookDelivery.objects.filter(pk__in=ids[index:], published_at=stamp).update(published_at=None)
            return index
    return len(ids)
