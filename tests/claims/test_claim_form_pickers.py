"""The goodwill claim form's complaint and the warranty claim form's work order are searched as the user types
(claims:pick_complaints, claims:pick_claim_work_orders): the pages never list a dealership's every complaint or
work order, and the forms still accept only the dealership's own records."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services
from claims.models import GoodwillClaim, WarrantyClaim
from dms.core import roles
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[str]:
    """The values of the <option>s of the form's <select name=…>."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def complaint(actor, vehicle, **kwargs):
    return services.complaint_register(
        actor=actor, dealership=vehicle.dealership, channel="phone", description="Шум в салоне",
        customer=vehicle.customer, vehicle=vehicle, **kwargs,
    )  # fmt: skip


@pytest.fixture
def complaints(engineer, make_user, dealership, other_dealership, vehicle):
    petrov = VehicleFactory(customer=CustomerFactory(dealership=dealership, name="Петров Игорь"))
    foreign = VehicleFactory(customer=CustomerFactory(dealership=other_dealership, name="Петров Чужой"))
    stranger = make_user(roles.WARRANTY_ENGINEER, dealerships=[other_dealership])
    return {
        "first": complaint(engineer, vehicle),
        "second": complaint(engineer, vehicle),
        "petrov": complaint(engineer, petrov),
        "foreign": complaint(stranger, foreign),
    }


def test_complaint_picker_searches_the_dealerships_complaints_by_number_and_customer(client, engineer, complaints):
    client.force_login(engineer)
    url = reverse("claims:pick_complaints")
    mine = {complaints[key].pk for key in ("first", "second", "petrov")}
    listed = client.get(url).json()["results"]
    assert {r["id"] for r in listed} == mine  # newest first, never the other dealership's
    petrov = complaints["petrov"]
    by_name = client.get(url, {"q": "петров"}).json()["results"]
    assert by_name == [
        {"id": petrov.pk, "text": petrov.number, "detail": "Петров Игорь", "customer": petrov.customer_id}
    ]
    by_number = client.get(url, {"q": complaints["first"].number}).json()["results"]
    assert [r["id"] for r in by_number] == [complaints["first"].pk]
    same_number = client.get(url, {"q": complaints["foreign"].number}).json()["results"]
    assert complaints["foreign"].pk not in {r["id"] for r in same_number}  # its number may repeat one of ours
    narrowed = client.get(url, {"customer": complaints["first"].customer_id}).json()["results"]
    assert {r["id"] for r in narrowed} == {complaints["first"].pk, complaints["second"].pk}
    assert client.get(url, {"customer": petrov.customer_id, "q": complaints["first"].number}).json()["results"] == []
    assert client.get(url, {"customer": complaints["foreign"].customer_id}).json()["results"] == []
    assert client.get(url, {"customer": "Петров"}).status_code == 400


def test_complaint_picker_needs_the_complaint_view_permission(client, make_user, fmc):
    client.force_login(make_user(None))
    assert client.get(reverse("claims:pick_complaints")).status_code == 403
    client.force_login(fmc)  # reads claims, not complaints
    assert client.get(reverse("claims:pick_complaints")).status_code == 403


def test_goodwill_form_lists_no_complaint_but_the_chosen_one(client, engineer, complaints):
    client.force_login(engineer)
    url = reverse("claims:goodwill_create")
    html = client.get(url).content.decode()
    assert options(html, "complaint") == [""]  # three complaints of the dealership, none listed
    assert 'data-url="/complaints/pick/"' in html and 'data-depends-on="customer:customer"' in html
    first = complaints["first"]
    html = client.get(url, {"complaint": first.pk}).content.decode()
    assert options(html, "complaint") == ["", str(first.pk)]
    data = {"customer": first.customer_id, "vehicle": first.vehicle_id, "description": "Скидка на ремонт"}
    forged = client.post(url, {**data, "complaint": complaints["foreign"].pk})
    assert forged.status_code == 200 and "complaint" in forged.context["form"].errors
    assert options(forged.content.decode(), "complaint") == [""]
    assert not GoodwillClaim.objects.exists()
    response = client.post(url, {**data, "complaint": first.pk})
    assert response.status_code == 302
    assert GoodwillClaim.objects.get().complaint == first


@pytest.fixture
def foreign_work_order(work_orders, other_dealership):
    return work_orders.add(vehicle=VehicleFactory(customer=CustomerFactory(dealership=other_dealership)))


def test_claim_work_order_picker_searches_the_dealerships_work_orders(
    client, engineer, make_user, work_orders, warranty_vehicle, foreign_work_order
):
    delivered = work_orders.add(vehicle=warranty_vehicle, number="ЗН-501")
    open_one = work_orders.add(vehicle=warranty_vehicle, number="ЗН-502", delivered=False)
    client.force_login(engineer)
    url = reverse("claims:pick_claim_work_orders")
    listed = client.get(url).json()["results"]
    assert [r["id"] for r in listed] == [open_one.id, delivered.id]  # newest first, not the other dealership's
    assert [r["text"] for r in listed] == ["ЗН-502 *", "ЗН-501"]  # a star: not delivered yet
    assert [r["id"] for r in client.get(url, {"q": "ЗН-501"}).json()["results"]] == [delivered.id]
    assert [r["id"] for r in client.get(url, {"q": warranty_vehicle.vin}).json()["results"]] == [
        open_one.id,
        delivered.id,
    ]
    assert client.get(url, {"q": foreign_work_order.number}).json()["results"] == []
    client.force_login(make_user(None))
    assert client.get(url).status_code == 403


def test_warranty_claim_form_lists_no_work_order_and_rejects_a_foreign_one(
    client, engineer, work_orders, warranty_vehicle, pump, foreign_work_order
):
    wo = work_orders.add(vehicle=warranty_vehicle, mileage=25000, parts={pump: 1})
    work_orders.add(vehicle=warranty_vehicle, number="ЗН-777")
    client.force_login(engineer)
    url = reverse("claims:claim_create")
    html = client.get(url).content.decode()
    assert options(html, "work_order_id") == [""] and "ЗН-777" not in html
    assert 'data-url="/claims/workorders/pick/"' in html
    html = client.get(url, {"work_order": wo.id}).content.decode()
    assert options(html, "work_order_id") == ["", str(wo.id)]
    data = {
        "job_id": wo.jobs[0].id, "kind": "regular", "failure_date": timezone.localdate().isoformat(),
        "failure_code": "P0A3F", "causal_part": pump.pk, "description": "Течь насоса", "labour_hours": "1.5",
    }  # fmt: skip
    for forged in (foreign_work_order.id, "x", 10**12):
        response = client.post(url, {**data, "work_order_id": forged})
        assert response.status_code == 200 and "work_order_id" in response.context["form"].errors, forged
    assert not WarrantyClaim.objects.exists()
    invalid = client.post(url, {**data, "work_order_id": wo.id, "kind": "bogus"})
    page = invalid.content.decode()
    assert options(page, "work_order_id") == ["", str(wo.id)]  # the posted choice is shown again, with its job
    assert options(page, "job_id") == ["", str(wo.jobs[0].id)]
    response = client.post(url, {**data, "work_order_id": wo.id})
    assert response.status_code == 302
    claim = WarrantyClaim.objects.get()
    assert claim.work_order_number == wo.number
