"""Rule audit R1–R14 (customer orders and call-backs), read literally from the rule text, over every entry point."""

import datetime
import zoneinfo

import pytest
from freezegun import freeze_time

from notifications import reports
from notifications import services as call_services
from notifications.models import CallEvent, CallKind, CallStatus
from orders import services
from orders.models import CustomerOrder
from tests.notifications.conftest import at, d

pytestmark = pytest.mark.django_db

VVO = zoneinfo.ZoneInfo("Asia/Vladivostok")


@pytest.fixture
def received(make_order, place, storekeeper, django_capture_on_commit_callbacks):
    """An order placed on 01.06 and fully received at ``when`` through the service (signals run)."""

    def make(when=None, kind="warranty", **kwargs):
        when = when or at("2025-06-05")
        order = make_order(kind=kind, **kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            place(order, now=when - datetime.timedelta(days=4))
        line = order.lines.get()
        with django_capture_on_commit_callbacks(execute=True):
            services.customer_order_receive(
                actor=storekeeper, order=order, lines=[{"line": line.pk, "quantity": line.quantity}], now=when
            )
        order.refresh_from_db()
        return order

    return make


def arrival_of(order) -> CallEvent:
    return CallEvent.objects.get(order=order, kind=CallKind.ARRIVAL)


# -- R9 ------------------------------------------------------------------------------------------------------------
def test_r9_unreachable_on_a_retry_called_the_day_it_was_made_still_schedules_the_next_call(received, advisor):
    """Called twice the same day, unreachable both times: the second result's follow-up wanted the very day of the
    retry just called (one event per order, kind and day) and got that done event back — no next call at all."""
    order = received()
    event = arrival_of(order)
    call_services.call_event_complete(actor=advisor, event=event, outcome="unreachable", now=at("2025-06-06", 10))
    retry = CallEvent.objects.get(order=order, kind=CallKind.RETRY)
    assert retry.due_date == d("2025-06-09")
    call_services.call_event_complete(actor=advisor, event=retry, outcome="unreachable", now=at("2025-06-06", 16))
    nxt = CallEvent.objects.get(order=order, kind=CallKind.RETRY, status=CallStatus.OPEN)
    assert d("2025-06-06") <= nxt.due_date <= d("2025-06-09")
    assert (nxt.source_event_id, nxt.assignee) == (retry.pk, advisor)
    # ... and a third attempt that day too: still a next call within 3 days.
    call_services.call_event_complete(
        actor=advisor, event=nxt, outcome="no_answer_left_message", now=at("2025-06-06", 18)
    )
    third = CallEvent.objects.get(order=order, kind=CallKind.RETRY, status=CallStatus.OPEN)
    assert d("2025-06-06") <= third.due_date <= d("2025-06-09") and third.source_event_id == nxt.pk


def test_r9_an_open_retry_within_3_days_is_reused(received, advisor):
    order = received()
    call_services.call_event_complete(
        actor=advisor, event=arrival_of(order), outcome="unreachable", now=at("2025-06-06")
    )
    CallEvent.objects.create(
        dealership=order.dealership, order=order, kind=CallKind.AGREED_DATE, assignee=advisor, due_date=d("2025-06-07")
    )
    agreed = CallEvent.objects.get(order=order, kind=CallKind.AGREED_DATE)
    call_services.call_event_complete(actor=advisor, event=agreed, outcome="unreachable", now=at("2025-06-06", 12))
    assert list(CallEvent.objects.filter(order=order, kind=CallKind.RETRY).values_list("due_date", "status")) == [
        (d("2025-06-09"), "open")
    ]


# -- R14 -----------------------------------------------------------------------------------------------------------
def report(user, date_from="2025-06-02", date_to="2025-06-15", now=None):
    return reports.compliance_for_user(
        user=user, date_from=d(date_from), date_to=d(date_to), now=now or at("2025-06-20")
    )


def test_r14_a_call_never_made_stays_missed_after_the_order_is_issued(received, advisor, director, storekeeper):
    """The arrival call due 08.06 was never made; the customer collected the parts on 12.06, which cancels the open
    call. The directors' report still shows it as missed (it disappeared from the report before)."""
    missed = received()  # arrival call due 08.06
    in_time = received()  # issued on 07.06, before its call was due: not counted
    services.customer_order_issue(actor=storekeeper, order=missed, now=at("2025-06-12"))
    services.customer_order_issue(actor=storekeeper, order=in_time, now=at("2025-06-07"))
    on_due_day = received()  # issued on the due day itself: the call was not missed yet
    services.customer_order_issue(actor=storekeeper, order=on_due_day, now=at("2025-06-08", 18))
    call_services.call_events_generate(now=at("2025-06-12", 12))
    assert set(CallEvent.objects.values_list("status", flat=True)) == {"cancelled"}
    result = report(director)
    assert (result.totals.due, result.totals.missed, result.totals.on_time, result.totals.late) == (1, 1, 0, 0)
    assert [(row.label, row.missed) for row in result.orders] == [(missed.number, 1)]
    assert [(row.label, row.missed) for row in result.employees] == [("Анна Смирнова", 1)]
    assert result.daily[advisor.pk][d("2025-06-08")] == (0, 0, 1)
    # the advisor's own report says the same
    assert report(advisor).totals.missed == 1


def test_r14_interim_call_missed_before_the_parts_arrived_counts_as_missed(
    make_order, place, storekeeper, parts_manager, director
):
    order = make_order(long_term_agreed=True, parts_manager=parts_manager)
    place(order, days=12, now=at("2025-06-01"))  # R3: interim call due 04.06
    call_services.call_events_generate(now=at("2025-06-01", 12))
    line = order.lines.get()
    services.customer_order_receive(
        actor=storekeeper, order=order, lines=[{"line": line.pk, "quantity": line.quantity}], now=at("2025-06-05")
    )
    call_services.call_events_generate(now=at("2025-06-05", 12))
    interim = CallEvent.objects.get(order=order, kind=CallKind.INTERIM_ETA, due_date=d("2025-06-04"))
    assert interim.status == "cancelled"
    rows = {row.key: row for row in report(director).employees}
    assert (rows[parts_manager.pk].due, rows[parts_manager.pk].missed) == (1, 1)


# -- over the API, in a dealership far from Moscow (the dealership's time zone governs dates) ---------------------
@pytest.fixture
def vvo(dealership):
    dealership.time_zone = "Asia/Vladivostok"
    dealership.save(update_fields=["time_zone"])
    return dealership


def test_api_walk_in_the_dealerships_time_zone_r1_r3_r5_r6_r9_r14(
    vvo, api_as, make_order, parts_manager, storekeeper, advisor, director, supplier, django_capture_on_commit_callbacks
):
    """Every date over the API is the dealership's (Vladivostok, UTC+10): at 00:30 there it is yesterday in Moscow
    and UTC. The report's default week ended on the server's date before."""
    order = make_order(kind="warranty")
    # 01.06 00:30 in Vladivostok is still 31.05 in Moscow and UTC.
    with freeze_time(at("2025-06-01", 0, 30, tz=VVO)), django_capture_on_commit_callbacks(execute=True):
        r = api_as(parts_manager).post(
            f"/api/orders/{order.pk}/place/",
            {
                "supplier": supplier.pk,
                "supplier_order_number": "T-1",
                "expected_at": "2025-06-12",
                "long_term_agreed": True,
            },
            format="json",
        )
        assert r.status_code == 200, r.json()
        assert r.json()["status"] == "ordered" and r.json()["colour"] == "#8b4513"
    # R3: ETA 11 days after placing → the interim-ETA call is due on day 3.
    assert CallEvent.objects.filter(order=order, kind="interim_eta", due_date=d("2025-06-04")).exists()
    line = order.lines.get()
    with freeze_time(at("2025-06-05", 0, 30, tz=VVO)), django_capture_on_commit_callbacks(execute=True):
        r = api_as(storekeeper).post(
            f"/api/orders/{order.pk}/receive/", {"lines": [{"line": line.pk, "quantity": 2}]}, format="json"
        )
        assert r.status_code == 200, r.json()
    arrival = CallEvent.objects.get(order=order, kind="arrival")  # R5
    assert arrival.due_date == d("2025-06-08")  # R6: warranty, 3 days after the local arrival day
    with freeze_time(at("2025-06-06", 0, 30, tz=VVO)):
        r = api_as(advisor).post(f"/api/call-events/{arrival.pk}/complete/", {"outcome": "unreachable"}, format="json")
        assert r.status_code == 200, r.json()
    assert CallEvent.objects.get(order=order, kind="retry").due_date == d("2025-06-09")
    with freeze_time(at("2025-06-10", 0, 30, tz=VVO)):
        body = api_as(advisor).get("/api/reports/call-compliance/").json()
        assert (body["from"], body["to"]) == ("2025-06-04", "2025-06-10")
        # interim call of 04.06 never made (cancelled by the arrival), arrival call made on time, retry due 09.06
        # not made
        assert body["totals"] == body["totals"] | {"due": 3, "done_on_time": 1, "open_past_due": 2}
        body = api_as(director).get(f"/api/reports/call-compliance/?dealership={vvo.pk}").json()
        assert body["to"] == "2025-06-10"


# -- R5: every path that receives parts creates the call-back event --------------------------------------------------
@freeze_time("2025-06-05 10:00:00+03:00")
def test_r5_page_receipt_creates_the_arrival_call(
    client, make_order, place, storekeeper, django_capture_on_commit_callbacks
):
    order = make_order(kind="commercial")
    place(order, now=at("2025-06-01"))
    line = order.lines.get()
    client.force_login(storekeeper)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{order.pk}/receive/", {f"line_{line.pk}": "2"})
    assert response.status_code == 302
    assert CustomerOrder.objects.get(pk=order.pk).status == "received"
    assert arrival_of(order).due_date == d("2025-06-12")  # R7: commercial, 7 days


@freeze_time("2025-06-05 10:00:00+03:00")
def test_r5_batch_receipt_page_and_api_create_the_arrival_calls(
    client, api_as, make_order, place, storekeeper, supplier, django_capture_on_commit_callbacks
):
    orders = [make_order(kind="warranty"), make_order(kind="commercial"), make_order(kind="warranty")]
    for order in orders:
        place(order, now=at("2025-06-01"), supplier_order_number="TMR-1")
    client.force_login(storekeeper)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/receive-batch/?supplier={supplier.pk}&number=TMR-1", {"receive_all": "1"})
    assert response.status_code == 302
    assert [arrival_of(order).due_date for order in orders] == [d("2025-06-08"), d("2025-06-12"), d("2025-06-08")]

    more = [make_order(kind="warranty"), make_order(kind="commercial")]
    for order in more:
        place(order, now=at("2025-06-01"), supplier_order_number="TMR-2")
    lines = [{"order": order.pk, "line": order.lines.get().pk, "quantity": "2"} for order in more]
    lines[1]["quantity"] = "1"  # partly: no arrival call yet (R2 «Частично получен»)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(storekeeper).post(
            "/api/orders/receive-batch/",
            {"supplier": supplier.pk, "supplier_order_number": "TMR-2", "lines": lines},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert [o["status"] for o in response.json()["orders"]] == ["received", "partially_received"]
    assert arrival_of(more[0]).due_date == d("2025-06-08")
    assert not CallEvent.objects.filter(order=more[1]).exists()


def test_r1_api_overdue_filter_follows_the_dealerships_date(vvo, api_as, make_order, place, parts_manager, director):
    """The list's ``?overdue=`` took the server's date (Moscow) while each row's «overdue» and red colour take the
    dealership's: at 00:30 on 10.06 in Vladivostok an order due 09.06 was red yet not in ``?overdue=true``."""
    order = make_order()
    in_time = make_order()
    place(in_time, days=9, now=at("2025-06-01", 12, tz=VVO), long_term_agreed=True)  # ETA 10.06: not late
    place(order, days=8, now=at("2025-06-01", 12, tz=VVO), long_term_agreed=True)  # ETA 09.06
    with freeze_time(at("2025-06-10", 0, 30, tz=VVO)):
        client = api_as(parts_manager)
        row = client.get(f"/api/orders/{order.pk}/").json()
        listed = client.get("/api/orders/?overdue=true").json()["results"]
        not_listed = client.get("/api/orders/?overdue=false").json()["results"]
        mixed = api_as(director).get("/api/orders/?overdue=true").json()["results"]
    assert (row["overdue"], row["colour"]) == (True, "#dc3545")
    assert [r["id"] for r in listed] == [order.pk] == [r["id"] for r in mixed]
    assert [r["id"] for r in not_listed] == [in_time.pk]


# -- R2: nobody sets the status by hand -----------------------------------------------------------------------------
@pytest.mark.no_schema_check  # PUT/PATCH are no operations of the schema: that is the point
def test_r2_status_cannot_be_set_by_hand_over_the_api_or_the_admin(
    api_as, client, admin_user, dealership, placed_order, parts_manager
):
    api = api_as(parts_manager)
    for method in ("put", "patch"):
        response = getattr(api, method)(f"/api/orders/{placed_order.pk}/", {"status": "received"}, format="json")
        assert response.status_code == 405
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == "ordered"
    client.force_login(admin_user)
    page = client.get(f"/admin/orders/customerorder/{placed_order.pk}/change/")
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()
    client.post(f"/admin/orders/customerorder/{placed_order.pk}/change/", {"status": "received", "comment": "x"})
    assert CustomerOrder.objects.get(pk=placed_order.pk).status == "ordered"
