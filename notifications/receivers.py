"""Reactions to the orders app's signals (sent after its transaction commits) and the parts app's."""

import logging

from django.utils import timezone

from orders.models import OrderStatus, Receipt

from . import services

logger = logging.getLogger(__name__)


def on_parts_received(sender, *, order_id: int, receipt_id: int, **kwargs) -> None:
    """R5, R10: parts arrived → run the generator for this order at once (as of the receipt's moment)."""
    received_at = Receipt.objects.filter(pk=receipt_id).values_list("received_at", flat=True).first()
    services.call_events_generate(now=received_at or timezone.now(), order_ids=[order_id])


def on_status_changed(sender, *, order_id: int, source: str, target: str, **kwargs) -> None:
    """R3: received or cancelled cancels open interim-ETA events; issued, cancelled or returned to the supplier
    (issue 15 item 8) closes the order's events."""
    if target in (OrderStatus.RECEIVED, OrderStatus.CANCELLED, OrderStatus.ISSUED, OrderStatus.RETURNED):
        services.call_events_close_for_order(order_id=order_id, target=target)


def on_goods_dispatched(sender, *, customer, actor, subject: str, body: str, reference: str, **kwargs):
    """R21: the dispatch notice goes on the customer's preferred channel like every other message (inside the
    shipping transaction: the delivery row commits with the shipment and is sent after commit)."""
    return services.customer_notify(actor=actor, customer=customer, subject=subject, body=body, reference=reference)
