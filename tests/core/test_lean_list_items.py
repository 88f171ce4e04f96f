"""Issue 19: the customers' and vehicles' list APIs build no related rows (manager, dealership, owner, whole
vehicles) — and their items stay exactly what the serializer gives for the fully loaded row."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from dms.core import roles
from dms.core.apis import CustomerSerializer, VehicleSerializer
from dms.core.models import Customer, Vehicle
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def _as_json(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def rows(dealership, make_user):
    manager = make_user(roles.SERVICE_ADVISOR)
    for n in range(4):
        customer = CustomerFactory(
            dealership=dealership, assigned_manager=manager if n % 2 else None, phone_alt="+79031234567" if n else ""
        )
        for make in ("Toyota", "Lexus")[: n % 3]:
            VehicleFactory(customer=customer, make=make)
    return manager


def test_customer_items_equal_the_fully_loaded_rows(rows, api_as, advisor):
    listing = api_as(advisor).get("/api/customers/").json()["results"]
    assert len(listing) == 4
    assert any(item["vehicles"] for item in listing) and any(item["phone_alt"] for item in listing)
    for item in listing:
        full = Customer.objects.select_related("assigned_manager", "dealership").get(pk=item["id"])
        assert _as_json(item) == _as_json(json.loads(_as_json(CustomerSerializer(full).data)))


def test_vehicle_items_equal_the_fully_loaded_rows(rows, api_as, advisor):
    listing = api_as(advisor).get("/api/vehicles/").json()["results"]
    assert len(listing) == 3
    for item in listing:
        full = Vehicle.objects.select_related("customer", "dealership").get(pk=item["id"])
        assert _as_json(item) == _as_json(json.loads(_as_json(VehicleSerializer(full).data)))
