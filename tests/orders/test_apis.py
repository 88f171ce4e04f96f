import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from dms.core import roles
from orders.models import CustomerOrder, OrderStatus, Receipt, SupplierOrder
from tests.factories import CustomerFactory, VehicleFactory

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db

ORDER_FIELDS = {
    "id",
    "number",
    "status",
    "status_display",
    "colour",
    "kind",
    "customer",
    "vehicle",
    "author",
    "lines",
    "placed_at",
    "expected_at",
    "received_at",
    "on_waiting_lot",
    "days_waiting",
    "call_log",
}


def _eta(days=5):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def create_payload(vehicle, part, part2):
    return {
        "customer": vehicle.customer_id,
        "vehicle": vehicle.pk,
        "kind": "warranty",
        "lines": [{"part": part.pk, "quantity": "2"}, {"part": part2.pk, "quantity": 1}],
    }


def test_advisor_creates_an_order_and_reads_it(api_as, advisor, create_payload, part):
    response = api_as(advisor).post("/api/orders/", create_payload, format="json")
    assert response.status_code == 201, response.data
    body = response.data
    assert ORDER_FIELDS <= set(body)
    assert body["number"] == "Ф000000001" and body["status"] == "not_placed"
    assert body["colour"] == "#6c757d" and body["author"] == advisor.pk and body["days_waiting"] == 0
    assert body["call_log"] == [] and body["on_waiting_lot"] is False
    assert [(line["part"], line["quantity"], line["quantity_received"]) for line in body["lines"]] == [
        (part.pk, "2.00", "0.00"),
        (create_payload["lines"][1]["part"], "1.00", "0.00"),
    ]
    detail = api_as(advisor).get(f"/api/orders/{body['id']}/")
    assert detail.status_code == 200 and detail.data["number"] == "Ф000000001"


def test_create_with_optional_fields(api_as, advisor, parts_manager, create_payload):
    payload = {
        **create_payload,
        "purpose": "repair",
        "parts_manager": parts_manager.pk,
        "on_waiting_lot": True,
        "long_term_agreed": True,
        "comment": "Машина на стоянке",
    }
    response = api_as(advisor).post("/api/orders/", payload, format="json")
    assert response.status_code == 201, response.data
    order = CustomerOrder.objects.get()
    assert (order.parts_manager, order.on_waiting_lot, order.long_term_agreed, order.comment) == (
        parts_manager,
        True,
        True,
        "Машина на стоянке",
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"lines": []}, "lines"),
        ({"kind": "gift"}, "kind"),
        ({"lines": [{"part": 0, "quantity": 1}]}, "lines"),
        ({"customer": None}, "customer"),
    ],
)
def test_create_bad_input_is_400_and_creates_nothing(api_as, advisor, create_payload, change, field):
    response = api_as(advisor).post("/api/orders/", {**create_payload, **change}, format="json")
    assert response.status_code == 400 and field in response.data
    assert CustomerOrder.objects.count() == 0


@pytest.mark.parametrize("quantity", [0, -2])
def test_create_with_zero_or_negative_quantity_is_400(api_as, advisor, create_payload, part, quantity):
    payload = {**create_payload, "lines": [{"part": part.pk, "quantity": quantity}]}
    response = api_as(advisor).post("/api/orders/", payload, format="json")
    assert response.status_code == 400
    assert response.data["lines"] == ["The quantity must be greater than zero."]
    assert CustomerOrder.objects.count() == 0


def test_create_with_part_or_customer_of_another_dealership_is_400(api_as, advisor, create_payload, other_dealership):
    foreign_part = PartFactory(dealership=other_dealership)
    foreign_customer = CustomerFactory(dealership=other_dealership)
    response = api_as(advisor).post(
        "/api/orders/",
        {**create_payload, "customer": foreign_customer.pk, "lines": [{"part": foreign_part.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400
    assert "does not exist" in str(response.data["customer"])
    assert "does not exist" in str(response.data["lines"])
    assert CustomerOrder.objects.count() == 0


def test_director_of_two_dealerships_cannot_mix_them(api_as, make_user, dealership, other_dealership, create_payload):
    # A user of both dealerships creating in the main one with a part of the other: the part does not resolve in the
    # dealership the write acts in (issue 12 item 6), so the line's field says so.
    both = make_user(roles.PARTS_MANAGER, dealerships=[dealership, other_dealership])
    foreign_part = PartFactory(dealership=other_dealership)
    response = api_as(both).post(
        "/api/orders/",
        {**create_payload, "lines": [{"part": foreign_part.pk, "quantity": 1}]},
        format="json",
        HTTP_X_DEALERSHIP=str(dealership.pk),
    )
    assert response.status_code == 400 and "part" in response.data["lines"][0]
    assert CustomerOrder.objects.count() == 0


@pytest.mark.parametrize("role", [roles.STOREKEEPER, roles.QUALITY_INSPECTOR, roles.WARRANTY_ENGINEER])
def test_roles_without_add_permission_get_403(api_as, make_user, create_payload, role):
    response = api_as(make_user(role)).post("/api/orders/", create_payload, format="json")
    assert response.status_code == 403
    assert CustomerOrder.objects.count() == 0


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/orders/").status_code in (401, 403)


# -- transitions over the API ----------------------------------------------------------------------------------
def test_full_walk_place_receive_issue(api_as, parts_manager, storekeeper, order, supplier):
    client = api_as(parts_manager)
    response = client.post(
        f"/api/orders/{order.pk}/place/",
        {"supplier": supplier.pk, "supplier_order_number": "TMR-77", "expected_at": _eta(5)},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "ordered" and response.data["colour"] == "#8b4513"
    assert response.data["supplier_order"]["supplier_order_number"] == "TMR-77"
    line_id = response.data["lines"][0]["id"]

    store = api_as(storekeeper)
    response = store.post(
        f"/api/orders/{order.pk}/receive/", {"lines": [{"line": line_id, "quantity": 1}]}, format="json"
    )
    assert response.status_code == 200 and response.data["status"] == "partially_received"
    assert response.data["colour"] == "#e8a317" and response.data["lines"][0]["quantity_received"] == "1.00"
    response = store.post(
        f"/api/orders/{order.pk}/receive/", {"lines": [{"line": line_id, "quantity": 1}]}, format="json"
    )
    assert response.status_code == 200 and response.data["status"] == "received"
    assert response.data["received_at"] is not None
    response = store.post(f"/api/orders/{order.pk}/issue/")
    assert response.status_code == 200 and response.data["status"] == "issued"


def test_placing_twice_is_409(api_as, parts_manager, placed_order, supplier):
    response = api_as(parts_manager).post(
        f"/api/orders/{placed_order.pk}/place/",
        {"supplier": supplier.pk, "supplier_order_number": "X", "expected_at": _eta(3)},
        format="json",
    )
    assert response.status_code == 409 and "can be placed only once" in response.data["detail"]
    assert SupplierOrder.objects.get().supplier_order_number == f"TMR-{placed_order.pk}"


def test_place_with_long_eta_without_agreement_is_400_r4(api_as, parts_manager, order, supplier):
    client = api_as(parts_manager)
    payload = {"supplier": supplier.pk, "supplier_order_number": "JP-1", "expected_at": _eta(21)}
    response = client.post(f"/api/orders/{order.pk}/place/", payload, format="json")
    assert response.status_code == 400 and "long_term_agreed" in response.data
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED
    response = client.post(f"/api/orders/{order.pk}/place/", {**payload, "long_term_agreed": True}, format="json")
    assert response.status_code == 200 and response.data["status"] == "ordered"


def test_place_with_supplier_of_another_dealership_is_400(api_as, parts_manager, order, other_dealership):
    foreign = SupplierFactory(dealership=other_dealership)
    response = api_as(parts_manager).post(
        f"/api/orders/{order.pk}/place/",
        {"supplier": foreign.pk, "supplier_order_number": "X", "expected_at": _eta()},
        format="json",
    )
    assert response.status_code == 400 and "does not exist" in str(response.data["supplier"])
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED


@pytest.mark.parametrize(
    "quantity, status_code, text",
    [(3, 400, "at most 2 more"), (0, 400, "greater than zero"), (-1, 400, "greater than zero")],
)
def test_receive_bad_quantities(api_as, storekeeper, placed_order, quantity, status_code, text):
    line = placed_order.lines.get()
    response = api_as(storekeeper).post(
        f"/api/orders/{placed_order.pk}/receive/", {"lines": [{"line": line.pk, "quantity": quantity}]}, format="json"
    )
    assert response.status_code == status_code and text in str(response.data["lines"])
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.ORDERED
    assert line.__class__.objects.get(pk=line.pk).quantity_received == Decimal(0)


def test_receive_line_of_another_order_is_400(api_as, storekeeper, placed_order, make_order, place):
    other = place(make_order())
    response = api_as(storekeeper).post(
        f"/api/orders/{placed_order.pk}/receive/",
        {"lines": [{"line": other.lines.get().pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400 and "is not a line of this order" in response.data["lines"][0]
    assert not Receipt.objects.exists()


def test_receive_unplaced_or_cancelled_is_409(api_as, storekeeper, parts_manager, order):
    line = order.lines.get()
    payload = {"lines": [{"line": line.pk, "quantity": 1}]}
    response = api_as(storekeeper).post(f"/api/orders/{order.pk}/receive/", payload, format="json")
    assert response.status_code == 409 and "not placed with a supplier yet" in response.data["detail"]
    response = api_as(parts_manager).post(f"/api/orders/{order.pk}/cancel/", {"reason": "Отказ"}, format="json")
    assert response.status_code == 200 and response.data["status"] == "cancelled"
    response = api_as(storekeeper).post(f"/api/orders/{order.pk}/receive/", payload, format="json")
    assert response.status_code == 409 and "nothing more can be received" in response.data["detail"]
    assert not Receipt.objects.exists()


def test_cancel_needs_a_reason(api_as, parts_manager, order):
    response = api_as(parts_manager).post(f"/api/orders/{order.pk}/cancel/", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.data
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED


def test_issue_before_received_is_409(api_as, storekeeper, placed_order):
    response = api_as(storekeeper).post(f"/api/orders/{placed_order.pk}/issue/")
    assert response.status_code == 409
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == OrderStatus.ORDERED


@pytest.mark.parametrize(
    "role, action, allowed",
    [
        (roles.SERVICE_ADVISOR, "place", False),
        (roles.SERVICE_ADVISOR, "receive", False),
        (roles.SERVICE_ADVISOR, "issue", False),
        (roles.STOREKEEPER, "place", False),
        (roles.STOREKEEPER, "cancel", False),
        (roles.QUALITY_INSPECTOR, "receive", False),
        (roles.WARRANTY_ENGINEER, "cancel", False),
        (roles.DIRECTOR, "place", False),
    ],
)
def test_wrong_role_is_403_and_changes_nothing(api_as, make_user, order, supplier, role, action, allowed):
    payloads = {
        "place": {"supplier": supplier.pk, "supplier_order_number": "X", "expected_at": _eta()},
        "receive": {"lines": [{"line": order.lines.get().pk, "quantity": 1}]},
        "issue": {},
        "cancel": {"reason": "x"},
    }
    response = api_as(make_user(role)).post(f"/api/orders/{order.pk}/{action}/", payloads[action], format="json")
    assert response.status_code == 403
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED


def test_orders_of_another_dealership_are_404(api_as, make_user, other_dealership, order, supplier):
    stranger = make_user(roles.PARTS_MANAGER, dealerships=[other_dealership])
    client = api_as(stranger)
    assert client.get(f"/api/orders/{order.pk}/").status_code == 404
    assert client.get("/api/orders/").data["count"] == 0
    response = client.post(f"/api/orders/{order.pk}/cancel/", {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert CustomerOrder.objects.get(pk=order.pk).status == OrderStatus.NOT_PLACED


def test_director_reads_both_dealerships(api_as, director, order, other_dealership, advisor):
    from orders import services

    foreign_vehicle = VehicleFactory(customer=CustomerFactory(dealership=other_dealership))
    services.customer_order_create(
        actor=advisor,
        dealership=other_dealership,
        customer=foreign_vehicle.customer,
        vehicle=foreign_vehicle,
        kind="commercial",
        lines=[{"part": PartFactory(dealership=other_dealership), "quantity": 1}],
    )
    response = api_as(director).get("/api/orders/")
    assert response.data["count"] == 2
    narrowed = api_as(director).get(f"/api/orders/?dealership={other_dealership.pk}")
    assert [row["dealership"] for row in narrowed.data["results"]] == [other_dealership.pk]


# -- list filters ----------------------------------------------------------------------------------------------
def test_list_filters_as_query_params(api_as, parts_manager, make_order, place, part, customer, advisor):
    a = make_order(kind="warranty")
    b = place(make_order(kind="commercial", on_waiting_lot=True))
    c = place(make_order(kind="commercial"), days=1)
    CustomerOrder.objects.filter(pk=c.pk).update(expected_at=timezone.localdate() - datetime.timedelta(days=2))
    client = api_as(parts_manager)

    def numbers(query):
        response = client.get("/api/orders/?" + query)
        assert response.status_code == 200, response.data
        return sorted(row["number"] for row in response.data["results"])

    assert numbers("status=not_placed") == [a.number]
    assert numbers("status=ordered&status=not_placed") == sorted([a.number, b.number, c.number])
    assert numbers("kind=commercial") == sorted([b.number, c.number])
    assert numbers("overdue=true") == [c.number]
    assert numbers("on_waiting_lot=true") == [b.number]
    assert numbers(f"author={advisor.pk}") == sorted([a.number, b.number, c.number])
    assert numbers(f"search={a.number[-3:]}") == [a.number]
    assert numbers(f"search={part.number}") == sorted([a.number, b.number, c.number])
    response = client.get("/api/orders/?overdue=true")
    assert response.data["results"][0]["colour"] == "#dc3545" and response.data["results"][0]["overdue"] is True
    response = client.get("/api/orders/?sort=number")
    assert [row["number"] for row in response.data["results"]] == sorted([a.number, b.number, c.number])


def test_list_bad_filter_values_are_400(api_as, parts_manager):
    response = api_as(parts_manager).get("/api/orders/?status=lost&date_from=yesterday&sort=colour")
    assert response.status_code == 400
    assert set(response.data) == {"status", "date_from", "sort"}


def test_schema_documents_every_action(api_as, parts_manager):
    response = api_as(parts_manager).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    import json

    schema = json.loads(response.content)
    paths = schema["paths"]
    for action in ("place", "receive", "issue", "cancel"):
        operation = paths[f"/api/orders/{{id}}/{action}/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])
    assert "PlaceRequest" in schema["components"]["schemas"]
    assert {p["name"] for p in paths["/api/orders/"]["get"]["parameters"]} >= {
        "status",
        "kind",
        "author",
        "manager",
        "overdue",
        "on_waiting_lot",
        "date_from",
        "date_to",
        "search",
        "sort",
        "page",
    }


# -- the list is built from plain rows: it must read exactly as the serializer writes an order ---------------------
def test_list_items_equal_the_serializer_for_every_state(api_as, parts_manager, make_order, place, part, part2):
    from orders import apis, services

    counter_sale = services.customer_order_create(
        actor=parts_manager,
        dealership=part.dealership,
        customer=CustomerFactory(dealership=part.dealership),
        vehicle=None,
        kind="commercial",
        purpose="counter_sale",
        lines=[{"part": part, "quantity": Decimal("1.5")}],
    )
    partly = place(make_order(lines=[{"part": part, "quantity": 2}, {"part": part2, "quantity": 3}]))
    services.customer_order_receive(
        actor=parts_manager, order=partly, lines=[{"line": partly.lines.order_by("id")[0].pk, "quantity": 1}]
    )
    cancelled = services.customer_order_cancel(actor=parts_manager, order=make_order(), reason="Клиент отказался")
    late = place(make_order(), long_term_agreed=True, days=10)
    CustomerOrder.objects.filter(pk=late.pk).update(
        expected_at=timezone.localdate() - datetime.timedelta(days=1), on_waiting_lot=True
    )
    client = api_as(parts_manager)
    items = client.get("/api/orders/").data["results"]
    assert {item["id"] for item in items} == {counter_sale.pk, partly.pk, cancelled.pk, late.pk}
    list_fields = set(apis.CustomerOrderSerializer().fields)
    for item in items:
        assert set(item) == list_fields
        detail = client.get(f"/api/orders/{item['id']}/").data
        assert item == {key: detail[key] for key in list_fields}, item["number"]
    by_id = {item["id"]: item for item in items}
    assert by_id[late.pk]["overdue"] is True and by_id[late.pk]["colour"] == "#dc3545"
    assert by_id[counter_sale.pk]["vehicle_vin"] is None and by_id[counter_sale.pk]["lines"][0]["quantity"] == "1.50"
    assert [line["quantity_received"] for line in by_id[partly.pk]["lines"]] == ["1.00", "0.00"]


def test_list_count_is_capped_and_says_so(api_as, parts_manager, make_order, monkeypatch):
    from dms.core.pagination import CappedCountPaginator

    for _ in range(4):
        make_order()
    client = api_as(parts_manager)
    exact = client.get("/api/orders/?page_size=2").data
    assert exact["count"] == 4 and exact["count_is_exact"] is True and exact["next"]
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 3)
    capped = client.get("/api/orders/?page_size=2").data
    assert capped["count"] == 3 and capped["count_is_exact"] is False
    # the pages end at the cap: narrow the filter to see the rest
    assert len(client.get("/api/orders/?page_size=2&page=2").data["results"]) == 1
    assert client.get("/api/orders/?page_size=2&page=3").status_code == 404
    assert client.get("/api/orders/?page_size=2&kind=commercial").data["count_is_exact"] is True


def test_list_pages_past_the_end_or_malformed_are_404(api_as, parts_manager, make_order):
    for _ in range(3):
        make_order()
    client = api_as(parts_manager)
    assert client.get("/api/orders/?page_size=2&page=2").data["count"] == 3
    assert len(client.get("/api/orders/?page_size=2&page=last").data["results"]) == 1
    for page in ("3", "0", "-1", "abc"):
        response = client.get(f"/api/orders/?page_size=2&page={page}")
        assert response.status_code == 404 and "detail" in response.data, page


def test_dashboard_page_numbers_are_forgiving(client, parts_manager, make_order):
    from django.urls import reverse

    for _ in range(3):
        make_order()
    client.force_login(parts_manager)
    for page, shown in (("abc", 1), ("0", 1), ("99", 1)):
        response = client.get(reverse("orders:dashboard") + f"?page={page}")
        assert response.status_code == 200 and response.context["page_obj"].number == shown
        assert len(response.context["rows"]) == 3 and response.context["page_obj"].paginator.count == 3
