"""Celery tasks of the claims app (thin: they call a service)."""

import logging

from celery import shared_task
from django.db import OperationalError

from . import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def flag_overdue_complaints(self) -> int:
    """R33: beat flags open complaints past their deadline and escalates them to the directors."""
    flagged = services.complaints_flag_overdue()
    if flagged:
        logger.info("claims: %s complaint(s) flagged overdue", flagged)
    return flagged
