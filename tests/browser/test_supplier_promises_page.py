"""Issue 15 item 8 in the browser: a parts manager sees the revised expected date beside the promised one on the
dashboard and on the order page, with the supplier's record (Russian, as the users read it)."""

import datetime
import zoneinfo

import pytest

from dms.core import roles
from orders import services
from tests.orders.factories import PartFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def test_revised_date_and_supplier_record_on_the_dashboard_and_the_order(page, login, make_user, dealership, vehicle):
    advisor = make_user(roles.SERVICE_ADVISOR)
    manager = make_user(roles.PARTS_MANAGER, username="manager")
    supplier = SupplierFactory(dealership=dealership, name="Дистрибьютор ТМР")
    part = PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный", abc_class="A")
    today = datetime.datetime.now(MSK).replace(hour=10, minute=0, second=0, microsecond=0)

    def order():
        return services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=vehicle.customer,
            vehicle=vehicle,
            kind="warranty",
            lines=[{"part": part, "quantity": 1}],
        )

    def place(o, placed):
        services.customer_order_place(
            actor=manager,
            order=o,
            supplier=supplier,
            supplier_order_number=f"S-{o.pk}",
            expected_at=placed.date() + datetime.timedelta(days=5),
            long_term_agreed=True,
            now=placed,
        )

    # the supplier's record: promised 5 days, came in 8 (3 days late)
    late = order()
    place(late, today - datetime.timedelta(days=30))
    services.customer_order_receive(
        actor=manager,
        order=late,
        lines=[{"line": line.pk, "quantity": 1} for line in late.lines.all()],
        now=today - datetime.timedelta(days=22),
    )
    waiting = order()
    place(waiting, today)
    promised = today.date() + datetime.timedelta(days=5)
    revised = promised + datetime.timedelta(days=3)

    login("manager")
    page.goto(page.base_url + "/orders/")
    row = page.locator(f"#order-{waiting.pk}")
    assert revised.strftime("%d.%m.%Y") in row.locator(".revised-eta").inner_text()
    assert promised.strftime("%d.%m.%Y") in row.inner_text()
    page.screenshot(path="/tmp/rev15-dashboard.png", full_page=True)
    page.goto(page.base_url + f"/orders/{waiting.pk}/")
    assert page.locator("#revised-eta").inner_text() == revised.strftime("%d.%m.%Y")
    assert "0 из 1" in page.locator("#supplier-record").inner_text()
    assert page.locator("#supplier-record-classes").is_visible()
    page.screenshot(path="/tmp/rev15-order.png", full_page=True)
