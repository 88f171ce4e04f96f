"""Issue 18 item 3 under concurrency: two advisors booking the workshop's last hours at the same moment, where the
dealership refuses overloading, get one booking and one refusal — never both (real PostgreSQL threads)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from dms.core import roles
from service import services
from service.models import Appointment, ServiceSettings, WorkingHours
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import MONDAY, NOW, at
from .test_concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_bookings_of_the_last_hours_at_once_take_one(dealership, make_user, technician):
    technician(hours=8)
    ServiceSettings.objects.update_or_create(dealership=dealership, defaults={"workshop_overload": "refuse"})
    advisors = [make_user(roles.SERVICE_ADVISOR, username=f"adv{n}") for n in range(2)]
    for advisor in advisors:
        for weekday in range(5):
            WorkingHours.objects.create(
                dealership=dealership, advisor=advisor, weekday=weekday, starts_at=datetime.time(8),
                ends_at=datetime.time(20),
            )  # fmt: skip

    def booker(advisor):
        vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
        return lambda: services.appointment_book(
            actor=advisor, dealership=dealership, advisor=advisor, customer=vehicle.customer, vehicle=vehicle,
            reason="ТО", area="mechanical", starts_at=at(10), handover_at=at(17), planned_hours=Decimal("5"),
            now=NOW,
        )  # fmt: skip

    results = run_concurrently(*[booker(a) for a in advisors])
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert Appointment.objects.filter(starts_at__date=MONDAY).count() == 1
