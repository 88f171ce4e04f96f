"""Issue 15 item 7 in the browser: one supplier delivery for several customer orders received with a keyboard-wedge
scanner (Playwright types each code and Enter, as a scanner does), and Enter never submits the half-filled form."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from dms.core import roles
from orders import services
from orders.models import CustomerOrder, OrderStatus
from parts.models import StockBalance
from tests.orders.factories import PartFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILTER_EAN = "4601234567890"


def _scan(page, code: str) -> str:
    page.click("#scan-input")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    status = page.locator("[data-scan-status]")
    return status.inner_text()


def test_one_delivery_for_several_orders_received_by_scanning(page, login, make_user, dealership, vehicle):
    advisor = make_user(roles.SERVICE_ADVISOR)
    make_user(roles.STOREKEEPER, username="sergey", first_name="Сергей", last_name="Васильев")
    manager = make_user(roles.PARTS_MANAGER)
    supplier = SupplierFactory(dealership=dealership, name="Дистрибьютор ТМР")
    oil_filter = PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный", barcode=FILTER_EAN)
    pads = PartFactory(dealership=dealership, number="04465-02220", name="Колодки тормозные")

    def order(lines):
        return services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=vehicle.customer,
            vehicle=vehicle,
            kind="commercial",
            lines=lines,
        )

    first = order([{"part": oil_filter, "quantity": 2}])
    second = order([{"part": oil_filter, "quantity": 1}, {"part": pads, "quantity": 1}])
    services.customer_order_place_batch(
        actor=manager,
        dealership=dealership,
        orders=[first, second],
        supplier=supplier,
        supplier_order_number="TMR-777",
        expected_at=timezone.localdate() + datetime.timedelta(days=5),
    )

    login("sergey")
    page.goto(f"{page.base_url}/orders/receive-batch/?supplier={supplier.pk}&number=TMR-777")
    page.wait_for_selector("#receive-batch-form")
    # A submit event, if Enter ever triggered one, is remembered here (it would fire before any navigation).
    page.evaluate(
        "window.submitted = 0; document.getElementById('receive-batch-form')"
        ".addEventListener('submit', () => { window.submitted += 1; })"
    )
    first_filter = page.locator(f"input[name='qty-{first.pk}-{first.lines.get().pk}']")
    second_filter = page.locator(f"input[name='qty-{second.pk}-{second.lines.get(part=oil_filter).pk}']")
    second_pads = page.locator(f"input[name='qty-{second.pk}-{second.lines.get(part=pads).pk}']")
    assert (first_filter.input_value(), second_filter.input_value(), second_pads.input_value()) == ("2", "1", "1")

    # The first scan clears the prefilled quantities: from now on each scan is one piece on the shelf.
    assert "04152-YZZA1" in _scan(page, FILTER_EAN)
    assert (first_filter.input_value(), second_filter.input_value(), second_pads.input_value()) == ("1", "0", "0")
    assert page.locator("[data-scan-status]").get_attribute("data-state") == "ok"
    _scan(page, FILTER_EAN)
    # the first order's line is complete: the third filter goes to the second order
    _scan(page, FILTER_EAN)
    assert (first_filter.input_value(), second_filter.input_value()) == ("2", "1")
    # a fourth filter is one too many for this delivery: refused with an error
    _scan(page, FILTER_EAN)
    assert page.locator("[data-scan-status]").get_attribute("data-state") == "error"
    assert (first_filter.input_value(), second_filter.input_value()) == ("2", "1")

    # An unknown code: an error message (and a beep); nothing changes.
    _scan(page, "0000000000000")
    page.wait_for_selector("[data-scan-status][data-state='error']:has-text('0000000000000')")

    # The form is half filled (the pads are not scanned yet): Enter in the scan field or in the comment must not
    # submit it.
    page.fill("#delivery-comment", "Поставка ТМР")
    page.press("#delivery-comment", "Enter")
    page.press("#scan-input", "Enter")
    assert page.evaluate("window.submitted") == 0
    assert "/orders/receive-batch/" in page.url
    assert set(CustomerOrder.objects.values_list("status", flat=True)) == {OrderStatus.ORDERED}

    # The pads by their part number (no barcode on their label), typed in lower case.
    assert "04465-02220" in _scan(page, "04465-02220".lower())
    assert second_pads.input_value() == "1"
    page.screenshot(path="/tmp/scan.png", full_page=True)

    with page.expect_navigation():
        page.click("#receive-entered")
    for placed in (first, second):
        placed.refresh_from_db()
        assert placed.status == OrderStatus.RECEIVED
    assert StockBalance.objects.get(part=oil_filter).on_hand == Decimal("3")
    assert StockBalance.objects.get(part=pads).on_hand == Decimal("1")
    # all of it is reserved for the two customers waiting
    assert StockBalance.objects.get(part=oil_filter).reserved == Decimal("3")
