"""Issue 18 pages: technicians (director), the tablet page, assignment on the work order, load, board, booking."""

import datetime

import pytest

from dms.core import roles
from service import services
from service.models import JobClock, JobKind, TechnicianAbsence, TechnicianProfile
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY
from .factories import make_work_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def brakes(db):
    return JobKind.objects.get_or_create(name="Тормоза")[0]


@pytest.fixture
def manager(make_user):
    return make_user(roles.DIRECTOR)


@pytest.fixture
def tech(make_user, manager, dealership, brakes):
    user = make_user(roles.TECHNICIAN, first_name="Олег", last_name="Механиков")
    profile = services.technician_create(actor=manager, dealership=dealership, user=user, skills=[brakes])
    for weekday in range(5):
        services.technician_hours_set(
            actor=manager, technician=profile, weekday=weekday, starts_at=datetime.time(9), ends_at=datetime.time(13),
            break_minutes=0,
        )  # fmt: skip
    return profile


def test_director_adds_a_technician_sets_hours_and_absence(client, manager, make_user, brakes):
    user = make_user(roles.TECHNICIAN, first_name="Пётр", last_name="Гаечкин")
    client.force_login(manager)
    assert client.get("/workshop/technicians/").status_code == 200
    r = client.post("/workshop/technicians/new/", {"user": user.pk, "certification_level": 3, "skills": [brakes.pk]})
    assert r.status_code == 302, r.content.decode()[:2000]
    profile = TechnicianProfile.objects.get(user=user)
    url = f"/workshop/technicians/{profile.pk}/"
    r = client.post(url, {"form": "hours", "weekday": 0, "starts_at": "09:00", "ends_at": "18:00", "break_minutes": 60})
    assert r.status_code == 302 and profile.hours.get().hours == 8
    r = client.post(url, {"form": "hours", "weekday": 1, "starts_at": "18:00", "ends_at": "09:00", "break_minutes": 0})
    assert r.status_code == 302  # the service's refusal is a message on the page
    assert profile.hours.count() == 1
    r = client.post(url, {"form": "absence", "kind": "vacation", "starts_on": "2030-03-04", "ends_on": "2030-03-08"})
    assert r.status_code == 302 and TechnicianAbsence.objects.filter(technician=profile).count() == 1
    page = client.get(url)
    assert page.status_code == 200 and "2030" in page.content.decode() or "04.03" in page.content.decode()
    assert client.post(url, {"form": "nonsense"}).status_code == 404


def test_advisor_cannot_manage_technicians(client, advisor, tech):
    client.force_login(advisor)
    assert client.get(f"/workshop/technicians/{tech.pk}/").status_code == 200
    assert client.post(f"/workshop/technicians/{tech.pk}/", {"form": "remove_hours"}).status_code == 403
    assert client.get("/workshop/technicians/new/").status_code == 403


def test_assign_on_the_work_order_and_clock_on_the_tablet(client, advisor, tech, dealership, brakes):
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-П1")
    job = wo.jobs.get()
    client.force_login(advisor)
    page = client.get(f"/workorders/{wo.pk}/")
    assert 'id="job-technicians"' in page.content.decode()
    r = client.post(f"/workorders/{wo.pk}/jobs/{job.pk}/assign/", {"technician": tech.user_id})
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.technician_id == tech.user_id
    client.force_login(tech.user)
    home = client.get("/", follow=True)
    assert home.redirect_chain and home.redirect_chain[-1][0].endswith("/workshop/my-jobs/")
    assert job.description in home.content.decode()
    # Issue 17: from the tablet the technician opens the work order's findings, whose photos take the camera.
    assert f'href="/workorders/{wo.pk}/#findings"' in home.content.decode()
    findings = client.get(f"/workorders/{wo.pk}/").content.decode()
    assert 'id="finding-form"' in findings and 'capture="environment"' in findings
    assert client.post(f"/workshop/my-jobs/{job.pk}/start/").status_code == 302
    assert JobClock.objects.filter(job=job, ended_at__isnull=True).exists()
    assert client.post(f"/workshop/my-jobs/{job.pk}/finish/").status_code == 302
    job.refresh_from_db()
    assert job.done_at is not None
    assert client.post(f"/workshop/my-jobs/{job.pk}/explode/").status_code == 404
    assert client.post("/workshop/my-jobs/999999/start/").status_code == 404
    # The work order's history reads as people speak: the technician's name as a change, the clock's labels.
    client.force_login(advisor)
    history = client.get(f"/workorders/{wo.pk}/").content.decode().split('id="audit-trail"', 1)[1]
    assert "['', " not in history and "Олег Механиков" in history
    assert "— → Олег Механиков" in history
    assert "Started_at" not in history and "Ended_at" not in history


def test_tablet_says_why_a_job_of_a_car_waiting_for_consent_cannot_start(client, advisor, tech, dealership):
    waiting = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-П2", status="awaiting_approval")
    in_repair = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-П3")
    for wo in (waiting, in_repair):
        wo.jobs.update(technician=tech.user)
    client.force_login(tech.user)
    page = client.get("/workshop/my-jobs/").content.decode()
    blocked = page.split(f'id="job-{waiting.jobs.get().pk}"', 1)[1].split('class="card tablet-job', 1)[0]
    assert "job-start" not in blocked and "disabled" in blocked
    assert "Время работ отмечается, пока автомобиль на диагностике или в ремонте." in blocked
    ready = page.split(f'id="job-{in_repair.jobs.get().pk}"', 1)[1].split('class="card tablet-job', 1)[0]
    assert "job-start" in ready and "disabled" not in ready


def test_the_dealership_chooses_on_a_page_to_refuse_bookings_beyond_the_load(client, make_user, dealership):
    """Issue 18 item 3, "where the dealership chooses, refuses": the rule is shown on the load page and set on its
    settings page by the administrator (a director reads it); the booking check then refuses."""
    from service import selectors

    director = make_user(roles.DIRECTOR)
    client.force_login(director)
    load = client.get("/workshop/load/").content.decode()
    assert "предупредить и записать" in load.split('id="overload-policy"', 1)[1].split("</p>", 1)[0]
    assert client.get("/workshop/load/settings/").status_code == 200
    assert client.post("/workshop/load/settings/", {"workshop_overload": "refuse"}).status_code == 403
    admin = make_user(roles.ADMINISTRATOR)
    client.force_login(admin)
    r = client.post("/workshop/load/settings/", {"workshop_overload": "refuse"})
    assert r.status_code == 302
    assert selectors.service_settings(dealership=dealership).workshop_overload == "refuse"
    bad = client.post("/workshop/load/settings/", {"workshop_overload": "sometimes"})
    assert bad.status_code == 200 and "invalid-feedback" in bad.content.decode()
    client.force_login(director)
    assert "отказать в записи" in client.get("/workshop/load/").content.decode()


def test_load_and_board_pages(client, advisor, tech, dealership):
    client.force_login(advisor)
    r = client.get(f"/workshop/load/?date={MONDAY.isoformat()}")
    assert r.status_code == 200 and 'data-day="2030-03-04"' in r.content.decode()
    assert client.get("/workshop/load/?date=garbage").status_code == 200
    assert client.get("/workshop/board/").status_code == 200
    r = client.get(f"/appointments/?date={MONDAY.isoformat()}")
    assert 'id="workshop-load-line"' in r.content.decode()


def test_booking_page_warns_when_the_workshop_is_full(client, booking_advisor, tech, dealership, settings):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    client.force_login(booking_advisor)
    data = {
        "advisor": booking_advisor.pk, "customer": vehicle.customer.pk, "vin": vehicle.vin, "reason": "ТО",
        "area": "mechanical", "date": MONDAY.isoformat(), "time": "10:00", "duration_minutes": 15,
        "handover_date": MONDAY.isoformat(), "handover_time": "16:00", "planned_hours": "5",
    }  # fmt: skip
    r = client.post("/appointments/new/", data, follow=True)
    assert r.status_code == 200
    messages = [str(m) for m in r.context["messages"]]
    assert any("Мастерская перегружена" in m or "Workshop overloaded" in m for m in messages), messages
