"""Adapter to customer orders (orders app): R17 missing parts are ordered through a customer order.

``orders.services.customer_order_create`` is called with the missing lines; the order starts «Неразмещён».
"""

from importlib import import_module

from django.utils.translation import gettext as _

from dms.core.exceptions import ConflictError


def _create_function():
    try:
        return import_module("orders.services").customer_order_create
    except (ImportError, AttributeError):
        return None


def is_connected() -> bool:
    return _create_function() is not None


def create_customer_order(*, actor, dealership, customer, vehicle, kind: str, lines: list[dict], comment: str):
    create = _create_function()
    if create is None:
        raise ConflictError(_("Customer orders are not available yet: order the missing parts from the parts manager."))
    return create(
        actor=actor,
        dealership=dealership,
        customer=customer,
        vehicle=vehicle,
        kind=kind,
        purpose="repair",
        lines=lines,
        comment=comment,
    )


def parts_arrived_on(order, day) -> bool:
    """R10: did all of the order's parts arrive on ``day`` (dealership's date)?"""
    received_at = getattr(order, "received_at", None) if order is not None else None
    if received_at is None:
        return False
    from django.utils import timezone

    return timezone.localtime(received_at, order.dealership.tz).date() == day
