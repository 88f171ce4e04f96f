"""Issue 19 item 5: a beat tick costs in proportion to the work that is due, not to the size of the tables.

Each query of the call-event tick reads the open rows through a partial index (the plan names it once sequential
scans are priced out: a predicate the index does not imply could not use it at all), and the tick's query count
does not grow with the orders and events that are over. bench/dealer_group.py measures the same at 2,000,000
orders and 10,000,000 call events.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import generator, selectors, services
from notifications.models import CallEvent, CallStatus, Delivery
from orders.models import CustomerOrder, OrderStatus
from orders.promises import REVISED_EXPECTED_SQL

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NOW = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's transaction ends it
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return plan


def _sql(queryset):
    return queryset.query.get_compiler(using="default").as_sql()


def test_generator_reads_only_the_orders_still_called():
    sql = generator._INSERT_SQL.format(order_filter="", revised=REVISED_EXPECTED_SQL.format(order="o"))
    plan = _plan(sql, generator._params(NOW))
    assert "order_with_calls_idx" in plan, plan


def test_closing_step_reads_only_open_events():
    plan = _plan(*_sql(selectors.call_events_to_close()))
    assert "callevent_order_open_idx" in plan or "callevent_interim_open_idx" in plan, plan


def test_catch_up_reads_only_unpublished_messages():
    queryset = Delivery.objects.filter(
        status="queued", attempts=0, created_at__lt=NOW - services.UNPUBLISHED_AFTER
    ).order_by("id")
    plan = _plan(*_sql(queryset))
    assert "delivery_unpublished_idx" in plan, plan


def _tick_queries() -> int:
    with CaptureQueriesContext(connection) as captured:
        services.call_events_generate(now=NOW)
    return len(captured.captured_queries)


def test_a_tick_costs_the_same_queries_however_many_orders_are_over(dealership, advisor, make_order):
    def closed_orders(count: int) -> None:
        for _ in range(count):
            order = make_order()
            CustomerOrder.objects.filter(pk=order.pk).update(status=OrderStatus.ISSUED)
            CallEvent.objects.create(
                dealership=dealership,
                order=order,
                kind="arrival",
                assignee=advisor,
                due_date=NOW.date() - datetime.timedelta(days=40),
                status=CallStatus.DONE,
                completed_at=NOW - datetime.timedelta(days=40),
                completed_by=advisor,
            )

    closed_orders(3)
    _tick_queries()  # the first tick may close or create something; the next ones are steady
    few = _tick_queries()
    closed_orders(30)
    many = _tick_queries()
    assert many == few


def test_my_calls_reads_the_employees_open_events_of_the_dealership_through_their_index(dealership, make_user):
    """«Мои звонки» at a dealer group's size (issue 19 item 5): the employee's open events of the dealership come from
    ``callevent_my_calls_idx`` in the page's order — not from every open event of the group, filtered."""
    user = make_user("parts_manager")
    with CaptureQueriesContext(connection) as captured:
        selectors.my_calls(user=user, dealership=dealership, today=NOW.date())
    (query,) = [q["sql"] for q in captured.captured_queries if "notifications_callevent" in q["sql"]]
    plan = _plan(query, None)
    assert "callevent_my_calls_idx" in plan and "Sort" not in plan, plan
