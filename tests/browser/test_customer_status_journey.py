"""Issue 17, played by the customer on a phone: the arrival SMS (console backend) carries the status link; the page
shows the order; the inspection findings sent by the advisor are approved and declined one by one; a tampered,
expired or revoked link shows the refusal page, not data."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from dms.core import roles
from dms.core.models import CustomerLink
from notifications.models import Delivery
from orders import services as order_services
from parts.models import Part, Supplier
from service import services
from service.models import FindingConsent, ServiceReminder
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.test_customer_status import photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _link_in(body: str) -> str:
    found = re.search(r"(/c/[^/\s]+/)\s*$", body)
    assert found, f"no status link at the end of the message: {body!r}"
    return found.group(1)


def test_customer_opens_the_sms_link_sees_the_order_and_answers_the_findings(
    page, login, make_user, dealership, screenshot, capsys
):
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    manager = make_user(roles.PARTS_MANAGER, username="pavel")
    customer = CustomerFactory(dealership=dealership, name="Орлов Олег Олегович", preferred_channel="sms")
    vehicle = VehicleFactory(customer=customer, make="Toyota", model="RAV4")
    part = Part.objects.create(
        dealership=dealership, number="04152-YZZA1", name="Фильтр масляный", price=Decimal("890")
    )
    supplier = Supplier.objects.create(dealership=dealership, name="ТМР")
    now = timezone.now()
    order = order_services.customer_order_create(
        actor=advisor,
        dealership=dealership,
        customer=customer,
        vehicle=vehicle,
        kind="commercial",
        lines=[{"part": part, "quantity": 1}],
        parts_manager=manager,
    )
    order = order_services.customer_order_place(
        actor=manager,
        order=order,
        supplier=supplier,
        supplier_order_number="TMR-1",
        expected_at=order.local_today(now) + datetime.timedelta(days=3),
        now=now - datetime.timedelta(days=2),
    )
    # The parts arrive: the arrival call event and its SMS (R5), sent by the console backend with the link.
    order_services.customer_order_receive(
        actor=manager, order=order, lines=[{"line": order.lines.get().pk, "quantity": 1}], now=now
    )
    sms = Delivery.objects.get(customer=customer, channel="sms")
    assert sms.status == "sent" and order.number in sms.body
    link = _link_in(sms.body)
    assert link in capsys.readouterr().out  # what the console backend "sent"

    page.set_viewport_size(PHONE)
    page.goto(page.base_url + link)
    assert page.locator(f"#order-{order.pk}").is_visible()
    assert "Ваши запчасти готовы" in page.locator(f"#order-{order.pk} .collect").inner_text()
    screenshot("customer-status-order")

    # The car comes in; the technician records findings with a photo; the advisor sends them (a second SMS).
    wo = services.workorder_open(actor=advisor, dealership=dealership, customer=customer, vehicle=vehicle)
    services.workorder_record_reception(
        actor=advisor, work_order=wo, mileage=vehicle.mileage + 100, fuel_level="1/2", customer_words="ТО"
    )
    services.workorder_job_add(actor=advisor, work_order=wo, description="ТО-3", standard_hours=Decimal("2"))
    services.workorder_start_diagnosis(actor=advisor, work_order=wo)
    brakes = services.finding_create(
        actor=advisor,
        work_order=wo,
        item="Передние тормозные колодки",
        colour="red",
        comment="Остаток 2 мм",
        price=Decimal("6800"),
        photos=[photo()],
    )
    wipers = services.finding_create(
        actor=advisor, work_order=wo, item="Щётки стеклоочистителя", colour="amber", price=Decimal("1450")
    )
    services.findings_send(actor=advisor, work_order=wo)
    findings_sms = Delivery.objects.filter(customer=customer, channel="sms").exclude(pk=sms.pk).get()
    link = _link_in(findings_sms.body)

    page.goto(page.base_url + link)
    card = page.locator(f"#finding-{brakes.pk}")
    assert "6" in card.inner_text() and card.locator("img").count() == 1
    screenshot("customer-status-findings")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide  # fits the phone
    with page.expect_navigation():
        card.get_by_role("button", name="Согласовать").click()
    assert page.locator("#status-done").is_visible()
    with page.expect_navigation():
        page.locator(f"#finding-{wipers.pk}").get_by_role("button", name="Отказаться").click()
    assert "Вы отказались" in page.locator(f"#finding-{wipers.pk}").inner_text()
    assert "Вы согласовали" in page.locator(f"#finding-{brakes.pk}").inner_text()
    screenshot("customer-status-answered")
    answers = {c.finding_id: c for c in FindingConsent.objects.all()}
    assert answers[brakes.pk].agreed and not answers[wipers.pk].agreed
    assert answers[brakes.pk].channel == "sms" and answers[brakes.pk].link.sent_with == f"delivery:{findings_sms.pk}"

    # Tampered, expired, revoked: a clear page, no data.
    page.goto(page.base_url + link[:-3] + "zz/")
    assert page.locator("#link-refused").get_attribute("data-reason") == "invalid"
    assert customer.name not in page.content()
    CustomerLink.objects.filter(sent_with=f"delivery:{sms.pk}").update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    page.goto(page.base_url + _link_in(sms.body))
    assert page.locator("#link-refused").get_attribute("data-reason") == "expired"
    from dms.core import links

    links.links_revoke(actor=advisor, customer=customer)
    page.goto(page.base_url + link)
    assert page.locator("#link-refused").get_attribute("data-reason") == "revoked"
    screenshot("customer-status-revoked")

    # The advisor sees the answers on the work order, and the declined item on the vehicle's card.
    page.set_viewport_size({"width": 1366, "height": 900})
    login("anna")
    page.goto(page.base_url + f"/workorders/{wo.pk}/")
    states = page.locator("#findings .finding-state").all_inner_texts()
    assert any("согласовано клиентом" in s for s in states) and any("отказ" in s for s in states), states
    screenshot("workorder-findings")
    page.goto(page.base_url + f"/vehicles/{vehicle.pk}/")
    assert "Щётки стеклоочистителя" in page.locator("#history-declined_finding").inner_text()
    screenshot("vehicle-declined-recommendations")

    # Issue 17 item 5: the dealership's days later the beat makes the declined item the advisor's call on «Мои звонки»;
    # she records the outcome and the customer's satisfaction (issue 18 item 6), and the card shows the call.
    assert services.declined_follow_ups_raise(now=timezone.now() + datetime.timedelta(days=14)) == 1
    follow_up = ServiceReminder.objects.get(reason="declined", vehicle=vehicle)
    page.goto(page.base_url + "/calls/")
    row = page.locator(f'li[data-reminder="{follow_up.pk}"]')
    assert "Щётки стеклоочистителя" in row.inner_text()
    row.locator('select[name="outcome"]').select_option("booked")
    row.locator('select[name="satisfaction"]').select_option("5")
    row.locator('input[name="note"]').fill("Заменим на следующем ТО")
    row.locator('button[type="submit"]').click()
    page.wait_for_url("**/calls/")
    assert page.locator(f'li[data-reminder="{follow_up.pk}"]').count() == 0
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.satisfaction) == ("called", "booked", 5)
    page.goto(page.base_url + f"/vehicles/{vehicle.pk}/")
    card = page.locator("#history-service_reminder").inner_text()
    assert "Звонок по отказанным работам" in card and "Заменим на следующем ТО" in card and "оценка 5/5" in card
    screenshot("vehicle-declined-work-call")
