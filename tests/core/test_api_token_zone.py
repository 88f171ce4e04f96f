"""An API token's user works in the dealership's time zone, as a signed-in user does (RULES: "the dealership's time
zone governs dates").

The middleware activates the zone for a session's user; DRF identifies a token's user only inside the view, so the
zone is activated there — a time without an offset is read in the dealership's zone and every time is written in it
— and it ends with the request (the next request of the same thread starts from the default zone).
"""

import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dms.core import roles
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

VLADIVOSTOK = "Asia/Vladivostok"  # UTC+10; the settings' default zone is Moscow (UTC+3)


@pytest.fixture
def far_east(dealership):
    dealership.time_zone = VLADIVOSTOK
    dealership.save()
    return dealership


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_times_are_written_in_the_dealerships_zone_for_a_token(far_east):
    user = UserFactory(role=roles.SERVICE_ADVISOR, dealership=[far_east])
    customer = CustomerFactory(dealership=far_east)
    listing = _token_client(user).get("/api/customers/").json()["results"]
    (item,) = [row for row in listing if row["id"] == customer.pk]
    written = datetime.datetime.fromisoformat(item["created_at"])
    assert written.utcoffset() == datetime.timedelta(hours=10)
    assert written == customer.created_at
    assert timezone.get_current_timezone_name() != VLADIVOSTOK  # ended with the request


def test_a_time_without_an_offset_is_the_dealerships_local_time_for_a_token(far_east, vehicle):
    """An appointment booked over the API at «10:00» is at 10:00 in Vladivostok, not at 10:00 in Moscow."""
    from service.models import Appointment, WorkingHours

    advisor = UserFactory(role=roles.SERVICE_ADVISOR, dealership=[far_east])
    for weekday in range(7):
        WorkingHours.objects.create(
            dealership=far_east, advisor=advisor, weekday=weekday, starts_at=datetime.time(8), ends_at=datetime.time(20)
        )
    day = timezone.localdate() + datetime.timedelta(days=7)
    response = _token_client(advisor).post(
        "/api/appointments/",
        {
            "customer": vehicle.customer.pk,
            "vehicle": vehicle.pk,
            "advisor": advisor.pk,
            "starts_at": f"{day.isoformat()}T10:00:00",
            "reason": "ТО-2",
            "area": "express",
            "handover_at": f"{day.isoformat()}T16:00:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    booked = Appointment.objects.get(pk=response.json()["id"])
    local = timezone.localtime(booked.starts_at, far_east.tz)
    assert (local.date(), local.time()) == (day, datetime.time(10))
    handover = timezone.localtime(booked.handover_at, far_east.tz)
    assert (handover.date(), handover.time()) == (day, datetime.time(16))
    assert response.json()["starts_at"].endswith("+10:00")
