"""Reads for customer orders: the dashboard query, the «Обзвон» column (R13), the order's timeline.

The dashboard runs a constant number of SQL queries whatever the page size: one for the count, one for the page's
rows (customer, vehicle, author and manager joined in), one for the page's call logs (done by the notifications
app), and — for the API only — one for the page's lines.
"""

import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from dms.core.filters import filter_given
from dms.core.inputs import is_phone_text
from dms.core.models import AuditAction, AuditEntry, Customer, Dealership, Vehicle, normalize_vin
from dms.core.names import full_name
from dms.core.prepared import fetch_all_prepared
from dms.core.search import id_set, mark_searched
from parts.models import Part, Supplier

from .models import (
    RETURN_WARNING_DAYS,
    WAITING_STATUSES,
    CustomerOrder,
    CustomerOrderLine,
    OrderKind,
    OrderStatus,
    Receipt,
    ReceiptLine,
    SupplierOrder,
    order_colour,
    order_days_waiting,
    order_is_overdue,
    order_return_deadline,
    order_return_due,
)
from .promises import REVISED_EXPECTED_SQL, revised_dates_for, supplier_history

User = get_user_model()


@dataclasses.dataclass(frozen=True)
class EmptyCallLog:
    """What the «Обзвон» column shows for an order without call events (or before the call-back engine exists)."""

    last_caller_name: str = ""
    last_called_at: datetime.datetime | None = None
    results: tuple = ()


EMPTY_CALL_LOG = EmptyCallLog()


@dataclasses.dataclass(frozen=True)
class CallLogProvider:
    """How the «Обзвон» column (R13) is read from the app that owns the calls (notifications, above orders).

    ``for_orders(order_ids=…)`` → ``{order_id: summary}``; ``sql(order_id_column)`` → a scalar subquery for the page
    query (None off PostgreSQL); ``from_json(values)`` → the summaries of that column's values."""

    for_orders: Callable[..., dict[int, Any]]
    sql: Callable[[str], str | None]
    from_json: Callable[[list], list]


_call_log_provider: CallLogProvider | None = None


def provide_call_log(*, for_orders, sql, from_json) -> None:
    """Called by the notifications app from ``ready()`` (like ``dms.core.references.provide_reference_target``):
    orders sits below notifications and never imports it, yet its list shows the calls."""
    global _call_log_provider
    _call_log_provider = CallLogProvider(for_orders=for_orders, sql=sql, from_json=from_json)


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

# One dashboard row as plain values: what the page, the API list and the exports show, fetched in one query with
# customer, vehicle, author and manager joined (no model instances: the page is rendered straight from these).
ROW_FIELDS = (
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
    "received_at",
    "issued_at",
    "cancelled_at",
    "on_waiting_lot",
    "long_term_agreed",
    "customer_id",
    "customer__name",
    "vehicle_id",
    "vehicle__vin",
    "vehicle__make",
    "vehicle__model",
    "author_id",
    "author__username",
    "author__first_name",
    "author__last_name",
    "parts_manager_id",
    "parts_manager__username",
    "parts_manager__first_name",
    "parts_manager__last_name",
    # Issue 15 item 8: when the order closed by a return to the supplier, and its supplier's return window.
    "returned_at",
    "supplier_order__supplier__return_days",
)


@dataclasses.dataclass(slots=True)
class OrderRow:
    """A dashboard row: the order's columns (in ``ROW_FIELDS`` order) and what the row shows derived from them."""

    id: int
    dealership_id: int
    time_zone: str
    number: str
    status: str
    kind: str
    purpose: str
    created_at: datetime.datetime
    placed_at: datetime.datetime | None
    expected_at: datetime.date | None
    received_at: datetime.datetime | None
    issued_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    on_waiting_lot: bool
    long_term_agreed: bool
    customer_id: int
    customer_name: str
    vehicle_id: int | None
    vehicle_vin: str | None
    vehicle_make: str | None
    vehicle_model: str | None
    author_id: int
    author_username: str
    author_first_name: str
    author_last_name: str
    parts_manager_id: int | None
    parts_manager_username: str | None
    parts_manager_first_name: str | None
    parts_manager_last_name: str | None
    returned_at: datetime.datetime | None
    supplier_return_days: int | None
    # derived by order_rows()
    status_display: str = ""
    kind_display: str = ""
    author_name: str = ""
    parts_manager_name: str = ""
    overdue: bool = False
    return_deadline: datetime.date | None = None
    return_due: bool = False
    row_colour: str = ""
    waiting_days: int = 0
    call_log: Any = None
    lines: list = dataclasses.field(default_factory=list)
    # Issue 15 item 8: the supplier's ETA pushed by its record's mean delay (orders.promises), while parts are awaited
    revised_expected_at: datetime.date | None = None

    @property
    def pk(self) -> int:
        return self.id


@dataclasses.dataclass(slots=True)
class OrderLineRow:
    id: int
    order_id: int
    part_id: int
    part_number: str
    part_name: str
    quantity: Any
    quantity_received: Any


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


# Issue 19: how many matching orders a search looks for before it decides how to read the page.
SEARCH_PROBE = 2_000
# pg_trgm indexes answer a substring of at least three characters
TRIGRAM = 3


def _search_sources(search: str, vehicle_ids: list[int]) -> list[tuple[QuerySet, str]]:
    """By order number, customer name or phone, VIN or plate, part number or name: one query per source (and the
    column holding the order's id), each answered from its own trigram index (migrations
    ``*_search_trigram_indexes``)."""
    orders = CustomerOrder.objects.order_by()  # a union's parts carry no ordering (SQLite refuses it)
    sources = [
        (orders.filter(number__icontains=search), "pk"),
        (orders.filter(customer__in=Customer.objects.filter(_customer_match(search)).values("pk")), "pk"),
        (
            CustomerOrderLine.objects.order_by().filter(
                Q(part__number__icontains=search.replace(" ", "")) | Q(part__name__icontains=search)
            ),
            "order_id",
        ),
    ]
    if vehicle_ids:
        sources.append((orders.filter(vehicle_id__in=vehicle_ids), "pk"))
    return sources


def _matching_vehicle_ids(search: str) -> list[int]:
    """At most ``SEARCH_PROBE + 1`` vehicles whose VIN or plate contains the text, read first on their own: joined to
    the orders inside the probe, PostgreSQL overestimated a VIN substring's vehicles (1,010 for 256) and hashed every
    order of the dealership (40 ms); by their ids it reads only their orders (issue 19 item 3)."""
    vin = normalize_vin(search)
    vehicles = Vehicle.objects.filter(Q(vin__contains=vin) | Q(plate__icontains=search.replace(" ", "")))
    return list(vehicles.order_by().values_list("pk", flat=True)[: SEARCH_PROBE + 1])


def _customer_match(search: str, prefix: str = "") -> Q:
    match = Q(**{f"{prefix}name__icontains": search})
    digits = re.sub(r"\D", "", search)
    if len(digits) >= 5 and is_phone_text(search):  # a VIN's or a part number's digits are no phone
        match |= Q(**{f"{prefix}phone__contains": digits})
    return match


def _row_match(qs: QuerySet[CustomerOrder], search: str) -> QuerySet[CustomerOrder]:
    """The same search as ``_search_sources``, tested on each order row: for a text many orders share, PostgreSQL
    walks the sorted index and stops at the page's LIMIT instead of collecting every match first.

    The part match is a scalar subquery (the order's first matching line), not ``EXISTS``: PostgreSQL turns an
    ``EXISTS`` under ``OR`` into a hashed subplan that reads every matching line before the first row.
    """
    lines = CustomerOrderLine.objects.filter(order=OuterRef("pk")).filter(
        Q(part__number__icontains=search.replace(" ", "")) | Q(part__name__icontains=search)
    )
    qs = qs.alias(search_line=Subquery(lines.values("pk")[:1]))
    match = Q(number__icontains=search) | _customer_match(search, "customer__") | Q(search_line__isnull=False)
    vin = normalize_vin(search)
    if vin:
        match |= Q(vehicle__vin__contains=vin) | Q(vehicle__plate__icontains=search.replace(" ", ""))
    return qs.filter(match)


def _search(qs: QuerySet[CustomerOrder], search: str) -> tuple[QuerySet[CustomerOrder], int | None]:
    """The searched orders and, when the text is common, a known lower bound of their count.

    Issue 19, goal 3: each source is first asked for at most ``SEARCH_PROBE`` ids (a LIMIT stops each scan early).
    A rare text (every source under the probe) filters by those few ids — the page and its count read only them. A
    common text (a word of half the part names, one digit) is tested row by row in the page's order, so the page
    stops at its LIMIT; its count is then known to exceed the probe and is not counted at all.
    """
    if len(search) < TRIGRAM:
        # One or two characters: no trigram index answers them, so each source's probe would read its whole table
        # before deciding; the row-by-row plan stops at the page's LIMIT, its count at SEARCH_COUNT_CAP.
        return _row_match(qs, search), None
    vehicle_ids = _matching_vehicle_ids(search)
    if len(vehicle_ids) > SEARCH_PROBE:
        return _row_match(qs, search), SEARCH_PROBE
    sources = _search_sources(search, vehicle_ids)
    if connection.features.supports_slicing_ordering_in_compound:
        # one query: each source's first SEARCH_PROBE + 1 ids, tagged with the source's number
        tagged = [
            source.annotate(source_no=Value(n)).values_list("source_no", column)[: SEARCH_PROBE + 1]
            for n, (source, column) in enumerate(sources)
        ]
        found: dict[int, list[int]] = {}
        for source_no, pk in tagged[0].union(*tagged[1:], all=True):
            found.setdefault(source_no, []).append(pk)
    else:
        found = {
            n: list(source.values_list(column, flat=True)[: SEARCH_PROBE + 1])
            for n, (source, column) in enumerate(sources)
        }
    if any(len(pks) > SEARCH_PROBE for pks in found.values()):
        return _row_match(qs, search), SEARCH_PROBE
    ids = {pk for pks in found.values() for pk in pks}
    if connection.vendor != "postgresql":
        return qs.filter(pk__in=sorted(ids)), None
    # one array parameter, not a literal list (dms.core.search.id_set): PostgreSQL joins it by primary key, and the
    # page's query keeps one text for every search, so it stays prepared (dms.core.prepared)
    return qs.filter(pk__in=id_set(sorted(ids))), None


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
    return_due: bool | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    search: str = "",
    sort: str | None = None,
    today: datetime.date | None = None,
    tz: datetime.tzinfo | None = None,
    today_by_dealership: dict[int, datetime.date] | None = None,
) -> QuerySet[CustomerOrder]:
    """The dashboard's orders (R1, R13): filtered, searched and sorted; every filter has an index.

    ``date_from``/``date_to`` bound the order date (inclusive) in the dealership's time zone ``tz``; ``overdue``
    means waiting for parts with the ETA before ``today`` — or, over several dealerships (the API), before each
    one's own date in ``today_by_dealership``, as each row's colour says (R1).
    """
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        qs = qs.filter(status__in=statuses)
    qs = filter_given(qs, kind=kind, author_id=author_id, parts_manager_id=parts_manager_id)
    if overdue is not None:
        if today is None and today_by_dealership is not None:
            late = Q(pk__in=[])
            for dealership_id, local in today_by_dealership.items():
                late |= Q(dealership_id=dealership_id, expected_at__lt=local)
            late &= Q(status__in=WAITING_STATUSES)
        else:
            late = Q(status__in=WAITING_STATUSES, expected_at__lt=today or timezone.localdate())
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if on_waiting_lot is not None:
        qs = qs.filter(on_waiting_lot=on_waiting_lot)
    tz = tz or timezone.get_current_timezone()
    if return_due is not None:
        # Issue 15 item 8 (order_return_due in SQL): received, and the supplier's return window closes within
        # RETURN_WARNING_DAYS days — the local receipt day is on or before today + warning days − window.
        today = today or timezone.localdate()
        bound = datetime.datetime.combine(
            today + datetime.timedelta(days=RETURN_WARNING_DAYS + 1), datetime.time.min, tzinfo=tz
        )
        window = ExpressionWrapper(
            F("supplier_order__supplier__return_days") * Value(datetime.timedelta(days=1)),
            output_field=DurationField(),
        )
        qs = qs.alias(return_bound=ExpressionWrapper(Value(bound) - window, output_field=DateTimeField()))
        due = Q(status=OrderStatus.RECEIVED, received_at__lt=F("return_bound"))
        qs = qs.filter(due) if return_due else qs.exclude(due)
    if date_from:
        qs = qs.filter(created_at__gte=datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz))
    if date_to:
        end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        qs = qs.filter(created_at__lt=end)
    search = (search or "").strip()
    count_floor = None
    if search:
        qs, count_floor = _search(qs, search)
        mark_searched(qs)  # the count stops at SEARCH_COUNT_CAP, as every searched list's (dms.core.search)
    qs = qs.order_by(*_ordering(sort))
    # read by CappedCountPaginator: "more than N" without a COUNT over a common text's matches (issue 19)
    qs.count_floor = count_floor
    return qs


def _page_sql(ids_sql: str, *, call_log_sql: str | None, with_lines: bool) -> str:
    """One PostgreSQL query for a page: the ids the ORM's filtered, sorted, sliced queryset gives (``ids_sql``, order
    kept by ``WITH ORDINALITY``) joined to the ``ROW_FIELDS`` columns, then the call log (R13) and the lines as JSON.

    The same columns as the raw query the benchmark compares against; the ORM only compiles the small id query.
    """
    order, dealership = CustomerOrder._meta.db_table, Dealership._meta.db_table
    customer, vehicle = Customer._meta.db_table, Vehicle._meta.db_table
    user, line, part = User._meta.db_table, CustomerOrderLine._meta.db_table, Part._meta.db_table
    supplier_order, supplier = SupplierOrder._meta.db_table, Supplier._meta.db_table
    extra = ""
    if call_log_sql:
        extra += f", ({call_log_sql})"
    if with_lines:
        # quantities as text: JSON numbers would come back as floats
        extra += (
            ", (SELECT json_agg(json_build_array(l.id, l.part_id, p.number, p.name, l.quantity::text, "
            f'l.quantity_received::text) ORDER BY l.id) FROM "{line}" l JOIN "{part}" p ON p.id = l.part_id '
            "WHERE l.order_id = o.id)"
        )
    # Issue 15 item 8: the revised expected date, last (orders.promises holds the formula)
    extra += ", " + REVISED_EXPECTED_SQL.format(order="o")
    # Related columns come from scalar subqueries, not joins: planning a seven-table join cost PostgreSQL more than
    # running it (1.7 ms of 2.7); each subquery is planned alone (0.2 ms in all) and is one index lookup per row.
    # A vehicle's or user's columns come as one text[] (psycopg2 hands it over as a list): never a text joined by a
    # separator character, which a stored value could contain and so shift the columns (issue 12 item 2); an array
    # also keeps NULLs in place where concat_ws dropped them.
    return f"""
        SELECT o.id, o.dealership_id, (SELECT d.time_zone FROM "{dealership}" d WHERE d.id = o.dealership_id),
               o.number, o.status, o.kind, o.purpose, o.created_at, o.placed_at,
               o.expected_at, o.received_at, o.issued_at, o.cancelled_at, o.on_waiting_lot, o.long_term_agreed,
               o.customer_id, (SELECT c.name FROM "{customer}" c WHERE c.id = o.customer_id),
               o.vehicle_id,
               (SELECT ARRAY[v.vin, v.make, v.model] FROM "{vehicle}" v WHERE v.id = o.vehicle_id),
               o.author_id,
               (SELECT ARRAY[u.username, u.first_name, u.last_name] FROM "{user}" u
                WHERE u.id = o.author_id),
               o.parts_manager_id,
               (SELECT ARRAY[u.username, u.first_name, u.last_name] FROM "{user}" u
                WHERE u.id = o.parts_manager_id),
               o.returned_at,
               (SELECT s.return_days FROM "{supplier_order}" so JOIN "{supplier}" s ON s.id = so.supplier_id
                WHERE so.customer_order_id = o.id){extra}
        FROM unnest(ARRAY({ids_sql})) WITH ORDINALITY AS page(id, position)
        JOIN "{order}" o ON o.id = page.id
        ORDER BY page.position
    """


_NOTHING = (None, None, None)


def _flatten_page_row(value: tuple) -> tuple:
    """A ``_page_sql`` row in ``ROW_FIELDS`` order (vehicle and users come as three-element arrays), extra columns
    kept."""
    head, vehicle_id, vehicle, author_id, author, manager_id, manager = value[:17], *value[17:23]
    return (
        *head,
        vehicle_id,
        *(vehicle if vehicle is not None else _NOTHING),
        author_id,
        *(author if author is not None else _NOTHING),
        manager_id,
        *(manager if manager is not None else _NOTHING),
        *value[23:],
    )


def order_rows(
    qs: QuerySet[CustomerOrder], *, now: datetime.datetime | None = None, with_lines: bool = False
) -> list[OrderRow]:
    """The rows of ``qs`` (a page: sliced), each with its colour (R1), overdue flag, days waiting and call log (R13),
    and ``with_lines`` its lines. One query on PostgreSQL; elsewhere one more for the call logs and one for the lines.
    """
    if connection.vendor == "postgresql":
        source = _call_log_sql_source()
        call_log_sql = source("o.id") if source is not None else None
        try:
            ids_sql, params = qs.values("pk").query.get_compiler(using=qs.db).as_sql()
        except EmptyResultSet:  # e.g. a user without dealerships: nothing to read
            return []
        page_sql = _page_sql(ids_sql, call_log_sql=call_log_sql, with_lines=with_lines)
        # Planning this query cost PostgreSQL 0.4 ms (0.8 ms with the lines) of 1.1 (2.6) on every view: prepared once
        # per connection and filter combination, it is planned once (dms.core.prepared).
        fetched = fetch_all_prepared(page_sql, params, label="orders_page", using=qs.db)
        values = [_flatten_page_row(value) for value in fetched]
        rows = _build_rows(values, call_log_sql is not None, with_lines, with_lines=with_lines, now=now)
        for row, value in zip(rows, values, strict=True):
            row.revised_expected_at = value[-1]
        return rows
    return _with_revised_dates(
        _build_rows(list(qs.values_list(*ROW_FIELDS)), False, False, with_lines=with_lines, now=now)
    )


def _with_revised_dates(rows: list[OrderRow]) -> list[OrderRow]:
    """Issue 15 item 8, where the page's query could not bring them (not PostgreSQL, exports): two more queries."""
    revised = revised_dates_for([row.id for row in rows if row.status in WAITING_STATUSES]) if rows else {}
    for row in rows:
        row.revised_expected_at = revised.get(row.id)
    return rows


def iter_order_rows(
    qs: QuerySet[CustomerOrder], *, batch_size: int = 500, now: datetime.datetime | None = None
) -> Iterator[OrderRow]:
    """All rows of ``qs`` (exports), read with a server-side cursor in batches: memory and queries stay bounded."""
    batch: list[tuple] = []
    for value in qs.values_list(*ROW_FIELDS).iterator(chunk_size=batch_size):
        batch.append(value)
        if len(batch) >= batch_size:
            yield from _with_revised_dates(_build_rows(batch, False, False, with_lines=False, now=now))
            batch = []
    yield from _with_revised_dates(_build_rows(batch, False, False, with_lines=False, now=now))


def _build_rows(
    values: list[tuple], calls_inline: bool, lines_inline: bool, *, with_lines: bool, now: datetime.datetime | None
) -> list[OrderRow]:
    now = now or timezone.now()
    width = len(ROW_FIELDS)
    rows = [OrderRow(*value[:width]) for value in values]
    if not rows:
        return rows
    if calls_inline and _call_log_provider is not None:
        logs = _call_log_provider.from_json([value[width] for value in values])
    else:
        found = call_logs([row.id for row in rows])
        logs = [found[row.id] for row in rows]
    status_labels = {value: str(label) for value, label in OrderStatus.choices}
    kind_labels = {value: str(label) for value, label in OrderKind.choices}
    zones: dict[str, tuple[zoneinfo.ZoneInfo, datetime.date]] = {}
    for row, log in zip(rows, logs, strict=True):
        zone = zones.get(row.time_zone)
        if zone is None:
            tz = zoneinfo.ZoneInfo(row.time_zone)
            zone = zones[row.time_zone] = (tz, timezone.localtime(now, tz).date())
        tz, today = zone
        row.status_display = status_labels.get(row.status, row.status)
        row.kind_display = kind_labels.get(row.kind, row.kind)
        row.author_name = full_name(row.author_first_name, row.author_last_name, row.author_username)
        if row.parts_manager_id:
            row.parts_manager_name = full_name(
                row.parts_manager_first_name, row.parts_manager_last_name, row.parts_manager_username
            )
        row.overdue = order_is_overdue(row.status, row.expected_at, today)
        row.row_colour = order_colour(row.status, row.expected_at, today)
        row.waiting_days = order_days_waiting(
            created_at=row.created_at, closed_at=row.issued_at or row.cancelled_at or row.returned_at, now=now, tz=tz
        )
        row.return_deadline = order_return_deadline(
            status=row.status, received_at=row.received_at, return_days=row.supplier_return_days, tz=tz
        )
        row.return_due = order_return_due(row.return_deadline, today)
        row.call_log = log
    if lines_inline:
        column = width + (1 if calls_inline else 0)
        for row, value in zip(rows, values, strict=True):
            row.lines = [
                OrderLineRow(line_id, row.id, part_id, number, name, Decimal(quantity), Decimal(received))
                for line_id, part_id, number, name, quantity, received in value[column] or ()
            ]
    elif with_lines:
        by_order = {row.id: row for row in rows}
        lines = (
            CustomerOrderLine.objects.filter(order_id__in=list(by_order))
            .order_by("order_id", "id")
            .values_list("id", "order_id", "part_id", "part__number", "part__name", "quantity", "quantity_received")
        )
        for line in lines:
            by_order[line[1]].lines.append(OrderLineRow(*line))
    return rows


def _call_log_source():
    """The provided call log reader (R13); None when no app provides one."""
    return _call_log_provider.for_orders if _call_log_provider is not None else None


def _call_log_sql_source():
    """The provided call log as a SQL fragment (PostgreSQL); None when no app provides one."""
    return _call_log_provider.sql if _call_log_provider is not None else None


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
    # Issue 15 item 8: the revised expected date of each order still waiting for parts (orders.promises)
    revised = revised_dates_for([order.pk for order in orders if order.status in WAITING_STATUSES]) if orders else {}
    for order in orders:
        order.revised_expected_at = revised.get(order.pk)
    return orders


def customer_order_detail(*, dealership_ids: Iterable[int], pk: int) -> CustomerOrder | None:
    """One order with everything its page and its API answer show (the answer of every order write too).

    Issue 19 item 4: PostgreSQL spent ~2 ms planning the order joined to eight tables (0.3 ms to run it), so the
    supplier order with its supplier and author come in their own small join; receipts come with who received them,
    and receipt lines with their order line and part, each in one query (seven queries → five).
    """
    lines = CustomerOrderLine.objects.select_related("part").order_by("id")
    return (
        CustomerOrder.objects.filter(dealership_id__in=list(dealership_ids), pk=pk)
        .select_related("dealership", "customer", "vehicle", "author", "parts_manager")
        .prefetch_related(
            Prefetch("supplier_order", queryset=SupplierOrder.objects.select_related("supplier", "placed_by")),
            Prefetch("lines", queryset=lines),
            Prefetch("receipts", queryset=Receipt.objects.select_related("received_by")),
            Prefetch("receipts__lines", queryset=ReceiptLine.objects.select_related("line__part")),
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


# -- issue 15 item 6: batch work ----------------------------------------------------------------------------------
def orders_to_place(*, dealership_id: int, part_query: str = "", supplier_id: int | None = None) -> list[CustomerOrder]:
    """«Неразмещён» orders with their lines, oldest first (the batch placing page); ``part_query`` keeps the orders
    with a line whose part number or name contains it, ``supplier_id`` those with a part usually bought from it."""
    qs = CustomerOrder.objects.filter(dealership_id=dealership_id, status=OrderStatus.NOT_PLACED)
    if supplier_id is not None:
        qs = qs.filter(lines__part__default_supplier_id=supplier_id).distinct()
    part_query = (part_query or "").strip()
    if part_query:
        qs = qs.filter(
            Q(lines__part__number__icontains=part_query) | Q(lines__part__name__icontains=part_query)
        ).distinct()
    lines = CustomerOrderLine.objects.select_related("part").order_by("id")
    return list(
        qs.select_related("customer", "vehicle")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("created_at", "id")[:500]
    )


def supplier_delivery_orders(*, dealership_id: int, supplier_id: int, supplier_order_number: str) -> list:
    """Every customer order placed under one supplier order number, with its lines (the batch receiving page)."""
    lines = CustomerOrderLine.objects.select_related("part").order_by("id")
    return list(
        CustomerOrder.objects.filter(
            dealership_id=dealership_id,
            supplier_order__supplier_id=supplier_id,
            supplier_order__supplier_order_number=(supplier_order_number or "").strip(),
        )
        .select_related("customer", "supplier_order__supplier")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("id")
    )


# -- issue 15 item 8: each supplier's record from receipts -----------------------------------------------------------
@dataclasses.dataclass(slots=True)
class SupplierRecord:
    supplier_id: int
    orders: int  # fully received orders placed with the supplier
    on_time: int  # received on or before the ETA promised at placing
    on_time_share: Decimal | None  # on_time / orders, None without orders
    mean_promised_days: Decimal | None  # ETA − placing day
    mean_actual_days: Decimal | None  # full receipt day − placing day
    mean_delay_days: Decimal | None  # days past the ETA, 0 when on time


def _mean(values: list[int]) -> Decimal | None:
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1")) if values else None


def supplier_record(
    *, supplier: Supplier, history: list[tuple[int, str, tuple[int, int, int]]] | None = None
) -> SupplierRecord:
    """Issue 15 item 8: promised (the ETA given when placing) against actual days for the supplier's orders whose
    parts have all arrived; days are calendar days in the dealership's time zone. ``history``:
    ``orders.promises.supplier_history`` when the caller read it already (the order page and the API show the
    per-class record too)."""
    if history is None:
        history = supplier_history(supplier=supplier)
    by_order = {pk: days for pk, _class, days in history}  # an order with parts of two classes has two rows
    promised = [days[0] for days in by_order.values()]
    actual = [days[1] for days in by_order.values()]
    delays = [days[2] for days in by_order.values()]
    on_time = sum(1 for delay in delays if delay == 0)
    return SupplierRecord(
        supplier_id=supplier.pk,
        orders=len(delays),
        on_time=on_time,
        on_time_share=(Decimal(on_time) / len(delays)).quantize(Decimal("0.001")) if delays else None,
        mean_promised_days=_mean(promised),
        mean_actual_days=_mean(actual),
        mean_delay_days=_mean(delays),
    )


def customer_order_history(*, customer=None, vehicle=None) -> QuerySet[CustomerOrder]:
    """Issue 14 item 3: the customer's (or the vehicle's) orders for the card, open ones first, then newest."""
    from dms.core.history import open_first, subject_q

    from .models import OPEN_STATUSES

    qs = CustomerOrder.objects.filter(subject_q(customer=customer, vehicle=vehicle)).select_related("vehicle")
    return open_first(qs, open_q=Q(status__in=OPEN_STATUSES), newest="created_at")
