"""Issue 18 items 3-4 against the words: the preparation list (R17) shows which technician takes which job — on the
list, on the visit's preparation page (where it is decided) and in the advisor's e-mail; the board by technician
shows what is late, including what will miss its promised hand-over and the jobs nobody takes."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from service import services, workshop
from service.models import JobKind, WorkOrderJob
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MSK
from .factories import make_work_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def brakes(db):
    return JobKind.objects.get_or_create(name="Тормоза")[0]


@pytest.fixture
def oleg(technician, brakes):
    return technician(brakes, hours=12)


def _visit(dealership, advisor, starts_at, handover_at):
    """An appointment written directly (the booking rules are tested elsewhere): arrival and promised hand-over."""
    from service.models import Appointment

    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership, email="c@example.com"))
    return Appointment.objects.create(
        dealership=dealership, advisor=advisor, customer=vehicle.customer, vehicle=vehicle, reason="Тормоза",
        area="mechanical", starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=15),
        handover_at=handover_at,
    )  # fmt: skip


def _jobs(wo, *hours):
    wo.jobs.all().delete()
    return [
        WorkOrderJob.objects.create(work_order=wo, description=f"Работа {n}", standard_hours=Decimal(h), rate=1000)
        for n, h in enumerate(hours, start=1)
    ]


def test_the_board_marks_a_job_that_will_miss_its_promise_before_it_does(oleg, dealership, advisor):
    t0 = datetime.datetime(2030, 3, 4, 12, 0, tzinfo=MSK)
    soon = _visit(dealership, advisor, t0 - datetime.timedelta(hours=3), t0 + datetime.timedelta(hours=2))
    later = _visit(dealership, advisor, t0 - datetime.timedelta(hours=3), t0 + datetime.timedelta(hours=8))
    wo1 = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-31", appointment=soon)
    wo2 = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-32", appointment=later)
    (long_job,) = _jobs(wo1, "3")  # 3 sold hours, promised in 2
    (short_job,) = _jobs(wo2, "1")
    for job in (long_job, short_job):
        services.job_assign(actor=advisor, job=job, technician=oleg.user, now=t0)
    (row,) = workshop.workshop_board_by_technician(dealership=dealership, now=t0)
    # Next in the order of the promises; the 3-hour job cannot end before its hand-over in 2 hours.
    assert [i.job for i in row.next] == [long_job, short_job]
    assert [(i.job, i.late_reasons) for i in row.late] == [(long_job, ["behind"])]
    # Once the promise has passed it is "promised"; the other job, queued after it, now ends past its own.
    (row,) = workshop.workshop_board_by_technician(
        dealership=dealership, now=t0 + datetime.timedelta(hours=7, minutes=30)
    )
    reasons = {i.job: i.late_reasons for i in row.late}
    assert reasons == {long_job: ["promised"], short_job: ["behind"]}


def test_the_board_lists_jobs_nobody_takes(client, api_as, oleg, dealership, advisor):
    now = timezone.now()
    visit = _visit(dealership, advisor, now - datetime.timedelta(hours=5), now - datetime.timedelta(hours=1))
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-33", appointment=visit)
    taken, free = _jobs(wo, "1", "2")
    services.job_assign(actor=advisor, job=taken, technician=oleg.user)
    (item,) = workshop.unassigned_jobs(dealership=dealership, now=now)
    assert item.job == free and item.late_reasons == ["promised"]
    answer = api_as(advisor).get("/api/technicians/board-unassigned/")
    assert answer.status_code == 200, answer.content
    assert [(i["job"], i["late_reasons"]) for i in answer.json()] == [(free.pk, ["promised"])]
    client.force_login(advisor)
    html = client.get("/workshop/board/").content.decode()
    block = html[html.index('id="board-unassigned"') :]
    assert f'data-job="{free.pk}"' in block and f'data-job="{taken.pk}"' not in block
    assert "ЗН-33" in block and "text-danger" in block


def test_preparation_list_page_and_email_name_who_takes_which_job(
    client, oleg, dealership, booking_advisor, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    booking_advisor.email = "anna@example.com"
    booking_advisor.save()
    now = timezone.now()
    visit = _visit(dealership, booking_advisor, now + datetime.timedelta(hours=20), now + datetime.timedelta(hours=26))
    wo = services.appointment_open_work_order(actor=booking_advisor, appointment=visit)
    pads, fluid = _jobs(wo, "1.5", "0.5")
    services.job_assign(actor=booking_advisor, job=pads, technician=oleg.user)
    client.force_login(booking_advisor)
    html = client.get("/appointments/preparation/").content.decode()
    cell = html[html.index('class="small job-technicians"') :]
    cell = cell[: cell.index("</td>")]
    assert "Работа 1 — Олег Механиков" in cell and "Работа 2" in cell and "не назначен" in cell.lower(), cell
    # The visit's preparation page assigns the jobs and comes back to itself.
    prepare = f"/appointments/{visit.pk}/prepare/"
    html = client.get(prepare).content.decode()
    assert 'id="job-technicians"' in html and f'name="next" value="{prepare}"' in html
    r = client.post(f"/workorders/{wo.pk}/jobs/{fluid.pk}/assign/", {"technician": oleg.user.pk, "next": prepare})
    assert r.status_code == 302 and r["Location"] == prepare + "#job-technicians"
    fluid.refresh_from_db()
    assert fluid.technician == oleg.user
    r = client.post(f"/workorders/{wo.pk}/jobs/{fluid.pk}/assign/", {"technician": "", "next": "https://evil.example/"})
    assert r["Location"] == wo.get_absolute_url() + "#job-technicians"  # never off the site
    services.job_assign(actor=booking_advisor, job=fluid, technician=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.preparation_mark_due(now=now) == 1
    (message,) = mail.outbox
    assert "Работа 1 — Олег Механиков" in message.body and "Работа 2 — " in message.body, message.body
