"""Issue 14 item 4 in the service app: the job picker (narrowed to a work order, e.g. on the warranty claim form),
the booking form's vehicle picker by VIN and the first free hand-over slot it proposes."""

import datetime

import pytest
from django.urls import reverse

from dms.core import roles
from service import selectors
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, NOW, at
from .factories import make_work_order

pytestmark = pytest.mark.django_db


def test_job_picker_lists_only_the_chosen_work_orders_jobs(client, advisor, dealership, other_dealership):
    first = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-1", jobs=("Замена масла", "Диагностика"))
    second = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-2", jobs=("Замена колодок",))
    make_work_order(dealership=other_dealership, advisor=advisor, number="ЗН-9", jobs=("Замена масла",))
    client.force_login(advisor)
    url = reverse("service:pick_jobs")
    narrowed = client.get(url, {"work_order": first.pk}).json()["results"]
    assert [r["text"] for r in narrowed] == ["ЗН-1: Замена масла", "ЗН-1: Диагностика"]
    everything = client.get(url, {"q": "замена"}).json()["results"]
    assert [r["text"] for r in everything] == ["ЗН-2: Замена колодок", "ЗН-1: Замена масла"]  # newest first
    assert client.get(url, {"work_order": second.pk, "q": "масла"}).json()["results"] == []
    assert client.get(url, {"work_order": "ЗН-1"}).status_code == 400


def test_job_picker_needs_the_work_order_permission(client, make_user):
    client.force_login(make_user(None))
    assert client.get(reverse("service:pick_jobs")).status_code == 403


def test_warranty_claim_form_narrows_the_job_to_the_chosen_work_order(client, make_user, dealership, advisor):
    make_work_order(dealership=dealership, advisor=advisor, number="ЗН-77", jobs=("Замена насоса",), status="delivered")
    other = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-78", jobs=("Замена ремня",))
    client.force_login(make_user(roles.WARRANTY_ENGINEER))
    html = client.get(reverse("claims:claim_create")).content.decode()
    assert 'data-url="/claims/jobs/pick/"' in html and 'data-depends-on="work_order:work_order_id"' in html
    assert "Замена насоса" not in html  # the jobs are searched, not listed
    url = reverse("claims:pick_claim_jobs")
    assert client.get(url).json()["results"] == []  # no work order chosen: no job
    found = client.get(url, {"work_order": other.pk}).json()["results"]
    assert [r["text"] for r in found] == ["ЗН-78: Замена ремня"]  # only the chosen work order's jobs
    assert client.get(url, {"work_order": "x"}).status_code == 400


def test_first_free_handover_follows_the_arrival(booking_advisor, dealership, book):
    book(10, 0, duration=30, handover=at(10, 30))  # takes 10:00, 10:15 and the hand-over cell 10:30
    free = selectors.first_free_handover(
        dealership=dealership, advisor=booking_advisor, starts_at=at(9, 45), duration_minutes=15, now=NOW
    )
    assert free == at(10, 45)  # after the reception's slot, the first cell nobody holds
    late = selectors.first_free_handover(
        dealership=dealership, advisor=booking_advisor, starts_at=at(17, 45), duration_minutes=15, now=NOW
    )
    assert late == at(9, 0, MONDAY + datetime.timedelta(days=1))  # the day is over: the next working morning


def test_handover_slot_endpoint(client, booking_advisor, dealership, make_user):
    client.force_login(booking_advisor)
    url = reverse("service:handover_slot")
    query = {"advisor": booking_advisor.pk, "date": "2030-03-04", "time": "11:00", "duration": 30}
    assert client.get(url, query).json() == {"date": "2030-03-04", "time": "11:30"}
    saturday = {**query, "date": "2030-03-09", "time": "10:00"}  # no hours at the weekend: Monday morning
    assert client.get(url, saturday).json() == {"date": "2030-03-11", "time": "09:00"}
    for bad in ({**query, "duration": 17}, {**query, "date": "2030-13-40"}, {**query, "advisor": "x"}, {}):
        response = client.get(url, bad)
        assert response.status_code == 400 and response.json()["detail"]
    client.force_login(make_user(roles.QUALITY_INSPECTOR))
    assert client.get(url, query).status_code == 403


def test_booking_form_takes_the_vehicle_from_the_picker_by_vin(client, booking_advisor, dealership):
    customer = CustomerFactory(dealership=dealership, name="Иванов Пётр", phone="+79161234502")
    car = VehicleFactory(customer=customer)
    client.force_login(booking_advisor)
    url = reverse("service:appointment_create")
    page = client.get(url + f"?customer={customer.pk}&vin={car.vin}").content.decode()
    assert 'data-url="/pick/vehicles/"' in page and 'data-value-field="vin"' in page
    assert f'<option value="{car.vin}" selected>' in page and "data-propose-handover" in page
    data = {
        "advisor": booking_advisor.pk, "customer": customer.pk, "vin": car.vin, "reason": "ТО", "area": "express",
        "date": "2030-03-04", "time": "10:00", "duration_minutes": 15, "handover_date": "2030-03-04",
        "handover_time": "16:00",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    forged = client.post(url, {**data, "vin": VehicleFactory().vin, "time": "11:00"})  # another dealership's car
    assert forged.status_code == 200 and "vin" in forged.context["form"].errors
