"""An advisor creates a customer order, the parts manager places it (R1: the row turns brown), the storekeeper
receives part of it (R2: the row turns to the partially-received colour)."""

import datetime

import pytest
from django.utils import timezone

from dms.core import roles
from orders.models import STATUS_COLOURS, CustomerOrder, OrderStatus
from tests.factories import CustomerFactory, VehicleFactory
from tests.orders.factories import PartFactory, SupplierFactory

from .pickers import pick, picker_options

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _row_colours(page, order):
    row = page.locator(f"#order-{order.pk}")
    return row.evaluate(
        """tr => {
            const cell = tr.querySelector('td.order-number');
            const style = getComputedStyle(cell);
            return {border: style.borderLeftColor, background: style.backgroundColor, status: tr.dataset.status};
        }"""
    )


def _logout(page):
    page.click("nav form[action$='/logout/'] button[type=submit]")
    page.wait_for_url("**/accounts/login/**")


def test_order_row_turns_from_brown_to_partially_received(page, login, make_user, dealership, screenshot):
    from orders.views import STATUS_TINTS

    make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    make_user(roles.PARTS_MANAGER, username="pavel", first_name="Павел", last_name="Кузнецов")
    make_user(roles.STOREKEEPER, username="sergey", first_name="Сергей", last_name="Васильев")
    customer = CustomerFactory(dealership=dealership, name="Иванов Иван Петрович")
    vehicle = VehicleFactory(customer=customer, vin="JTDBR32E720012345", model="Corolla")
    other = VehicleFactory(customer=CustomerFactory(dealership=dealership, name="Петрова Мария"))
    filter_part = PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный")
    pads = PartFactory(dealership=dealership, number="04465-02220", name="Колодки тормозные")
    supplier = SupplierFactory(dealership=dealership, name="Дистрибьютор ТМР")

    # The advisor creates the order: the vehicle list shows only the chosen customer's cars.
    login("anna")
    page.goto(page.base_url + "/orders/new/")
    pick(page, "id_customer", "иванов", "Иванов Иван Петрович")
    page.locator("#id_vehicle-ts-control").click()
    assert all(other.vin not in text for text in picker_options(page, "id_vehicle"))
    assert pick(page, "id_vehicle", "corolla", vehicle.vin) == str(vehicle.pk)
    page.select_option("#id_kind", "warranty")
    pick(page, "id_lines-0-part", "04152", "Фильтр масляный")
    page.fill("#id_lines-0-quantity", "2")
    assert pick(page, "id_lines-1-part", "колодки", "04465-02220") == str(pads.pk)
    page.fill("#id_lines-1-quantity", "0")
    page.click("main button[type=submit]")
    # bad input: zero quantity → the form says so and nothing is created
    page.wait_for_selector("#order-form .alert-danger, #order-form .invalid-feedback")
    assert CustomerOrder.objects.count() == 0
    screenshot("orders-create-bad-quantity")
    page.fill("#id_lines-1-quantity", "1")
    page.click("main button[type=submit]")
    page.wait_for_selector("#order-status[data-status='not_placed']")
    order = CustomerOrder.objects.get()
    assert order.author.username == "anna" and order.lines.count() == 2
    _logout(page)

    # The parts manager places it with the supplier: R1, the row turns brown.
    login("pavel")
    page.goto(page.base_url + f"/orders/{order.pk}/")
    page.click(f"a[href='/orders/{order.pk}/place/']")
    page.select_option("#id_supplier", str(supplier.pk))
    page.fill("#id_supplier_order_number", "TMR-4181")
    eta = timezone.localdate() + datetime.timedelta(days=5)
    page.fill("#id_expected_at", eta.isoformat())
    page.click("main button[type=submit]")
    page.wait_for_selector("#order-status[data-status='ordered']")
    page.goto(page.base_url + "/orders/")
    colours = _row_colours(page, order)
    assert colours["status"] == "ordered"
    assert colours["border"] == _rgb(STATUS_COLOURS[OrderStatus.ORDERED]) == "rgb(139, 69, 19)"  # brown (R1)
    assert colours["background"] == _rgb(STATUS_TINTS[OrderStatus.ORDERED])
    screenshot("orders-dashboard-ordered-brown")
    _logout(page)

    # The storekeeper receives one of the two filters: R2, «Частично получен».
    login("sergey")
    page.goto(page.base_url + f"/orders/{order.pk}/receive/")
    line = order.lines.get(part=filter_part)
    page.fill(f"#id_line_{line.pk}", "5")
    page.click("main button[type=submit]")
    page.wait_for_selector("#action-form .alert-danger")
    assert "04152-YZZA1" in page.inner_text("#action-form .alert-danger")  # the message names the part
    screenshot("orders-receive-too-many")
    page.fill(f"#id_line_{line.pk}", "1")
    page.click("main button[type=submit]")
    page.wait_for_selector("#order-status[data-status='partially_received']")
    screenshot("orders-detail-partially-received")
    page.goto(page.base_url + "/orders/")
    colours = _row_colours(page, order)
    assert colours["status"] == "partially_received"
    assert colours["border"] == _rgb(STATUS_COLOURS[OrderStatus.PARTIALLY_RECEIVED])
    assert colours["background"] == _rgb(STATUS_TINTS[OrderStatus.PARTIALLY_RECEIVED])
    assert colours["border"] != "rgb(139, 69, 19)"
    screenshot("orders-dashboard-partially-received")
    assert CustomerOrder.objects.get().status == OrderStatus.PARTIALLY_RECEIVED
