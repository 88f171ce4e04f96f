"""R26 in the browser: a monthly count of one bin with one shortage, through to the approved adjustment."""

from decimal import Decimal

import pytest

from dms.core import roles
from parts import services
from parts.models import MovementKind, StockBalance, StockCount, StockMovement, Warehouse
from tests.parts.factories import LocationFactory, PartFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_monthly_count_with_a_shortage_to_approved_adjustment(page, login, make_user, dealership, screenshot):
    storekeeper = make_user(roles.STOREKEEPER, username="sergey", first_name="Сергей", last_name="Васильев")
    make_user(roles.DIRECTOR, username="elena", first_name="Елена", last_name="Морозова")
    filt = PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный")
    pads = PartFactory(dealership=dealership, number="04465-02220", name="Колодки тормозные передние")
    for part, qty in ((filt, 12), (pads, 4)):
        services.stock_receive(actor=storekeeper, dealership=dealership, part=part, quantity=qty, unit_cost="500")
    warehouse = Warehouse.objects.get(dealership=dealership)
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    for part in (filt, pads):
        services.balance_update(
            actor=storekeeper, balance=StockBalance.objects.get(part=part), data={"location": bin_a}
        )

    # The storekeeper starts the monthly count of bin A-01.
    login("sergey")
    page.goto(page.base_url + "/parts/counts/")
    page.click("a[href$='/parts/counts/new/']")
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.select_option("#id_kind", "monthly")
    page.select_option("#id_scope", "location")
    page.select_option("#id_location", str(bin_a.pk))
    page.click("main button[type=submit]")
    page.wait_for_selector("#count-status")
    count = StockCount.objects.get()

    # On a tablet-size screen he enters the quantities: one filter is missing; first without a reason.
    page.set_viewport_size({"width": 800, "height": 1280})
    page.click(f"a[href$='/parts/counts/{count.pk}/enter/']")
    page.fill("input[data-part='04152-YZZA1']", "11")
    page.fill("input[data-part='04465-02220']", "4")
    page.click("#close-count")
    page.wait_for_selector(".alert-danger")
    assert "04152-YZZA1" in page.locator(".alert-danger").first.inner_text()
    screenshot("parts-count-enter-missing-reason")
    count.refresh_from_db()
    assert count.status == "in_progress"
    line = count.lines.get(part=filt)
    page.fill(f"#reason_{line.pk}", "Не найден на полке")
    page.click("#close-count")
    page.wait_for_selector("#variance-report")
    count.refresh_from_db()
    assert count.status == "submitted"
    assert page.locator("#variance-report tr.shortage").count() == 1
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 0
    page.context.clear_cookies()  # another user takes the tablet

    # The head of parts approves: the shortage becomes an adjustment row.
    page.set_viewport_size({"width": 1366, "height": 768})
    login("elena")
    page.goto(page.base_url + f"/parts/counts/{count.pk}/")
    screenshot("parts-count-variance-report")
    page.click("#approve-count")
    page.wait_for_selector(".alert-success")
    count.refresh_from_db()
    assert count.status == "approved"
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert adjustment.part == filt and adjustment.quantity == Decimal("-1")
    assert adjustment.reason == "Не найден на полке"
    assert StockBalance.objects.get(part=filt).on_hand == 11
    page.goto(page.base_url + "/parts/movements/?kind=adjustment")
    assert page.locator("tbody tr").count() == 1
    screenshot("parts-count-adjustment-ledger")
