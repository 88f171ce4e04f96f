"""Issue 15: bad input on every new endpoint and page answers 400/403/404/409 with a message, never a 500 — the
scanner lookup, the parts KPIs (page, exports and API), batch placing and receiving, the replenishment from an
alert, the supplier record and the return to the supplier."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import CustomerOrder, OrderStatus, SupplierOrder

from .test_batch import _place_batch

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
KPIS = "/api/reports/parts-kpis/"


def _message(response) -> str:
    body = response.json()
    return str(body.get("detail") or body)


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2025-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01"}, "to"),
        ({"from": "2025-07-01", "to": "2025-06-01"}, "from"),
        ({"from": "2020-01-01", "to": "2025-06-01"}, "to"),
        ({"dealership": "abc"}, "dealership"),
        ({"dealership": HUGE}, "dealership"),
        ({"dealership": "-1"}, "dealership"),
    ],
)
def test_kpis_api_bad_query_is_400_naming_the_field(api_as, director, query, field):
    response = api_as(director).get(KPIS, query)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_kpis_api_dealership_not_yours_is_400_not_an_empty_report(api_as, director):
    from tests.factories import DealershipFactory

    stranger = DealershipFactory()
    response = api_as(director).get(KPIS, {"dealership": stranger.pk})
    assert response.status_code == 400
    assert response.json() == {"dealership": ["Unknown dealership."]}


def test_kpis_page_bad_dates_show_the_error_and_refuse_the_export(client, director):
    client.force_login(director)
    url = reverse("orders:kpis")
    page = client.get(url, {"from": "2025-02-30"})
    assert page.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in page.content.decode()
    for export in ("csv", "xlsx"):
        refused = client.get(url, {"from": "2025-07-01", "to": "2025-06-01", "export": export})
        assert refused.status_code == 400
        assert "The start date is after the end date." in refused.content.decode()


def test_kpis_page_dealership_not_yours_is_400_with_the_message(client, director):
    from tests.factories import DealershipFactory

    client.force_login(director)
    url = reverse("orders:kpis")
    for raw in (str(DealershipFactory().pk), "abc"):
        page = client.get(url, {"dealership": raw})
        assert page.status_code == 400 and "Unknown dealership." in page.content.decode()
        assert client.get(url, {"dealership": raw, "export": "csv"}).status_code == 400
    assert client.get(url, {"export": "pdf"}).status_code == 200  # an unknown format shows the page


@pytest.mark.parametrize("code", ["", "   ", "x" * 5000, "\u202e04152", "1" * 13])
def test_lookup_bad_codes_are_400_or_404_with_a_message(client, storekeeper, part, code):
    client.force_login(storekeeper)
    response = client.get(reverse("parts:part_lookup"), {"code": code})
    assert response.status_code in (400, 404), response.status_code
    assert response.json()["detail"]


def test_lookup_with_a_nul_is_refused_by_the_control_character_guard(client, storekeeper):
    client.force_login(storekeeper)
    assert client.get(reverse("parts:part_lookup"), {"code": "04152\x00YZZA1"}).status_code == 400


def test_supplier_record_bad_ids_are_404(api_as, parts_manager, other_dealership):
    from .factories import SupplierFactory

    api = api_as(parts_manager)
    foreign = SupplierFactory(dealership=other_dealership)
    for pk in ("abc", HUGE, "-1", str(foreign.pk)):
        assert api.get(f"/api/suppliers/{pk}/record/").status_code == 404


@pytest.mark.parametrize(
    "orders",
    [["abc"], [HUGE], [-1], [], None, "1,2", [999999]],
    ids=["text", "huge", "negative", "empty", "null", "string", "missing"],
)
def test_api_place_batch_bad_order_ids_are_400(api_as, parts_manager, supplier, orders):
    response = api_as(parts_manager).post(
        "/api/orders/place-batch/",
        {
            "orders": orders,
            "supplier": supplier.pk,
            "supplier_order_number": "TMR-7",
            "expected_at": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "orders" in response.json()
    assert not SupplierOrder.objects.exists()


@pytest.mark.parametrize("supplier_id", ["abc", HUGE, 999999])
def test_api_place_batch_bad_supplier_is_400(api_as, parts_manager, make_order, supplier_id):
    order = make_order()
    response = api_as(parts_manager).post(
        "/api/orders/place-batch/",
        {
            "orders": [order.pk],
            "supplier": supplier_id,
            "supplier_order_number": "TMR-7",
            "expected_at": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400 and "supplier" in response.json()


@pytest.mark.parametrize(
    "change",
    [
        {"order": "abc"},
        {"order": HUGE},
        {"line": 999999},
        {"quantity": "NaN"},
        {"quantity": "Infinity"},
        {"quantity": "1e999"},
        {"quantity": "-1"},
        {"quantity": "100"},
    ],
    ids=lambda c: str(c),
)
def test_api_receive_batch_bad_lines_are_400_and_receive_nothing(
    api_as, parts_manager, make_order, part, supplier, change
):
    orders = [make_order(lines=[{"part": part, "quantity": 2}]), make_order(lines=[{"part": part, "quantity": 1}])]
    _place_batch(parts_manager, orders, supplier)
    line = {"order": orders[0].pk, "line": orders[0].lines.get().pk, "quantity": "1", **change}
    response = api_as(parts_manager).post(
        "/api/orders/receive-batch/",
        {"supplier": supplier.pk, "supplier_order_number": "TMR-100", "lines": [line]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()
    assert set(CustomerOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {
        OrderStatus.ORDERED
    }


def test_api_receive_batch_line_of_another_order_is_400(api_as, parts_manager, make_order, part, supplier):
    orders = [make_order(lines=[{"part": part, "quantity": 2}]), make_order(lines=[{"part": part, "quantity": 1}])]
    _place_batch(parts_manager, orders, supplier)
    response = api_as(parts_manager).post(
        "/api/orders/receive-batch/",
        {
            "supplier": supplier.pk,
            "supplier_order_number": "TMR-100",
            "lines": [{"order": orders[0].pk, "line": orders[1].lines.get().pk, "quantity": "1"}],
        },
        format="json",
    )
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-1", "1e999", "abc", "100"])
def test_receive_batch_page_bad_quantity_shows_an_error_and_receives_nothing(
    client, parts_manager, make_order, part, supplier, raw
):
    order = make_order(lines=[{"part": part, "quantity": 2}])
    _place_batch(parts_manager, [order], supplier)
    client.force_login(parts_manager)
    url = reverse("orders:receive_batch") + f"?supplier={supplier.pk}&number=TMR-100"
    response = client.post(url, {f"qty-{order.pk}-{order.lines.get().pk}": raw})
    assert response.status_code in (200, 400), response.status_code
    assert response.context["errors"]
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.ORDERED


def test_receive_batch_page_unknown_delivery_is_404(client, parts_manager, supplier):
    client.force_login(parts_manager)
    for query in ("?supplier=abc&number=X", f"?supplier={HUGE}&number=X", f"?supplier={supplier.pk}&number=NONE"):
        assert client.post(reverse("orders:receive_batch") + query, {"receive_all": "1"}).status_code == 404


def test_place_batch_page_bad_ids_show_errors(client, parts_manager, supplier):
    client.force_login(parts_manager)
    response = client.post(
        reverse("orders:place_batch"),
        {"orders": ["abc", HUGE, "999999"], "supplier": supplier.pk, "supplier_order_number": "X", "expected_at": ""},
    )
    assert response.status_code in (200, 400)
    assert response.context["form"].errors
    assert not SupplierOrder.objects.exists()


@pytest.mark.parametrize("alert", ["abc", HUGE, 999999, None])
def test_api_replenish_bad_alert_is_400(api_as, parts_manager, alert):
    response = api_as(parts_manager).post("/api/orders/replenish/", {"alert": alert}, format="json")
    assert response.status_code == 400 and "alert" in response.json()


def test_page_replenish_unknown_alert_is_404(client, parts_manager):
    client.force_login(parts_manager)
    assert client.post(reverse("orders:replenish", args=[999999])).status_code == 404


def test_return_to_supplier_on_a_wrong_state(client, api_as, parts_manager, make_order):
    order = make_order()  # «Неразмещён»
    api = api_as(parts_manager)
    refused = api.post(f"/api/orders/{order.pk}/return-to-supplier/", {"reason": "не забрал"}, format="json")
    assert refused.status_code == 409 and _message(refused)
    client.force_login(parts_manager)
    page = client.post(reverse("orders:return_to_supplier", args=[order.pk]), {"reason": "не забрал"})
    assert page.status_code in (302, 409)
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED
    assert client.post(reverse("orders:return_to_supplier", args=[999999]), {"reason": "x"}).status_code == 404
    assert api.post("/api/orders/999999/return-to-supplier/", {"reason": "x"}, format="json").status_code == 404
