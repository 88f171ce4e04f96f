"""Stock pages and the stock API: permissions, search, filters, pagination, constant query counts."""

from decimal import Decimal

import pytest
from django.urls import reverse

from dms.core import roles
from parts import services
from parts.models import LowStockAlert, Reservation, StockBalance, StockMovement, Warehouse

from .factories import PartFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_part_list_is_the_navigation_target_with_stock_and_class_filter(client, advisor, dealership, receive):
    a = PartFactory(dealership=dealership, number="AAA-1", name="Колодки", abc_class="A")
    PartFactory(dealership=dealership, number="CCC-1", name="Заглушка", abc_class="C")
    receive(a, 5)
    client.force_login(advisor)
    home = client.get("/", follow=True)
    assert reverse("parts:part_list").encode() in home.content
    page = client.get(reverse("parts:part_list"), {"abc": "A"})
    rows = list(page.context["page_obj"])
    assert [p.number for p in rows] == ["AAA-1"] and rows[0].available_total == 5
    found = client.get(reverse("parts:part_list"), {"q": "заглуш"})
    assert [p.number for p in found.context["page_obj"]] == ["CCC-1"]
    # Advisors see stock but get no receive button and a 403 on the form.
    assert b'href="/parts/stock/receive/"' not in page.content
    assert client.get(reverse("parts:receive")).status_code == 403


def test_stock_list_runs_a_constant_number_of_queries(
    client, storekeeper, dealership, receive, django_assert_max_num_queries
):
    for n in range(60):
        receive(PartFactory(dealership=dealership, number=f"N{n:03d}"), n + 1)
    client.force_login(storekeeper)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("parts:stock_list"))
    assert response.status_code == 200 and len(response.context["page_obj"]) == 50
    assert response.context["page_obj"].paginator.count == 60
    page2 = client.get(reverse("parts:stock_list"), {"page": 2})
    assert len(page2.context["page_obj"]) == 10
    filtered = client.get(reverse("parts:stock_list"), {"q": "N00", "below": "on"})
    # Unclassified parts have no default alert level; none is below it.
    assert len(filtered.context["page_obj"]) == 0


def test_receive_and_issue_forms_go_through_the_services(client, storekeeper, dealership, part):
    client.force_login(storekeeper)
    response = client.post(
        reverse("parts:receive"), {"part": "04152-yzza1", "quantity": "4", "unit_cost": "100", "reference": "ТН-9"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("parts:part_detail", args=[part.pk])
    assert StockBalance.objects.get(part=part).on_hand == 4
    bad = client.post(
        reverse("parts:issue"), {"part": part.number, "quantity": "9", "reason": "work_order", "reference": "ЗН-1"}
    )
    assert bad.status_code == 200 and "quantity" in bad.context["form"].errors
    assert StockBalance.objects.get(part=part).on_hand == 4
    unknown = client.post(reverse("parts:receive"), {"part": "NOPE", "quantity": "1", "unit_cost": "1"})
    assert unknown.status_code == 200 and unknown.context["form"].errors["part"]
    detail = client.get(reverse("parts:part_detail", args=[part.pk]))
    assert detail.status_code == 200 and "ТН-9" in detail.content.decode()


def test_parts_dashboard_shows_open_alerts_with_live_figures(client, parts_manager, dealership, receive, part):
    receive(part, 1)
    services.balance_update(
        actor=parts_manager, balance=StockBalance.objects.get(part=part), data={"alert_level": Decimal("1")}
    )
    services.stock_issue(actor=parts_manager, dealership=dealership, part=part, quantity=1, reference="ЗН")
    client.force_login(parts_manager)
    page = client.get(reverse("parts:dashboard"))
    rows = page.context["rows"]
    assert len(rows) == 1 and rows[0][0].part == part and rows[0][1].on_hand == 0


def test_stock_value_report_per_warehouse_and_class(client, director, dealership, receive):
    a = PartFactory(dealership=dealership, abc_class="A")
    c = PartFactory(dealership=dealership, abc_class="C")
    receive(a, 2, cost="1000")
    receive(c, 10, cost="5", warehouse=WarehouseFactory(dealership=dealership, code="Z"))
    client.force_login(director)
    report = client.get(reverse("parts:stock_value")).context["report"]
    assert report["total"] == Decimal("2050.00")
    assert report["by_class"] == {"A": Decimal("2000.00"), "C": Decimal("50.00")}
    assert report["by_warehouse"]["Z"]["value"] == Decimal("50.00")


def test_stock_value_report_is_forbidden_to_advisors(client, advisor):
    client.force_login(advisor)
    assert client.get(reverse("parts:stock_value")).status_code == 403


def test_api_receive_issue_and_read_ledger(api_as, make_user, dealership, part):
    storekeeper = make_user(roles.STOREKEEPER)
    api = api_as(storekeeper)
    r = api.post("/api/stock/receive/", {"part": part.pk, "quantity": "3", "unit_cost": "10"}, format="json")
    assert r.status_code == 201 and r.json()["kind"] == "receipt"
    r = api.post("/api/stock/issue/", {"part": part.pk, "quantity": "5", "reference": "ЗН-1"}, format="json")
    assert r.status_code == 400 and "quantity" in r.json()
    r = api.post("/api/stock/issue/", {"part": part.pk, "quantity": "2", "reference": "ЗН-1"}, format="json")
    assert r.status_code == 201 and r.json()["quantity"] == "-2.000"
    ledger = api.get("/api/stock-movements/", {"part": part.pk}).json()
    assert ledger["count"] == 2
    stock = api.get("/api/stock/").json()["results"]
    assert stock[0]["on_hand"] == "1.000" and stock[0]["available"] == "1.000"
    # The ledger is read-only.
    api.check_schema = False  # deliberately a method the schema does not describe (the ledger is read-only)
    assert api.post("/api/stock-movements/", {}, format="json").status_code == 405
    api.check_schema = True


def test_api_reservations_and_release(api_as, parts_manager, dealership, part, receive):
    receive(part, 2)
    api = api_as(parts_manager)
    r = api.post("/api/reservations/", {"part": part.pk, "quantity": "3", "reference": "ЗН-1"}, format="json")
    assert r.status_code == 400
    r = api.post("/api/reservations/", {"part": part.pk, "quantity": "2", "reference": "ЗН-1"}, format="json")
    assert r.status_code == 201
    rid = r.json()["id"]
    assert api.post(f"/api/reservations/{rid}/release/").status_code == 200
    assert api.post(f"/api/reservations/{rid}/release/").status_code == 409
    assert Reservation.objects.get(pk=rid).status == "released"


def test_api_foreign_ids_and_permissions(api_as, make_user, advisor, dealership, other_dealership, part):
    foreign = PartFactory(dealership=other_dealership)
    storekeeper = make_user(roles.STOREKEEPER)
    r = api_as(storekeeper).post(
        "/api/stock/receive/", {"part": foreign.pk, "quantity": 1, "unit_cost": 1}, format="json"
    )
    assert r.status_code == 400 and "part" in r.json()
    r = api_as(advisor).post("/api/stock/receive/", {"part": part.pk, "quantity": 1, "unit_cost": 1}, format="json")
    assert r.status_code == 403
    assert StockMovement.objects.count() == 0
    assert api_as(advisor).get("/api/stock/").status_code == 200


def test_api_alert_level_patch_and_alerts(api_as, parts_manager, dealership, part, receive):
    receive(part, 3)
    balance = StockBalance.objects.get(part=part)
    api = api_as(parts_manager)
    r = api.patch(f"/api/stock/{balance.pk}/", {"alert_level": "5"}, format="json")
    assert r.status_code == 200 and r.json()["effective_alert_level"] == "5.000"
    assert LowStockAlert.objects.filter(status="open").count() == 1
    alerts = api.get("/api/stock-alerts/", {"status": "open"}).json()
    assert alerts["count"] == 1 and alerts["results"][0]["suggested_quantity"] == "7.000"


def test_api_abc_on_demand(api_as, parts_manager, advisor, dealership):
    PartFactory(dealership=dealership, number="X")
    assert api_as(advisor).post("/api/parts/classify-abc/").status_code == 403
    assert api_as(parts_manager).post("/api/parts/classify-abc/").status_code == 202
    assert api_as(parts_manager).get("/api/parts/", {"abc_class": "C"}).json()["count"] == 1


def test_warehouse_api_keeps_one_default(api_as, parts_manager, dealership):
    api = api_as(parts_manager)
    first = api.post("/api/warehouses/", {"code": "m", "name": "Основной"}, format="json").json()
    assert first["is_default"] is True and first["code"] == "M"
    second = api.post("/api/warehouses/", {"code": "x", "name": "Второй", "is_default": True}, format="json")
    assert second.status_code == 201
    assert list(Warehouse.objects.filter(is_default=True).values_list("code", flat=True)) == ["X"]
    dup = api.post("/api/warehouses/", {"code": "M", "name": "Дубль"}, format="json")
    assert dup.status_code == 400 and "code" in dup.json()
