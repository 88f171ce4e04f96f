"""Issue 17 item 3: two-way messages — Twilio's signed inbound webhook, reply meanings, opt-outs, threads, WhatsApp."""

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry
from notifications import conversations, selectors, services
from notifications.models import CallEvent, CallStatus, Delivery, InboundMessage, OptOut
from tests.factories import CustomerFactory

from .conftest import at
from .test_notify import SID, TOKEN, created, twilio  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

INBOUND = "https://dms.example/notifications/twilio/inbound/"


@pytest.fixture
def inbound(client, settings, twilio):  # noqa: F811
    settings.TWILIO_INBOUND_URL = INBOUND

    def post(sender, body, *, sid="SM" + "a" * 32, signature=None, to="+15005550006"):
        params = {"MessageSid": sid, "From": sender, "To": to, "Body": body, "NumMedia": "0"}
        sign = signature if signature is not None else RequestValidator(TOKEN).compute_signature(INBOUND, params)
        return client.post(reverse("notifications:twilio_inbound"), params, HTTP_X_TWILIO_SIGNATURE=sign)

    return post


@pytest.fixture
def arrival(make_order, parts_manager, django_capture_on_commit_callbacks, twilio):  # noqa: F811
    """An arrival (R5) whose SMS went out through Twilio: the event and the message the customer answers."""
    from orders import services as order_services

    twilio(created())
    order = make_order(placed_at=at("2025-06-01"))
    with django_capture_on_commit_callbacks(execute=True):
        order_services.customer_order_receive(
            actor=parts_manager, order=order, lines=[{"line": order.lines.get().pk, "quantity": 2}],
            now=at("2025-06-05", 14),
        )  # fmt: skip
    return CallEvent.objects.get(order=order, kind="arrival")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Да", "confirm"),
        ("подтверждаю!", "confirm"),
        (" OK ", "confirm"),
        ("yes", "confirm"),
        ("1", "confirm"),
        ("Перенести", "reschedule"),
        ("reschedule", "reschedule"),
        ("СТОП", "stop"),
        ("Stop", "stop"),
        ("unsubscribe", "stop"),
        ("СТАРТ", "start"),
        ("start", "start"),
        ("Да, но после обеда", "other"),
        ("", "other"),
    ],
)
def test_reply_meanings_in_russian_and_english(text, intent):
    assert conversations.reply_intent(text) == intent


def test_signed_webhook_is_heard_and_a_bad_signature_is_403(inbound, customer):
    assert inbound(customer.phone.as_e164, "Привет", signature="forged").status_code == 403
    assert inbound(customer.phone.as_e164, "Привет", signature="").status_code == 403
    assert InboundMessage.objects.count() == 0
    response = inbound(customer.phone.as_e164, "Привет")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    message = InboundMessage.objects.get()
    assert (message.customer, message.channel, message.body, message.intent) == (customer, "sms", "Привет", "other")


def test_tampered_body_is_refused(inbound, client, customer):
    params = {"MessageSid": "SM1", "From": customer.phone.as_e164, "To": "+1", "Body": "Да"}
    signature = RequestValidator(TOKEN).compute_signature(INBOUND, params)
    params["Body"] = "СТОП"
    response = client.post(reverse("notifications:twilio_inbound"), params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403 and not OptOut.objects.exists()


def test_twilio_retries_do_not_duplicate(inbound, customer):
    for _attempt in range(3):
        assert inbound(customer.phone.as_e164, "Что с заказом?", sid="SMretry").status_code == 200
    assert InboundMessage.objects.filter(provider_id="SMretry").count() == 1


def test_r6_a_reply_to_the_arrival_message_reaches_the_customer(inbound, arrival, customer, advisor):
    delivery = Delivery.objects.get(event=arrival)
    inbound(customer.phone.as_e164, "Спасибо, заеду в пятницу")
    message = InboundMessage.objects.get()
    assert (message.reply_to, message.event) == (delivery, arrival)
    arrival.refresh_from_db()
    assert arrival.status == CallStatus.DONE and arrival.outcome == "reached"
    assert arrival.completed_by == arrival.assignee and "заеду в пятницу" in arrival.comment
    assert AuditEntry.objects.filter(object_id=arrival.pk, action="transition", actor=None).exists()
    # Words nobody's rules understand: a task for the event's assignee on «Мои звонки».
    assert (message.status, message.assignee) == ("open", arrival.assignee)


def test_confirm_to_an_arrival_message_reaches_and_needs_no_task(inbound, arrival, customer):
    inbound(customer.phone.as_e164, "да")
    arrival.refresh_from_db()
    assert arrival.status == CallStatus.DONE
    assert InboundMessage.objects.get().status == "handled"


def test_stop_opts_out_of_the_channel_and_every_send_path_honours_it(inbound, arrival, customer, advisor, client):
    inbound(customer.phone.as_e164, "СТОП", sid="SMstop")
    opt_out = OptOut.objects.get(customer=customer)
    assert opt_out.channel == "sms" and "СТОП" in opt_out.reason
    # The opt-out the customer made (no employee recorded it) shows on their card and the replied event's page.
    client.force_login(advisor)
    card = client.get(reverse("core:customer_detail", args=[customer.pk]))
    assert card.status_code == 200 and "СТОП" in card.content.decode()
    assert client.get(reverse("notifications:call_detail", args=[arrival.pk])).status_code == 200
    assert InboundMessage.objects.get().status == "handled"
    # customer_notify (R19 confirmations and the like), a queued message, an employee's reply: none goes out.
    assert services.customer_notify(actor=advisor, customer=customer, subject="s", body="b", reference="x") is None
    queued = Delivery.objects.create(
        dealership=customer.dealership, customer=customer, channel="sms", recipient="+1", body="b"
    )
    assert services.delivery_claim(delivery_id=queued.pk) is None
    queued.refresh_from_db()
    assert queued.status == "failed"
    with pytest.raises(ConflictError):
        conversations.message_send(actor=advisor, customer=customer, body="Ответ")
    # START subscribes again.
    inbound(customer.phone.as_e164, "START", sid="SMstart")
    assert not OptOut.objects.filter(customer=customer).exists()
    assert conversations.message_send(actor=advisor, customer=customer, body="Ответ").status == "queued"


def test_unknown_number_is_kept_unmatched_and_listed_for_staff(inbound, client, advisor):
    assert inbound("+79990001122", "Кто это?").status_code == 200
    message = InboundMessage.objects.get()
    assert message.customer is None and message.dealership is None and message.status == "open"
    client.force_login(advisor)
    page = client.get(reverse("notifications:inbox") + "?show=unmatched")
    assert page.status_code == 200 and "Кто это?" in page.content.decode()
    assert client.post(reverse("notifications:inbound_handle", args=[message.pk]), {"back": "inbox"}).status_code == 302
    message.refresh_from_db()
    assert message.status == "handled" and message.handled_by == advisor


def test_garbage_sender_is_no_500(inbound):
    assert inbound("not-a-number", "x").status_code == 200
    assert InboundMessage.objects.get().customer is None


def test_other_reply_is_a_task_on_my_calls_until_handled(inbound, arrival, customer, advisor, client):
    inbound(customer.phone.as_e164, "А можно привезти в субботу?")
    message = InboundMessage.objects.get()
    client.force_login(arrival.assignee)
    page = client.get(reverse("notifications:my_calls")).content.decode()
    assert "А можно привезти в субботу?" in page and f'data-message="{message.pk}"' in page
    client.post(reverse("notifications:inbound_handle", args=[message.pk]))
    message.refresh_from_db()
    assert message.status == "handled"
    assert "А можно привезти в субботу?" not in client.get(reverse("notifications:my_calls")).content.decode()


def test_thread_on_customer_card_and_call_event_page(
    inbound,
    arrival,
    customer,
    client,
    django_capture_on_commit_callbacks,
    twilio,  # noqa: F811
):
    inbound(customer.phone.as_e164, "Когда можно забрать?")
    twilio(created(sid="SMreply"))
    client.force_login(arrival.assignee)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("notifications:message_send", args=[customer.pk]),
            {"body": "Завтра с 9 до 18", "event": arrival.pk},
        )
    assert response.status_code == 302 and response.url == reverse("notifications:call_detail", args=[arrival.pk])
    thread = selectors.customer_thread(customer=customer)
    assert [(m.kind, m.body[:10]) for m in thread][-2:] == [("in", "Когда можн"), ("out", "Завтра с 9")]
    assert thread[0].kind == "out" and thread[0].event_id == arrival.pk  # the arrival message first
    card = client.get(reverse("core:customer_detail", args=[customer.pk])).content.decode()
    assert "Когда можно забрать?" in card and "Завтра с 9 до 18" in card
    page = client.get(reverse("notifications:call_detail", args=[arrival.pk])).content.decode()
    assert "Когда можно забрать?" in page and "Завтра с 9 до 18" in page
    reply = Delivery.objects.get(author=arrival.assignee)
    assert reply.event == arrival and reply.status == "sent"


def test_another_dealerships_event_page_is_404(client, arrival, make_user, other_dealership):
    stranger = make_user(dealerships=[other_dealership])
    client.force_login(stranger)
    assert client.get(reverse("notifications:call_detail", args=[arrival.pk])).status_code == 404


def test_whatsapp_in_and_out_through_the_same_twilio_api(inbound, settings, customer, advisor, twilio):  # noqa: F811
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    assert inbound("whatsapp:" + customer.phone.as_e164, "Здравствуйте", sid="SMwa").status_code == 200
    message = InboundMessage.objects.get()
    assert (message.channel, message.customer) == ("whatsapp", customer)
    fake = twilio(created(sid="SMout"))
    from notifications.tasks import send_delivery

    delivery = conversations.message_send(actor=advisor, customer=customer, body="Добрый день!")
    assert delivery.channel == "whatsapp"  # the channel the customer last wrote on
    assert send_delivery.delay(delivery.pk).get() == "sent"
    data = fake.requests[0]["data"]
    assert data["To"] == "whatsapp:" + customer.phone.as_e164 and data["From"] == "whatsapp:+14155238886"
    # A WhatsApp STOP opts out of WhatsApp only.
    inbound("whatsapp:" + customer.phone.as_e164, "stop", sid="SMwastop")
    assert list(OptOut.objects.values_list("channel", flat=True)) == ["whatsapp"]


def test_whatsapp_needs_its_sender(customer, advisor):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        conversations.message_send(actor=advisor, customer=customer, body="x", channel="whatsapp")


def test_whatsapp_preferring_customer_gets_the_arrival_message_there(settings, received_whatsapp):
    delivery = received_whatsapp()
    assert delivery.channel == "whatsapp"


@pytest.fixture
def received_whatsapp(settings, make_order, parts_manager, customer, django_capture_on_commit_callbacks, twilio):  # noqa: F811
    from orders import services as order_services

    def receive():
        settings.TWILIO_WHATSAPP_FROM = "whatsapp:+14155238886"
        customer.preferred_channel = "whatsapp"
        customer.save()
        fake = twilio(created())
        order = make_order(placed_at=at("2025-06-01"))
        with django_capture_on_commit_callbacks(execute=True):
            order_services.customer_order_receive(
                actor=parts_manager, order=order, lines=[{"line": order.lines.get().pk, "quantity": 2}],
                now=at("2025-06-05", 14),
            )  # fmt: skip
        assert fake.requests[0]["data"]["To"] == "whatsapp:" + customer.phone.as_e164
        return Delivery.objects.get(event__order=order)

    return receive


def test_same_number_two_customers_goes_to_the_one_we_wrote_to(inbound, arrival, customer, dealership):
    CustomerFactory(dealership=dealership, phone=customer.phone)  # a relative sharing the phone, newer
    inbound(customer.phone.as_e164, "ok")
    assert InboundMessage.objects.get().customer == customer


# -- the staff API -------------------------------------------------------------------------------------------------
def test_api_thread_and_reply(api_as, inbound, arrival, customer, advisor, other_dealership, make_user):
    inbound(customer.phone.as_e164, "Добрый день")
    api = api_as(advisor)
    url = f"/api/message-threads/{customer.pk}/"
    thread = api.get(url).json()
    assert [m["direction"] for m in thread["messages"]] == ["out", "in"]
    response = api.post(url + "reply/", {"body": "Здравствуйте!", "event": arrival.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["messages"][-1]["body"] == "Здравствуйте!"
    assert response.json()["messages"][-1]["author"] == advisor.get_full_name()
    assert api.post(url + "reply/", {"body": ""}, format="json").status_code == 400
    assert api.post(url + "reply/", {"body": "x", "channel": "fax"}, format="json").status_code == 400
    services.opt_out_create(actor=advisor, customer=customer, channel="sms", reason="Не писать")
    assert api.post(url + "reply/", {"body": "x"}, format="json").status_code == 409
    stranger = api_as(make_user(dealerships=[other_dealership]))
    assert stranger.get(url).status_code == 404


def test_api_inbound_messages_and_handling(api_as, inbound, arrival, customer, advisor, director):
    inbound(customer.phone.as_e164, "Позвоните мне")
    api = api_as(advisor)
    rows = api.get("/api/inbound-messages/?status=open").json()["results"]
    assert [r["body"] for r in rows] == ["Позвоните мне"]
    pk = rows[0]["id"]
    assert api.post(f"/api/inbound-messages/{pk}/handle/").json()["status"] == "handled"
    assert api.post(f"/api/inbound-messages/{pk}/handle/").status_code == 409
    assert api_as(director).post(f"/api/inbound-messages/{pk}/handle/").status_code == 403


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "The parts for your order"), ("zh-hans", None), ("", "Запчасти по вашему заказу")],
)
def test_the_arrival_message_is_in_the_customers_language(
    language,
    words,
    customer,
    make_order,
    parts_manager,
    django_capture_on_commit_callbacks,
    twilio,  # noqa: F811
):
    """Issue 17: the customer reads their messages in their language (the one of their status page), each customer
    of one arrival batch in their own; no language stored — Russian."""
    from django.utils import translation

    from orders import services as order_services

    customer.language = language
    customer.save()
    twilio(created())
    order = make_order(placed_at=at("2025-06-01"))
    with translation.override("ru"), django_capture_on_commit_callbacks(execute=True):
        order_services.customer_order_receive(
            actor=parts_manager, order=order, lines=[{"line": order.lines.get().pk, "quantity": 2}],
            now=at("2025-06-05", 14),
        )  # fmt: skip
    body = Delivery.objects.get(event__order=order).body
    if words is None:  # Chinese: neither the Russian nor the English text
        assert "Запчасти" not in body and "The parts" not in body and order.number in body
    else:
        assert words in body and order.number in body
