"""Issue 15 item 8 (R3 at once): when an open order's revised expected date (its supplier's ETA pushed by the
supplier's mean delay) passes the date promised to the customer, the interim call is raised that very day — in SQL
and in Python, once per order."""

import pytest

from notifications import generator
from notifications.models import CallEvent, CallKind
from parts.models import Supplier

from .conftest import at, d

pytestmark = pytest.mark.django_db


def interim(order):
    return list(
        CallEvent.objects.filter(order=order, kind=CallKind.INTERIM_ETA)
        .order_by("due_date")
        .values_list("due_date", "assignee_id")
    )


@pytest.fixture
def late_supplier_history(make_order):
    # ETA 06.06 both; one arrived 3 days late, one on time: mean delay 1.5 days → revised ETA + 2 days
    make_order(placed_at=at("2025-06-01"), eta_days=5, received_at=at("2025-06-09"))
    make_order(placed_at=at("2025-06-01"), eta_days=5, received_at=at("2025-06-06", 18))


@pytest.mark.parametrize("use_sql", [True, False])
def test_revised_date_after_the_promise_raises_the_interim_call_at_once(
    use_sql, late_supplier_history, make_order, parts_manager, is_postgres
):
    if use_sql and not is_postgres:
        pytest.skip("the set-wise tick is PostgreSQL's")
    # a 5-day term: R3's day-3 calls would never come (not a long term), yet the supplier is late on average
    order = make_order(placed_at=at("2025-06-10"), eta_days=5)
    generator.tick(now=at("2025-06-10", 12), use_sql=use_sql)
    assert interim(order) == [(d("2025-06-10"), parts_manager.pk)]
    # idempotent: the same day again, and the following days, raise nothing more
    for moment in (at("2025-06-10", 15), at("2025-06-11", 9), at("2025-06-14", 9)):
        generator.tick(now=moment, use_sql=use_sql)
    assert interim(order) == [(d("2025-06-10"), parts_manager.pk)]


@pytest.mark.parametrize("use_sql", [True, False])
def test_on_time_supplier_or_no_record_raises_nothing_early(use_sql, make_order, dealership, is_postgres):
    if use_sql and not is_postgres:
        pytest.skip("the set-wise tick is PostgreSQL's")
    punctual = Supplier.objects.create(dealership=dealership, name="Точный", delivery_days=7)
    make_order(placed_at=at("2025-06-01"), eta_days=5, received_at=at("2025-06-06"), supplier_=punctual)
    on_time = make_order(placed_at=at("2025-06-10"), eta_days=5, supplier_=punctual)
    newcomer = make_order(placed_at=at("2025-06-10"), eta_days=5)  # its supplier has no received orders yet
    generator.tick(now=at("2025-06-10", 12), use_sql=use_sql)
    assert interim(on_time) == [] and interim(newcomer) == []


@pytest.mark.parametrize("use_sql", [True, False])
def test_long_term_order_gets_the_call_today_and_keeps_its_day_3_rhythm(
    use_sql, late_supplier_history, make_order, is_postgres
):
    if use_sql and not is_postgres:
        pytest.skip("the set-wise tick is PostgreSQL's")
    order = make_order(placed_at=at("2025-06-10"), eta_days=12)
    generator.tick(now=at("2025-06-10", 12), use_sql=use_sql)
    # today's call for the later date, and R3's first call on day 3 (already listed as upcoming)
    assert [due for due, _who in interim(order)] == [d("2025-06-10"), d("2025-06-13")]


@pytest.mark.parametrize("use_sql", [True, False])
def test_received_or_replenishment_orders_get_no_early_call(
    use_sql, late_supplier_history, make_order, is_postgres, parts_manager
):
    if use_sql and not is_postgres:
        pytest.skip("the set-wise tick is PostgreSQL's")
    order = make_order(placed_at=at("2025-06-10"), eta_days=5, received_at=at("2025-06-10", 11))
    generator.tick(now=at("2025-06-10", 12), use_sql=use_sql)
    assert interim(order) == []
