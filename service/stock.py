"""Adapter to the parts warehouse (parts app), so the service app calls exactly one place.

The parts app provides ``parts.services.stock_reserve``, ``parts.services.reservation_release`` and
``parts.selectors.stock_available``. While they are not installed, nothing is in stock: every needed part is ordered
from the supplier (a customer order), which is the safe side of R17.
"""

from decimal import Decimal
from importlib import import_module


def _function(module: str, name: str):
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def is_connected() -> bool:
    return _function("parts.services", "stock_reserve") is not None


def available(*, dealership, part) -> Decimal:
    stock_available = _function("parts.selectors", "stock_available")
    if stock_available is None:
        return Decimal("0")
    return Decimal(stock_available(dealership=dealership, part=part))


def reserve(*, actor, dealership, part, quantity: Decimal, reference: str):
    """Reserve ``quantity``; returns the reservation (its ``pk`` is kept on the part line). ValidationError if short."""
    stock_reserve = _function("parts.services", "stock_reserve")
    if stock_reserve is None:
        return None
    return stock_reserve(actor=actor, dealership=dealership, part=part, quantity=quantity, reference=reference)


def release(*, actor, reservation_ref: str) -> None:
    release_fn = _function("parts.services", "reservation_release")
    reservation_model = _reservation_model()
    if release_fn is None or reservation_model is None or not reservation_ref:
        return
    reservation = reservation_model.objects.filter(pk=reservation_ref).first()
    if reservation is not None:
        release_fn(actor=actor, reservation=reservation)


def _reservation_model():
    try:
        return import_module("parts.models").Reservation
    except (ImportError, AttributeError):
        return None
