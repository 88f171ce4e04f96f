"""Reads of the parts app, always scoped to the dealerships the caller may see."""

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from dms.core import roles
from dms.core.filters import filter_given
from dms.core.models import Dealership
from dms.core.references import reference_target, resolve_reference
from dms.core.search import text_search
from dms.core.selectors import PICKER_LIMIT, picker_matches

from . import conf
from .models import (
    Location,
    LowStockAlert,
    OldPartReturn,
    Part,
    Reservation,
    StockBalance,
    StockCount,
    StockMovement,
    Supplier,
    SupplierPrice,
    Warehouse,
)

User = get_user_model()
ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=4))


def part_list(
    *, dealership_ids: Iterable[int], search: str = "", abc_class: str = "", with_stock: bool = False
) -> QuerySet[Part]:
    qs = Part.objects.filter(dealership_id__in=list(dealership_ids)).select_related("default_supplier")
    if abc_class:
        qs = qs.filter(abc_class=abc_class)
    compact = (search or "").strip().replace(" ", "")
    # issue 15 item 7: a scanned label finds its part too
    qs = text_search(qs, search, "name", extra=[Q(number__icontains=compact), Q(barcode=compact)])
    if with_stock:
        # Issue 19: correlated sums, computed for the page's rows only (a join + GROUP BY summed every part's
        # balances before the ORDER BY number LIMIT could stop: 1 s over 100,000 parts).
        def total(column: str) -> Coalesce:
            rows = (
                StockBalance.objects.filter(part_id=OuterRef("pk"))
                .order_by()
                .values("part_id")
                .annotate(total=Sum(column))
                .values("total")
            )
            return Coalesce(Subquery(rows, output_field=DecimalField()), ZERO)

        qs = (
            qs.annotate(on_hand_total=total("on_hand"), reserved_total=total("reserved"))
            .annotate(available_total=F("on_hand_total") - F("reserved_total"))
            .order_by("number")
        )
    return qs


def supplier_list(*, dealership_ids: Iterable[int]) -> QuerySet[Supplier]:
    return Supplier.objects.filter(dealership_id__in=list(dealership_ids))


def supplier_price_list(
    *, dealership_ids: Iterable[int], supplier_id: int | None = None, part_id: int | None = None
) -> QuerySet[SupplierPrice]:
    qs = SupplierPrice.objects.filter(dealership_id__in=list(dealership_ids)).select_related("supplier", "part")
    if supplier_id is not None:
        qs = qs.filter(supplier_id=supplier_id)
    if part_id is not None:
        qs = qs.filter(part_id=part_id)
    return qs


def purchase_price(*, part: Part, supplier: Supplier, on: datetime.date) -> Decimal | None:
    """The supplier's purchase price of the part valid on ``on`` (the latest ``valid_from`` not after it); None when
    the supplier's price list has none for that date (issue 15 item 5)."""
    return (
        SupplierPrice.objects.filter(dealership_id=part.dealership_id, supplier=supplier, part=part, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("price", flat=True)
        .first()
    )


def current_supplier_prices(*, part: Part, on: datetime.date) -> list[SupplierPrice]:
    """Per supplier, the price of the part valid on ``on`` — for the part page."""
    rows = (
        SupplierPrice.objects.filter(dealership_id=part.dealership_id, part=part, valid_from__lte=on)
        .select_related("supplier")
        .order_by("supplier__name", "supplier_id", "-valid_from")
    )
    # The newest row per supplier, kept in Python: DISTINCT ON is PostgreSQL's only, and `make run` is SQLite (the part
    # page was a 500 there). A part has a few prices per supplier.
    newest: dict[int, SupplierPrice] = {}
    for row in rows:
        newest.setdefault(row.supplier_id, row)
    return list(newest.values())


def location_list(*, dealership_ids: Iterable[int]) -> QuerySet[Location]:
    return Location.objects.filter(dealership_id__in=list(dealership_ids)).select_related("warehouse")


def old_part_list(*, dealership_ids: Iterable[int]) -> QuerySet[OldPartReturn]:
    return OldPartReturn.objects.filter(dealership_id__in=list(dealership_ids)).select_related("part")


def warehouse_list(*, dealership_ids: Iterable[int], active_only: bool = False) -> QuerySet[Warehouse]:
    qs = Warehouse.objects.filter(dealership_id__in=list(dealership_ids))
    return qs.filter(is_active=True) if active_only else qs


@dataclass
class BinSummary:
    location: Location | None  # None: the warehouse's stock not placed in any bin
    parts: int = 0
    value: Decimal = Decimal("0.00")


@dataclass
class WarehouseSummary:
    warehouse: Warehouse
    bins: list[BinSummary]
    parts: int = 0
    value: Decimal = Decimal("0.00")


def warehouse_overview(*, dealership_ids: Iterable[int]) -> list[WarehouseSummary]:
    """Issue 15 item 9: each warehouse with its bins — how many parts lie in each and their value (on hand x moving
    average cost); stock not placed in a bin shows as a row of its own. Three queries whatever the size."""
    ids = list(dealership_ids)
    value = ExpressionWrapper(
        F("on_hand") * F("average_cost"), output_field=DecimalField(max_digits=20, decimal_places=4)
    )
    totals = {
        (row["warehouse_id"], row["location_id"]): row
        for row in StockBalance.objects.filter(dealership_id__in=ids, on_hand__gt=0)
        .values("warehouse_id", "location_id")
        .annotate(parts=Count("part_id", distinct=True), value=Sum(value))
        .order_by()
    }
    bins_by_warehouse: dict[int, list[Location]] = {}
    for location in Location.objects.filter(dealership_id__in=ids).order_by("code"):
        bins_by_warehouse.setdefault(location.warehouse_id, []).append(location)

    def summary(warehouse_id: int, location: Location | None) -> BinSummary:
        row = totals.get((warehouse_id, location.pk if location else None), {})
        return BinSummary(
            location=location,
            parts=row.get("parts", 0),
            value=(row.get("value") or Decimal("0")).quantize(Decimal("0.01")),
        )

    overview = []
    for warehouse in warehouse_list(dealership_ids=ids).order_by("-is_default", "code"):
        bins = [summary(warehouse.pk, location) for location in bins_by_warehouse.get(warehouse.pk, [])]
        unplaced = summary(warehouse.pk, None)
        if unplaced.parts:
            bins.append(unplaced)
        overview.append(
            WarehouseSummary(
                warehouse=warehouse,
                bins=bins,
                parts=sum(b.parts for b in bins),
                value=sum((b.value for b in bins), Decimal("0.00")),
            )
        )
    return overview


def stock_available(*, dealership, part, warehouse=None) -> Decimal:
    """Free stock (on hand minus reserved) of a part. ``warehouse=None`` means the dealership's default warehouse —
    the one ``stock_reserve``/``stock_issue`` act in when given no warehouse; 0 when there is none yet."""
    if warehouse is None:
        warehouse = Warehouse.objects.filter(dealership=dealership, is_default=True).first()
        if warehouse is None:
            return Decimal("0")
    balance = StockBalance.objects.filter(part=part, warehouse=warehouse, dealership=dealership).first()
    return balance.available if balance else Decimal("0")


def stock_on_hand_total(*, dealership, part) -> Decimal:
    return StockBalance.objects.filter(dealership=dealership, part=part).aggregate(
        total=Coalesce(Sum("on_hand"), ZERO)
    )["total"]


def default_level_expression():
    """The class default alert level (R27) as an SQL expression, for balances without their own level."""
    defaults = conf.get("PARTS_DEFAULT_ALERT_LEVEL")
    out = DecimalField(max_digits=12, decimal_places=3)
    return Coalesce(
        F("alert_level"),
        Case(
            *[When(part__abc_class=cls, then=Value(Decimal(level))) for cls, level in defaults.items() if cls],
            default=Value(Decimal(defaults.get("", 0))),
            output_field=out,
        ),
        output_field=out,
    )


def stock_list(
    *,
    dealership_ids: Iterable[int],
    warehouse_id: int | None = None,
    search: str = "",
    abc_class: str = "",
    location_id: int | None = None,
    below_alert: bool = False,
) -> QuerySet[StockBalance]:
    dealership_ids = list(dealership_ids)
    qs = (
        # The part's dealership is the balance's (the stock services check_owned every part): naming it lets
        # PostgreSQL walk the parts in number order and stop at the page (issue 19), not sort every balance.
        StockBalance.objects.filter(dealership_id__in=dealership_ids, part__dealership_id__in=dealership_ids)
        .select_related("part", "warehouse", "location")
        .annotate(
            available_qty=F("on_hand") - F("reserved"),
            effective_alert_level=default_level_expression(),
            value=ExpressionWrapper(F("on_hand") * F("average_cost"), output_field=DecimalField()),
        )
        .order_by("part__number", "warehouse__code")
    )
    qs = filter_given(qs, warehouse_id=warehouse_id, location_id=location_id, part__abc_class=abc_class)
    compact = (search or "").strip().replace(" ", "")
    if below_alert:
        qs = qs.filter(available_qty__lt=F("effective_alert_level"))
    # the filters first, the search last: its probe reads the filtered rows (dms.core.search)
    return text_search(qs, search, "part__name", extra=[Q(part__number__icontains=compact)])


def movement_list(
    *,
    dealership_ids: Iterable[int],
    part_id: int | None = None,
    warehouse_id: int | None = None,
    kind: str = "",
    search: str = "",
    work_order_ref: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[StockMovement]:
    qs = StockMovement.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "part", "warehouse", "actor"
    )
    qs = filter_given(
        qs,
        part_id=part_id,
        warehouse_id=warehouse_id,
        kind=kind,
        work_order_ref=work_order_ref,
        occurred_at__date__gte=date_from,
        occurred_at__date__lte=date_to,
    )
    compact = (search or "").strip().replace(" ", "")
    return text_search(qs, search, "part__name", "reference", extra=[Q(part__number__icontains=compact)])


def reservation_list(*, dealership_ids: Iterable[int], status: str = "") -> QuerySet[Reservation]:
    qs = Reservation.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "part", "warehouse", "created_by"
    )
    return qs.filter(status=status) if status else qs


def alert_list(*, dealership_ids: Iterable[int], status: str = LowStockAlert.Status.OPEN) -> QuerySet[LowStockAlert]:
    # the dashboard shows the part's default supplier: read with the alert, not per row (issue 19)
    qs = LowStockAlert.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "part__default_supplier", "warehouse"
    )
    # Issue 15 item 6: the replenishment order the orders app links to an alert (its reverse accessor: parts does
    # not import orders), read in the same query.
    if hasattr(LowStockAlert, "replenishment_order"):
        qs = qs.select_related("replenishment_order")
    return qs.filter(status=status) if status else qs


def alerts_with_balances(alerts) -> list[tuple[LowStockAlert, StockBalance | None]]:
    """Each alert with the live balance (the actual on-hand figure now), in one extra query."""
    alerts = list(alerts)
    balances = {
        (b.part_id, b.warehouse_id): b
        for b in StockBalance.objects.filter(
            part_id__in={a.part_id for a in alerts}, warehouse_id__in={a.warehouse_id for a in alerts}
        )
    }
    return [(a, balances.get((a.part_id, a.warehouse_id))) for a in alerts]


def stock_value_report(*, dealership_ids: Iterable[int]) -> dict:
    """Stock value (on hand x moving average cost) per warehouse and per ABC class, with totals."""
    value = ExpressionWrapper(
        F("on_hand") * F("average_cost"), output_field=DecimalField(max_digits=20, decimal_places=4)
    )
    rows = list(
        StockBalance.objects.filter(dealership_id__in=list(dealership_ids), on_hand__gt=0)
        .values("warehouse__code", "warehouse__name", "part__abc_class")
        .annotate(value=Sum(value), parts=Count("part_id", distinct=True), quantity=Sum("on_hand"))
        .order_by("warehouse__code", "part__abc_class")
    )
    by_warehouse: dict[str, dict] = {}
    by_class: dict[str, Decimal] = {}
    for row in rows:
        row["value"] = (row["value"] or Decimal("0")).quantize(Decimal("0.01"))
        w = by_warehouse.setdefault(
            row["warehouse__code"], {"name": row["warehouse__name"], "value": Decimal("0"), "parts": 0, "classes": {}}
        )
        w["value"] += row["value"]
        w["parts"] += row["parts"]
        w["classes"][row["part__abc_class"] or "—"] = row["value"]
        key = row["part__abc_class"] or "—"
        by_class[key] = by_class.get(key, Decimal("0")) + row["value"]
    return {
        "rows": rows,
        "by_warehouse": by_warehouse,
        "by_class": dict(sorted(by_class.items())),
        "total": sum(by_class.values(), Decimal("0")),
    }


def job_parts_cost(
    *,
    dealership_ids: Iterable[int],
    work_order_id: int | None = None,
    job_id: int | None = None,
    work_order_ref: str = "",
) -> Decimal:
    """R32: the parts cost of one job (issues minus returns to stock against it), at the cost they left with.

    Issue 15 item 2: by the job (or the whole work order) the ledger rows carry; ``work_order_ref`` only for
    requisitions made before work orders were referenced (their rows carry the text alone).
    """
    qs = StockMovement.objects.filter(dealership_id__in=list(dealership_ids))
    if job_id is not None:
        qs = qs.filter(job_id=job_id)
    elif work_order_id is not None:
        qs = qs.filter(work_order_id=work_order_id)
    elif work_order_ref:
        qs = qs.filter(work_order_ref=work_order_ref, work_order_id__isnull=True)
    else:
        return Decimal("0.00")
    total = qs.aggregate(total=Coalesce(Sum(F("quantity") * F("unit_cost"), output_field=DecimalField()), ZERO))[
        "total"
    ]
    return (-total).quantize(Decimal("0.01")) if total else Decimal("0.00")


def requisition_parts_cost(requisition) -> Decimal:
    """The parts cost of the job a requisition is for (its work order's when it names no job)."""
    return job_parts_cost(
        dealership_ids=[requisition.dealership_id],
        work_order_id=requisition.work_order_id,
        job_id=requisition.job_id,
        work_order_ref=requisition.work_order_ref,
    )


def with_requisition_parts_cost(qs: QuerySet) -> QuerySet:
    """Requisitions with ``parts_cost_total`` (the ledger's signed sum that ``requisition_parts_cost`` negates) read
    in the list's query: one subquery per way a requisition names its job, never a query per row (issue 19)."""

    def ledger_sum(**match) -> Subquery:
        rows = (
            StockMovement.objects.filter(dealership_id=OuterRef("dealership_id"), **match)
            .order_by()
            .values("dealership_id")
            .annotate(total=Sum(F("quantity") * F("unit_cost"), output_field=DecimalField()))
            .values("total")
        )
        return Subquery(rows, output_field=DecimalField())

    return qs.annotate(
        parts_cost_total=Case(
            When(job_id__isnull=False, then=ledger_sum(job_id=OuterRef("job_id"))),
            When(work_order_id__isnull=False, then=ledger_sum(work_order_id=OuterRef("work_order_id"))),
            When(
                ~Q(work_order_ref=""),
                then=ledger_sum(work_order_ref=OuterRef("work_order_ref"), work_order_id__isnull=True),
            ),
            default=None,
            output_field=DecimalField(),
        )
    )


def requisition_parts_cost_of(requisition) -> Decimal:
    """The parts cost of a requisition: from ``with_requisition_parts_cost``'s annotation when the row has it."""
    if not hasattr(requisition, "parts_cost_total"):
        return requisition_parts_cost(requisition)
    total = requisition.parts_cost_total
    return (-total).quantize(Decimal("0.01")) if total else Decimal("0.00")


def job_cost_report(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet:
    """R32: parts cost per job: one row per work order and job the ledger rows were issued to."""
    qs = StockMovement.objects.filter(dealership_id__in=list(dealership_ids)).exclude(
        work_order_ref="", work_order_id__isnull=True
    )
    qs = text_search(qs, search, "work_order_ref")
    return (
        qs.values("work_order_ref", "work_order_id", "job_id")
        .annotate(
            cost=-Sum(F("quantity") * F("unit_cost"), output_field=DecimalField()),
            lines=Count("id"),
        )
        .order_by("-work_order_ref", "job_id")
    )


def parts_cost_by_job(*, dealership_id: int, work_order_id: int) -> dict[int | None, Decimal]:
    """R32 / issue 15 item 2: job id (None: the work order as a whole) → the parts cost the ledger charged to it."""
    rows = (
        StockMovement.objects.filter(dealership_id=dealership_id, work_order_id=work_order_id)
        .values("job_id")
        .annotate(cost=-Sum(F("quantity") * F("unit_cost"), output_field=DecimalField()))
    )
    return {row["job_id"]: row["cost"].quantize(Decimal("0.01")) for row in rows}


def parts_issued_to_work_order(*, dealership_id: int, work_order_id: int) -> dict[int, Decimal]:
    """Issue 15 item 3 (R22): part id → quantity the warehouse issued to the work order against its requisitions,
    net of what came back to stock against it — read from the ledger, not from the work order's planned lines."""
    from .models import MovementKind

    rows = (
        StockMovement.objects.filter(dealership_id=dealership_id, work_order_id=work_order_id)
        .filter(
            Q(kind=MovementKind.ISSUE, requisition_line__requisition__work_order_id=work_order_id)
            | Q(kind=MovementKind.RETURN_IN)
        )
        .values("part_id")
        .annotate(net=-Sum("quantity"))
    )
    return {row["part_id"]: row["net"] for row in rows if row["net"] > 0}


def count_plan(*, warehouse, now=None) -> QuerySet[StockBalance]:
    """R26: balances due for counting — never counted, or counted longer ago than their class's interval
    (A quarterly, B twice a year, C yearly; configurable)."""
    from django.utils import timezone

    now = now or timezone.now()
    intervals = conf.get("PARTS_COUNT_INTERVAL_DAYS")
    due = Q(last_counted_at__isnull=True)
    for cls, days in intervals.items():
        due |= Q(part__abc_class=cls, last_counted_at__lt=now - datetime.timedelta(days=int(days)))
    return (
        StockBalance.objects.filter(warehouse=warehouse)
        .filter(due)
        .select_related("part", "location")
        .order_by("part__abc_class", "part__number")
    )


def count_plan_summary(*, dealership_ids: Iterable[int], now=None) -> list[dict]:
    """How many parts per warehouse and class are due for counting."""
    rows = []
    for warehouse in Warehouse.objects.filter(dealership_id__in=list(dealership_ids), is_active=True):
        per_class = (
            count_plan(warehouse=warehouse, now=now)
            .values("part__abc_class")
            .annotate(n=Count("id"))
            .order_by("part__abc_class")
        )
        rows.append({"warehouse": warehouse, "classes": {r["part__abc_class"] or "—": r["n"] for r in per_class}})
    return rows


def count_list(*, dealership_ids: Iterable[int], status: str = ""):
    from .models import StockCount

    qs = (
        StockCount.objects.filter(dealership_id__in=list(dealership_ids))
        .select_related("warehouse", "location", "started_by", "approved_by")
        .annotate(line_count=Count("lines"))
        # Meta.ordering is not applied to a GROUP BY query: order explicitly so pages are stable.
        .order_by("-created_at", "-id")
    )
    return qs.filter(status=status) if status else qs


def sales_order_list(*, dealership_ids: Iterable[int], status: str = "", search: str = ""):
    from .models import SalesOrder

    qs = SalesOrder.objects.filter(dealership_id__in=list(dealership_ids)).select_related("customer", "manager")
    qs = filter_given(qs, status=status)
    qs = text_search(qs, search, "number", "customer__name", "invoice_number", "tracking_number")
    from .models import SalesOrderLine

    # Issue 19: the total per page row (a correlated sum); a join + GROUP BY summed every order's lines before the
    # ORDER BY … LIMIT could stop (3.5 s over 100,000 orders).
    totals = (
        SalesOrderLine.objects.filter(order_id=OuterRef("pk"))
        .order_by()
        .values("order_id")
        .annotate(
            total=Sum(F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=16, decimal_places=2))
        )
        .values("total")
    )
    return qs.annotate(
        total_value=Coalesce(Subquery(totals, output_field=DecimalField(max_digits=16, decimal_places=2)), ZERO)
    ).order_by("-created_at", "-id")


def return_list(*, dealership_ids: Iterable[int], status: str = "", search: str = ""):
    from .models import ReturnRequest

    qs = ReturnRequest.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "customer", "part", "sales_order"
    )
    if status:
        qs = qs.filter(status=status)
    return text_search(qs, search, "customer__name", "part__number")


def requisition_list(*, dealership_ids: Iterable[int], status: str = "", search: str = ""):
    from .models import Requisition

    qs = Requisition.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "requested_by", "approved_by"
    )
    if status:
        qs = qs.filter(status=status)
    return text_search(qs, search, "work_order_ref", "technician")


def sales_order_history(*, customer) -> QuerySet:
    """Issue 14 item 3: the customer's sales orders for the card, open ones first, then newest."""
    from dms.core.history import open_first, subject_q

    from .models import SalesOrder

    closed = (SalesOrder.Status.SHIPPED, SalesOrder.Status.CANCELLED)
    qs = SalesOrder.objects.filter(subject_q(customer=customer))
    return open_first(qs, open_q=~Q(status__in=closed), newest="created_at")


def return_history(*, customer) -> QuerySet:
    """Issue 14 item 3: the customer's return requests for the card, open ones first, then newest."""
    from dms.core.history import open_first, subject_q

    from .models import ReturnRequest

    closed = (ReturnRequest.Status.REFUSED, ReturnRequest.Status.COMPLETED)
    qs = ReturnRequest.objects.filter(subject_q(customer=customer)).select_related("part")
    return open_first(qs, open_q=~Q(status__in=closed), newest="created_at")


# -- issue 15 item 7: scanning ----------------------------------------------------------------------------------------
def part_by_code(*, dealership_id: int, code: str) -> Part | None:
    """The part a keyboard-wedge scanner names: its barcode (exactly, as printed) or its part number (the way numbers
    are stored: upper case, no spaces). The barcode wins, since a label is what a scanner reads."""
    compact = "".join((code or "").split())
    if not compact:
        return None
    parts = Part.objects.filter(dealership_id=dealership_id)
    return parts.filter(barcode=compact).first() or parts.filter(number=compact.upper()).first()


# ---------------------------------------------------------------------------------------------------------------------
# Alert levels (R27), count variances (R26), work orders named by requisitions (R32)


def effective_alert_level(balance: StockBalance) -> Decimal:
    if balance.alert_level is not None:
        return balance.alert_level
    return Decimal(conf.get("PARTS_DEFAULT_ALERT_LEVEL").get(balance.part.abc_class, Decimal("0")))


def suggested_reorder_quantity(balance: StockBalance, level: Decimal) -> Decimal:
    """Bring free stock up to the class's target (alert level x factor); whole units for pieces and sets."""
    factor = Decimal(conf.get("PARTS_REORDER_FACTOR").get(balance.part.abc_class, Decimal("2")))
    wanted = max(level * factor - balance.available, level, Decimal("1"))
    if balance.part.unit in (Part.Unit.PIECE, Part.Unit.SET):
        wanted = Decimal(math.ceil(wanted))
    return wanted


def parts_manager_emails(dealership_id: int) -> list[str]:
    return list(
        User.objects.filter(is_active=True, groups__name=roles.PARTS_MANAGER, staff_profile__dealerships=dealership_id)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def variance_report(count: StockCount) -> dict:
    """Surpluses and shortages with reasons and their value at the average cost."""
    balances = {b.part_id: b.average_cost for b in StockBalance.objects.filter(warehouse_id=count.warehouse_id)}
    surpluses, shortages = [], []
    for line in count.lines.select_related("part", "location"):
        if not line.variance:
            continue
        value = (line.variance * balances.get(line.part_id, Decimal("0"))).quantize(Decimal("0.01"))
        (surpluses if line.variance > 0 else shortages).append({"line": line, "value": value})
    return {
        "surpluses": surpluses,
        "shortages": shortages,
        "surplus_value": sum((r["value"] for r in surpluses), Decimal("0.00")),
        "shortage_value": sum((r["value"] for r in shortages), Decimal("0.00")),
    }


# The reference targets the service app provides for work orders and their jobs (dms.core.references): parts sits
# below service and does not import it.
WORK_ORDER = "service.WorkOrder"
OPEN_WORK_ORDER = "service.OpenWorkOrder"
WORK_ORDER_JOB = "service.WorkOrderJob"
OPEN_WORK_ORDER_JOB = "service.OpenWorkOrderJob"


def resolve_work_order_and_job(
    *, dealership: Dealership | int, work_order_id, job_id=None
) -> tuple[Model, Model | None]:
    """Issue 15 item 2 (R32): the work order a requisition names, inside ``dealership``, and the job on it.

    A missing or foreign work order, or a job that is not on that work order, is a ValidationError (400 / form
    error). Without a job the work order's only job is taken; a work order with several jobs needs one chosen, so
    the parts cost always lands on a job when there is one.
    """
    if work_order_id in (None, ""):
        raise ValidationError({"work_order_id": _("Choose the work order the parts are for.")})
    work_order = resolve_reference(WORK_ORDER, work_order_id, dealership=dealership, field="work_order_id")
    jobs = reference_target(WORK_ORDER_JOB)
    jobs = jobs.filter(work_order_id=work_order.pk) if jobs is not None else None
    if job_id in (None, ""):
        only = list(jobs[:2]) if jobs is not None else []
        if len(only) > 1:
            raise ValidationError(
                {"job_id": _("Choose the job on work order %(number)s the parts are for.") % {"number": work_order}}
            )
        return work_order, (only[0] if only else None)
    try:
        job = resolve_reference(jobs if jobs is not None else WORK_ORDER_JOB, job_id, dealership=dealership,
                                field="job_id")  # fmt: skip
    except ValidationError:
        raise ValidationError(
            {"job_id": _("Job #%(id)s is not on work order %(number)s.") % {"id": job_id, "number": work_order}}
        ) from None
    return work_order, job


def part_search(*, dealership_id: int, query: str, limit: int = 20) -> list[Part]:
    """The part picker (issue 14 item 4): active parts by number or name with the stock on hand in all warehouses.

    One query, LIMIT inside it; the substring conditions use the trigram indexes of ``0004_search_trigram_indexes``
    and the stock is a correlated sum over the part's few balances, so 50,000 parts are not read.
    """
    on_hand = (
        StockBalance.objects.filter(dealership_id=dealership_id, part_id=OuterRef("pk"))
        .values("part_id")
        .annotate(total=Sum("on_hand"))
        .values("total")
    )
    qs = Part.objects.filter(dealership_id=dealership_id, is_active=True)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(number__icontains=query) | Q(name__icontains=query))
    return list(
        qs.only("id", "number", "name", "unit")
        .annotate(on_hand=Coalesce(Subquery(on_hand), ZERO))
        .order_by("number")[:limit]
    )


def shipped_sales_order_search(
    *, dealership_id: int, query: str, customer_id: int | None = None, limit: int = PICKER_LIMIT
) -> list:
    """The return request form's order picker: the dealership's shipped sales orders by number, customer name or
    invoice number, the chosen customer's only when one is given, newest first; one query with the LIMIT inside it
    (every shipped order was an <option> of the form)."""
    from .models import SalesOrder

    qs = picker_matches(
        SalesOrder.objects.filter(dealership_id=dealership_id, status=SalesOrder.Status.SHIPPED),
        query=query,
        fields=["number", "customer__name", "invoice_number"],
        customer_id=customer_id,
    )
    return list(
        qs.select_related("customer")
        .only("id", "number", "shipped_at", "invoice_number", "customer_id", "customer__name")
        .order_by("-created_at", "-id")[:limit]
    )
