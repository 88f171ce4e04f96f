import datetime
import zoneinfo
from decimal import Decimal

import pytest

from orders import services as order_services
from parts.models import Part, Supplier

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def at(day: str, hour: int = 10, minute: int = 0, tz=MSK) -> datetime.datetime:
    """An aware moment on a local day of the given zone (default Moscow, the factories' zone)."""
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, hour, minute, tzinfo=tz)


def d(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


@pytest.fixture
def part(dealership):
    return Part.objects.create(dealership=dealership, number="04152-YZZA1", name="Фильтр", price=Decimal("890"))


@pytest.fixture
def supplier(dealership):
    return Supplier.objects.create(dealership=dealership, name="ТМР", delivery_days=7)


@pytest.fixture
def make_order(advisor, parts_manager, vehicle, part, supplier):
    """An order walked through the orders services with explicit moments (no signals: on_commit does not run)."""

    def make(
        *,
        kind="warranty",
        placed_at=None,
        eta_days=5,
        received_at=None,
        issued_at=None,
        on_waiting_lot=False,
        author=None,
        parts_manager_user=parts_manager,
        customer=None,
        vehicle_=None,
        part_=None,
        supplier_=None,
    ):
        v = vehicle_ or vehicle
        p = part_ or part
        order = order_services.customer_order_create(
            actor=author or advisor,
            dealership=v.dealership,
            customer=customer or v.customer,
            vehicle=v,
            kind=kind,
            lines=[{"part": p, "quantity": 2}],
            parts_manager=parts_manager_user,
            on_waiting_lot=on_waiting_lot,
            long_term_agreed=True,
        )
        if placed_at is not None:
            local = placed_at.astimezone(v.dealership.tz).date()
            order = order_services.customer_order_place(
                actor=parts_manager,
                order=order,
                supplier=supplier_ or supplier,
                supplier_order_number=f"TMR-{order.pk}",
                expected_at=local + datetime.timedelta(days=eta_days),
                now=placed_at,
            )
        if received_at is not None:
            line = order.lines.get()
            order_services.customer_order_receive(
                actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}], now=received_at
            )
        if issued_at is not None:
            order_services.customer_order_issue(actor=parts_manager, order=order, now=issued_at)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def event(make_order):
    """The arrival call of a warranty order received 5 June 2025 (due 8 June)."""
    from notifications import services
    from notifications.models import CallEvent

    order = make_order(kind="warranty", placed_at=at("2025-06-01"), received_at=at("2025-06-05"))
    services.call_events_generate(now=at("2025-06-05", 12))
    return CallEvent.objects.get(order=order, kind="arrival")
