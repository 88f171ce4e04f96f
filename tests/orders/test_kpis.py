"""Issue 15 item 8: the directors' parts KPIs, each figure derived here from the rows the test creates (by the
definitions in orders.kpis), with an explicit period and ``now``; the director sees all of their dealerships."""

import csv
import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse

from dms.core import roles
from orders import kpis
from orders.models import CustomerOrder, CustomerOrderLine, OrderStatus
from parts import services as parts_services
from parts.models import MovementKind, Requisition, SalesOrder, SalesOrderLine, StockMovement
from tests.factories import CustomerFactory, DealershipFactory
from tests.service.factories import make_work_order

from .factories import PartFactory

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
NOW = datetime.datetime(2025, 6, 30, 12, tzinfo=MSK)
JUNE = (datetime.date(2025, 6, 1), datetime.date(2025, 6, 30))


def at(day: str, hour: int = 10) -> datetime.datetime:
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, hour, tzinfo=MSK)


def _sales_line(dealership, manager, *, created, quantity, available, price="50", cancelled=False):
    order = SalesOrder.objects.create(
        dealership=dealership, customer=CustomerFactory(dealership=dealership), manager=manager
    )
    part = PartFactory(dealership=dealership)
    SalesOrderLine.objects.create(
        order=order, part=part, quantity=quantity, unit_price=Decimal(price), available_at_quote=available
    )
    SalesOrder.objects.filter(pk=order.pk).update(
        created_at=at(created), **({"status": SalesOrder.Status.CANCELLED} if cancelled else {})
    )


@pytest.fixture
def world(dealership, other_dealership, make_user, make_order, advisor, parts_manager, part):
    """Rows in the director's two dealerships and in a third one the director does not see."""
    storekeeper = make_user(roles.STOREKEEPER)
    filt = part  # price 1000
    # stock: 10 filters at 100, received in January (171 days before 30 June)
    parts_services.stock_receive(actor=storekeeper, dealership=dealership, part=filt, quantity=10, unit_cost="100")
    StockMovement.objects.filter(part=filt, kind=MovementKind.RECEIPT).update(occurred_at=at("2025-01-10"))
    # consumption in June: 2 sold over the counter (200 at cost)
    parts_services.stock_issue(
        actor=storekeeper, dealership=dealership, part=filt, quantity=2, reference="Ч-1", reason="counter_sale"
    )
    StockMovement.objects.filter(part=filt, kind=MovementKind.COUNTER_SALE).update(occurred_at=at("2025-06-15"))
    # a requisition issued to a job in June: 1 filter (100 at cost), one demand line served from stock
    work_order = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-1")
    requisition = parts_services.requisition_create(
        actor=advisor, dealership=dealership, work_order_id=work_order.pk, lines=[{"part": filt, "quantity": 1}]
    )
    parts_services.requisition_approve(actor=parts_manager, requisition=requisition)
    parts_services.requisition_issue(actor=storekeeper, requisition=requisition)
    Requisition.objects.filter(pk=requisition.pk).update(issued_at=at("2025-06-20"))
    StockMovement.objects.filter(part=filt, kind=MovementKind.ISSUE).update(occurred_at=at("2025-06-20"))
    # the other dealership of the director: 5 bolts at 20, received 10 days ago
    bolt = PartFactory(dealership=other_dealership, price=30)
    other_keeper = make_user(roles.STOREKEEPER, dealerships=[other_dealership])
    parts_services.stock_receive(actor=other_keeper, dealership=other_dealership, part=bolt, quantity=5, unit_cost="20")
    StockMovement.objects.filter(part=bolt).update(occurred_at=at("2025-06-20"))
    # counter sales quoted in June: served from stock (5 available for 1), short (2 for 3), not quoted (ignored),
    # and a cancelled one (0 for 2 at 50: lost 100); one in May (outside the period)
    _sales_line(dealership, parts_manager, created="2025-06-10", quantity=1, available=5)
    _sales_line(dealership, parts_manager, created="2025-06-10", quantity=3, available=2)
    _sales_line(dealership, parts_manager, created="2025-06-11", quantity=1, available=None)
    _sales_line(dealership, parts_manager, created="2025-06-12", quantity=2, available=0, cancelled=True)
    _sales_line(dealership, parts_manager, created="2025-05-12", quantity=2, available=9)
    # customer orders taken in June: one ordered from the supplier, one cancelled (1 × 1000 lost)
    ordered = make_order(lines=[{"part": filt, "quantity": 2}])
    cancelled = make_order(lines=[{"part": filt, "quantity": 1}])
    CustomerOrder.objects.filter(pk=ordered.pk).update(created_at=at("2025-06-05"))
    CustomerOrder.objects.filter(pk=cancelled.pk).update(created_at=at("2025-06-06"), status=OrderStatus.CANCELLED)
    # special orders: parts waiting for their customers since 25 June (5 days) and 20 May (41 days)
    for day in ("2025-06-25", "2025-05-20"):
        waiting = make_order(lines=[{"part": filt, "quantity": 2}])
        CustomerOrder.objects.filter(pk=waiting.pk).update(status=OrderStatus.RECEIVED, received_at=at(day))
        CustomerOrderLine.objects.filter(order=waiting).update(quantity_received=2)
    # a dealership the director does not see: its stock and sales count nowhere
    stranger = DealershipFactory()
    foreign = PartFactory(dealership=stranger)
    parts_services.stock_receive(
        actor=make_user(roles.STOREKEEPER, dealerships=[stranger]),
        dealership=stranger,
        part=foreign,
        quantity=50,
        unit_cost="1000",
    )
    _sales_line(stranger, parts_manager, created="2025-06-10", quantity=1, available=0, cancelled=True)


def test_each_figure_from_the_rows(world, director, dealership, other_dealership):
    report = kpis.parts_kpis(
        dealership_ids=[dealership.pk, other_dealership.pk], date_from=JUNE[0], date_to=JUNE[1], now=NOW
    )
    # demand: 3 quoted sales lines + 1 requisition line + 2 customer-order lines; from stock: 1 sale + 1 requisition
    assert (report.demand_lines, report.from_stock_lines, report.fill_rate) == (6, 2, Decimal("0.333"))
    assert (report.lost_lines, report.lost_value) == (2, Decimal("1100.00"))
    # consumed 300 at cost; stock now 7 × 100 + 5 × 20 = 800
    assert (report.consumed_cost, report.stock_value) == (Decimal("300.00"), Decimal("800.00"))
    assert report.turnover == Decimal("0.38")  # 300 / 800 = 0.375
    assert report.turnover_annual == Decimal("4.56")  # 300 × 365 / (800 × 30) = 4.5625
    aged = {b.label: (b.lines, b.quantity, b.value) for b in report.aged_stock}
    assert aged == {
        "0–90": (1, Decimal("5"), Decimal("100.00")),
        "91–180": (1, Decimal("7"), Decimal("700.00")),
        "181–365": (0, Decimal("0"), Decimal("0")),
        "366+": (0, Decimal("0"), Decimal("0")),
    }
    special = {b.label: (b.lines, b.value) for b in report.special_orders}
    assert special == {
        "0–7": (1, Decimal("2000.00")),
        "8–14": (0, Decimal("0")),
        "15–30": (0, Decimal("0")),
        "31+": (1, Decimal("2000.00")),
    }


def test_api_director_sees_all_their_dealerships(world, director, dealership, other_dealership, api_as):
    api = api_as(director)
    data = api.get("/api/reports/parts-kpis/", {"from": "2025-06-01", "to": "2025-06-30"}).data
    assert sorted(data["dealership_ids"]) == sorted([dealership.pk, other_dealership.pk])
    assert data["stock_value"] == "800.00" and data["lost_value"] == "1100.00"
    only_other = api.get(
        "/api/reports/parts-kpis/", {"from": "2025-06-01", "to": "2025-06-30", "dealership": other_dealership.pk}
    ).data
    assert only_other["dealership_ids"] == [other_dealership.pk] and only_other["stock_value"] == "100.00"
    assert api.get("/api/reports/parts-kpis/", {"from": "2025-07-01", "to": "2025-06-01"}).status_code == 400


def test_advisor_may_not_see_the_kpis(api_as, advisor, client):
    assert api_as(advisor).get("/api/reports/parts-kpis/").status_code == 403
    client.force_login(advisor)
    assert client.get(reverse("orders:kpis")).status_code == 403


def test_page_with_chart_and_exports(world, director, client):
    client.force_login(director)
    url = reverse("orders:kpis")
    page = client.get(url, {"from": "2025-06-01", "to": "2025-06-30"})
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<svg class="kpi-chart"') == 2 and 'id="kpi-aged-stock"' in html and "<script>" not in html
    assert page.context["report"].stock_value == Decimal("800.00")
    exported = client.get(url, {"from": "2025-06-01", "to": "2025-06-30", "export": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 6 + 4 + 4
    # issue 14 item 8: money with its currency on the page and in the export's header; ratios apart from amounts
    assert 'id="kpi-stock-value">800.00\u00a0₽<' in html  # the page is in English here
    english = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert english[0][-2:] == ["Ratio", "Amount, ₽"] and english[4][0] == "Stock value" and english[4][-1] == "800.00"
    workbook = client.get(url, {"from": "2025-06-01", "to": "2025-06-30", "export": "xlsx"})
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_ages_count_days_of_the_dealerships_calendar(dealership, make_order):
    """Each special order's age is counted in its dealership's calendar (issue 19 kept it while finding today's date
    once per time zone): received at 00:30 Moscow time on 23 June is 7 days old on 30 June (in UTC it arrived on the
    22nd: 8 days); at 23:30 on the 22nd, 8 days."""
    assert dealership.time_zone == "Europe/Moscow"
    for received in (
        datetime.datetime(2025, 6, 23, 0, 30, tzinfo=MSK),
        datetime.datetime(2025, 6, 22, 23, 30, tzinfo=MSK),
    ):
        waiting = make_order(lines=[{"part": PartFactory(dealership=dealership), "quantity": 1}])
        CustomerOrder.objects.filter(pk=waiting.pk).update(status=OrderStatus.RECEIVED, received_at=received)
        CustomerOrderLine.objects.filter(order=waiting).update(quantity_received=1)
    report = kpis.parts_kpis(dealership_ids=[dealership.pk], date_from=JUNE[0], date_to=JUNE[1], now=NOW)
    assert {b.label: b.lines for b in report.special_orders} == {"0–7": 1, "8–14": 1, "15–30": 0, "31+": 0}
