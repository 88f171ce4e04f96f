import datetime
import zoneinfo

import pytest

from dms.core import roles
from service import services
from tests.factories import CustomerFactory, VehicleFactory

from .factories import WorkingHoursFactory

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
# A Monday well in the future; "now" is the Friday before, 10:00 Moscow time.
MONDAY = datetime.date(2030, 3, 4)
NOW = datetime.datetime(2030, 3, 1, 10, 0, tzinfo=MSK)


def at(hour: int, minute: int = 0, day: datetime.date = MONDAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=MSK)


@pytest.fixture
def working_week(dealership):
    def make(user, start=datetime.time(9, 0), end=datetime.time(18, 0)):
        for weekday in range(5):
            WorkingHoursFactory(dealership=dealership, advisor=user, weekday=weekday, starts_at=start, ends_at=end)
        return user

    return make


@pytest.fixture
def booking_advisor(advisor, working_week):
    return working_week(advisor)


@pytest.fixture
def inspector(make_user):
    return make_user(roles.QUALITY_INSPECTOR, first_name="Игорь", last_name="Соколов")


@pytest.fixture
def book(booking_advisor, dealership):
    """Book quickly: book(10, 15) books 10:15 with a hand-over at 17:00 (its own customer and vehicle)."""

    counter = {"n": 0}

    def do(hour, minute=0, *, advisor=None, duration=15, handover=None, vehicle=None, reason="ТО-2", actor=None, **kw):
        vehicle = vehicle or VehicleFactory(customer=CustomerFactory(dealership=dealership))
        advisor = advisor or booking_advisor
        day = kw.pop("day", MONDAY)
        if handover is None:
            handover = at(14, 0, day) + datetime.timedelta(minutes=15 * counter["n"])
            counter["n"] += 1
        return services.appointment_book(
            actor=actor or advisor,
            dealership=dealership,
            advisor=advisor,
            customer=vehicle.customer,
            vehicle=vehicle,
            reason=reason,
            area="mechanical",
            starts_at=at(hour, minute, day),
            duration_minutes=duration,
            handover_at=handover,
            now=kw.pop("now", NOW),
            **kw,
        )

    return do


@pytest.fixture
def technician(make_user, dealership):
    """technician(*skills, hours=8, name=...): a technician of the dealership present ``hours`` from 8:00 every day of
    the week (tests that use today's real date then do not depend on its weekday). Issue 18."""
    director = make_user(roles.DIRECTOR, username="tech_director")

    def make(*skills, hours=8, name="Олег"):
        user = make_user(roles.TECHNICIAN, first_name=name, last_name="Механиков")
        profile = services.technician_create(actor=director, dealership=dealership, user=user, skills=list(skills))
        for weekday in range(7):
            services.technician_hours_set(
                actor=director, technician=profile, weekday=weekday, starts_at=datetime.time(8),
                ends_at=datetime.time(8 + hours), break_minutes=0,
            )  # fmt: skip
        return profile

    return make


@pytest.fixture(autouse=True)
def _english_messages():
    # Assertions read the English msgids; the Russian catalogue is covered by the pages' and browser tests.
    from django.utils import translation

    with translation.override("en"):
        yield
