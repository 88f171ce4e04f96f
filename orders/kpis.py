"""Parts KPIs for directors (issue 15 item 8): reads over the dealerships a user may see, for a period of local days.

Definitions (each test derives its figure from the rows it creates, by these words):

* **Fill rate from stock** — the share of the period's demand lines served from stock at once. Demand lines are
  counter-sale lines quoted in the period (served from stock when the stock available at the quote covered the
  quantity), lines of requisitions issued to jobs (R32; issued from stock), and lines of customer orders taken in the
  period for a repair or a customer (ordered from the supplier: not served from stock). Stock replenishment orders
  are not demand.
* **Lost demand** — lines (and their value at the selling price) of counter sales and customer orders taken in the
  period and then cancelled.
* **Stock turnover** — the cost of parts issued to jobs and sold over the counter in the period, divided by the stock
  value now; ``turnover_annual`` scales it to 365 days.
* **Aged stock** — stock on hand now by days since its last receipt into the warehouse (a receipt, a customer return
  or a transfer in): 0–90, 91–180, 181–365, over 365 days; lines, quantity and value at average cost.
* **Special-order parts by age** — parts received for a customer order and not yet issued (status «Получен») by days
  since they arrived: 0–7, 8–14, 15–30, over 30 days; orders and value at the selling price.
"""

import dataclasses
import datetime
import zoneinfo
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Max, Sum
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _

from dms.core.formatting import Money, format_money, money_title, svg_chart
from dms.core.inputs import parse_period_params
from dms.core.models import Dealership
from parts.models import (
    CONSUMPTION_KINDS,
    MovementKind,
    Requisition,
    RequisitionLine,
    SalesOrder,
    SalesOrderLine,
    StockBalance,
    StockMovement,
)

from .models import CustomerOrderLine, OrderPurpose, OrderStatus

AGED_STOCK_BUCKETS = ((0, 90), (91, 180), (181, 365), (366, None))
SPECIAL_ORDER_BUCKETS = ((0, 7), (8, 14), (15, 30), (31, None))
INBOUND_KINDS = (MovementKind.RECEIPT, MovementKind.RETURN_IN, MovementKind.TRANSFER_IN)
CUSTOMER_PURPOSES = (OrderPurpose.REPAIR, OrderPurpose.COUNTER_SALE)
MONEY = Decimal("0.01")


@dataclasses.dataclass(slots=True)
class AgeBucket:
    label: str  # "0–90", "366+"
    lines: int = 0  # stock lines or orders
    quantity: Decimal = Decimal("0")
    value: Decimal = Decimal("0")


@dataclasses.dataclass(slots=True)
class PartsKpis:
    date_from: datetime.date
    date_to: datetime.date
    dealership_ids: list[int]
    demand_lines: int
    from_stock_lines: int
    fill_rate: Decimal | None  # from_stock_lines / demand_lines
    lost_lines: int
    lost_value: Decimal
    consumed_cost: Decimal
    stock_value: Decimal
    turnover: Decimal | None  # consumed_cost / stock_value
    turnover_annual: Decimal | None
    aged_stock: list[AgeBucket]
    special_orders: list[AgeBucket]


def _bounds(date_from: datetime.date, date_to: datetime.date, tz: datetime.tzinfo):
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def _buckets(spec) -> list[AgeBucket]:
    return [AgeBucket(f"{low}–{high}" if high is not None else f"{low}+") for low, high in spec]


def _bucket_for(buckets: list[AgeBucket], spec, days: int) -> AgeBucket:
    for bucket, (_low, high) in zip(buckets, spec, strict=True):
        if high is None or days <= high:
            return bucket
    return buckets[-1]


def _days_since(now: datetime.datetime) -> Callable[[datetime.datetime, str], int]:
    """``days(since, time_zone)``: whole days from ``since`` to ``now`` in a dealership's calendar. Issue 19: today's
    date is found once per time zone and each row's date straight from its aware datetime (100,000 stock lines called
    ``localtime`` twice each: most of the KPI page's second)."""
    todays: dict[str, tuple[zoneinfo.ZoneInfo, datetime.date]] = {}

    def days(since: datetime.datetime, time_zone: str) -> int:
        zone = todays.get(time_zone)
        if zone is None:
            tz = zoneinfo.ZoneInfo(time_zone)
            zone = todays[time_zone] = (tz, timezone.localtime(now, tz).date())
        tz, today = zone
        return (today - since.astimezone(tz).date()).days

    return days


def _bucket_finder(buckets: list[AgeBucket], spec) -> Callable[[int], AgeBucket]:
    """``_bucket_for`` of each number of days, found once per number."""
    found: dict[int, AgeBucket] = {}

    def bucket(days: int) -> AgeBucket:
        hit = found.get(days)
        if hit is None:
            hit = found[days] = _bucket_for(buckets, spec, days)
        return hit

    return bucket


def _ratio(numerator: Decimal | int, denominator: Decimal | int, places: str = "0.001") -> Decimal | None:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places)) if denominator else None


def _demand(dealership, date_from, date_to) -> tuple[int, int, int, Decimal]:
    """(demand lines, from stock, lost lines, lost value) of one dealership's period."""
    start, end = _bounds(date_from, date_to, dealership.tz)
    sales = SalesOrderLine.objects.filter(
        order__dealership=dealership, order__created_at__gte=start, order__created_at__lt=end
    )
    quoted = list(sales.filter(available_at_quote__isnull=False).values_list("quantity", "available_at_quote"))
    from_stock = sum(1 for quantity, available in quoted if available >= quantity)
    issued = RequisitionLine.objects.filter(
        requisition__dealership=dealership,
        requisition__status=Requisition.Status.ISSUED,
        requisition__issued_at__gte=start,
        requisition__issued_at__lt=end,
    ).count()
    ordered = CustomerOrderLine.objects.filter(
        order__dealership=dealership,
        order__purpose__in=CUSTOMER_PURPOSES,
        order__created_at__gte=start,
        order__created_at__lt=end,
    )
    lost_sales = sales.filter(order__status=SalesOrder.Status.CANCELLED)
    lost_orders = ordered.filter(order__status=OrderStatus.CANCELLED)
    lost_value = Decimal("0")
    for qs in (lost_sales, lost_orders):
        value = qs.aggregate(v=Sum(F("quantity") * F("unit_price")))["v"]
        lost_value += value or 0
    demand = len(quoted) + issued + ordered.count()
    return demand, from_stock + issued, lost_sales.count() + lost_orders.count(), lost_value


def _consumed_cost(dealership, date_from, date_to) -> Decimal:
    start, end = _bounds(date_from, date_to, dealership.tz)
    value = ExpressionWrapper(
        -F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=20, decimal_places=4)
    )
    total = StockMovement.objects.filter(
        dealership=dealership, kind__in=CONSUMPTION_KINDS, occurred_at__gte=start, occurred_at__lt=end
    ).aggregate(v=Sum(value))["v"]
    return total or Decimal("0")


def _aged_stock(dealership_ids, now) -> tuple[list[AgeBucket], Decimal]:
    buckets = _buckets(AGED_STOCK_BUCKETS)
    last_in = {
        (part_id, warehouse_id): moment
        for part_id, warehouse_id, moment in StockMovement.objects.filter(
            dealership_id__in=dealership_ids, kind__in=INBOUND_KINDS
        )
        .values("part_id", "warehouse_id")
        .annotate(last=Max("occurred_at"))
        .values_list("part_id", "warehouse_id", "last")
    }
    total = Decimal("0")
    balances = StockBalance.objects.filter(dealership_id__in=dealership_ids, on_hand__gt=0).values_list(
        "part_id", "warehouse_id", "on_hand", "average_cost", "created_at", "dealership__time_zone"
    )
    days_since, bucket_of = _days_since(now), _bucket_finder(buckets, AGED_STOCK_BUCKETS)
    for part_id, warehouse_id, on_hand, average_cost, created_at, time_zone in balances:
        bucket = bucket_of(days_since(last_in.get((part_id, warehouse_id)) or created_at, time_zone))
        value = (on_hand * average_cost).quantize(MONEY)
        bucket.lines += 1
        bucket.quantity += on_hand
        bucket.value += value
        total += value
    return buckets, total


def _special_orders(dealership_ids, now) -> list[AgeBucket]:
    buckets = _buckets(SPECIAL_ORDER_BUCKETS)
    lines = CustomerOrderLine.objects.filter(
        order__dealership_id__in=dealership_ids,
        order__status=OrderStatus.RECEIVED,
        order__purpose__in=CUSTOMER_PURPOSES,
    ).values_list("order_id", "order__received_at", "order__dealership__time_zone", "quantity_received", "unit_price")
    seen: set[int] = set()
    days_since, bucket_of = _days_since(now), _bucket_finder(buckets, SPECIAL_ORDER_BUCKETS)
    for order_id, received_at, time_zone, quantity, price in lines:
        bucket = bucket_of(days_since(received_at, time_zone))
        if order_id not in seen:
            seen.add(order_id)
            bucket.lines += 1
        bucket.quantity += quantity
        bucket.value += (quantity * price).quantize(MONEY)
    return buckets


def parts_kpis(
    *, dealership_ids: Iterable[int], date_from: datetime.date, date_to: datetime.date, now: datetime.datetime
) -> PartsKpis:
    """The KPIs of the module docstring for the dealerships ``dealership_ids`` (a director's: all of theirs)."""
    dealerships = list(Dealership.objects.filter(pk__in=list(dealership_ids)).order_by("pk"))
    ids = [dealership.pk for dealership in dealerships]
    demand = from_stock = lost = 0
    lost_value = consumed = Decimal("0")
    for dealership in dealerships:
        d, s, lost_lines, value = _demand(dealership, date_from, date_to)
        demand, from_stock, lost, lost_value = demand + d, from_stock + s, lost + lost_lines, lost_value + value
        consumed += _consumed_cost(dealership, date_from, date_to)
    aged, stock_value = _aged_stock(ids, now)
    days = (date_to - date_from).days + 1
    turnover = _ratio(consumed, stock_value, "0.01")
    return PartsKpis(
        date_from=date_from,
        date_to=date_to,
        dealership_ids=ids,
        demand_lines=demand,
        from_stock_lines=from_stock,
        fill_rate=_ratio(from_stock, demand),
        lost_lines=lost,
        lost_value=lost_value.quantize(MONEY),
        consumed_cost=consumed.quantize(MONEY),
        stock_value=stock_value,
        turnover=turnover,
        turnover_annual=_ratio(consumed * 365, stock_value * days, "0.01"),
        aged_stock=aged,
        special_orders=_special_orders(ids, now),
    )


MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


def parse_period(
    raw_from: str | None, raw_to: str | None, *, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD; by default the last 30 days up to today; at most a year."""
    return parse_period_params(
        raw_from, raw_to, today=today, default_days=DEFAULT_PERIOD_DAYS, max_days=MAX_PERIOD_DAYS
    )


def kpis_as_dict(kpis: PartsKpis) -> dict:
    return dataclasses.asdict(kpis)


# -- exports (dms.core.exports writes the cells) ------------------------------------------------------------------
def export_header() -> list[str]:
    return [
        _("Indicator"),
        _("Age, days"),
        _("Lines or orders"),
        _("Quantity"),
        _("Ratio"),
        money_title(_("Amount")),
    ]


def export_rows(kpis: PartsKpis) -> list[list]:
    """Ratios (fill rate, turnover) in the value column, amounts of money in the currency's column (issue 14 item 8:
    money carries its currency in XLSX and in the CSV header)."""
    money = Money.of
    rows: list[list] = [
        [_("Fill rate from stock"), "", kpis.from_stock_lines, kpis.demand_lines, kpis.fill_rate, None],
        [_("Lost demand"), "", kpis.lost_lines, None, None, money(kpis.lost_value)],
        [_("Consumption at cost"), "", None, None, None, money(kpis.consumed_cost)],
        [_("Stock value"), "", None, None, None, money(kpis.stock_value)],
        [_("Stock turnover"), "", None, None, kpis.turnover, None],
        [_("Stock turnover, annualised"), "", None, None, kpis.turnover_annual, None],
    ]
    rows += [[_("Aged stock"), b.label, b.lines, b.quantity, None, money(b.value)] for b in kpis.aged_stock]
    rows += [
        [_("Special-order parts by age"), b.label, b.lines, b.quantity, None, money(b.value)]
        for b in kpis.special_orders
    ]
    return rows


# -- the chart: plain SVG rendered here (no CDN, no script) ----------------------------------------------------------
def bar_chart(buckets: list[AgeBucket], *, title: str, width: int = 360, height: int = 160) -> str:
    """Bars of the buckets' values with their labels; the value in each bar's tooltip."""
    peak = max([bucket.value for bucket in buckets] + [Decimal("1")])
    chart_h = height - 30
    slot = width / max(len(buckets), 1)
    bar_w = slot * 0.6
    bars = []
    for index, bucket in enumerate(buckets):
        h = float(bucket.value / peak) * (chart_h - 4)
        x = index * slot + (slot - bar_w) / 2
        bars.append(
            (
                f"{x:.1f}",
                f"{chart_h - h:.1f}",
                f"{bar_w:.1f}",
                f"{h:.1f}",
                bucket.label,
                format_money(bucket.value),
                f"{x + bar_w / 2:.1f}",
                height - 10,
                bucket.label,
            )
        )
    body = format_html_join(
        "",
        '<rect class="kpi-bar" x="{}" y="{}" width="{}" height="{}" fill="#0d6efd"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
        bars,
    )
    return svg_chart(body, title=title, width=width, height=height)
