"""Issue 18 item 3, the other side of the load: an absence, shorter working hours or a day off take hours away from
booked days. The write is never refused (a sick technician is a fact), but the page and the API answer name the days
it now overloads, with the hours left without a technician and the skills short, in the page's language."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from dms.core import roles
from service import services
from service.models import JobKind, ServiceSettings, TechnicianAbsence
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, NOW, at

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY = MONDAY + datetime.timedelta(days=1), MONDAY + datetime.timedelta(days=2)


@pytest.fixture
def brakes(db):
    return JobKind.objects.get_or_create(name="Тормоза")[0]


@pytest.fixture
def director(make_user):
    return make_user(roles.DIRECTOR, username="capacity_director")


def _book(dealership, advisor, day, hours, kind):
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    return services.appointment_book(
        actor=advisor, dealership=dealership, advisor=advisor, customer=vehicle.customer, vehicle=vehicle,
        reason="ТО", area="mechanical", starts_at=at(9, 0, day), handover_at=at(16, 0, day),
        planned_hours=Decimal(hours), planned_kind=kind, now=NOW,
    )  # fmt: skip


@pytest.fixture
def two_booked_days(technician, dealership, booking_advisor, brakes):
    """Two technicians, 8 h each: Monday 10.5 h and Tuesday 12 h booked (both fit 16 h), Wednesday empty."""
    oleg = technician(brakes, name="Олег")
    technician(brakes, name="Иван")
    assert _book(dealership, booking_advisor, MONDAY, "10.5", brakes).load_warning == ""
    assert _book(dealership, booking_advisor, TUESDAY, "12", brakes).load_warning == ""
    return oleg


def _absent(director, oleg, starts_on, ends_on):
    return services.technician_absence_create(
        actor=director, technician=oleg, kind="sick", starts_on=starts_on, ends_on=ends_on, now=NOW
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["03/04/2030: 2.5 h", "03/05/2030: 4 h", "(Тормоза)"]),
        ("ru", ["04.03.2030: 2,5 ч", "05.03.2030: 4 ч", "(Тормоза)", "Мастерская перегружена"]),
    ],
)
def test_an_absence_names_each_day_it_overloads_with_its_hours(two_booked_days, director, language, expected):
    with translation.override(language):
        absence = _absent(director, two_booked_days, MONDAY, WEDNESDAY)
    # Monday: 10.5 h against Иван's 8 h; Tuesday 12 h against 8 h; Wednesday has nothing booked.
    for text in expected:
        assert text in absence.load_warning, absence.load_warning
    assert "06.03" not in absence.load_warning and "03/06" not in absence.load_warning
    assert two_booked_days.load_warning == absence.load_warning  # the API answers with the technician


def test_an_absence_on_an_empty_day_warns_nothing(two_booked_days, director):
    assert _absent(director, two_booked_days, WEDNESDAY, WEDNESDAY).load_warning == ""


def test_a_refusing_dealership_still_records_the_absence(two_booked_days, director, dealership):
    ServiceSettings.objects.update_or_create(dealership=dealership, defaults={"workshop_overload": "refuse"})
    absence = _absent(director, two_booked_days, MONDAY, MONDAY)
    assert "2.5 h" in absence.load_warning and "03/05/2030" not in absence.load_warning
    assert TechnicianAbsence.objects.filter(pk=absence.pk).exists()


def test_shorter_hours_and_a_day_off_name_the_days_of_the_next_weeks(two_booked_days, director):
    oleg = two_booked_days
    # Monday 9:00-13:00: 4 h instead of 8 — Monday 10.5 h against 12 h fits, then Tuesday off: 12 h against 8 h.
    hours = services.technician_hours_set(
        actor=director, technician=oleg, weekday=0, starts_at=datetime.time(9), ends_at=datetime.time(13),
        break_minutes=0, now=NOW,
    )  # fmt: skip
    assert hours.load_warning == ""
    hours = services.technician_hours_set(
        actor=director, technician=oleg, weekday=0, starts_at=datetime.time(9), ends_at=datetime.time(11),
        break_minutes=0, now=NOW,
    )  # fmt: skip
    assert "03/04/2030: 0.5 h" in hours.load_warning, hours.load_warning
    warning = services.technician_hours_delete(actor=director, hours=oleg.hours.get(weekday=1), now=NOW)
    assert "03/05/2030: 4 h" in warning and "03/04/2030" not in warning, warning


def test_the_api_answer_carries_the_warning(api_as, two_booked_days, director):
    client = api_as(director)
    url = f"/api/technicians/{two_booked_days.pk}/"
    r = client.post(url + "add-absence/", {"starts_on": "2030-03-04", "ends_on": "2030-03-06"}, format="json")
    assert r.status_code == 200, r.content
    warning = r.json()["load_warning"]
    assert "04.03.2030: 2,5 ч" in warning and "05.03.2030: 4 ч" in warning, warning
    assert client.get(url).json()["load_warning"] == ""  # a read does not repeat it
    r = client.post(url + "add-absence/", {"starts_on": "2030-03-07"}, format="json")
    assert r.status_code == 200 and r.json()["load_warning"] == ""


def test_the_page_shows_the_warning(client, two_booked_days, director):
    client.force_login(director)
    url = f"/workshop/technicians/{two_booked_days.pk}/"
    r = client.post(
        url, {"form": "absence", "kind": "sick", "starts_on": "2030-03-04", "ends_on": "2030-03-06"}, follow=True
    )
    messages = [str(m) for m in r.context["messages"]]
    assert any("04.03.2030: 2,5 ч" in m and "05.03.2030: 4 ч" in m for m in messages), messages
