"""Issue 14 item 3 in the browser: the advisor opens a customer's card, sees its history and starts a walk-in work
order from it, the form already naming the customer."""

import datetime
import shutil

import pytest

from dms.core import roles
from tests.core.test_cards import _one_of_each
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.factories import RecallCampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_advisor_starts_a_walk_in_from_the_customer_card(page, login, make_user, dealership, screenshot):
    anna = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    customer = CustomerFactory(dealership=dealership, name="Ольга Петрова")
    vehicle = VehicleFactory(customer=customer, make="Toyota", model="Camry", warranty_end=datetime.date(2099, 1, 31))
    recall = RecallCampaignFactory(dealership=dealership, code="RC-77", title="Подушка безопасности")
    recall.vins.create(vin=vehicle.vin)
    rows = _one_of_each(dealership, customer, vehicle, anna)
    login("anna")

    page.goto(f"{page.base_url}/customers/{customer.pk}/")
    work_orders = page.locator("#history-work_order .history-row")
    assert work_orders.count() == 2
    # Open first, with a link to its page.
    assert work_orders.first.get_attribute("data-id") == str(rows["work_order"][0].pk)
    assert page.locator("#history-customer_order").get_by_role("link", name="O-OPEN-0").is_visible()
    shutil.copy(screenshot("cards-customer"), "/tmp/cards.png")

    page.click("#action-work_order")
    page.wait_for_url("**/workorders/new/**")
    assert page.locator("#id_customer").input_value() == str(customer.pk)
    screenshot("cards-walk-in-prefilled")

    # The vehicle's card: its open recall, its visits with the mileage in date order, its warranty's end.
    page.goto(f"{page.base_url}/vehicles/{vehicle.pk}/")
    assert "RC-77" in page.locator("#history-recall").inner_text()
    mileage = page.locator("#history-service_visit .history-mileage").all_inner_texts()
    assert [m.replace("\xa0", " ") for m in mileage] == ["12 000 км", "15 000 км"]
    assert page.locator("#warranty-state").is_visible()
    shutil.copy(screenshot("cards-vehicle"), "/tmp/cards-vehicle.png")
