"""Celery beat jobs of the service department (thin: they call services)."""

from celery import shared_task
from django.db import OperationalError


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def list_appointments_for_preparation() -> int:
    """R17: mark arrivals due for preparation 48 h and 24 h ahead and e-mail each advisor the list."""
    from .services import preparation_mark_due

    return preparation_mark_due()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def send_appointment_confirmations() -> int:
    """R19: confirmations 24 h before the appointment (SMS / e-mail, or a call task for phone customers)."""
    from .services import confirmations_send_due

    return confirmations_send_due()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def raise_service_reminders(now: str | None = None) -> int:
    """Issue 17 item 5: service due by time or mileage → a message or the advisor's call; work the customer declined
    → the advisor's call after the dealership's days; ``now`` (ISO) replays."""
    from django.utils.dateparse import parse_datetime

    from .services import service_follow_ups_raise

    return service_follow_ups_raise(now=parse_datetime(now) if now else None)
