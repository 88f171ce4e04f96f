"""Reads for promises to customers waiting for parts (issue 15 item 8): each supplier's record per part class, and
each open order's revised expected date from its supplier's record.

The revised expected date (one formula, here in Python and in ``REVISED_EXPECTED_SQL`` for the dashboard's and
the call generator's set-based SQL; a test holds the two equal)::

    revised = the supplier order's ETA + ⌈the supplier's mean delay in days⌉

for an order still waiting for parts (placed, not fully received). The mean delay is the one the supplier's record
shows: over the supplier's orders whose parts have all arrived, the days from the ETA promised at placing to the
day the last part arrived (0 when on time), in the dealership's calendar. A supplier without such orders keeps its
ETA (mean delay 0). When the revised date is after the date promised to the customer (the order's ETA), the
customer hears it at once: the call generator raises the interim call (R3) on that day.

Issue 19: the mean delay is read from ``SupplierDelayRecord`` (one row per supplier: fully received orders and the
sum of their delays), kept in the receipt's transaction, instead of being recomputed from the supplier's whole
history for each order of a page. ``HISTORY_MEAN_DELAY_SQL`` and ``supplier_mean_delays_from_history`` keep the
history's formula: the rebuild uses it and a test holds the record equal to it.
"""

import dataclasses
import datetime
import math
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from parts.models import AbcClass, Supplier

from .models import WAITING_STATUSES, CustomerOrder, SupplierDelayRecord, SupplierOrder

# The supplier's mean delay (days, numeric) for the supplier order aliased ``so``, from the history of its fully
# received orders: what the record below must equal (AVG of integers is their numeric sum over their count).
HISTORY_MEAN_DELAY_SQL = """
    SELECT AVG(GREATEST((rco.received_at AT TIME ZONE rd.time_zone)::date - rso.expected_at, 0))
      FROM orders_supplierorder AS rso
      JOIN orders_customerorder AS rco ON rco.id = rso.customer_order_id
      JOIN core_dealership AS rd ON rd.id = rso.dealership_id
     WHERE rso.supplier_id = so.supplier_id AND rco.received_at IS NOT NULL
"""
# Issue 19: the same mean from the supplier's delay record — one primary-key lookup, whatever the history's length.
_MEAN_DELAY_SQL = """
    SELECT r.delay_days::numeric / r.received_orders FROM orders_supplierdelayrecord AS r
     WHERE r.supplier_id = so.supplier_id AND r.received_orders > 0
"""
# An order's revised expected date (NULL unless it waits for parts); ``{order}`` is the order table's alias.
REVISED_EXPECTED_SQL = (
    "(CASE WHEN {order}.status IN ('ordered', 'partially_received') THEN ("
    f"SELECT so.expected_at + COALESCE(CEIL(({_MEAN_DELAY_SQL}))::integer, 0) FROM orders_supplierorder AS so "
    "WHERE so.customer_order_id = {order}.id) END)"
)


def revised_expected_date(eta: datetime.date | None, mean_delay: Decimal | None) -> datetime.date | None:
    """The formula of the module's docstring: the supplier's ETA pushed by its mean delay, rounded up to a day."""
    if eta is None:
        return None
    return eta + datetime.timedelta(days=math.ceil(mean_delay or 0))


def _received_rows(supplier_ids: list[int]) -> QuerySet:
    return SupplierOrder.objects.filter(
        supplier_id__in=supplier_ids, customer_order__received_at__isnull=False
    ).values_list("supplier_id", "placed_at", "expected_at", "customer_order__received_at", "dealership__time_zone")


def _days(placed_at, expected_at, received_at, time_zone) -> tuple[int, int, int]:
    """(promised, actual, delay) days of one fully received supplier order, in the dealership's calendar."""
    tz = zoneinfo.ZoneInfo(time_zone)
    placed_on = timezone.localtime(placed_at, tz).date()
    received_on = timezone.localtime(received_at, tz).date()
    return (expected_at - placed_on).days, (received_on - placed_on).days, max((received_on - expected_at).days, 0)


def supplier_mean_delays(supplier_ids) -> dict[int, Decimal]:
    """Each supplier's mean delay in days (unrounded), from its delay record (issue 19); suppliers without fully
    received orders are absent."""
    records = SupplierDelayRecord.objects.filter(supplier_id__in=list(supplier_ids), received_orders__gt=0)
    return {
        pk: Decimal(total) / count for pk, count, total in records.values_list("pk", "received_orders", "delay_days")
    }


def supplier_mean_delays_from_history(supplier_ids) -> dict[int, Decimal]:
    """``supplier_mean_delays`` recomputed from the history of fully received orders (what the record must equal)."""
    delays: dict[int, list[int]] = defaultdict(list)
    for supplier_id, *row in _received_rows(list(supplier_ids)):
        delays[supplier_id].append(_days(*row)[2])
    return {pk: Decimal(sum(values)) / len(values) for pk, values in delays.items()}


def order_revised_expected_date(order: CustomerOrder) -> datetime.date | None:
    """The open order's revised expected date (see the module docstring); None when it does not wait for parts."""
    supplier_order = getattr(order, "supplier_order", None) if order.status in WAITING_STATUSES else None
    if supplier_order is None:
        return None
    delay = supplier_mean_delays([supplier_order.supplier_id]).get(supplier_order.supplier_id)
    return revised_expected_date(supplier_order.expected_at, delay)


def revised_dates_for(order_ids: list[int]) -> dict[int, datetime.date]:
    """Revised expected dates of the waiting orders among ``order_ids`` (two queries, whatever their number)."""
    placed = list(
        SupplierOrder.objects.filter(
            customer_order_id__in=order_ids, customer_order__status__in=WAITING_STATUSES
        ).values_list("customer_order_id", "supplier_id", "expected_at")
    )
    delays = supplier_mean_delays({supplier_id for _pk, supplier_id, _eta in placed})
    return {pk: revised_expected_date(eta, delays.get(supplier_id)) for pk, supplier_id, eta in placed}


# -- the supplier's record per part class -------------------------------------------------------------------------
@dataclasses.dataclass(slots=True)
class ClassRecord:
    """``orders.selectors.SupplierRecord``'s figures for the supplier's orders with parts of one class."""

    abc_class: str  # A, B, C or "" (not classified yet)
    supplier_id: int
    orders: int
    on_time: int
    on_time_share: Decimal | None
    mean_promised_days: Decimal | None
    mean_actual_days: Decimal | None
    mean_delay_days: Decimal | None


def _mean(values: list[int]) -> Decimal | None:
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1")) if values else None


def supplier_history(*, supplier: Supplier) -> list[tuple[int, str, tuple[int, int, int]]]:
    """The supplier's fully received orders, one row per order and class of its parts: ``(order id, class,
    (promised, actual, delay) days)`` — an order with parts of two classes has two rows, "" for parts not classified
    yet. One read of the supplier's whole history (issue 19: the order page read it twice, 40 ms each at 20,000
    orders); :func:`supplier_record_by_class` and ``orders.selectors.supplier_record`` both take it."""
    rows = (
        SupplierOrder.objects.filter(
            dealership_id=supplier.dealership_id, supplier=supplier, customer_order__received_at__isnull=False
        )
        .values_list(
            "pk",
            "customer_order__lines__part__abc_class",
            "placed_at",
            "expected_at",
            "customer_order__received_at",
            "dealership__time_zone",
        )
        .distinct()
    )
    return [(pk, abc_class or "", _days(*row)) for pk, abc_class, *row in rows]


def supplier_record_by_class(
    *, supplier: Supplier, history: list[tuple[int, str, tuple[int, int, int]]] | None = None
) -> list[ClassRecord]:
    """The supplier's record (promised against actual days, on-time share, mean delay) for each part class (R28)
    among its fully received orders; an order with parts of two classes counts in both. Classes A, B, C, then the
    parts not classified yet; classes without orders are left out. ``history``: :func:`supplier_history`, when the
    caller read it already."""
    by_class: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for _pk, abc_class, days in supplier_history(supplier=supplier) if history is None else history:
        by_class[abc_class].append(days)
    records = []
    for abc_class in [*AbcClass.values, ""]:
        days = by_class.get(abc_class)
        if not days:
            continue
        delays = [delay for _promised, _actual, delay in days]
        on_time = sum(1 for delay in delays if delay == 0)
        records.append(
            ClassRecord(
                supplier_id=supplier.pk,
                orders=len(days),
                on_time=on_time,
                on_time_share=(Decimal(on_time) / len(days)).quantize(Decimal("0.001")),
                mean_promised_days=_mean([promised for promised, _actual, _delay in days]),
                mean_actual_days=_mean([actual for _promised, actual, _delay in days]),
                mean_delay_days=_mean(delays),
                abc_class=abc_class,
            )
        )
    return records
