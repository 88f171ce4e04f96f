"""Issue 15 item 9: warehouses and bins have their own pages, through the services the API and the admin use."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from dms.core import roles
from parts import services
from parts.models import Location, StockBalance, Warehouse

from .factories import LocationFactory, PartFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"  # messages asserted in English; ru and zh_Hans: test_translations
    return client


@pytest.fixture
def warehouse(dealership):
    return WarehouseFactory(dealership=dealership, code="MAIN", name="Основной склад", is_default=True)


def _place(storekeeper, dealership, part, warehouse, location, quantity, cost):
    services.stock_receive(
        actor=storekeeper,
        dealership=dealership,
        part=part,
        warehouse=warehouse,
        quantity=Decimal(quantity),
        unit_cost=Decimal(cost),
    )
    balance = StockBalance.objects.get(part=part, warehouse=warehouse)
    services.balance_update(actor=storekeeper, balance=balance, data={"location": location})


def test_storekeeper_creates_and_edits_warehouses_and_bins(client, storekeeper, dealership, warehouse):
    client.force_login(storekeeper)
    assert client.get(reverse("parts:warehouse_list")).status_code == 200
    response = client.post(reverse("parts:warehouse_create"), {"code": " w2 ", "name": "Шиномонтаж", "is_active": "on"})
    created = Warehouse.objects.get(dealership=dealership, code="W2")
    assert response.status_code == 302 and response["Location"].endswith(f"#warehouse-{created.pk}")
    assert created.is_active and not created.is_default  # the dealership already has its default warehouse
    # The same code again: a form error, no second row.
    again = client.post(reverse("parts:warehouse_create"), {"code": "w2", "name": "Другой", "is_active": "on"})
    assert again.status_code == 200
    assert "A warehouse with this code already exists." in again.context["form"].errors["code"]
    assert Warehouse.objects.filter(dealership=dealership, code="W2").count() == 1
    # Edit: rename; renaming onto another warehouse's code is refused.
    url = reverse("parts:warehouse_update", args=[created.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"code": "W2", "name": "Шины", "is_active": "on"})
    created.refresh_from_db()
    assert created.name == "Шины"
    clash = client.post(url, {"code": "main", "name": "Шины", "is_active": "on"})
    assert "A warehouse with this code already exists." in clash.context["form"].errors["code"]
    assert Warehouse.objects.get(pk=created.pk).code == "W2"

    # Bins: code upper-cased, unique per warehouse (the same code in another warehouse is fine).
    new_bin = reverse("parts:location_create", args=[created.pk])
    assert client.get(new_bin).status_code == 200
    response = client.post(new_bin, {"code": "a-01", "description": "Стеллаж A", "is_active": "on"})
    assert response.status_code == 302
    bin_a = Location.objects.get(warehouse=created, code="A-01")
    assert bin_a.dealership_id == dealership.pk and bin_a.description == "Стеллаж A"
    duplicate = client.post(new_bin, {"code": "A-01", "is_active": "on"})
    assert duplicate.status_code == 200
    assert "This bin already exists in the warehouse." in duplicate.context["form"].errors["code"]
    assert Location.objects.filter(warehouse=created, code="A-01").count() == 1
    client.post(reverse("parts:location_create", args=[warehouse.pk]), {"code": "A-01", "is_active": "on"})
    assert Location.objects.filter(warehouse=warehouse, code="A-01").exists()
    empty = client.post(new_bin, {"code": "", "is_active": "on"})
    assert empty.status_code == 200 and empty.context["form"].errors["code"]

    # Edit and close a bin.
    edit = reverse("parts:location_update", args=[bin_a.pk])
    assert client.get(edit).status_code == 200
    client.post(edit, {"code": "A-02", "description": "Стеллаж A, полка 2", "is_active": "on"})
    bin_a.refresh_from_db()
    assert (bin_a.code, bin_a.description, bin_a.is_active) == ("A-02", "Стеллаж A, полка 2", True)
    closed = client.post(reverse("parts:location_deactivate", args=[bin_a.pk]))
    assert closed.status_code == 302
    bin_a.refresh_from_db()
    assert bin_a.is_active is False
    page = client.get(reverse("parts:warehouse_list")).content.decode()
    assert "A-02" in page and "Шины" in page


def test_the_list_shows_parts_and_stock_value_per_bin(client, storekeeper, dealership, warehouse):
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    bin_b = LocationFactory(warehouse=warehouse, code="B-01")
    _place(storekeeper, dealership, PartFactory(dealership=dealership), warehouse, bin_a, "3", "100")
    _place(storekeeper, dealership, PartFactory(dealership=dealership), warehouse, bin_a, "2", "50.50")
    _place(storekeeper, dealership, PartFactory(dealership=dealership), warehouse, None, "1", "10")
    client.force_login(storekeeper)
    overview = client.get(reverse("parts:warehouse_list")).context["overview"]
    (main,) = [w for w in overview if w.warehouse.pk == warehouse.pk]
    rows = {(b.location.code if b.location else None): (b.parts, b.value) for b in main.bins}
    assert rows == {
        "A-01": (2, Decimal("401.00")),
        "B-01": (0, Decimal("0.00")),
        None: (1, Decimal("10.00")),  # stock not placed in a bin
    }
    assert (main.parts, main.value) == (3, Decimal("411.00"))
    assert bin_b.pk


def test_a_bin_holding_stock_cannot_be_closed(client, storekeeper, dealership, warehouse):
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    _place(storekeeper, dealership, PartFactory(dealership=dealership), warehouse, bin_a, "3", "100")
    client.force_login(storekeeper)
    response = client.post(reverse("parts:location_deactivate", args=[bin_a.pk]))
    assert response.status_code == 302
    assert any("still holds 1 part" in str(m) for m in get_messages(response.wsgi_request))
    bin_a.refresh_from_db()
    assert bin_a.is_active is True
    form_page = client.post(reverse("parts:location_update", args=[bin_a.pk]), {"code": "A-01"})  # unchecked
    assert form_page.status_code == 200 and form_page.context["form"].errors["is_active"]
    assert Location.objects.get(pk=bin_a.pk).is_active is True


def test_a_closed_bin_cannot_be_chosen_for_stock(storekeeper, dealership, warehouse):
    from django.core.exceptions import ValidationError

    closed = LocationFactory(warehouse=warehouse, code="Z-01", is_active=False)
    part = PartFactory(dealership=dealership)
    _place(storekeeper, dealership, part, warehouse, None, "1", "10")
    balance = StockBalance.objects.get(part=part)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.balance_update(actor=storekeeper, balance=balance, data={"location": closed})
    assert error.value.message_dict == {"location": ["The bin is closed."]}


@pytest.mark.parametrize(
    ("role", "may_read", "may_manage"),
    [
        (roles.STOREKEEPER, True, True),
        (roles.PARTS_MANAGER, True, True),
        (roles.DIRECTOR, True, False),
        (roles.SERVICE_ADVISOR, True, False),
    ],
)
def test_roles_manage_or_read(client, make_user, dealership, warehouse, role, may_read, may_manage):
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    client.force_login(make_user(role))
    listing = client.get(reverse("parts:warehouse_list"))
    assert listing.status_code == (200 if may_read else 403)
    assert (reverse("parts:warehouse_create") in listing.content.decode()) is may_manage
    writes = [
        (reverse("parts:warehouse_create"), {"code": "NEW", "name": "x", "is_active": "on"}),
        (reverse("parts:warehouse_update", args=[warehouse.pk]), {"code": "MAIN", "name": "renamed"}),
        (reverse("parts:location_create", args=[warehouse.pk]), {"code": "NEW-1", "is_active": "on"}),
        (reverse("parts:location_update", args=[bin_a.pk]), {"code": "RENAMED", "is_active": "on"}),
        (reverse("parts:location_deactivate", args=[bin_a.pk]), {}),
    ]
    for url, data in writes:
        response = client.post(url, data)
        assert response.status_code == (302 if may_manage else 403), url
    if not may_manage:
        assert not Warehouse.objects.filter(code="NEW").exists()
        assert Warehouse.objects.get(pk=warehouse.pk).name == "Основной склад"
        assert list(Location.objects.values_list("code", "is_active")) == [("A-01", True)]


def test_another_dealerships_warehouse_is_404(client, storekeeper, other_dealership):
    theirs = WarehouseFactory(dealership=other_dealership, code="THEIRS")
    their_bin = LocationFactory(warehouse=theirs, code="T-01")
    client.force_login(storekeeper)
    assert client.get(reverse("parts:warehouse_update", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("parts:location_create", args=[theirs.pk]), {"code": "X"}).status_code == 404
    assert client.post(reverse("parts:location_deactivate", args=[their_bin.pk])).status_code == 404
    assert "THEIRS" not in client.get(reverse("parts:warehouse_list")).content.decode()
    assert Location.objects.filter(warehouse=theirs).count() == 1


def test_the_parts_menu_links_the_warehouse_page(client, storekeeper, warehouse):
    client.force_login(storekeeper)
    page = client.get(reverse("parts:stock_list")).content.decode()
    assert f'href="{reverse("parts:warehouse_list")}"' in page


def test_the_api_edits_bins_through_the_same_service(api_as, storekeeper, dealership, warehouse):
    other = WarehouseFactory(dealership=dealership, code="W2")
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    LocationFactory(warehouse=warehouse, code="A-02")
    api = api_as(storekeeper)
    url = f"/api/bin-locations/{bin_a.pk}/"
    assert api.get(url).json()["code"] == "A-01"
    clash = api.patch(url, {"code": "a-02"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert clash.status_code == 400 and clash.json()["code"] == ["This bin already exists in the warehouse."]
    moved = api.patch(url, {"warehouse": other.pk}, format="json")
    assert moved.status_code == 400 and "warehouse" in moved.json()
    ok = api.patch(url, {"code": "b-07", "description": "Полка"}, format="json")
    assert ok.status_code == 200 and ok.json()["code"] == "B-07"
    _place(storekeeper, dealership, PartFactory(dealership=dealership), warehouse, bin_a, "1", "5")
    refused = api.patch(url, {"is_active": False}, format="json")
    assert refused.status_code == 400 and "is_active" in refused.json()
    assert Location.objects.get(pk=bin_a.pk).is_active is True


def test_the_admin_saves_bins_through_the_service(client, dealership, warehouse):
    from tests.factories import UserFactory

    admin_user = UserFactory(
        role=roles.ADMINISTRATOR, dealership=[dealership], is_staff=True, is_superuser=True, username="root"
    )
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    client.force_login(admin_user)
    url = reverse("admin:parts_location_change", args=[bin_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"dealership": dealership.pk, "code": "c-03", "description": "", "is_active": "on"})
    assert response.status_code == 302, response.content[:2000]
    bin_a.refresh_from_db()
    assert bin_a.code == "C-03"  # upper-cased by location_update
