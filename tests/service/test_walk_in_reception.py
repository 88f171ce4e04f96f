"""Issue 14 item 1: a walk-in work order is received (mileage, fuel, damage, the customer's words, the R25 interview)
and goes the whole R31 path to signed delivery — in the service layer, on the page and in the API."""

import datetime

import pytest
from django.urls import reverse

from dms.core import roles
from service import services
from service.models import Appointment, AppointmentStatus, WorkOrder, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def vip_vehicle(dealership):
    # A VIP customer: reception prompts the R25 interview.
    return VehicleFactory(customer=CustomerFactory(dealership=dealership, is_vip=True), mileage=12000)


def test_walk_in_work_order_goes_from_reception_to_signed_delivery(advisor, inspector, vip_vehicle, dealership):
    wo = services.workorder_open(
        actor=advisor, dealership=dealership, customer=vip_vehicle.customer, vehicle=vip_vehicle, complaint="Стук"
    )
    assert wo.appointment_id is None
    wo = services.workorder_record_reception(
        actor=advisor,
        work_order=wo,
        mileage=15000,
        fuel_level="1/2",
        damage_notes="Скол",
        customer_words="Стук",
        now=NOW,
    )
    assert (wo.arrived_at, wo.mileage_in, wo.fuel_level, wo.damage_notes) == (NOW, 15000, "1/2", "Скол")
    assert "vip" in wo.interview_reasons
    vip_vehicle.refresh_from_db()
    assert vip_vehicle.mileage == 15000
    services.workorder_record_interview(actor=advisor, work_order=wo, notes="Доволен", now=NOW)
    job = services.workorder_job_add(actor=advisor, work_order=wo, description="Стойка", standard_hours=1)
    services.workorder_start_diagnosis(actor=advisor, work_order=wo)
    services.workorder_start_repair(actor=advisor, work_order=wo)
    services.workorder_job_complete(actor=advisor, job=job)
    services.workorder_submit_for_quality_check(actor=advisor, work_order=wo, technician="Петров")
    services.workorder_quality_check(actor=inspector, work_order=wo, passed=True, checked_jobs=[job])
    services.workorder_deliver(actor=advisor, work_order=wo, signed_by="Клиент")
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.DELIVERED and wo.signed_by == "Клиент" and wo.interview_done_at == NOW


def test_walk_in_reception_on_the_work_order_page_then_the_whole_path(client, advisor, inspector, vip_vehicle):
    client.force_login(advisor)
    client.post(
        reverse("service:workorder_create"),
        {"customer": vip_vehicle.customer_id, "vehicle": vip_vehicle.pk, "complaint": "Стучит справа"},
    )
    wo = WorkOrder.objects.get()
    page = client.get(wo.get_absolute_url()).content.decode()
    url = reverse("service:workorder_reception", args=[wo.pk])
    assert 'id="wo-reception"' in page and url in page  # the next-step card offers the reception
    form = client.get(url)
    assert form.status_code == 200 and vip_vehicle.vin in form.content.decode()
    assert form.context["form"].initial == {"customer_words": "Стучит справа", "mileage": 12000}
    bad = client.post(url, {"mileage": "", "fuel_level": "", "customer_words": ""})
    assert bad.status_code == 200 and {"mileage", "fuel_level", "customer_words"} <= set(bad.context["form"].errors)
    wo.refresh_from_db()
    assert wo.arrived_at is None
    done = client.post(url, {"mileage": 13000, "fuel_level": "1", "damage_notes": "", "customer_words": "Стучит"})
    assert done.status_code == 302 and done["Location"] == wo.get_absolute_url()
    wo.refresh_from_db()
    assert (wo.mileage_in, wo.fuel_level, wo.customer_words, wo.interview_reasons) == (13000, "1", "Стучит", ["vip"])
    page = client.get(wo.get_absolute_url()).content.decode()
    assert 'id="interview-prompt"' in page and 'id="wo-reception"' not in page

    def act(name, **data):
        return client.post(reverse("service:workorder_action", args=[wo.pk, name]), data)

    act("interview", notes="Просит звонить вечером")
    act("add-job", description="Стойка", standard_hours="1")
    act("start-diagnosis")
    act("start-repair")
    for job in wo.jobs.all():
        act("complete-job", job=job.pk)
    act("submit-quality-check", technician="Петров")
    client.force_login(inspector)
    act("quality-check", result="pass", checked_jobs=[j.pk for j in wo.jobs.all()])
    client.force_login(advisor)
    act("deliver", signed_by="Клиент")
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.DELIVERED and wo.interview_notes == "Просит звонить вечером"
    # A second reception is refused: the page answers with the form and a message, nothing changes.
    again = client.post(url, {"mileage": 99999, "fuel_level": "1", "customer_words": "x"})
    assert again.status_code == 200
    wo.refresh_from_db()
    assert wo.mileage_in == 13000


def test_walk_in_reception_and_interview_in_the_api_then_the_whole_path(api_as, advisor, inspector, vip_vehicle):
    client = api_as(advisor)
    opened = client.post(
        "/api/work-orders/",
        {"customer": vip_vehicle.customer_id, "vehicle": vip_vehicle.pk, "complaint": "Не заводится"},
        format="json",
    )
    wo_id = opened.json()["id"]
    base = f"/api/work-orders/{wo_id}"
    assert client.post(f"{base}/start-diagnosis/").status_code == 409  # reception first
    bad = client.post(f"{base}/reception/", {"mileage": -1, "fuel_level": "half"}, format="json")
    assert bad.status_code == 400 and {"mileage", "fuel_level", "customer_words"} <= set(bad.json())
    r = client.post(
        f"{base}/reception/",
        {"mileage": 12500, "fuel_level": "3/4", "damage_notes": "Царапина", "customer_words": "Не заводится"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["mileage_in"], body["fuel_level"], body["interview_reasons"]) == (12500, "3/4", ["vip"])
    assert body["arrived_at"] is not None and body["status"] == WorkOrderStatus.OPENED
    again = client.post(f"{base}/reception/", {"mileage": 1, "fuel_level": "1", "customer_words": "x"})
    assert again.status_code == 409
    assert client.post(f"{base}/interview/", {"notes": ""}).status_code == 400
    assert client.post(f"{base}/interview/", {"notes": "Всё объяснили"}).status_code == 200
    job = client.post(f"{base}/add-job/", {"description": "Стартер", "standard_hours": "1"}).json()["jobs"][0]["id"]
    assert client.post(f"{base}/start-diagnosis/").json()["status"] == "diagnosis"
    assert client.post(f"{base}/start-repair/").json()["status"] == "in_repair"
    assert client.post(f"{base}/complete-job/", {"job": job}).status_code == 200
    assert client.post(f"{base}/submit-for-quality-check/", {"technician": "Петров"}).status_code == 200
    qc = api_as(inspector).post(f"{base}/quality-check/", {"passed": True, "checked_jobs": [job]}, format="json")
    assert qc.json()["status"] == "ready"
    r = client.post(f"{base}/deliver/", {"signed_by": "Клиент"})
    assert r.json()["status"] == WorkOrderStatus.DELIVERED
    wo = WorkOrder.objects.get(pk=wo_id)
    assert wo.interview_notes == "Всё объяснили" and wo.damage_notes == "Царапина"


def test_api_reception_roles_and_other_dealerships(api_as, advisor, make_user, vehicle, dealership, other_dealership):
    wo = services.workorder_open(actor=advisor, dealership=dealership, customer=vehicle.customer, vehicle=vehicle)
    payload = {"mileage": 100, "fuel_level": "1", "customer_words": "x"}
    assert api_as(make_user(roles.STOREKEEPER)).post(f"/api/work-orders/{wo.pk}/reception/", payload).status_code == 403
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    assert api_as(stranger).post(f"/api/work-orders/{wo.pk}/reception/", payload).status_code == 404
    wo.refresh_from_db()
    assert wo.arrived_at is None


def test_api_receives_a_booked_appointment(api_as, book, booking_advisor):
    appointment = book(10, 0)
    client = api_as(booking_advisor)
    r = client.post(
        f"/api/appointments/{appointment.pk}/reception/",
        {"mileage": 30000, "fuel_level": "1/4", "customer_words": "ТО-2"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["appointment"] == appointment.pk and r.json()["mileage_in"] == 30000
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.ARRIVED
    second = client.post(
        f"/api/appointments/{appointment.pk}/reception/", {"mileage": 1, "fuel_level": "1", "customer_words": "x"}
    )
    assert second.status_code == 409 and WorkOrder.objects.count() == 1


def test_reception_is_refused_on_a_work_order_past_opened(advisor, vehicle, dealership):
    wo = services.workorder_open(actor=advisor, dealership=dealership, customer=vehicle.customer, vehicle=vehicle)
    services.workorder_record_reception(actor=advisor, work_order=wo, mileage=1, fuel_level="1", customer_words="x")
    services.workorder_start_diagnosis(actor=advisor, work_order=wo)
    from dms.core.exceptions import ConflictError

    with pytest.raises(ConflictError):
        services.workorder_record_reception(
            actor=advisor, work_order=wo, mileage=1, fuel_level="1", customer_words="x", now=NOW + datetime.timedelta(1)
        )
