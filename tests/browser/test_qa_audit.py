"""QA audit in the browser: on a 390 px phone the order and complaint pages fit the screen (no sideways scrolling of
the whole page); wide tables scroll inside their cards and long status badges wrap."""

import datetime

import pytest

from claims import services as claims_services
from dms.core import roles
from orders import services as order_services
from tests.orders.factories import PartFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE_WIDTH = "document.documentElement.scrollWidth"


def test_order_and_complaint_pages_fit_a_phone(page, login, make_user, dealership, vehicle, director):
    advisor = make_user(roles.SERVICE_ADVISOR)
    manager = make_user(roles.PARTS_MANAGER, username="manager")
    part = PartFactory(dealership=dealership, name="Колодки тормозные передние с датчиком износа", abc_class="A")
    order = order_services.customer_order_create(
        actor=advisor,
        dealership=dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        kind="warranty",
        lines=[{"part": part, "quantity": 1}],
    )
    order_services.customer_order_place(
        actor=manager,
        order=order,
        supplier=SupplierFactory(dealership=dealership),
        supplier_order_number="S-1",
        expected_at=datetime.date.today() + datetime.timedelta(days=20),
        long_term_agreed=True,
    )
    complaint = claims_services.complaint_register(
        actor=advisor,
        dealership=dealership,
        vehicle=vehicle,
        channel="phone",
        description="Возгорание в моторном отсеке",
        severity="emergency",
        emergency_kind="vehicle_fire",
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login(director.username)
    page.goto(page.base_url + order.get_absolute_url())
    assert "Полностью заказан у поставщика" in page.locator("#order-status").inner_text()
    assert page.evaluate(PAGE_WIDTH) <= 390
    page.goto(page.base_url + complaint.get_absolute_url())
    assert page.locator("#complaint-status").is_visible()
    assert page.evaluate(PAGE_WIDTH) <= 390
