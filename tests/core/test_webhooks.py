"""Issue 16 item 5: outbound webhooks — outbox in the change's transaction, signed delivery, retries, redelivery.

A real HTTP receiver (http.server in a thread on 127.0.0.1, a random port) takes the POSTs; signatures are checked
with ``hmac`` here, independently of the code under test. Celery runs eagerly (test settings); ``on_commit``
callbacks are executed with ``django_capture_on_commit_callbacks(execute=True)`` as the commit would.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from dms.core import roles, webhooks
from dms.core.models import (
    AuditEntry,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from dms.core.tasks import deliver_webhook, dispatch_webhooks
from orders import services as order_services
from tests.factories import CustomerFactory, VehicleFactory
from tests.parts.factories import PartFactory, SupplierFactory

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(WebhookEventType.values)


class Receiver:
    """What the local endpoint got; ``codes`` are the answers to give, in order (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.codes: list[int] = []
        self.url = ""

    def events(self) -> list[str]:
        return [r["headers"]["X-DMS-Event"] for r in self.requests]


@pytest.fixture
def receiver():
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            code = received.codes.pop(0) if received.codes else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_port}/hooks/dms"
    yield received
    server.shutdown()
    server.server_close()


def assert_signed(secret: str, request: dict) -> dict:
    """The receiver's check, written from the README: HMAC-SHA256 over ``timestamp + "." + body``."""
    headers, body = request["headers"], request["body"]
    timestamp = headers["X-DMS-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-DMS-Signature"]), "bad signature"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["type"] == headers["X-DMS-Event"]
    return payload


@pytest.fixture
def administrator(make_user):
    return make_user(roles.ADMINISTRATOR)


@pytest.fixture
def subscribe(administrator, dealership):
    def make(url: str, event_types=None, **kwargs) -> WebhookSubscription:
        return webhooks.webhook_subscription_create(
            actor=administrator,
            dealership=kwargs.pop("dealership", dealership),
            target_url=url,
            event_types=event_types or ALL_EVENTS,
            **kwargs,
        )

    return make


@pytest.fixture
def new_order(advisor, dealership):
    def make():
        vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
        part = PartFactory(dealership=dealership)
        return order_services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=vehicle.customer,
            vehicle=vehicle,
            kind="warranty",
            lines=[{"part": part, "quantity": 2}],
        )

    return make


@pytest.fixture
def place(parts_manager, dealership):
    """Place an order: exactly one ``order.status_changed`` event."""

    def do(order):
        return order_services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=SupplierFactory(dealership=dealership),
            supplier_order_number=f"TMR-{order.pk}",
            expected_at=timezone.localdate() + datetime.timedelta(days=3),
        )

    return do


# -- the receiver sees every event type exactly once, signed ---------------------------------------------------------
def test_each_event_type_reaches_the_receiver_once_signed(
    receiver, subscribe, make_user, dealership, advisor, parts_manager, django_capture_on_commit_callbacks
):
    from claims import services as claims_services
    from notifications import services as notification_services
    from notifications.models import CallEvent, CallKind
    from service import services as service_services
    from service.services import appointment_confirm
    from tests.claims.test_goodwill import ready
    from tests.service.factories import WorkingHoursFactory

    subscription = subscribe(receiver.url)
    engineer = make_user(roles.WARRANTY_ENGINEER)
    for weekday in range(5):
        WorkingHoursFactory(dealership=dealership, advisor=advisor, weekday=weekday)
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership))
    part = PartFactory(dealership=dealership)
    monday = timezone.localdate() + datetime.timedelta(days=7 - timezone.localdate().weekday() + 7)
    tz = dealership.tz

    def at(hour, minute=0):
        return datetime.datetime.combine(monday, datetime.time(hour, minute), tzinfo=tz)

    def step(expected: dict[str, int], action):
        before = len(receiver.requests)
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                result = action()
        got = Counter(receiver.events()[before:])
        assert got == Counter(expected), f"{action}: {dict(got)}"
        return result

    order = step(
        {},
        lambda: order_services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=vehicle.customer,
            vehicle=vehicle,
            kind="warranty",
            lines=[{"part": part, "quantity": 2}],
        ),
    )
    step(
        {"order.status_changed": 1},
        lambda: order_services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=SupplierFactory(dealership=dealership),
            supplier_order_number="TMR-1",
            expected_at=timezone.localdate() + datetime.timedelta(days=3),
        ),
    )
    line = order.lines.get()
    # The receipt commits; its generator run (after commit) creates the arrival call event in its own transaction.
    step(
        {"order.status_changed": 1, "order.parts_received": 1, "call_event.created": 1},
        lambda: order_services.customer_order_receive(
            actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}]
        ),
    )
    # A second tick creates nothing new: nothing is sent twice.
    step({}, lambda: notification_services.call_events_generate())
    arrival = CallEvent.objects.get(order=order, kind=CallKind.ARRIVAL)
    step(
        {"call_event.completed": 1, "call_event.created": 1},  # unreachable → the R9 retry call is created
        lambda: notification_services.call_event_complete(actor=advisor, event=arrival, outcome="unreachable"),
    )

    def book(hour):
        return service_services.appointment_book(
            actor=advisor,
            dealership=dealership,
            advisor=advisor,
            customer=vehicle.customer,
            vehicle=vehicle,
            reason="ТО-2",
            area="mechanical",
            starts_at=at(hour),
            handover_at=at(hour + 4),
        )

    appointment = step({"appointment.created": 1}, lambda: book(9))
    step({"appointment.confirmed": 1}, lambda: appointment_confirm(actor=advisor, appointment=appointment, via="sms"))
    second = step({"appointment.created": 1}, lambda: book(10))
    step({"appointment.cancelled": 1}, lambda: service_services.appointment_cancel(actor=advisor, appointment=second))
    work_order = step(
        {},
        lambda: service_services.reception_check_in(
            actor=advisor,
            appointment=appointment,
            mileage=vehicle.mileage + 100,
            fuel_level="1/2",
            damage_notes="",
            customer_words="Стучит",
            now=at(9),
        ),
    )
    step(
        {"work_order.status_changed": 1},
        lambda: service_services.workorder_start_diagnosis(actor=advisor, work_order=work_order),
    )
    complaint = step(
        {},
        lambda: claims_services.complaint_register(
            actor=engineer, dealership=dealership, vehicle=vehicle, channel="phone", description="Стук"
        ),
    )
    step(
        {"complaint.status_changed": 1},
        lambda: claims_services.complaint_assign(
            actor=engineer,
            complaint=complaint,
            category="repair_quality",
            department="service",
            assignee=advisor,
            deadline=timezone.localdate() + datetime.timedelta(days=3),
        ),
    )
    claim = step({}, lambda: ready(engineer, vehicle))
    step({"claim.status_changed": 1}, lambda: claims_services.goodwill_claim_submit(actor=engineer, claim=claim))

    # Every event type arrived; every request is signed; no delivery id and no event id came twice.
    assert set(receiver.events()) == set(ALL_EVENTS)
    payloads = [assert_signed(subscription.secret, r) for r in receiver.requests]
    delivery_ids = [r["headers"]["X-DMS-Delivery"] for r in receiver.requests]
    assert len(delivery_ids) == len(set(delivery_ids))
    assert len({p["event_id"] for p in payloads}) == len(payloads)
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == len(receiver.requests)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDeliveryStatus.DELIVERED}
    assert WebhookAttempt.objects.filter(status_code=200).count() == len(receiver.requests)
    placed = next(p for p in payloads if p["type"] == "order.status_changed")
    assert placed["dealership"] == dealership.pk
    obj = placed["data"]["object"]
    assert (obj["type"], obj["id"], obj["number"], obj["customer_id"]) == (
        "orders.customerorder",
        order.pk,
        order.number,
        vehicle.customer_id,
    )
    assert placed["data"]["actor"] == parts_manager.username
    assert (placed["data"]["previous_status"], placed["data"]["status"]) == ("not_placed", "ordered")
    received = next(p for p in payloads if p["type"] == "order.parts_received")
    assert received["data"]["receipt_id"] == order.receipts.get().pk


def test_only_the_subscribed_event_types_of_the_own_dealership_are_sent(
    receiver, subscribe, other_dealership, new_order, place, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["appointment.created"])
    subscribe(receiver.url, ALL_EVENTS, dealership=other_dealership)
    subscribe(receiver.url, ALL_EVENTS, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


# -- the outbox is written in the change's transaction --------------------------------------------------------------
def test_a_rolled_back_change_sends_nothing(receiver, subscribe, new_order, place, django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    order = new_order()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            place(order)
            assert WebhookDelivery.objects.count() == 1  # written with the change …
            raise RuntimeError("the change fails after the service")
    assert WebhookDelivery.objects.count() == 0  # … and rolled back with it
    assert callbacks == [] and receiver.requests == []


def test_broker_down_leaves_the_row_and_the_next_tick_delivers_it(
    receiver, subscribe, new_order, place, monkeypatch, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url)

    def dead_broker(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(deliver_webhook, "apply_async", dead_broker)
        with django_capture_on_commit_callbacks(execute=True):
            place(new_order())  # the request itself succeeds
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING and delivery.attempts == 0
    assert receiver.requests == []
    assert dispatch_webhooks() == 1  # the beat tick, broker back
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED and delivery.attempts == 1
    assert len(receiver.requests) == 1
    assert_signed(subscription.secret, receiver.requests[0])
    assert dispatch_webhooks() == 0  # delivered rows are not due again


def test_retries_with_exponential_backoff_then_succeeds(
    receiver, subscribe, new_order, place, django_capture_on_commit_callbacks
):
    subscribe(receiver.url)
    receiver.codes = [500, 429]
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    delivery = WebhookDelivery.objects.get()
    first = delivery.attempt_log.get()
    assert first.status_code == 500 and delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at == first.attempted_at + datetime.timedelta(seconds=30)
    assert dispatch_webhooks(now=(first.attempted_at + datetime.timedelta(seconds=10)).isoformat()) == 0
    second_at = delivery.next_attempt_at + datetime.timedelta(seconds=1)
    dispatch_webhooks(now=second_at.isoformat())
    delivery.refresh_from_db()
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 429]
    assert delivery.next_attempt_at == second_at + datetime.timedelta(seconds=60)  # doubled
    dispatch_webhooks(now=(delivery.next_attempt_at + datetime.timedelta(seconds=1)).isoformat())
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 429, 200]
    assert all(a.duration_ms >= 0 for a in delivery.attempt_log.all())
    assert len({r["headers"]["X-DMS-Delivery"] for r in receiver.requests}) == 1  # the same id every attempt
    assert delivery.subscription.consecutive_failures == 0


def test_a_4xx_is_not_retried_and_a_dead_endpoint_is(
    subscribe, receiver, new_order, place, django_capture_on_commit_callbacks
):
    subscribe(receiver.url)
    receiver.codes = [404]
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED and delivery.last_status_code == 404
    # Nothing listens on port 9: a network error, retried.
    WebhookDelivery.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    subscribe("http://127.0.0.1:9/hook")
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING and delivery.last_status_code is None
    assert delivery.last_error and delivery.attempt_log.get().status_code is None


def test_disabled_after_n_failures_in_a_row_with_the_reason(
    settings, receiver, subscribe, new_order, place, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    subscription = subscribe(receiver.url)
    receiver.codes = [503] * 10
    with django_capture_on_commit_callbacks(execute=True):
        for _n in range(3):
            place(new_order())
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.consecutive_failures == 3
    assert "503" in subscription.disabled_reason and subscription.disabled_at is not None
    assert AuditEntry.objects.filter(object_id=subscription.pk, message=subscription.disabled_reason).exists()
    sent = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    assert dispatch_webhooks(now=(timezone.now() + datetime.timedelta(hours=1)).isoformat()) == 0
    assert len(receiver.requests) == sent  # a disabled subscription gets nothing


def test_redeliver_by_hand_through_the_api(
    receiver, subscribe, administrator, api_as, new_order, place, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url)
    receiver.codes = [400]
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(administrator).post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.content
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert [r["headers"]["X-DMS-Delivery"] for r in receiver.requests] == [str(delivery.delivery_id)] * 2
    assert_signed(subscription.secret, receiver.requests[1])
    listed = api_as(administrator).get("/api/webhook-deliveries/", {"status": "delivered"}).json()
    assert [row["id"] for row in listed["results"]] == [delivery.pk]
    assert [a["status_code"] for a in listed["results"][0]["attempt_log"]] == [400, 200]
    # A disabled subscription is not redelivered to: 409.
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    response = api_as(administrator).post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 409


# -- the API: permissions, dealerships, validation ------------------------------------------------------------------
def test_api_subscription_crud_shows_the_secret_once(administrator, api_as, dealership):
    client = api_as(administrator)
    response = client.post(
        "/api/webhook-subscriptions/",
        {"target_url": "https://crm.example.com/dms", "event_types": ["order.status_changed"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["dealership"] == dealership.pk
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    assert subscription.secret == created["secret"]
    detail = client.get(f"/api/webhook-subscriptions/{subscription.pk}/").json()
    assert "secret" not in detail and detail["event_types"] == ["order.status_changed"]
    rotated = client.post(f"/api/webhook-subscriptions/{subscription.pk}/rotate-secret/").json()
    subscription.refresh_from_db()
    assert rotated["secret"] == subscription.secret != created["secret"]
    response = client.patch(
        f"/api/webhook-subscriptions/{subscription.pk}/", {"event_types": ALL_EVENTS}, format="json"
    )
    assert response.status_code == 200 and response.json()["event_types"] == ALL_EVENTS
    assert client.delete(f"/api/webhook-subscriptions/{subscription.pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://crm.example.com/x",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://crm.example.com/dms",  # plain http only to localhost (or with DEBUG)
        "https://user:pw@crm.example.com/",
        "not a url",
    ],
)
def test_api_refuses_bad_target_urls(administrator, api_as, url):
    response = api_as(administrator).post(
        "/api/webhook-subscriptions/", {"target_url": url, "event_types": ALL_EVENTS}, format="json"
    )
    assert response.status_code == 400 and "target_url" in response.json()
    assert not WebhookSubscription.objects.exists()


def test_api_refuses_unknown_or_no_event_types(administrator, api_as):
    for event_types in ([], ["order.deleted"], "order.status_changed"):
        response = api_as(administrator).post(
            "/api/webhook-subscriptions/",
            {"target_url": "https://crm.example.com/", "event_types": event_types},
            format="json",
        )
        assert response.status_code == 400 and "event_types" in response.json(), event_types


def test_a_refused_scheme_is_never_posted(subscribe, new_order, place, django_capture_on_commit_callbacks):
    subscription = subscribe("https://crm.example.com/")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(target_url="file:///etc/passwd")
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED and delivery.last_status_code is None


@pytest.mark.parametrize("role", [r for r in roles.ALL_ROLES if r != roles.ADMINISTRATOR])
def test_other_roles_get_403(make_user, api_as, subscribe, role):
    subscription = subscribe("https://crm.example.com/")
    client = api_as(make_user(role))
    assert client.get("/api/webhook-subscriptions/").status_code == 403
    assert client.get("/api/webhook-deliveries/").status_code == 403
    response = client.post(
        "/api/webhook-subscriptions/", {"target_url": "https://a.example/", "event_types": ALL_EVENTS}, format="json"
    )
    assert response.status_code == 403
    assert client.post(f"/api/webhook-subscriptions/{subscription.pk}/rotate-secret/").status_code == 403
    assert WebhookSubscription.objects.get().secret == subscription.secret


def test_another_dealerships_subscriptions_and_deliveries_are_404(
    make_user, api_as, other_dealership, subscribe, new_order, place
):
    subscription = subscribe("https://crm.example.com/")
    place(new_order())
    delivery = WebhookDelivery.objects.get()
    foreign = api_as(make_user(roles.ADMINISTRATOR, dealerships=[other_dealership]))
    assert foreign.get("/api/webhook-subscriptions/").json()["results"] == []
    assert foreign.get("/api/webhook-deliveries/").json()["results"] == []
    for url in (f"/api/webhook-subscriptions/{subscription.pk}/", f"/api/webhook-deliveries/{delivery.pk}/"):
        assert foreign.get(url).status_code == 404
    assert (
        foreign.patch(f"/api/webhook-subscriptions/{subscription.pk}/", {"is_active": False}, format="json").status_code
        == 404
    )
    assert foreign.post(f"/api/webhook-subscriptions/{subscription.pk}/rotate-secret/").status_code == 404
    assert foreign.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert foreign.delete(f"/api/webhook-subscriptions/{subscription.pk}/").status_code == 404
    assert WebhookSubscription.objects.get().is_active


def test_reenabling_resets_the_failure_count(administrator, api_as, subscribe):
    subscription = subscribe("https://crm.example.com/")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, consecutive_failures=10, disabled_reason="x", disabled_at=timezone.now()
    )
    response = api_as(administrator).patch(
        f"/api/webhook-subscriptions/{subscription.pk}/", {"is_active": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["consecutive_failures"] == 0 and response.json()["disabled_reason"] == ""


def test_the_beat_schedule_runs_the_dispatch_every_minute(settings):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "dms.core.tasks.dispatch_webhooks"]
    assert entries and entries[0]["schedule"] == 60
    assert Decimal(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS) <= 5


# -- sweeps: the mapping names real models and statuses; every event type has a source ----------------------------
def test_every_mapped_model_and_status_exists():
    from django.apps import apps

    for label in [*webhooks.STATUS_CHANGED, *webhooks.CREATED, *(m for m, _t in webhooks.TRANSITION_TO)]:
        model = apps.get_model(label)  # LookupError when an app renames or drops the model
        assert hasattr(model, "dealership_id"), label
    for (label, target), _event in webhooks.TRANSITION_TO.items():
        choices = {value for value, _label in apps.get_model(label)._meta.get_field("status").flatchoices}
        assert target in choices, f"{label} has no status {target!r}"
    for label in webhooks.STATUS_CHANGED:
        assert apps.get_model(label)._meta.get_field("status").choices, label
    mapped = {*webhooks.STATUS_CHANGED.values(), *webhooks.CREATED.values(), *webhooks.TRANSITION_TO.values()}
    assert mapped == set(WebhookEventType.values)


# -- the admin ----------------------------------------------------------------------------------------------------
def test_admin_creates_shows_the_secret_once_rotates_and_redelivers(
    make_user, dealership, receiver, new_order, place, django_capture_on_commit_callbacks
):
    from django.test import Client

    staff = make_user(roles.ADMINISTRATOR, is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.post(
        "/admin/core/webhooksubscription/add/",
        {
            "dealership": dealership.pk,
            "target_url": receiver.url,
            "event_types": ["order.status_changed"],
            "is_active": "on",
            "description": "CRM",
        },
        follow=True,
    )
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in response.content.decode()
    assert (
        subscription.secret
        not in client.get(f"/admin/core/webhooksubscription/{subscription.pk}/change/").content.decode()
    )
    old = subscription.secret
    response = client.post(
        "/admin/core/webhooksubscription/",
        {"action": "rotate_secret", "_selected_action": [subscription.pk]},
        follow=True,
    )
    subscription.refresh_from_db()
    assert subscription.secret != old and subscription.secret in response.content.decode()
    receiver.codes = [400]
    with django_capture_on_commit_callbacks(execute=True):
        place(new_order())
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/core/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
        )
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempt_log.all()] == [400, 200]
    assert client.get(f"/admin/core/webhookdelivery/{delivery.pk}/change/").status_code == 200


def test_admin_refuses_plain_http_to_another_host(make_user, dealership):
    from django.test import Client

    client = Client()
    client.force_login(make_user(roles.ADMINISTRATOR, is_staff=True))
    response = client.post(
        "/admin/core/webhooksubscription/add/",
        {"dealership": dealership.pk, "target_url": "http://crm.example.com/", "event_types": ["claim.status_changed"]},
    )
    assert response.status_code == 200 and not WebhookSubscription.objects.exists()
    assert "https" in response.context["adminform"].form.errors["target_url"][0]


def test_the_tick_does_not_pile_up_tasks_for_rows_already_queued(
    receiver, subscribe, new_order, place, monkeypatch, django_capture_on_commit_callbacks
):
    subscribe(receiver.url)
    queued = []
    with monkeypatch.context() as patch:
        # The broker takes the task, but no worker has run it yet.
        patch.setattr(deliver_webhook, "apply_async", lambda *args, **kwargs: queued.append(kwargs))
        with django_capture_on_commit_callbacks(execute=True):
            place(new_order())
        assert len(queued) == 1
        assert dispatch_webhooks() == 0  # on its way: not published again
        later = timezone.now() + webhooks.REPUBLISH_AFTER + datetime.timedelta(seconds=1)
        assert dispatch_webhooks(now=later.isoformat()) == 1  # lost after all: published again
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.PENDING
    assert dispatch_webhooks(now=(later + webhooks.REPUBLISH_AFTER + datetime.timedelta(seconds=1)).isoformat()) == 1
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1
