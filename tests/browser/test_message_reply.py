"""Issue 17 item 3: the customer answers the arrival SMS; the reply reaches the advisor's customer card, the call
event page and «Мои звонки» (the webhook called over HTTP with Twilio's real signature)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from dms.core import roles
from notifications.models import CallEvent, Delivery
from orders import services as order_services
from parts.models import Part, Supplier
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TOKEN = "browser-test-token"


def test_customers_sms_reply_appears_on_the_advisors_card(page, login, make_user, dealership, screenshot, settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN  # signatures checked; no account sid: the console backend sends
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    manager = make_user(roles.PARTS_MANAGER, username="pavel")
    customer = CustomerFactory(dealership=dealership, name="Орлов Олег Олегович", preferred_channel="sms")
    part = Part.objects.create(dealership=dealership, number="04152-YZZA1", name="Фильтр", price=Decimal("890"))
    supplier = Supplier.objects.create(dealership=dealership, name="ТМР")
    now = timezone.now()
    order = order_services.customer_order_create(
        actor=advisor, dealership=dealership, customer=customer, vehicle=VehicleFactory(customer=customer),
        kind="commercial", lines=[{"part": part, "quantity": 1}], parts_manager=manager,
    )  # fmt: skip
    order = order_services.customer_order_place(
        actor=manager, order=order, supplier=supplier, supplier_order_number="TMR-1",
        expected_at=order.local_today(now) + datetime.timedelta(days=3), now=now - datetime.timedelta(days=4),
    )  # fmt: skip
    order_services.customer_order_receive(
        actor=manager, order=order, lines=[{"line": order.lines.get().pk, "quantity": 1}], now=now
    )
    arrival = CallEvent.objects.get(order=order, kind="arrival")
    sms = Delivery.objects.get(event=arrival)
    assert sms.status == "sent"  # the arrival SMS went out (console backend)

    # The customer answers: Twilio calls the inbound webhook, signed with the account's token.
    url = page.base_url + reverse("notifications:twilio_inbound")
    form = {
        "MessageSid": "SM" + "b" * 32,
        "From": sms.recipient,
        "To": "+15005550006",
        "Body": "Можно в субботу утром?",
    }
    forged = page.request.post(url, form=form, headers={"X-Twilio-Signature": "forged"})
    assert forged.status == 403
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    answer = page.request.post(url, form=form, headers={"X-Twilio-Signature": signature})
    assert answer.status == 200

    login("anna")
    page.goto(page.base_url + reverse("core:customer_detail", args=[customer.pk]))
    card = page.locator("#customer-messages")
    card.get_by_text("Можно в субботу утром?").wait_for()
    assert card.locator('[data-direction="in"]').count() == 1 and card.locator('[data-direction="out"]').count() == 1
    screenshot("customer_card_messages")

    # The reply reached the customer (R7): the arrival call is done; the question is the advisor's task.
    page.goto(page.base_url + reverse("notifications:call_detail", args=[arrival.pk]))
    page.locator("#event-messages").get_by_text("Можно в субботу утром?").wait_for()
    page.fill("#event-messages textarea[name=body]", "Да, ждём вас в субботу с 9:00.")
    with page.expect_navigation():
        page.click("#event-messages button[type=submit]")
    page.locator("#event-messages").get_by_text("Да, ждём вас в субботу с 9:00.").wait_for()
    screenshot("call_event_messages")
    arrival.refresh_from_db()
    assert arrival.status == "done" and arrival.outcome == "reached"

    page.goto(page.base_url + reverse("notifications:my_calls"))
    task = page.locator("#section-messages .message-task")
    assert task.count() == 1
    with page.expect_navigation():
        task.locator("button[type=submit]").click()
    assert page.locator("#section-messages .message-task").count() == 0
