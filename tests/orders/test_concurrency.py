"""Two users acting on the same order at the same moment (issue 3 item 2): one wins, the other gets a clear error.

Real concurrency on PostgreSQL: each thread has its own connection. The first thread is held inside its
transaction (after it took the order's row lock) until the second thread is seen waiting for that lock in
``pg_stat_activity`` — so the two really overlap, without sleeping.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from dms.core.exceptions import ConflictError
from orders import services
from orders.models import CustomerOrder, OrderStatus, Receipt, SupplierOrder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20


def _another_backend_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def _race(monkeypatch, first, second):
    """Run ``first`` and ``second`` in two threads; hold ``first`` inside its transaction until ``second`` waits."""
    inside, release = threading.Event(), threading.Event()
    original = services._transition
    holder = {}

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        if holder.setdefault("thread", threading.get_ident()) == threading.get_ident() and not inside.is_set():
            inside.set()
            assert release.wait(TIMEOUT), "the second thread never came"
        return result

    monkeypatch.setattr(services, "_transition", held)
    outcomes: dict[str, object] = {}

    def run(name, func):
        try:
            outcomes[name] = func()
        except Exception as error:  # noqa: BLE001 - the loser's error is what we check
            outcomes[name] = error
        finally:
            connections.close_all()

    one = threading.Thread(target=run, args=("first", first))
    one.start()
    assert inside.wait(TIMEOUT), "the first thread did not reach its transition"
    two = threading.Thread(target=run, args=("second", second))
    two.start()
    for _ in range(TIMEOUT * 20):
        if _another_backend_waits_for_a_lock():
            break
        release.wait(0.05)
    else:
        pytest.fail("the second thread never waited for the order's lock")
    release.set()
    one.join(TIMEOUT)
    two.join(TIMEOUT)
    assert not one.is_alive() and not two.is_alive()
    return outcomes["first"], outcomes["second"]


def test_two_receipts_of_the_last_part_leave_a_consistent_order(monkeypatch, placed_order, storekeeper, parts_manager):
    line = placed_order.lines.get()  # 2 ordered
    services.customer_order_receive(actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 1}])

    def receive_last(actor):
        return lambda: services.customer_order_receive(
            actor=actor, order=placed_order, lines=[{"line": line.pk, "quantity": 1}]
        )

    first, second = _race(monkeypatch, receive_last(storekeeper), receive_last(parts_manager))

    assert isinstance(first, Receipt)
    # the loser waited for the winner's lock, then saw the received order: a clear conflict, not a corrupt order
    assert isinstance(second, ConflictError | ValidationError), repr(second)
    message = second.message if isinstance(second, ConflictError) else str(second.message_dict)
    assert placed_order.number in message or "at most 0 more" in message
    order = CustomerOrder.objects.get(pk=placed_order.pk)
    assert order.status == OrderStatus.RECEIVED
    assert order.lines.get().quantity_received == Decimal(2)
    assert Receipt.objects.filter(order=order).count() == 2


def test_two_simultaneous_placements_place_once(monkeypatch, order, parts_manager, make_user, supplier):
    from dms.core import roles

    other_manager = make_user(roles.PARTS_MANAGER)
    eta = timezone.localdate() + datetime.timedelta(days=5)

    def place(actor, number):
        return lambda: services.customer_order_place(
            actor=actor, order=order, supplier=supplier, supplier_order_number=number, expected_at=eta
        )

    first, second = _race(monkeypatch, place(parts_manager, "TMR-A"), place(other_manager, "TMR-B"))

    assert isinstance(first, CustomerOrder) and first.status == OrderStatus.ORDERED
    assert isinstance(second, ConflictError) and "can be placed only once" in second.message
    assert list(SupplierOrder.objects.values_list("supplier_order_number", "placed_by")) == [
        ("TMR-A", parts_manager.pk)
    ]
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.ORDERED


def test_cancel_racing_a_receipt_never_leaves_both(monkeypatch, placed_order, storekeeper, parts_manager):
    line = placed_order.lines.get()
    first, second = _race(
        monkeypatch,
        lambda: services.customer_order_receive(
            actor=storekeeper, order=placed_order, lines=[{"line": line.pk, "quantity": 1}]
        ),
        lambda: services.customer_order_cancel(actor=parts_manager, order=placed_order, reason="Отказ"),
    )
    assert isinstance(first, Receipt)
    assert isinstance(second, ConflictError) and "can no longer be cancelled" in second.message
    order = CustomerOrder.objects.get(pk=placed_order.pk)
    assert order.status == OrderStatus.PARTIALLY_RECEIVED and order.cancelled_at is None
