"""Customer notifications: Twilio's real client over an injected HTTP client, e-mail, retries, the signed webhook."""

import json
import logging

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from notifications import services, sms
from notifications.models import CallEvent, Delivery, OptOut
from notifications.tasks import send_delivery
from orders import services as order_services

from .conftest import at

pytestmark = pytest.mark.django_db

SID = "AC" + "0" * 32
TOKEN = "test-auth-token-123"
CALLBACK = "https://dms.example/notifications/twilio/status/"


class FakeTwilioHttp(HttpClient):
    """Answers Twilio's REST calls from a script; records every request."""

    def __init__(self, *answers):
        super().__init__(logger=logging.getLogger("fake-twilio"), is_async=False)
        self.answers = list(answers)
        self.requests = []

    def request(
        self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False
    ):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return Response(status, json.dumps(body))


def created(sid="SM" + "1" * 32, status="queued"):
    return 201, {"sid": sid, "status": status, "to": "+79160000000", "body": "x"}


@pytest.fixture
def twilio(settings):
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK

    def install(*answers):
        fake = FakeTwilioHttp(*answers)
        sms.set_twilio_http_client(fake)
        return fake

    yield install
    sms.set_twilio_http_client(None)


@pytest.fixture
def received(make_order, parts_manager, django_capture_on_commit_callbacks):
    """Receive an order's parts with on-commit hooks running (signal → generator → SMS task)."""

    def receive(**kwargs):
        order = make_order(placed_at=at("2025-06-01"), **kwargs)
        line = order.lines.get()
        with django_capture_on_commit_callbacks(execute=True):
            order_services.customer_order_receive(
                actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}], now=at("2025-06-05", 14)
            )
        return order

    return receive


def test_r5_customer_gets_an_sms_through_twilio_when_parts_arrive(twilio, received, customer):
    fake = twilio(created())
    order = received()
    delivery = Delivery.objects.get()
    assert delivery.event == CallEvent.objects.get(order=order, kind="arrival")
    assert (delivery.channel, delivery.status, delivery.provider_id, delivery.attempts) == (
        "sms",
        "sent",
        "SM" + "1" * 32,
        1,
    )
    request = fake.requests[0]
    assert request["method"] == "POST" and request["uri"].endswith(f"/Accounts/{SID}/Messages.json")
    assert request["data"]["To"] == customer.phone.as_e164
    assert request["data"]["From"] == "+15005550006"
    assert request["data"]["StatusCallback"] == CALLBACK
    assert order.number in request["data"]["Body"]
    assert request["auth"] == (SID, TOKEN)


def test_email_customer_gets_an_email(received, customer, mailoutbox):
    customer.preferred_channel = "email"
    customer.save()
    order = received()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [customer.email]
    assert order.number in mailoutbox[0].subject
    assert Delivery.objects.get().status == "sent"


def test_phone_customers_and_opted_out_customers_get_nothing(received, customer, advisor, mailoutbox, twilio):
    fake = twilio()
    services.opt_out_create(actor=advisor, customer=customer, channel="sms", reason="Не присылать SMS")
    received()
    assert Delivery.objects.count() == 0 and fake.requests == []
    customer.preferred_channel = "phone"
    customer.save()
    received()
    assert Delivery.objects.count() == 0 and mailoutbox == []
    assert CallEvent.objects.filter(kind="arrival").count() == 2  # the calls still happen


def test_at_most_once_per_event_and_channel(twilio, received):
    fake = twilio(created())
    received()
    delivery = Delivery.objects.get()
    # A redelivered task (acks_late) sends nothing twice.
    assert send_delivery.delay(delivery.pk).get() == "skipped"
    assert len(fake.requests) == 1
    # Even code cannot create a second message for the event and channel.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(
            dealership=delivery.dealership,
            customer=delivery.customer,
            event=delivery.event,
            channel="sms",
            recipient="+79160000000",
            body="again",
        )
    # And a second tick does not queue another one either.
    services.call_events_generate(now=at("2025-06-05", 15))
    assert Delivery.objects.count() == 1


def test_429_is_retried_with_backoff_then_sent(twilio, received):
    too_many = (429, {"code": 20429, "message": "Too Many Requests", "status": 429})
    fake = twilio(too_many, too_many, created(sid="SM" + "2" * 32))
    received()  # first attempt: 429
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("queued", 1) and "Too Many Requests" in delivery.last_error
    # The retries (a worker would run them after the countdown) back off: 60 s after the 2nd 429.
    assert send_delivery.delay(delivery.pk).get() == "retry in 60s"
    assert send_delivery.delay(delivery.pk).get() == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.provider_id) == ("sent", 3, "SM" + "2" * 32)
    assert len(fake.requests) == 3


def test_gives_up_after_the_last_attempt_and_records_the_failure(twilio, received):
    from notifications.tasks import MAX_SEND_ATTEMPTS

    too_many = (429, {"code": 20429, "message": "Too Many Requests", "status": 429})
    twilio(*[too_many] * MAX_SEND_ATTEMPTS)
    order = received()
    delivery = Delivery.objects.get()
    for _ in range(MAX_SEND_ATTEMPTS - 1):
        send_delivery.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "gave up" in delivery.last_error
    assert CallEvent.objects.get(order=order, kind="arrival").status == "open"


def test_backoff_grows():
    from notifications.tasks import _backoff

    assert [_backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert _backoff(20) == 3600


def test_timeout_is_recorded_as_unknown_and_not_resent(twilio, received):
    fake = twilio(requests.ReadTimeout("read timed out"))
    order = received()
    delivery = Delivery.objects.get()
    assert delivery.status == "unknown" and "timeout" in delivery.last_error
    assert send_delivery.delay(delivery.pk).get() == "skipped"
    assert len(fake.requests) == 1
    assert CallEvent.objects.get(order=order, kind="arrival").status == "open"  # the event is never lost


def test_rejected_number_is_recorded_as_failed_and_the_event_stays(twilio, received):
    twilio((400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}))
    order = received()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "21211" in delivery.last_error
    assert CallEvent.objects.get(order=order, kind="arrival").status == "open"


def test_interrupted_attempt_becomes_unknown_not_resent(twilio, received):
    fake = twilio(created())
    received()
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="sending")  # a worker died mid-send
    assert send_delivery.delay(delivery.pk).get() == "skipped"
    delivery.refresh_from_db()
    assert delivery.status == "unknown" and len(fake.requests) == 1


def test_opt_out_after_queueing_is_honoured_at_sending(advisor, customer, twilio, django_capture_on_commit_callbacks):
    fake = twilio()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = services.customer_notify(
            actor=advisor, customer=customer, subject="Запись", body="Ждём вас завтра в 10:00", reference="appt-1"
        )
    services.opt_out_create(actor=advisor, customer=customer, channel="sms", reason="Отписался")
    for callback in callbacks:
        callback()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and fake.requests == []


def test_customer_notify_contract(advisor, customer, twilio, django_capture_on_commit_callbacks):
    fake = twilio(created(sid="SM" + "3" * 32))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.customer_notify(
            actor=advisor, customer=customer, subject="Запись", body="Ждём вас завтра", reference="appt-7"
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = services.customer_notify(
            actor=advisor, customer=customer, subject="Запись", body="Ждём вас завтра", reference="appt-7"
        )
    assert first.pk == again.pk and len(fake.requests) == 1
    first.refresh_from_db()
    assert (first.channel, first.status, first.reference) == ("sms", "sent", "appt-7")
    customer.preferred_channel = "phone"
    customer.save()
    assert services.customer_notify(actor=advisor, customer=customer, subject="s", body="b", reference="r2") is None
    customer.preferred_channel = "email"
    customer.save()
    OptOut.objects.create(dealership=customer.dealership, customer=customer, channel="email", reason="нет")
    assert services.customer_notify(actor=advisor, customer=customer, subject="s", body="b", reference="r3") is None


def test_console_backend_without_credentials(received, settings, capsys):
    settings.TWILIO_ACCOUNT_SID = ""
    received()
    delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.provider_id.startswith("CONSOLE")
    assert delivery.recipient in capsys.readouterr().out


# -- the status callback webhook -----------------------------------------------------------------------------------
def post_callback(client, params, *, signature=None, token=TOKEN):
    if signature is None:
        signature = RequestValidator(token).compute_signature(CALLBACK, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post("/notifications/twilio/status/", params, **headers)


@pytest.fixture
def sent_delivery(twilio, received):
    twilio(created(sid="SM" + "4" * 32))
    received()
    return Delivery.objects.get()


def test_webhook_updates_the_status(client, sent_delivery):
    params = {"MessageSid": sent_delivery.provider_id, "MessageStatus": "delivered", "AccountSid": SID}
    assert post_callback(client, params).status_code == 204
    sent_delivery.refresh_from_db()
    assert sent_delivery.status == "delivered"


def test_webhook_rejects_unsigned_and_forged_requests(client, sent_delivery):
    params = {"MessageSid": sent_delivery.provider_id, "MessageStatus": "failed"}
    assert post_callback(client, params, signature="").status_code == 403
    assert post_callback(client, params, signature="Zm9yZ2Vk").status_code == 403
    assert post_callback(client, params, signature=None, token="someone-elses-token").status_code == 403
    # A signature for other parameters does not cover these.
    good = RequestValidator(TOKEN).compute_signature(
        CALLBACK, {"MessageSid": sent_delivery.provider_id, "MessageStatus": "sent"}
    )
    assert post_callback(client, params, signature=good).status_code == 403
    sent_delivery.refresh_from_db()
    assert sent_delivery.status == "sent"


def test_webhook_repeats_are_idempotent_and_final_never_goes_back(client, sent_delivery):
    sid = sent_delivery.provider_id
    for status in ("delivered", "delivered", "sent", "queued", "failed"):
        assert post_callback(client, {"MessageSid": sid, "MessageStatus": status}).status_code == 204
    sent_delivery.refresh_from_db()
    assert sent_delivery.status == "delivered"
    # An unknown message id is acknowledged (Twilio stops retrying) and changes nothing.
    assert post_callback(client, {"MessageSid": "SMunknown", "MessageStatus": "failed"}).status_code == 204


def test_webhook_undelivered_is_recorded_with_the_error(client, sent_delivery):
    params = {"MessageSid": sent_delivery.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post_callback(client, params).status_code == 204
    sent_delivery.refresh_from_db()
    assert sent_delivery.status == "undelivered" and "30003" in sent_delivery.last_error


def test_console_message_ids_are_unique_across_processes():
    """Issue 16 item 6: the web process and the worker each send; a status callback must find exactly one row."""
    import subprocess
    import sys

    script = (
        "from notifications.sms import ConsoleSmsBackend;"
        "import sys; sys.stdout.write('ID=' + ConsoleSmsBackend().send(to='+79161234502', body='x').provider_id)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "dms.settings.test", "PATH": "/usr/bin:/bin"}
    ids = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
        ids.append(out.rsplit("ID=", 1)[1])
    assert ids[0] != ids[1] and all(sid.startswith("CONSOLE") for sid in ids)
