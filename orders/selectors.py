"""Reads for customer orders: the dashboard query, the «Обзвон» column (R13), the order's timeline.

The dashboard runs a constant number of SQL queries whatever the page size: one for the count, one for the page's
rows (customer, vehicle, author and manager joined in), one for the page's call logs (done by the notifications
app), and — for the API only — one for the page's lines.
"""

import dataclasses
import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from dms.core.models import AuditAction, AuditEntry, Dealership, normalize_vin

from .models import WAITING_STATUSES, CustomerOrder, CustomerOrderLine, OrderStatus


@dataclasses.dataclass(frozen=True)
class EmptyCallLog:
    """What the «Обзвон» column shows for an order without call events (or before the call-back engine exists)."""

    last_caller_name: str = ""
    last_called_at: datetime.datetime | None = None
    results: tuple = ()


EMPTY_CALL_LOG = EmptyCallLog()

# Sort keys the dashboard and the API accept (``-key`` sorts descending); each maps to the model's columns.
SORT_FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "status": ("status",),
    "created_at": ("created_at",),
    "placed_at": ("placed_at",),
    "expected_at": ("expected_at",),
    "received_at": ("received_at",),
    "customer": ("customer__name",),
    "vehicle": ("vehicle__vin",),
    "kind": ("kind",),
    "author": ("author__last_name", "author__first_name"),
    "manager": ("parts_manager__last_name", "parts_manager__first_name"),
    # R13: the customer who has waited longest first = the oldest order first.
    "days_waiting": ("-created_at",),
}
DEFAULT_SORT = "-created_at"
NULLABLE_SORT_COLUMNS = {
    "placed_at",
    "expected_at",
    "received_at",
    "vehicle__vin",
    "parts_manager__last_name",
    "parts_manager__first_name",
}

# Columns the dashboard needs; everything else stays in the database.
DASHBOARD_COLUMNS = (
    "id",
    "dealership_id",
    "dealership__time_zone",
    "number",
    "status",
    "kind",
    "purpose",
    "created_at",
    "placed_at",
    "expected_at",
    "first_received_at",
    "received_at",
    "issued_at",
    "cancelled_at",
    "on_waiting_lot",
    "long_term_agreed",
    "customer_id",
    "customer__name",
    "customer__phone",
    "vehicle_id",
    "vehicle__vin",
    "vehicle__make",
    "vehicle__model",
    "vehicle__plate",
    "author_id",
    "author__username",
    "author__first_name",
    "author__last_name",
    "parts_manager_id",
    "parts_manager__username",
    "parts_manager__first_name",
    "parts_manager__last_name",
)


def local_today(dealership: Dealership, now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localtime(now or timezone.now(), dealership.tz).date()


def _ordering(sort: str | None) -> list[Any]:
    sort = (sort or DEFAULT_SORT).strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORT_FIELDS:
        key, descending = DEFAULT_SORT.lstrip("-"), True
    result: list[Any] = []
    for column in SORT_FIELDS[key]:
        column_desc = column.startswith("-") != descending
        name = column.lstrip("-")
        expression = F(name)
        # Empty dates go last whichever way the column is sorted; NOT NULL columns keep the plain order, so
        # PostgreSQL can walk an index instead of sorting the whole dealership (``created_at DESC`` by default).
        nulls_last = True if name in NULLABLE_SORT_COLUMNS else None
        result.append(expression.desc(nulls_last=nulls_last) if column_desc else expression.asc(nulls_last=nulls_last))
    result.append(F("id").desc() if descending else F("id").asc())
    return result


def valid_sort(sort: str | None) -> str:
    sort = (sort or "").strip()
    return sort if sort.lstrip("-") in SORT_FIELDS else DEFAULT_SORT


def _search_condition(search: str) -> Q:
    """By order number, customer name or phone, VIN or plate, part number or name."""
    condition = Q(number__icontains=search) | Q(customer__name__icontains=search)
    vin = normalize_vin(search)
    if vin:
        condition |= Q(vehicle__vin__contains=vin) | Q(vehicle__plate__icontains=search.replace(" ", ""))
    digits = re.sub(r"\D", "", search)
    if len(digits) >= 5:
        condition |= Q(customer__phone__contains=digits)
    part_match = CustomerOrderLine.objects.filter(order_id=OuterRef("pk")).filter(
        Q(part__number__icontains=search.replace(" ", "")) | Q(part__name__icontains=search)
    )
    return condition | Q(Exists(part_match))


def customer_order_list(*, dealership_ids: Iterable[int], **filters: Any) -> QuerySet[CustomerOrder]:
    """The dashboard's orders in the given dealerships; ``filters`` as for :func:`filter_customer_orders`."""
    return filter_customer_orders(CustomerOrder.objects.filter(dealership_id__in=list(dealership_ids)), **filters)


def filter_customer_orders(
    qs: QuerySet[CustomerOrder],
    *,
    status: Sequence[str] | str | None = None,
    kind: str | None = None,
    author_id: int | None = None,
    parts_manager_id: int | None = None,
    overdue: bool | None = None,
    on_waiting_lot: bool | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    search: str = "",
    sort: str | None = None,
    today: datetime.date | None = None,
    tz: datetime.tzinfo | None = None,
) -> QuerySet[CustomerOrder]:
    """The dashboard's orders (R1, R13): filtered, searched and sorted; every filter has an index.

    ``date_from``/``date_to`` bound the order date (inclusive) in the dealership's time zone ``tz``; ``overdue``
    means waiting for parts with the ETA before ``today``.
    """
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        qs = qs.filter(status__in=statuses)
    if kind:
        qs = qs.filter(kind=kind)
    if author_id:
        qs = qs.filter(author_id=author_id)
    if parts_manager_id:
        qs = qs.filter(parts_manager_id=parts_manager_id)
    if overdue is not None:
        today = today or timezone.localdate()
        late = Q(status__in=WAITING_STATUSES, expected_at__lt=today)
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if on_waiting_lot is not None:
        qs = qs.filter(on_waiting_lot=on_waiting_lot)
    tz = tz or timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz))
    if date_to:
        end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        qs = qs.filter(created_at__lt=end)
    search = (search or "").strip()
    if search:
        qs = qs.filter(_search_condition(search))
    return qs.order_by(*_ordering(sort))


def dashboard_rows(qs: QuerySet[CustomerOrder]) -> QuerySet[CustomerOrder]:
    """The columns the dashboard shows, joined in one query."""
    return qs.select_related("dealership", "customer", "vehicle", "author", "parts_manager").only(*DASHBOARD_COLUMNS)


def api_rows(qs: QuerySet[CustomerOrder]) -> QuerySet[CustomerOrder]:
    """The dashboard's rows plus each order's lines (one more query for the whole page)."""
    lines = CustomerOrderLine.objects.select_related("part").only(
        "id", "order_id", "part_id", "part__number", "part__name", "quantity", "quantity_received", "unit_price"
    )
    return dashboard_rows(qs).prefetch_related(Prefetch("lines", queryset=lines))


def _call_log_source():
    """The notifications app's call log, when it is installed (R13); None until the call-back engine lands."""
    try:
        from notifications.selectors import call_log_for_orders
    except (ImportError, AttributeError):
        return None
    return call_log_for_orders


def call_logs(order_ids: Sequence[int]) -> dict[int, Any]:
    """Each order's call log (R13): ``{order_id: CallLogSummary}``, an empty log for orders without calls."""
    order_ids = [int(pk) for pk in order_ids]
    source = _call_log_source()
    found: dict[int, Any] = {}
    if source is not None and order_ids:
        found = source(order_ids=order_ids) or {}
    return {pk: found.get(pk) or EMPTY_CALL_LOG for pk in order_ids}


def annotate_rows(orders: Sequence[CustomerOrder], *, now: datetime.datetime | None = None) -> list[CustomerOrder]:
    """Give each order of a page what the «Обзвон» column and the row colour need, without more queries per row.

    Sets ``call_log``, ``waiting_days``, ``overdue`` and ``row_colour`` on each order.
    """
    now = now or timezone.now()
    orders = list(orders)
    logs = call_logs([order.pk for order in orders])
    for order in orders:
        today = order.local_today(now)
        order.call_log = logs[order.pk]
        order.waiting_days = order.days_waiting(now)
        order.overdue = order.is_overdue(today)
        order.row_colour = order.colour(today)
    return orders


def customer_order_detail(*, dealership_ids: Iterable[int], pk: int) -> CustomerOrder | None:
    lines = CustomerOrderLine.objects.select_related("part").order_by("id")
    return (
        CustomerOrder.objects.filter(dealership_id__in=list(dealership_ids), pk=pk)
        .select_related(
            "dealership",
            "customer",
            "vehicle",
            "author",
            "parts_manager",
            "supplier_order__supplier",
            "supplier_order__placed_by",
        )
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            "receipts__received_by",
            "receipts__lines__line__part",
        )
        .first()
    )


def customer_order_timeline(order: CustomerOrder) -> list[AuditEntry]:
    """The order's transitions (who, when, from, to) and its creation, oldest first."""
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(CustomerOrder),
        object_id=order.pk,
        action__in=[AuditAction.CREATED, AuditAction.TRANSITION, AuditAction.UPDATED],
    ).select_related("actor")
    labels = dict(OrderStatus.choices)
    timeline = []
    for entry in entries.order_by("created_at", "id"):
        source, target = (entry.changes.get("status") or [None, None])[:2]
        if entry.action == AuditAction.CREATED:
            source, target = None, OrderStatus.NOT_PLACED
        entry.source_label = labels.get(source, "")
        entry.target_label = labels.get(target, "")
        entry.target = target
        timeline.append(entry)
    return timeline
