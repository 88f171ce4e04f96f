"""REST API: call events, completing them (400/404/409), the compliance report, opt-outs; roles."""

import pytest
from freezegun import freeze_time

from dms.core import roles
from notifications import services
from notifications.models import CallEvent, OptOut
from tests.factories import CustomerFactory

from .conftest import at, d

pytestmark = pytest.mark.django_db


@freeze_time("2025-06-06 09:00:00+03:00")
def test_list_and_read_an_event(api_as, advisor, event):
    body = api_as(advisor).get("/api/call-events/").json()
    assert body["count"] == 1
    item = body["results"][0]
    assert {
        "id",
        "order",
        "kind",
        "status",
        "due_date",
        "assignee",
        "completed_at",
        "completed_by",
        "outcome",
        "comment",
        "agreed_date",
    } <= set(item)
    assert (item["order"], item["kind"], item["status"], item["due_date"]) == (
        event.order_id,
        "arrival",
        "open",
        "2025-06-08",
    )
    assert item["assignee"]["id"] == advisor.pk
    assert api_as(advisor).get(f"/api/call-events/{event.pk}/").json()["id"] == event.pk


@freeze_time("2025-06-10 09:00:00+03:00")
def test_filters(api_as, advisor, parts_manager, event, make_order):
    other = make_order(placed_at=at("2025-06-01"), eta_days=15)
    services.call_events_generate(now=at("2025-06-10", 8))
    client = api_as(advisor)

    def ids(query):
        return sorted(r["id"] for r in client.get(f"/api/call-events/?{query}").json()["results"])

    interim = sorted(CallEvent.objects.filter(order=other).values_list("pk", flat=True))
    assert ids(f"order={event.order_id}") == [event.pk]
    assert ids(f"assignee={parts_manager.pk}") == interim
    assert ids("kind=interim_eta") == interim
    assert ids("status=done") == []
    assert ids("due_before=2025-06-08") == sorted(
        [event.pk, *CallEvent.objects.filter(order=other, due_date__lte=d("2025-06-08")).values_list("pk", flat=True)]
    )
    overdue = ids("overdue=true")
    assert event.pk in overdue and CallEvent.objects.get(order=other, due_date=d("2025-06-13")).pk not in overdue
    assert client.get("/api/call-events/?kind=nonsense").status_code == 400


@freeze_time("2025-06-06 09:00:00+03:00")
def test_complete_unreachable_creates_retry(api_as, advisor, event):
    response = api_as(advisor).post(
        f"/api/call-events/{event.pk}/complete/",
        {"outcome": "unreachable", "comment": "Абонент недоступен"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["outcome"], body["completed_by"]["id"]) == ("done", "unreachable", advisor.pk)
    retry = CallEvent.objects.get(kind="retry")
    assert retry.due_date == d("2025-06-09")


@freeze_time("2025-06-06 09:00:00+03:00")
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"outcome": "teleported"}, "outcome"),
        ({"outcome": "reached", "agreed_date": "2025-06-01"}, "agreed_date"),
        ({"outcome": "reached", "agreed_date": "not-a-date"}, "agreed_date"),
        ({}, "outcome"),
    ],
)
def test_complete_bad_input_is_400_and_changes_nothing(api_as, advisor, event, payload, field):
    response = api_as(advisor).post(f"/api/call-events/{event.pk}/complete/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    event.refresh_from_db()
    assert event.status == "open" and CallEvent.objects.count() == 1


@freeze_time("2025-06-06 09:00:00+03:00")
def test_complete_twice_is_409(api_as, advisor, event):
    client = api_as(advisor)
    assert (
        client.post(f"/api/call-events/{event.pk}/complete/", {"outcome": "reached"}, format="json").status_code == 200
    )
    again = client.post(f"/api/call-events/{event.pk}/complete/", {"outcome": "unreachable"}, format="json")
    assert again.status_code == 409 and again.json()["detail"]
    assert CallEvent.objects.get(pk=event.pk).outcome == "reached"
    assert CallEvent.objects.count() == 1


def test_another_dealerships_event_is_404(api_as, make_user, other_dealership, event):
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    client = api_as(stranger)
    assert client.get(f"/api/call-events/{event.pk}/").status_code == 404
    assert (
        client.post(f"/api/call-events/{event.pk}/complete/", {"outcome": "reached"}, format="json").status_code == 404
    )
    assert CallEvent.objects.get(pk=event.pk).status == "open"


def test_roles(api_as, make_user, director, event):
    # Directors read everything but record no calls; storekeepers see no calls at all.
    assert api_as(director).get("/api/call-events/").json()["count"] == 1
    assert (
        api_as(director)
        .post(f"/api/call-events/{event.pk}/complete/", {"outcome": "reached"}, format="json")
        .status_code
        == 403
    )
    storekeeper = make_user(roles.STOREKEEPER)
    assert api_as(storekeeper).get("/api/call-events/").status_code == 403
    assert api_as(storekeeper).get("/api/reports/call-compliance/").status_code == 403


def test_compliance_report_api(api_as, advisor, director, make_user, event):
    services.call_event_complete(actor=advisor, event=event, outcome="reached", now=at("2025-06-09", 10))  # late
    response = api_as(director).get("/api/reports/call-compliance/?from=2025-06-02&to=2025-06-08")
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == ("2025-06-02", "2025-06-08")
    row = body["employees"][0]
    assert (row["name"], row["due"], row["done_on_time"], row["done_late"], row["open_past_due"]) == (
        "Анна Смирнова",
        1,
        0,
        1,
        0,
    )
    assert row["on_time_share"] == 0.0
    assert len(row["days"]) == 7 and row["days"][-1] == {"date": "2025-06-08", "on_time": 0, "late": 1, "missed": 0}
    assert body["orders"][0]["number"] == event.order.number
    # An advisor sees only her own rows; another advisor sees none.
    other = make_user(roles.SERVICE_ADVISOR)
    assert (
        len(api_as(advisor).get("/api/reports/call-compliance/?from=2025-06-02&to=2025-06-08").json()["employees"]) == 1
    )
    assert api_as(other).get("/api/reports/call-compliance/?from=2025-06-02&to=2025-06-08").json()["employees"] == []
    bad = api_as(director).get("/api/reports/call-compliance/?from=2025-06-09&to=2025-06-01")
    assert bad.status_code == 400 and "from" in bad.json()


def test_opt_out_api(api_as, advisor, customer, other_dealership):
    client = api_as(advisor)
    response = client.post(
        "/api/opt-outs/", {"customer": customer.pk, "channel": "sms", "reason": "Просил не писать"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert OptOut.objects.get().reason == "Просил не писать"
    again = client.post(
        "/api/opt-outs/", {"customer": customer.pk, "channel": "sms", "reason": "ещё раз"}, format="json"
    )
    assert again.status_code == 409
    no_reason = client.post(
        "/api/opt-outs/", {"customer": customer.pk, "channel": "email", "reason": ""}, format="json"
    )
    assert no_reason.status_code == 400
    foreign = CustomerFactory(dealership=other_dealership)
    assert (
        client.post(
            "/api/opt-outs/", {"customer": foreign.pk, "channel": "sms", "reason": "x"}, format="json"
        ).status_code
        == 400
    )
    opt_out_id = response.json()["id"]
    assert client.delete(f"/api/opt-outs/{opt_out_id}/").status_code == 204
    assert OptOut.objects.count() == 0
