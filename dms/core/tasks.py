"""Celery tasks of the shared building blocks: thin wrappers that take ids and call a service."""

from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import webhooks


@shared_task(name="dms.core.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int, now: str | None = None) -> str:
    """POST one outbox row (issue 16 item 5). A retryable failure is left pending with its backoff: the per-minute
    ``dispatch_webhooks`` tick sends it again once that has passed (``now`` ISO replays an attempt at that moment)."""
    return webhooks.webhook_delivery_attempt(delivery_id=delivery_id, now=parse_datetime(now) if now else None)


@shared_task(name="dms.core.tasks.dispatch_webhooks")
def dispatch_webhooks(now: str | None = None) -> int:
    """Beat, every minute: publish every webhook delivery that is due (``now`` ISO replays a tick)."""
    return webhooks.dispatch_due(now=parse_datetime(now) if now else None)
