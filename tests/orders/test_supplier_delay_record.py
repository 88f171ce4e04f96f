"""Issue 19: the supplier's delay record (orders.models.SupplierDelayRecord), kept in the receipt's transaction,
gives the same mean delay — and so the same revised expected dates — as the history it replaces (orders.promises)."""

import datetime
import random
import zoneinfo

import pytest
from django.db import connection

from orders import promises, services
from orders.models import SupplierDelayRecord

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def _revised_sql(mean_delay_sql: str) -> str:
    revised = promises.REVISED_EXPECTED_SQL.replace(promises._MEAN_DELAY_SQL, mean_delay_sql).format(order="o")
    return f"SELECT o.id, {revised} FROM orders_customerorder AS o ORDER BY o.id"


def _revised(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture
def random_receipts(make_order, parts_manager, dealership):
    """Orders of three suppliers placed with random ETAs and received at random moments (some in two receipts,
    some late at night — the dealership's calendar decides the day), plus orders still waiting."""
    rng = random.Random(19)
    suppliers = [SupplierFactory(dealership=dealership) for _ in range(3)]
    parts = [PartFactory(dealership=dealership) for _ in range(2)]
    start = datetime.datetime(2025, 6, 1, 9, tzinfo=MSK)
    for n in range(24):
        placed_at = start + datetime.timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 12))
        order = make_order(lines=[{"part": p, "quantity": 2} for p in parts])
        services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=rng.choice(suppliers),
            supplier_order_number=f"R-{n}",
            expected_at=placed_at.astimezone(MSK).date() + datetime.timedelta(days=rng.randint(1, 14)),
            long_term_agreed=True,
            now=placed_at,
        )
        if n % 6 == 5:
            continue  # still waiting: its revised date is what the record serves
        lines = list(order.lines.all())
        arrived = placed_at + datetime.timedelta(days=rng.randint(0, 25), hours=rng.randint(0, 14), minutes=50)
        if n % 3 == 0:  # partly first, the rest later: only the last receipt completes the order
            services.customer_order_receive(
                actor=parts_manager, order=order, lines=[{"line": lines[0].pk, "quantity": 2}], now=arrived
            )
            arrived += datetime.timedelta(days=rng.randint(0, 5))
            lines = lines[1:]
        services.customer_order_receive(
            actor=parts_manager,
            order=order,
            lines=[{"line": line.pk, "quantity": 2} for line in lines],
            now=arrived,
        )
    return suppliers


def test_record_equals_the_history(random_receipts):
    ids = [s.pk for s in random_receipts]
    from_history = promises.supplier_mean_delays_from_history(ids)
    assert set(from_history) == set(ids)  # every supplier has received orders: the test compares something
    assert promises.supplier_mean_delays(ids) == from_history
    assert any(delay != int(delay) for delay in from_history.values())  # a fractional mean, rounded up


def test_revised_dates_in_sql_equal_the_history(random_receipts):
    with_record = _revised(_revised_sql(promises._MEAN_DELAY_SQL))
    assert with_record == _revised(_revised_sql(promises.HISTORY_MEAN_DELAY_SQL))
    assert sum(1 for _pk, revised in with_record if revised is not None) == 4  # the waiting orders


def test_rebuild_gives_the_same_records(random_receipts):
    kept = sorted(SupplierDelayRecord.objects.values_list("supplier_id", "received_orders", "delay_days"))
    SupplierDelayRecord.objects.all().delete()
    assert promises.supplier_mean_delays([s.pk for s in random_receipts]) == {}
    assert services.supplier_delay_records_rebuild() == 3
    assert sorted(SupplierDelayRecord.objects.values_list("supplier_id", "received_orders", "delay_days")) == kept
