"""Celery tasks of the parts app: thin wrappers that load ids and call a service."""

import logging

from celery import shared_task
from django.db import OperationalError

from dms.core.models import Dealership

from . import services

log = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def classify_abc(self, dealership_id: int, actor_id: int | None = None) -> dict:
    """R28 on demand: reclassify one dealership, then re-check alert levels that follow the class (R27)."""
    from django.contrib.auth import get_user_model

    dealership = Dealership.objects.get(pk=dealership_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    counts = services.abc_classify(actor=actor, dealership=dealership)
    services.low_stock_scan(dealership=dealership)
    log.info("ABC classes for %s: %s", dealership, counts)
    return counts


@shared_task
def classify_abc_all() -> int:
    """R28 monthly (beat): every dealership, one task each."""
    ids = list(Dealership.objects.values_list("pk", flat=True))
    for pk in ids:
        classify_abc.delay(pk)
    return len(ids)
