"""Issue 18 item 6: a call's result may carry the customer's satisfaction (1–5, the complaint closing's scale, or
empty) — on «Мои звонки», the call's page and the API; anything else is a 400 with a message and nothing is saved."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from freezegun import freeze_time

from notifications import services
from notifications.models import CallEvent

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("given", "kept"), [(4, 4), ("5", 5), (" 1 ", 1), (None, None), ("", None)])
def test_service_keeps_a_score_from_1_to_5_or_none(advisor, event, given, kept):
    services.call_event_complete(
        actor=advisor, event=event, outcome="reached", satisfaction=given, now=at("2025-06-06")
    )
    event.refresh_from_db()
    assert (event.status, event.satisfaction) == ("done", kept)


@pytest.mark.parametrize("given", [0, 6, -1, "4.5", "abc", True])
def test_service_refuses_other_scores(advisor, event, given):
    with pytest.raises(ValidationError) as error:
        services.call_event_complete(
            actor=advisor, event=event, outcome="reached", satisfaction=given, now=at("2025-06-06")
        )
    assert "satisfaction" in error.value.message_dict
    event.refresh_from_db()
    assert (event.status, event.satisfaction) == ("open", None)


@freeze_time("2025-06-06 09:00:00+03:00")
def test_api_records_the_score_and_refuses_out_of_range(api_as, advisor, event):
    client = api_as(advisor)
    url = f"/api/call-events/{event.pk}/complete/"
    for bad in (6, 0, "x"):
        response = client.post(url, {"outcome": "reached", "satisfaction": bad}, format="json")
        assert response.status_code == 400 and "satisfaction" in response.json()
    assert CallEvent.objects.get(pk=event.pk).status == "open"
    response = client.post(url, {"outcome": "reached", "satisfaction": 4}, format="json")
    assert response.status_code == 200
    assert response.json()["satisfaction"] == 4
    assert client.get(f"/api/call-events/{event.pk}/").json()["satisfaction"] == 4


@freeze_time("2025-06-06 09:00:00+03:00")
def test_pages_take_the_score(client, advisor, event):
    client.force_login(advisor)
    page = client.get(reverse("notifications:my_calls")).content.decode()
    assert f'name="e{event.pk}-satisfaction"' in page
    url = reverse("notifications:complete_call", args=[event.pk])
    bad = client.post(url, {f"e{event.pk}-outcome": "reached", f"e{event.pk}-satisfaction": "9"})
    assert bad.status_code == 400 and CallEvent.objects.get(pk=event.pk).status == "open"
    ok = client.post(url, {f"e{event.pk}-outcome": "reached", f"e{event.pk}-satisfaction": "2"})
    assert ok.status_code == 302
    event.refresh_from_db()
    assert (event.status, event.satisfaction) == ("done", 2)
    detail = client.get(reverse("notifications:call_detail", args=[event.pk])).content.decode()
    assert "2/5" in detail
