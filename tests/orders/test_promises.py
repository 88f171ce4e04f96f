"""Issue 15 item 8: each supplier's record per part class, and each open order's revised expected date from its
supplier's record — in the selectors, on the dashboard, on the order page and in the API (list = detail)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from orders import promises, selectors, services
from orders.models import CustomerOrder

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def at(day: str, hour: int = 10) -> datetime.datetime:
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, hour, tzinfo=MSK)


@pytest.fixture
def history(make_order, parts_manager, supplier, dealership):
    """The supplier's received orders: class A filter (promised 5, came 8 days: 3 late), class A+C (promised 5, on
    time), class C only (promised 10, came 11: 1 late); plus an order of another supplier (never counted)."""
    filter_a = PartFactory(dealership=dealership, abc_class="A")
    bolt_c = PartFactory(dealership=dealership, abc_class="C")
    plain = PartFactory(dealership=dealership, abc_class="")

    def received(lines, placed, eta_days, arrived, supplier_=supplier):
        order = make_order(lines=[{"part": p, "quantity": 1} for p in lines])
        services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=supplier_,
            supplier_order_number=f"S-{order.pk}",
            expected_at=at(placed).date() + datetime.timedelta(days=eta_days),
            long_term_agreed=True,
            now=at(placed),
        )
        services.customer_order_receive(
            actor=parts_manager,
            order=order,
            lines=[{"line": line.pk, "quantity": 1} for line in order.lines.all()],
            now=at(arrived),
        )
        return order

    received([filter_a], "2025-06-01", 5, "2025-06-09")
    received([filter_a, bolt_c], "2025-06-02", 5, "2025-06-07")
    received([bolt_c], "2025-06-03", 10, "2025-06-14")
    received([plain], "2025-06-01", 5, "2025-06-30", supplier_=SupplierFactory(dealership=dealership))
    return {"A": filter_a, "C": bolt_c}


def test_record_per_part_class_from_rows(history, supplier):
    overall = selectors.supplier_record(supplier=supplier)
    assert (overall.orders, overall.on_time, overall.mean_delay_days) == (3, 1, Decimal("1.3"))  # (3+0+1)/3
    rows = {row.abc_class: row for row in promises.supplier_record_by_class(supplier=supplier)}
    assert list(rows) == ["A", "C"]
    a, c = rows["A"], rows["C"]
    # A: the 3-day-late order and the on-time one
    assert (a.orders, a.on_time, a.on_time_share) == (2, 1, Decimal("0.500"))
    assert (a.mean_promised_days, a.mean_actual_days, a.mean_delay_days) == (
        Decimal("5.0"),
        Decimal("6.5"),
        Decimal("1.5"),
    )
    # C: the on-time mixed order and the 1-day-late one
    assert (c.orders, c.on_time, c.on_time_share) == (2, 1, Decimal("0.500"))
    assert (c.mean_promised_days, c.mean_actual_days, c.mean_delay_days) == (
        Decimal("7.5"),
        Decimal("8.0"),
        Decimal("0.5"),
    )


def test_record_api_has_the_classes(history, supplier, api_as, parts_manager):
    data = api_as(parts_manager).get(f"/api/suppliers/{supplier.pk}/record/").data
    assert data["orders"] == 3 and data["mean_delay_days"] == "1.3"
    assert [(row["abc_class"], row["orders"], row["on_time"], row["mean_delay_days"]) for row in data["by_class"]] == [
        ("A", 2, 1, "1.5"),
        ("C", 2, 1, "0.5"),
    ]


def test_revised_expected_date_formula():
    eta = datetime.date(2025, 7, 1)
    assert promises.revised_expected_date(eta, None) == eta
    assert promises.revised_expected_date(eta, Decimal("0")) == eta
    assert promises.revised_expected_date(eta, Decimal(4) / 3) == datetime.date(2025, 7, 3)  # 1.33 → 2 days
    assert promises.revised_expected_date(eta, Decimal("2")) == datetime.date(2025, 7, 3)
    assert promises.revised_expected_date(None, Decimal("2")) is None


@pytest.fixture
def open_order(history, make_order, place):
    # mean delay (3 + 0 + 1) / 3 = 1.33 → the ETA moves 2 days
    return place(make_order(), days=5, now=at("2025-07-01"))


def test_open_order_revised_everywhere_alike(open_order, supplier, dealership, api_as, parts_manager, client):
    expected = datetime.date(2025, 7, 8)  # ETA 06.07 + 2
    assert open_order.expected_at == datetime.date(2025, 7, 6)
    assert promises.order_revised_expected_date(open_order) == expected
    qs = selectors.customer_order_list(dealership_ids=[dealership.pk])
    by_sql = {row.id: row.revised_expected_at for row in selectors.order_rows(qs)}
    by_python = {row.id: row.revised_expected_at for row in selectors.iter_order_rows(qs)}
    assert by_sql == by_python
    # only the waiting order has one; received ones do not
    assert {pk: date for pk, date in by_sql.items() if date} == {open_order.pk: expected}
    api = api_as(parts_manager)
    item = next(i for i in api.get("/api/orders/").data["results"] if i["id"] == open_order.pk)
    assert item["revised_expected_at"] == "2025-07-08"
    assert api.get(f"/api/orders/{open_order.pk}/").data["revised_expected_at"] == "2025-07-08"
    client.force_login(parts_manager)
    page = client.get(reverse("orders:detail", args=[open_order.pk])).content.decode()
    shown = date_format(expected, "SHORT_DATE_FORMAT")
    assert 'id="revised-eta"' in page and shown in page[page.index('id="revised-eta"') :][:200]
    assert 'id="supplier-record-classes"' in page
    dashboard = client.get(reverse("orders:dashboard")).content.decode()
    row = dashboard[dashboard.index(f'id="order-{open_order.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "revised-eta text-danger" in row and shown in row


def test_supplier_without_record_keeps_its_eta(make_order, place, dealership):
    order = place(make_order(), days=5, now=at("2025-07-01"))
    assert promises.order_revised_expected_date(order) == datetime.date(2025, 7, 6)
    received = CustomerOrder.objects.filter(pk=order.pk)
    assert selectors.order_rows(selectors.customer_order_list(dealership_ids=[dealership.pk]))[
        0
    ].revised_expected_at == (datetime.date(2025, 7, 6))
    assert received.count() == 1


def _history_reads(queries) -> int:
    """Queries that read a supplier's fully received orders (its whole history)."""
    return sum(
        1
        for query in queries
        if '"orders_customerorder"."received_at" IS NOT NULL' in query["sql"]
        and '"orders_supplierorder"."supplier_id" =' in query["sql"]
    )


def test_record_and_classes_from_one_read_of_the_history(open_order, supplier, api_as, parts_manager, client):
    """Issue 19: the order page and the supplier's record API read the supplier's history once for both the record
    and its classes (each read cost 40 ms at 20,000 orders), with the figures of two separate reads."""
    history = promises.supplier_history(supplier=supplier)
    assert selectors.supplier_record(supplier=supplier, history=history) == selectors.supplier_record(supplier=supplier)
    assert promises.supplier_record_by_class(supplier=supplier, history=history) == promises.supplier_record_by_class(
        supplier=supplier
    )
    # three orders, one of them with parts of two classes: four rows, three orders
    assert len(history) == 4 and len({pk for pk, _class, _days in history}) == 3
    client.force_login(parts_manager)
    with CaptureQueriesContext(connection) as page:
        response = client.get(reverse("orders:detail", args=[open_order.pk]))
    assert response.status_code == 200 and 'id="supplier-record-classes"' in response.content.decode()
    assert _history_reads(page.captured_queries) == 1
    with CaptureQueriesContext(connection) as api:
        data = api_as(parts_manager).get(f"/api/suppliers/{supplier.pk}/record/").data
    assert (data["orders"], len(data["by_class"])) == (3, 2)
    assert _history_reads(api.captured_queries) == 1
