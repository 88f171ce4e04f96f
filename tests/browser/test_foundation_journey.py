import pytest

from dms.core import roles
from dms.core.models import Customer, Vehicle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_advisor_creates_customer_with_vehicle_and_finds_it_by_vin(page, login, make_user, screenshot):
    # Given an advisor of the dealership
    make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    login("anna")

    # When she creates a customer
    page.goto(page.base_url + "/customers/new/")
    page.fill("#id_name", "Орлов Олег Олегович")
    page.fill("#id_phone", "+7 916 555-44-33")
    page.select_option("#id_preferred_channel", "sms")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Орлов Олег Олегович")
    customer = Customer.objects.get(name="Орлов Олег Олегович")
    assert customer.phone.as_e164 == "+79165554433"

    # ... tries a bad VIN and sees the message, then adds the vehicle
    page.click("a[href*='/vehicles/new/']")
    page.fill("#id_vin", "JTDBR32E72001234I")
    page.fill("#id_make", "Toyota")
    page.fill("#id_model", "Camry")
    page.click("main button[type=submit]")
    assert page.locator(".invalid-feedback").first.is_visible()
    screenshot("foundation-vehicle-bad-vin")
    assert Vehicle.objects.count() == 0
    page.fill("#id_vin", "jtnb11hk503123456")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=JTNB11HK503123456")

    # Then she finds it by VIN from the vehicle list
    page.goto(page.base_url + "/vehicles/?q=503123456")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "Орлов Олег Олегович" in rows.first.inner_text()
    screenshot("foundation-vehicle-search")
    assert Vehicle.objects.get().customer == customer
