"""The call-event generator: one set-based tick over every open order (R3, R5–R7, R10, the 30-day rule).

On PostgreSQL a tick is one INSERT … SELECT … ON CONFLICT DO NOTHING creating the due events (closing the events
of orders that moved on is ``services.call_events_close``, the one path through the FSM and the audit). Local
dates are computed in each dealership's time zone inside SQL (``AT TIME ZONE``), so a daylight-saving change never
doubles or skips a day. The unique constraint ``callevent_once_per_order_kind_day`` makes two concurrent ticks
(or a tick and a receipt) harmless.

SQLite (the local "run" mode) has no time zones in SQL; there the same rules run in Python, order by order.
"""

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction

from orders.models import LONG_DELIVERY_DAYS, WAITING_STATUSES, CustomerOrder, OrderPurpose, OrderStatus
from orders.promises import REVISED_EXPECTED_SQL, order_revised_expected_date

from .models import (
    ARRIVAL_DAYS,
    INTERIM_EVERY_DAYS,
    ORDER_STATUSES_WITH_CALLS,
    UNCOLLECTED_AFTER_DAYS,
    CallEvent,
    CallKind,
)


@dataclass
class TickResult:
    created: int = 0
    cancelled: int = 0
    created_ids: list[int] = field(default_factory=list)
    arrival_ids: list[int] = field(default_factory=list)


# The rows every rule wants to exist today; the unique constraint drops those that already do.
_INSERT_SQL = """
WITH cand AS (
    SELECT o.id AS order_id, o.dealership_id, o.author_id, o.parts_manager_id, o.kind AS order_kind,
           o.status, o.on_waiting_lot, o.expected_at,
           (%(now)s::timestamptz AT TIME ZONE d.time_zone)::date AS today,
           (o.placed_at AT TIME ZONE d.time_zone)::date AS placed_on,
           (o.received_at AT TIME ZONE d.time_zone)::date AS received_on,
           {revised} AS revised_expected_at
      FROM orders_customerorder AS o
      JOIN core_dealership AS d ON d.id = o.dealership_id
     WHERE o.status = ANY(%(with_calls)s)
       -- Issue 15 item 6: a stock replenishment order (R27) has no customer waiting: nobody to call.
       AND o.purpose <> %(stock)s
       {order_filter}
), wanted AS (
    -- R5–R7: parts arrived → first call within 3 (warranty) or 7 (commercial) days of arrival.
    SELECT order_id, dealership_id, 'arrival' AS kind, author_id AS assignee_id,
           received_on + CASE order_kind WHEN 'warranty' THEN %(warranty_days)s ELSE %(commercial_days)s END
               AS due_date
      FROM cand
     WHERE status = 'received' AND received_on IS NOT NULL AND received_on <= today
    UNION ALL
    -- R10: the car waits on the lot → the advisor starts the repair the day the parts arrive.
    SELECT order_id, dealership_id, 'lot_repair', author_id, received_on
      FROM cand
     WHERE status = 'received' AND on_waiting_lot AND received_on IS NOT NULL AND received_on <= today
    UNION ALL
    -- R3: ETA more than 7 days after placement → the parts manager calls on day 3, 6, 9 … until arrival
    -- (the current period's call and the next one, so it shows as upcoming).
    SELECT c.order_id, c.dealership_id, 'interim_eta', COALESCE(c.parts_manager_id, c.author_id),
           c.placed_on + %(every)s * k.n
      FROM cand AS c
     CROSS JOIN LATERAL (VALUES ((c.today - c.placed_on) / %(every)s),
                                ((c.today - c.placed_on) / %(every)s + 1)) AS k(n)
     WHERE c.status = ANY(%(waiting)s)
       AND c.placed_on IS NOT NULL AND c.expected_at IS NOT NULL
       AND c.expected_at - c.placed_on > %(long_term)s
       AND c.today >= c.placed_on AND k.n >= 1
    UNION ALL
    -- Issue 15 item 8 (R3 at once): the revised expected date (orders.promises: the supplier's ETA pushed by its
    -- record's mean delay) is after the date promised to the customer → an interim call due today, unless one was
    -- already due on or before today: the customer hears of the later date at once, not only on day 3.
    SELECT c.order_id, c.dealership_id, 'interim_eta', COALESCE(c.parts_manager_id, c.author_id), c.today
      FROM cand AS c
     WHERE c.status IN ('ordered', 'partially_received') AND c.revised_expected_at > c.expected_at
       AND NOT EXISTS (SELECT 1 FROM notifications_callevent AS e
                        WHERE e.order_id = c.order_id AND e.kind = 'interim_eta' AND e.due_date <= c.today)
    UNION ALL
    -- Parts not collected or fitted 30 days after arrival: a call every day until issued.
    SELECT order_id, dealership_id, 'uncollected', author_id, today
      FROM cand
     WHERE status = 'received' AND received_on IS NOT NULL AND today >= received_on + %(uncollected)s
)
INSERT INTO notifications_callevent
       (dealership_id, order_id, kind, status, assignee_id, due_date, created_at, updated_at,
        outcome, comment, cancel_reason)
SELECT dealership_id, order_id, kind, 'open', assignee_id, due_date, %(now)s, %(now)s, '', '', ''
  FROM wanted
ON CONFLICT DO NOTHING
RETURNING id, kind
"""


def revised_interim_wanted(order: CustomerOrder, today: datetime.date) -> list[tuple[str, int, datetime.date]]:
    """Issue 15 item 8 (R3 at once), as the SQL's branch says: the interim call due today, or nothing."""
    if order.purpose == "stock" or order.status not in (OrderStatus.ORDERED, OrderStatus.PARTIALLY_RECEIVED):
        return []
    revised = order_revised_expected_date(order)
    if order.expected_at is None or revised is None or revised <= order.expected_at:
        return []
    if CallEvent.objects.filter(order=order, kind=CallKind.INTERIM_ETA, due_date__lte=today).exists():
        return []
    return [(CallKind.INTERIM_ETA, order.parts_manager_id or order.author_id, today)]


def _params(now: datetime.datetime) -> dict:
    return {
        "now": now,
        "warranty_days": ARRIVAL_DAYS["warranty"],
        "commercial_days": ARRIVAL_DAYS["commercial"],
        "every": INTERIM_EVERY_DAYS,
        "long_term": LONG_DELIVERY_DAYS,
        "with_calls": [str(status) for status in ORDER_STATUSES_WITH_CALLS],
        "waiting": [str(status) for status in WAITING_STATUSES],
        "stock": str(OrderPurpose.STOCK),
        "uncollected": UNCOLLECTED_AFTER_DAYS,
    }


def tick_postgres(*, now: datetime.datetime, order_ids: list[int] | None = None) -> TickResult:
    params = _params(now)
    order_filter = ""
    if order_ids is not None:
        order_filter = "AND o.id = ANY(%(order_ids)s)"
        params["order_ids"] = list(order_ids)
    result = TickResult()
    with transaction.atomic(), connection.cursor() as cursor:
        revised = REVISED_EXPECTED_SQL.format(order="o")
        cursor.execute(_INSERT_SQL.format(order_filter=order_filter, revised=revised), params)
        rows = cursor.fetchall()

    result.created = len(rows)
    result.created_ids = [row[0] for row in rows]
    result.arrival_ids = [row[0] for row in rows if row[1] == CallKind.ARRIVAL]
    return result


# -- the same rules in Python (SQLite; also used by a parity test against the SQL) ---------------------------------
def wanted_events(order: CustomerOrder, today: datetime.date) -> list[tuple[str, int, datetime.date]]:
    """(kind, assignee id, due date) that the rules want to exist for ``order`` on the local day ``today``."""
    tz = order.dealership.tz
    rows: list[tuple[str, int, datetime.date]] = []
    if order.purpose == OrderPurpose.STOCK:  # issue 15 item 6: a replenishment order has no customer waiting (R27)
        return rows
    if order.status == OrderStatus.RECEIVED and order.received_at is not None:
        received_on = order.received_at.astimezone(tz).date()
        if received_on <= today:
            days = ARRIVAL_DAYS["warranty"] if order.kind == "warranty" else ARRIVAL_DAYS["commercial"]
            rows.append((CallKind.ARRIVAL, order.author_id, received_on + datetime.timedelta(days=days)))
            if order.on_waiting_lot:
                rows.append((CallKind.LOT_REPAIR, order.author_id, received_on))
        if today >= received_on + datetime.timedelta(days=UNCOLLECTED_AFTER_DAYS):
            rows.append((CallKind.UNCOLLECTED, order.author_id, today))
    if order.status in WAITING_STATUSES and order.placed_at is not None and order.expected_at is not None:
        placed_on = order.placed_at.astimezone(tz).date()
        if (order.expected_at - placed_on).days > LONG_DELIVERY_DAYS and today >= placed_on:
            period = (today - placed_on).days // INTERIM_EVERY_DAYS
            for n in (period, period + 1):
                if n >= 1:
                    due = placed_on + datetime.timedelta(days=INTERIM_EVERY_DAYS * n)
                    rows.append((CallKind.INTERIM_ETA, order.parts_manager_id or order.author_id, due))
    return rows


def tick_python(*, now: datetime.datetime, order_ids: list[int] | None = None) -> TickResult:
    result = TickResult()
    with transaction.atomic():
        orders = CustomerOrder.objects.filter(status__in=ORDER_STATUSES_WITH_CALLS).select_related("dealership")
        if order_ids is not None:
            orders = orders.filter(pk__in=order_ids)
        for order in orders.iterator(chunk_size=2000):
            today = now.astimezone(order.dealership.tz).date()
            wanted = wanted_events(order, today) + revised_interim_wanted(order, today)
            if not wanted:
                continue
            existing = set(CallEvent.objects.filter(order=order).values_list("kind", "due_date"))
            for kind, assignee_id, due in wanted:
                if (kind, due) in existing:
                    continue
                event = CallEvent(
                    dealership_id=order.dealership_id,
                    order=order,
                    kind=kind,
                    assignee_id=assignee_id,
                    due_date=due,
                )
                try:
                    with transaction.atomic():
                        event.save()
                except IntegrityError:  # a concurrent writer created it: the unique constraint holds
                    continue
                existing.add((kind, due))
                result.created_ids.append(event.pk)
                if kind == CallKind.ARRIVAL:
                    result.arrival_ids.append(event.pk)
    result.created = len(result.created_ids)
    return result


def tick(*, now: datetime.datetime, order_ids: list[int] | None = None, use_sql: bool | None = None) -> TickResult:
    if use_sql is None:
        use_sql = connection.vendor == "postgresql"
    return (tick_postgres if use_sql else tick_python)(now=now, order_ids=order_ids)
