"""Celery tasks of the shared building blocks: thin wrappers that take ids and call a service."""

from celery import shared_task
from django.utils.dateparse import parse_datetime

from . import webhooks


@shared_task(bind=True, name="dms.core.tasks.deliver_webhook")
def deliver_webhook(self, delivery_id: int, now: str | None = None) -> str:
    """POST one outbox row (issue 16 item 5). A retryable failure is re-queued with its backoff as the countdown;
    the per-minute ``dispatch_webhooks`` tick sends it anyway if that publish is lost."""
    outcome = webhooks.webhook_delivery_attempt(delivery_id=delivery_id, now=parse_datetime(now) if now else None)
    if outcome == "retry" and not self.request.is_eager:
        # In-process (tests, eager local mode) the tick does the retry: a countdown is ignored there.
        from .models import WebhookDelivery

        delivery = WebhookDelivery.objects.filter(pk=delivery_id).values("next_attempt_at", "attempts").first()
        if delivery:
            countdown = int(webhooks.backoff(delivery["attempts"]).total_seconds())
            webhooks.publish_deliveries([delivery_id], countdown=countdown)
    return outcome


@shared_task(name="dms.core.tasks.dispatch_webhooks")
def dispatch_webhooks(now: str | None = None) -> int:
    """Beat, every minute: publish every webhook delivery that is due (``now`` ISO replays a tick)."""
    return webhooks.dispatch_due(now=parse_datetime(now) if now else None)
