"""Issue 18 items 1-4: technicians, assignment, clocking, the workshop's load and the board by technician."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from dms.core import roles
from dms.core.exceptions import ConflictError
from service import services, workshop
from service.models import JobClock, JobKind, ServiceSettings, TechnicianAbsence
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, MSK, NOW, at
from .factories import make_work_order

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + datetime.timedelta(days=1)


@pytest.fixture
def brakes(db):
    return JobKind.objects.get_or_create(name="Тормоза")[0]


@pytest.fixture
def engine(db):
    return JobKind.objects.get_or_create(name="Двигатель")[0]


@pytest.fixture
def make_technician(make_user, dealership, director):
    def make(*skills, first_name="Олег", last_name="Механиков", start=datetime.time(9), end=datetime.time(18)):
        user = make_user(roles.TECHNICIAN, first_name=first_name, last_name=last_name)
        profile = services.technician_create(actor=director, dealership=dealership, user=user, skills=list(skills))
        for weekday in range(5):
            services.technician_hours_set(
                actor=director, technician=profile, weekday=weekday, starts_at=start, ends_at=end, break_minutes=60
            )
        return profile

    return make


def test_only_a_technician_of_the_dealership_gets_a_technician_record(
    make_user, dealership, director, other_dealership
):
    advisor = make_user(roles.SERVICE_ADVISOR)
    with pytest.raises(ValidationError, match="not a technician"):
        services.technician_create(actor=director, dealership=dealership, user=advisor)
    stranger = make_user(roles.TECHNICIAN, dealerships=[other_dealership])
    with pytest.raises(ValidationError, match="does not work in the dealership"):
        services.technician_create(actor=director, dealership=dealership, user=stranger)


def test_present_hours_are_working_hours_minus_break_and_absences(make_technician, director, brakes):
    tech = make_technician(brakes)
    services.technician_absence_create(
        actor=director, technician=tech, kind=TechnicianAbsence.Kind.VACATION, starts_on=TUESDAY, ends_on=TUESDAY
    )
    # Monday 9-18 less an hour's break = 8; Tuesday absent; Saturday and Sunday no hours.
    week = workshop.present_hours(profiles=[tech], date_from=MONDAY, date_to=MONDAY + datetime.timedelta(days=6))
    assert week[tech.pk][MONDAY] == Decimal("8.00")
    assert week[tech.pk][TUESDAY] == Decimal("0")
    assert sum(week[tech.pk].values()) == Decimal("32.00")  # four working days of 8 hours
    with pytest.raises(ValidationError, match="already absent"):
        services.technician_absence_create(actor=director, technician=tech, starts_on=MONDAY, ends_on=TUESDAY)
    with pytest.raises(ValidationError):
        services.technician_absence_create(actor=director, technician=tech, starts_on=TUESDAY, ends_on=MONDAY)


def test_job_goes_only_to_a_technician_with_its_skill(make_technician, dealership, advisor, brakes, engine):
    brake_man = make_technician(brakes)
    engine_man = make_technician(engine, first_name="Иван")
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-1")
    job = wo.jobs.get()
    job.kind = brakes
    job.save()
    with pytest.raises(ValidationError, match="no skill"):
        services.job_assign(actor=advisor, job=job, technician=engine_man.user)
    with pytest.raises(ValidationError, match="technician of this dealership"):
        services.job_assign(actor=advisor, job=job, technician=advisor)
    services.job_assign(actor=advisor, job=job, technician=brake_man.user, now=NOW)
    job.refresh_from_db()
    assert job.technician == brake_man.user and job.assigned_at == NOW


def test_clock_start_pause_finish_records_intervals_against_the_job(make_technician, dealership, advisor, brakes):
    tech = make_technician(brakes)
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-2", jobs=("Колодки", "Диски"))
    pads, discs = wo.jobs.all()
    for job in (pads, discs):
        services.job_assign(actor=advisor, job=job, technician=tech.user)
    t0 = datetime.datetime(2030, 3, 4, 9, 0, tzinfo=MSK)
    services.job_clock_start(actor=tech.user, job=pads, now=t0)
    with pytest.raises(ConflictError, match="pause or finish it first"):
        services.job_clock_start(actor=tech.user, job=discs, now=t0 + datetime.timedelta(minutes=5))
    services.job_clock_pause(actor=tech.user, job=pads, now=t0 + datetime.timedelta(minutes=30))
    with pytest.raises(ConflictError, match="not running"):
        services.job_clock_pause(actor=tech.user, job=pads, now=t0 + datetime.timedelta(minutes=31))
    services.job_clock_start(actor=tech.user, job=pads, now=t0 + datetime.timedelta(hours=1))
    services.job_clock_finish(actor=tech.user, job=pads, now=t0 + datetime.timedelta(hours=2))
    pads.refresh_from_db()
    assert pads.done_at == t0 + datetime.timedelta(hours=2)
    assert workshop.clocked_hours(jobs=[pads])[pads.pk] == Decimal("1.50")
    assert JobClock.objects.filter(job=pads).count() == 2
    assert not JobClock.objects.filter(ended_at__isnull=True).exists()
    other = make_technician(brakes, first_name="Пётр")
    with pytest.raises(ValidationError, match="another technician"):
        services.job_clock_start(actor=other.user, job=discs, now=t0)


def test_a_job_is_clocked_only_while_the_car_is_in_the_workshop(make_technician, dealership, advisor, brakes):
    tech = make_technician(brakes)
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-3", status="opened")
    job = wo.jobs.get()
    services.job_assign(actor=advisor, job=job, technician=tech.user)
    with pytest.raises(ConflictError, match="diagnosed or in repair"):
        services.job_clock_start(actor=tech.user, job=job, now=NOW)


def _book(dealership, advisor, hour, hours, kind=None, day=MONDAY):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    return services.appointment_book(
        actor=advisor,
        dealership=dealership,
        advisor=advisor,
        customer=vehicle.customer,
        vehicle=vehicle,
        reason="ТО",
        area="mechanical",
        starts_at=at(hour, 0, day),
        handover_at=at(15, 0, day) + datetime.timedelta(minutes=15 * hour),
        planned_hours=Decimal(hours),
        planned_kind=kind,
        now=NOW,
    )


def test_booking_beyond_the_workshop_hours_warns_then_refuses_where_chosen(
    make_technician, dealership, booking_advisor, brakes, engine
):
    make_technician(brakes)  # 8 hours on Monday
    first = _book(dealership, booking_advisor, 9, "6", brakes)
    assert first.load_warning == ""
    load = workshop.day_load(dealership=dealership, day=MONDAY, now=NOW)
    assert (load.capacity, load.booked, load.technicians) == (Decimal("8.00"), Decimal("6.00"), 1)
    second = _book(dealership, booking_advisor, 10, "3")
    assert "Workshop overloaded" in second.load_warning and "2 of 8 hours" in second.load_warning
    # Nobody knows engines: a skill overload even on a free day.
    third = _book(dealership, booking_advisor, 9, "1", engine, day=TUESDAY)
    assert "Двигатель" in third.load_warning
    ServiceSettings.objects.update_or_create(dealership=dealership, defaults={"workshop_overload": "refuse"})
    with pytest.raises(ValidationError, match="Workshop overloaded"):
        _book(dealership, booking_advisor, 11, "1")
    # A booking that adds no workshop hours is never refused.
    assert _book(dealership, booking_advisor, 11, "0").load_warning == ""


def test_load_counts_the_work_order_jobs_once_it_has_them(make_technician, dealership, booking_advisor, brakes):
    make_technician(brakes)
    appointment = _book(dealership, booking_advisor, 9, "4", brakes)
    make_work_order(dealership=dealership, advisor=booking_advisor, number="ЗН-4", appointment=appointment,
                    jobs=("Колодки", "Диски", "Жидкость"), status="opened")  # fmt: skip
    load = workshop.day_load(dealership=dealership, day=MONDAY, now=NOW)
    assert load.booked == Decimal("3.00")  # three jobs of an hour replace the 4 planned hours


def test_open_jobs_load_today(make_technician, dealership, advisor, brakes):
    make_technician(brakes)
    make_work_order(dealership=dealership, advisor=advisor, number="ЗН-5", jobs=("A", "B"))
    today = NOW.astimezone(MSK).date()
    assert workshop.day_load(dealership=dealership, day=today, now=NOW).open_jobs == Decimal("2.00")
    assert workshop.day_load(dealership=dealership, day=MONDAY, now=NOW).open_jobs == Decimal("0")


def test_board_shows_now_next_and_late(make_technician, dealership, advisor, brakes):
    tech = make_technician(brakes)
    wo = make_work_order(dealership=dealership, advisor=advisor, number="ЗН-6", jobs=("Колодки", "Диски"))
    pads, discs = wo.jobs.all()
    for job in (pads, discs):
        services.job_assign(actor=advisor, job=job, technician=tech.user)
    t0 = datetime.datetime(2030, 3, 4, 9, 0, tzinfo=MSK)
    services.job_clock_start(actor=tech.user, job=pads, now=t0)
    board = workshop.workshop_board_by_technician(dealership=dealership, now=t0 + datetime.timedelta(minutes=30))
    (row,) = board
    assert row.now.job == pads and [i.job for i in row.next] == [discs] and row.late == []
    later = workshop.workshop_board_by_technician(dealership=dealership, now=t0 + datetime.timedelta(hours=2))
    assert [i.job for i in later[0].late] == [pads] and later[0].late[0].late_reasons == ["over_sold"]
