"""Reactions to the orders app's signals (sent after its transaction commits) and the parts app's."""

import datetime

from . import services


def on_status_changed(sender, *, order_id: int, at: datetime.datetime, **kwargs) -> None:
    """An order's status changed: its call events are brought up to date at once, as of the change's moment —
    parts arrived create the arrival and lot calls (R5, R10), a received, issued, cancelled or returned order ends
    the calls it no longer needs (R3; issue 15 item 8). One trip per request; the payload carries the moment."""
    services.call_events_generate(now=at, order_ids=[order_id])


def on_goods_dispatched(sender, *, customer, actor, subject: str, body: str, reference: str, **kwargs):
    """R21: the dispatch notice goes on the customer's preferred channel like every other message (inside the
    shipping transaction: the delivery row commits with the shipment and is sent after commit)."""
    return services.customer_notify(actor=actor, customer=customer, subject=subject, body=body, reference=reference)
