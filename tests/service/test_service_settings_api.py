"""The dealership's service settings over the API (issues 17 item 5, 18 item 3): what the settings pages set —
the days after which declined work becomes a call, the overload rule, online booking — read by the roles that see the
pages and changed by the administrator through the same audited service."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from dms.core import roles
from dms.core.models import AuditEntry
from service.models import ServiceSettings

pytestmark = pytest.mark.django_db
URL = "/api/service-settings/"


@pytest.fixture
def admin(make_user, dealership):
    return make_user(roles.ADMINISTRATOR, username="settings_admin")


def test_a_director_reads_the_settings_of_the_acting_dealership(api_as, make_user, dealership, other_dealership):
    director = make_user(roles.DIRECTOR, dealerships=[dealership, other_dealership], username="two_dealers")
    ServiceSettings.objects.update_or_create(dealership=other_dealership, defaults={"declined_follow_up_days": 30})
    client = api_as(director)
    answer = client.get(URL, HTTP_X_DEALERSHIP=str(other_dealership.pk))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["dealership"] == other_dealership.pk and body["declined_follow_up_days"] == 30
    assert body["workshop_overload"] == "warn" and body["online_booking_hours"] == "1.00"
    assert client.patch(URL, {"declined_follow_up_days": 3}, format="json").status_code == 403


def test_the_administrator_changes_only_the_fields_sent_audited(api_as, admin, dealership):
    client = api_as(admin)
    answer = client.patch(
        URL, {"declined_follow_up_days": 7, "workshop_overload": "refuse", "online_booking_hours": "2.5"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    saved = ServiceSettings.objects.get(dealership=dealership)
    assert saved.declined_follow_up_days == 7 and saved.workshop_overload == "refuse"
    assert saved.online_booking_hours == Decimal("2.5") and saved.reminder_months == 12  # untouched
    assert answer.json()["declined_follow_up_days"] == 7
    assert AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ServiceSettings), object_id=saved.pk
    ).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"workshop_overload": "sometimes"},
        {"declined_follow_up_days": 366},
        {"online_booking_hours": "25"},
        {"booking_embed_origins": "foo bar; script"},
        {"reminder_km": -1},
    ],
)
def test_bad_values_are_a_400_and_nothing_changes(api_as, admin, dealership, body):
    before = ServiceSettings.objects.get_or_create(dealership=dealership)[0]
    answer = api_as(admin).patch(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert set(answer.json()) & set(body), answer.json()  # the message names the field
    after = ServiceSettings.objects.get(pk=before.pk)
    assert [getattr(after, f) for f in body] == [getattr(before, f) for f in body]


def test_another_dealership_is_refused(api_as, admin, other_dealership):
    answer = api_as(admin).get(URL, HTTP_X_DEALERSHIP=str(other_dealership.pk))
    assert answer.status_code == 400 and "dealership" in answer.json()


def test_an_advisor_without_the_permission_is_refused(api_as, make_user):
    assert api_as(make_user(roles.SERVICE_ADVISOR, username="adv_settings")).get(URL).status_code == 403


def test_an_empty_change_is_a_400_that_writes_nothing(api_as, admin, dealership):
    answer = api_as(admin).patch(URL, {}, format="json")
    assert answer.status_code == 400 and "non_field_errors" in answer.json()
    assert not ServiceSettings.objects.filter(dealership=dealership).exists()
