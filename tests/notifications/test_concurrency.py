"""Two generator ticks at the same moment (two beat machines) never create a duplicate event (PostgreSQL)."""

import threading

import pytest
from django.db import connection, connections

from notifications import services
from notifications.models import CallEvent, Delivery

from .conftest import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_ticks_at_once_create_each_event_once(make_order):
    for n in range(30):
        make_order(
            kind="warranty" if n % 2 else "commercial",
            placed_at=at("2025-06-01"),
            received_at=at("2025-06-05"),
            on_waiting_lot=n % 3 == 0,
        )
    for _ in range(10):
        make_order(placed_at=at("2025-06-01"), eta_days=15)
    # Receiving already ran the generator on commit; start from nothing so that both ticks race for every row.
    Delivery.objects.all().delete()
    CallEvent.objects.all().delete()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def tick():
        try:
            barrier.wait(timeout=10)
            results.append(services.call_events_generate(now=at("2025-06-07", 12), notify=False).created)
        except Exception as error:  # pragma: no cover - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    expected = 30 + 10 + 10 * 2  # arrival per received order, lot tasks for every 3rd, two interim calls each
    assert sum(results) == expected
    assert CallEvent.objects.count() == expected
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT order_id, kind, due_date FROM notifications_callevent "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1) AS dupes"
        )
        assert cursor.fetchone()[0] == 0
