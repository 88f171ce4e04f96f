"""Celery tasks: thin wrappers that take ids, call a service and retry on transient errors."""

import datetime
import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dms.core.broker import publish
from dms.core.db_router import replica_reads

from . import services
from .models import DeliveryStatus
from .reports import email_weekly_reports
from .sms import SmsRateLimited, SmsRejected, SmsTemporaryError, SmsTimeout, get_sms_backend, twilio_addresses

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 6


@shared_task(name="notifications.tasks.generate_call_events")
def generate_call_events(now: str | None = None) -> dict:
    """Beat runs this every 15 minutes and at worker start; ``now`` (ISO) replays a tick as of that moment."""
    moment = parse_datetime(now) if now else timezone.now()
    result = services.call_events_generate(now=moment)
    # Catch up on messages whose sending task could not be published (the broker was down at the time).
    republished = publish_deliveries(services.deliveries_unpublished(now=moment))
    return {"created": result.created, "cancelled": result.cancelled, "republished": republished}


@worker_ready.connect
def _generate_at_startup(sender=None, **kwargs):
    # A worker that was down missed ticks: catch up at once (idempotent, so a second worker does no harm).
    generate_call_events.delay()


def _backoff(attempt: int) -> int:
    return min(30 * 2 ** max(attempt - 1, 0), 3600)


@shared_task(bind=True, name="notifications.tasks.send_delivery", max_retries=MAX_SEND_ATTEMPTS)
def send_delivery(self, delivery_id: int) -> str:
    """Send one message at most once. 429/5xx: back to the queue with backoff. Timeout: recorded as unknown."""
    delivery = services.delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return "skipped"
    retry_error = None
    try:
        if delivery.channel in ("sms", "whatsapp"):
            to, sender = twilio_addresses(delivery.channel, delivery.recipient)
            result = get_sms_backend().send(
                to=to, body=delivery.body, status_callback=settings.TWILIO_STATUS_CALLBACK_URL, from_=sender
            )
            status = services.TWILIO_STATUS_MAP.get(result.status, DeliveryStatus.SENT)
            if status == DeliveryStatus.SENDING:
                status = DeliveryStatus.SENT  # accepted by Twilio; the callback tells the rest
            services.delivery_record(delivery_id=delivery.pk, status=status, provider_id=result.provider_id)
        else:
            send_mail(delivery.subject, delivery.body, None, [delivery.recipient])
            services.delivery_record(delivery_id=delivery.pk, status=DeliveryStatus.SENT)
        return "sent"
    except SmsTimeout as error:
        services.delivery_record(delivery_id=delivery.pk, status=DeliveryStatus.UNKNOWN, error=f"timeout: {error}")
        return "unknown"
    except SmsRejected as error:
        services.delivery_record(delivery_id=delivery.pk, status=DeliveryStatus.FAILED, error=str(error))
        return "failed"
    except (SmsRateLimited, SmsTemporaryError, OSError) as error:
        retry_error = error
    # Nothing went out: queue it again and retry with backoff, or give up and record the failure.
    if delivery.attempts >= MAX_SEND_ATTEMPTS:
        services.delivery_record(delivery_id=delivery.pk, status=DeliveryStatus.FAILED, error=f"gave up: {retry_error}")
        return "failed"
    services.delivery_record(delivery_id=delivery.pk, status=DeliveryStatus.QUEUED, error=str(retry_error))
    countdown = _backoff(delivery.attempts)
    if self.request.is_eager:
        # Run in-process (tests, eager local mode): leave it queued; the caller or the next run retries it.
        return f"retry in {countdown}s"
    raise self.retry(countdown=countdown, exc=retry_error)


def publish_deliveries(delivery_ids: list[int]) -> int:
    """Queue one sending task per delivery. A dead broker never fails the caller (the request is committed): stop at
    the first failure; the deliveries stay «queued» and ``deliveries_unpublished`` hands them to the next tick."""
    published = 0
    for pk in delivery_ids:
        if not publish(send_delivery, pk):
            break
        published += 1
    return published


def on_deliveries_queued(sender, *, delivery_ids: list[int], **kwargs) -> None:
    """``signals.deliveries_queued`` (sent after commit by the services): publish the sending tasks."""
    publish_deliveries(delivery_ids)


@shared_task(name="notifications.tasks.send_weekly_call_compliance_report")
def send_weekly_call_compliance_report(today: str | None = None) -> int:
    """R14: every Monday morning each director gets last week's call-compliance report by e-mail."""
    day = datetime.date.fromisoformat(today) if today else None
    with replica_reads():  # issue 19 item 6: a report, read from the replica when there is one
        return email_weekly_reports(today=day)
