"""Issue 18 API: technicians, assignment and clocking on the work-order API, load per day, board, clocked intervals."""

import datetime
from decimal import Decimal

import pytest

from dms.core import roles
from service import services
from service.models import JobClock, JobKind, TechnicianProfile
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, at
from .factories import make_work_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def brakes(db):
    return JobKind.objects.get_or_create(name="Тормоза")[0]


@pytest.fixture
def manager(make_user):
    return make_user(roles.DIRECTOR)


@pytest.fixture
def tech_user(make_user):
    return make_user(roles.TECHNICIAN, first_name="Олег", last_name="Механиков")


def test_director_creates_a_technician_with_skills_hours_and_absence(api_as, manager, tech_user, brakes, dealership):
    client = api_as(manager)
    r = client.post(
        "/api/technicians/",
        {"user": tech_user.pk, "skills": [brakes.name], "certification_level": 3},
        format="json",
        HTTP_X_DEALERSHIP=str(dealership.pk),
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = client.post(
        f"/api/technicians/{pk}/set-hours/",
        {"weekday": 0, "starts_at": "09:00", "ends_at": "18:00", "break_minutes": 60},
        format="json",
    )
    assert r.status_code == 200 and r.json()["hours"][0]["hours"] == "8.00"
    r = client.post(f"/api/technicians/{pk}/add-absence/", {"starts_on": "2030-03-11", "kind": "sick"}, format="json")
    assert r.status_code == 200, r.content
    r = client.post(f"/api/technicians/{pk}/add-absence/", {"starts_on": "2030-03-11"}, format="json")
    assert r.status_code == 400 and "starts_on" in r.json()
    r = client.get(f"/api/technicians/load/?date_from={MONDAY.isoformat()}&days=8")
    assert r.status_code == 200
    days = {d["day"]: d for d in r.json()}
    assert days["2030-03-04"]["capacity"] == "8.00" and days["2030-03-11"]["capacity"] == "0.00"
    assert client.get("/api/technicians/load/?days=99").status_code == 400
    assert client.get("/api/technicians/load/?date_from=xx").status_code == 400
    r = client.patch(f"/api/technicians/{pk}/", {"certification_level": 4}, format="json")
    assert r.status_code == 200 and r.json()["certification_level"] == 4


def test_an_advisor_is_not_made_a_technician(api_as, manager, advisor, dealership):
    r = api_as(manager).post("/api/technicians/", {"user": advisor.pk}, format="json")
    assert r.status_code == 400 and "user" in r.json()


def test_technician_clocks_a_job_through_the_api(api_as, manager, advisor, tech_user, brakes, dealership):
    profile = services.technician_create(actor=manager, dealership=dealership, user=tech_user, skills=[brakes])
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-А1")
    job = wo.jobs.get()
    r = api_as(advisor).post(
        f"/api/work-orders/{wo.pk}/assign-job/", {"job": job.pk, "technician": tech_user.pk}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["jobs"][0]["technician"]["id"] == tech_user.pk
    client = api_as(tech_user)
    r = client.post(f"/api/work-orders/{wo.pk}/clock-start/", {"job": job.pk}, format="json")
    assert r.status_code == 200 and r.json()["jobs"][0]["work_state"] == "in_progress"
    assert client.post(f"/api/work-orders/{wo.pk}/clock-start/", {"job": job.pk}, format="json").status_code == 409
    r = client.post(f"/api/work-orders/{wo.pk}/clock-pause/", {"job": job.pk}, format="json")
    assert r.status_code == 200 and r.json()["jobs"][0]["work_state"] == "paused"
    r = client.post(f"/api/work-orders/{wo.pk}/clock-finish/", {"job": job.pk}, format="json")
    assert r.status_code == 200 and r.json()["jobs"][0]["work_state"] == "done"
    r = client.get("/api/job-clocks/")
    assert r.status_code == 200 and r.json()["count"] == 1
    # The advisor may assign but not clock; the technician may not assign.
    assert api_as(advisor).post(f"/api/work-orders/{wo.pk}/clock-start/", {"job": job.pk}).status_code == 403
    assert (
        client.post(
            f"/api/work-orders/{wo.pk}/assign-job/", {"job": job.pk, "technician": None}, format="json"
        ).status_code
        == 403
    )
    board = api_as(manager).get("/api/technicians/board/")
    assert board.status_code == 200 and board.json()[0]["technician"] == profile.pk
    assert JobClock.objects.count() == 1


def test_booking_answers_the_load_warning(api_as, booking_advisor, tech_user, manager, dealership, brakes):
    profile = services.technician_create(actor=manager, dealership=dealership, user=tech_user, skills=[brakes])
    services.technician_hours_set(
        actor=manager, technician=profile, weekday=0, starts_at=datetime.time(9), ends_at=datetime.time(13),
        break_minutes=0,
    )  # fmt: skip
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    payload = {
        "advisor": booking_advisor.pk, "customer": vehicle.customer.pk, "vehicle": vehicle.pk, "reason": "ТО",
        "area": "mechanical", "starts_at": at(10).isoformat(), "handover_at": at(16).isoformat(),
        "planned_hours": "5.00", "planned_kind": brakes.name,
    }  # fmt: skip
    r = api_as(booking_advisor).post("/api/appointments/", payload, format="json")
    assert r.status_code == 201, r.content
    assert "Workshop overloaded" in r.json()["load_warning"] or "перегружен" in r.json()["load_warning"]
    assert Decimal(r.json()["planned_hours"]) == Decimal("5.00")
    assert TechnicianProfile.objects.count() == 1
