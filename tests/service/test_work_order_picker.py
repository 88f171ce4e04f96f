"""The open-work-order picker (service:pick_work_orders, e.g. the parts requisition form's work order): the
dealership's work orders whose car has not left — the ``service.OpenWorkOrder`` reference target — searched by
number, customer name, VIN or plate, narrowed to a customer."""

import pytest
from django.urls import reverse

from dms.core import roles
from dms.core.references import reference_target
from tests.factories import CustomerFactory, VehicleFactory

from .factories import make_work_order

pytestmark = pytest.mark.django_db


def test_open_work_order_picker_searches_the_dealerships_open_work_orders(
    client, advisor, dealership, other_dealership, make_user, django_assert_max_num_queries
):
    petrov = VehicleFactory(
        customer=CustomerFactory(dealership=dealership, name="Петров Игорь"), plate="А123ВС77", vin="JTDBR32E720000001"
    )
    first = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-1")
    second = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-2", vehicle=petrov)
    delivered = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-3", status="delivered")
    foreign = make_work_order(
        dealership=other_dealership,
        advisor=make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership]),
        number="ЗН-4",
        vehicle=VehicleFactory(customer=CustomerFactory(dealership=other_dealership, name="Петров Чужой")),
    )
    client.force_login(advisor)
    url = reverse("service:pick_work_orders")
    client.get(url)
    with django_assert_max_num_queries(4):
        listed = client.get(url).json()["results"]
    assert [r["id"] for r in listed] == [second.pk, first.pk]  # newest first; neither delivered nor foreign
    open_ids = set(reference_target("service.OpenWorkOrder").filter(dealership=dealership).values_list("pk", flat=True))
    assert {r["id"] for r in listed} == open_ids  # the set the requisition form validates against
    assert listed[0] == {
        "id": second.pk, "text": "ЗН-2", "detail": "Петров Игорь · А123ВС77", "customer": petrov.customer_id
    }  # fmt: skip
    for query in ("петров", "а123", "JTDBR32E72", "ЗН-2"):
        assert [r["id"] for r in client.get(url, {"q": query}).json()["results"]] == [second.pk], query
    assert client.get(url, {"q": delivered.number}).json()["results"] == []
    assert client.get(url, {"q": foreign.number}).json()["results"] == []
    narrowed = client.get(url, {"customer": first.customer_id}).json()["results"]
    assert [r["id"] for r in narrowed] == [first.pk]
    assert client.get(url, {"customer": foreign.customer_id}).json()["results"] == []
    assert client.get(url, {"customer": "ЗН-1"}).status_code == 400


def test_open_work_order_picker_needs_the_work_order_view_permission(client, make_user):
    client.force_login(make_user(None))
    assert client.get(reverse("service:pick_work_orders")).status_code == 403
