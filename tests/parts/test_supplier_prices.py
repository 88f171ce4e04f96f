"""Issue 15 item 5: purchase prices per supplier and part with a date — API, admin and the part page."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from dms.core import roles
from dms.core.models import AuditEntry
from parts import services
from parts.models import SupplierPrice

from .factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier(dealership):
    return SupplierFactory(dealership=dealership, name="Дистрибьютор ТМР")


@pytest.fixture
def pads(dealership):
    return PartFactory(dealership=dealership, number="04465-02220", name="Колодки", price=Decimal("6200"))


def _body(supplier, part, price="4805.00", valid_from="2026-06-01") -> dict:
    return {"supplier": supplier.pk, "part": part.pk, "price": price, "valid_from": valid_from}


def test_api_create_list_filter_update(api_as, parts_manager, supplier, pads, dealership):
    client = api_as(parts_manager)
    response = client.post("/api/supplier-prices/", _body(supplier, pads), format="json")
    assert response.status_code == 201, response.data
    assert response.data["price"] == "4805.00" and response.data["supplier_name"] == "Дистрибьютор ТМР"
    assert response.data["part_number"] == "04465-02220" and response.data["dealership"] == dealership.pk
    price_id = response.data["id"]
    assert AuditEntry.objects.filter(object_id=str(price_id), action="created").exists()

    other_supplier = SupplierFactory(dealership=dealership)
    services.supplier_price_create(
        actor=parts_manager, dealership=dealership, supplier=other_supplier, part=pads,
        price=Decimal("4500"), valid_from=datetime.date(2026, 5, 1),
    )  # fmt: skip
    listed = client.get("/api/supplier-prices/", {"supplier": supplier.pk}).data
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["id"] for row in rows] == [price_id]
    listed = client.get("/api/supplier-prices/", {"part": pads.pk}).data
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert len(rows) == 2

    response = client.patch(f"/api/supplier-prices/{price_id}/", {"price": "4900.00"}, format="json")
    assert response.status_code == 200 and response.data["price"] == "4900.00"
    assert SupplierPrice.objects.get(pk=price_id).price == Decimal("4900.00")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"price": "-1"}, "price"),
        ({"price": "x"}, "price"),
        ({"price": "1e20"}, "price"),
        ({"valid_from": "not a date"}, "valid_from"),
    ],
)
def test_api_refuses_bad_input(api_as, parts_manager, supplier, pads, change, field):
    response = api_as(parts_manager).post("/api/supplier-prices/", {**_body(supplier, pads), **change}, format="json")
    assert response.status_code == 400 and field in response.data
    assert not SupplierPrice.objects.exists()


def test_api_refuses_a_second_price_for_the_same_date(api_as, parts_manager, supplier, pads):
    client = api_as(parts_manager)
    assert client.post("/api/supplier-prices/", _body(supplier, pads), format="json").status_code == 201
    response = client.post("/api/supplier-prices/", _body(supplier, pads, price="1.00"), format="json")
    assert response.status_code == 400 and "valid_from" in response.data
    assert SupplierPrice.objects.count() == 1


def test_api_refuses_another_dealerships_supplier_or_part(api_as, parts_manager, supplier, pads, other_dealership):
    client = api_as(parts_manager)
    foreign_supplier = SupplierFactory(dealership=other_dealership)
    foreign_part = PartFactory(dealership=other_dealership)
    response = client.post("/api/supplier-prices/", _body(foreign_supplier, pads), format="json")
    assert response.status_code == 400 and "supplier" in response.data
    response = client.post("/api/supplier-prices/", _body(supplier, foreign_part), format="json")
    assert response.status_code == 400 and "part" in response.data
    assert not SupplierPrice.objects.exists()


@pytest.mark.parametrize("role", [roles.SERVICE_ADVISOR, roles.STOREKEEPER, roles.DIRECTOR])
def test_api_wrong_role_gets_403(api_as, make_user, parts_manager, supplier, pads, role):
    price = services.supplier_price_create(
        actor=parts_manager, dealership=pads.dealership, supplier=supplier, part=pads,
        price=Decimal("4805"), valid_from=datetime.date(2026, 6, 1),
    )  # fmt: skip
    client = api_as(make_user(role))
    assert (
        client.post("/api/supplier-prices/", _body(supplier, pads, valid_from="2026-07-01"), format="json").status_code
        == 403
    )
    assert client.patch(f"/api/supplier-prices/{price.pk}/", {"price": "1"}, format="json").status_code == 403
    # Purchase prices are for the parts department and the directors (who read, not write).
    assert client.get("/api/supplier-prices/").status_code == (200 if role == roles.DIRECTOR else 403)
    assert SupplierPrice.objects.get().price == Decimal("4805.00")


def test_part_page_shows_the_current_price_per_supplier(client, parts_manager, advisor, supplier, pads):
    japan = SupplierFactory(dealership=pads.dealership, name="Склад Япония")
    today = datetime.date.today()
    for who, price, days in [
        (supplier, "4500", 400),
        (supplier, "4805", 30),
        (supplier, "5100", -10),
        (japan, "4300", 5),
    ]:
        services.supplier_price_create(
            actor=parts_manager, dealership=pads.dealership, supplier=who, part=pads,
            price=Decimal(price), valid_from=today - datetime.timedelta(days=days),
        )  # fmt: skip
    client.force_login(parts_manager)
    page = client.get(reverse("parts:part_detail", args=[pads.pk]))
    shown = [(p.supplier.name, p.price) for p in page.context["supplier_prices"]]
    assert shown == [("Дистрибьютор ТМР", Decimal("4805.00")), ("Склад Япония", Decimal("4300.00"))]
    assert "4805" in page.content.decode().replace("\xa0", "").replace(" ", "").replace(",", "")
    # The front desk does not see what parts cost.
    client.force_login(advisor)
    page = client.get(reverse("parts:part_detail", args=[pads.pk]))
    assert page.status_code == 200 and not page.context.get("supplier_prices")
    assert "4805" not in page.content.decode()


def test_admin_saves_through_the_service(client, make_user, supplier, pads, dealership):
    admin_user = make_user(roles.ADMINISTRATOR, is_staff=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:parts_supplierprice_add"),
        {
            "dealership": dealership.pk,
            "supplier": supplier.pk,
            "part": pads.pk,
            "price": "4805",
            "valid_from": "2026-06-01",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    price = SupplierPrice.objects.get()
    assert price.price == Decimal("4805.00")
    assert AuditEntry.objects.filter(object_id=str(price.pk), action="created").exists()


def test_part_page_prices_are_each_suppliers_newest_valid_one(dealership, supplier, pads):
    """Per supplier the price valid on the day (its newest one not in the future), suppliers by name — read without
    PostgreSQL's DISTINCT ON, so the part page works on SQLite (`make run`) too."""
    from parts.selectors import current_supplier_prices

    second = SupplierFactory(dealership=dealership, name="Автодок")
    for who, price, day in (
        (supplier, "4000", "2026-01-01"),
        (supplier, "4805", "2026-06-01"),
        (supplier, "5100", "2026-09-01"),  # not yet valid on the day asked
        (second, "4500", "2026-05-01"),
    ):
        SupplierPrice.objects.create(
            dealership=dealership, supplier=who, part=pads, price=Decimal(price),
            valid_from=datetime.date.fromisoformat(day),
        )  # fmt: skip
    found = current_supplier_prices(part=pads, on=datetime.date(2026, 7, 1))
    assert [(row.supplier.name, row.price) for row in found] == [
        ("Автодок", Decimal("4500")),
        ("Дистрибьютор ТМР", Decimal("4805")),
    ]
