"""Issue 14 item 4 in Chromium: the booking form by keyboard — a customer found by a phone typed in the national
form (8 916 …), the vehicle picker narrowed to that customer, the hand-over proposed from the advisor's free slots,
Enter picking without submitting; then the booking goes through."""

import datetime

import pytest
from playwright.sync_api import expect

from dms.core import roles
from service.models import Appointment, WorkingHours
from tests.factories import CustomerFactory, VehicleFactory

from .pickers import pick, picker_options

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/pick"


def test_booking_by_keyboard_with_pickers(page, login, make_user, dealership, other_dealership):
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    for weekday in range(7):
        WorkingHours.objects.create(
            dealership=dealership, advisor=advisor, weekday=weekday,
            starts_at=datetime.time(9, 0), ends_at=datetime.time(18, 0),
        )  # fmt: skip
    orlov = CustomerFactory(dealership=dealership, name="Орлов Олег Олегович", phone="+79161234502")
    camry = VehicleFactory(customer=orlov, make="Toyota", model="Camry", vin="JTNB11HK503123456", plate="М654ТУ77")
    VehicleFactory(customer=orlov, make="Toyota", model="RAV4", vin="JTMBFREV10D012345")
    stranger = CustomerFactory(dealership=dealership, name="Петров Пётр", phone="+79035550000")
    VehicleFactory(customer=stranger, make="Toyota", model="Camry", vin="JTNB11HK503999999")
    CustomerFactory(dealership=other_dealership, name="Орлов Чужой", phone="+79161234502")
    day = datetime.date.today() + datetime.timedelta(days=3)

    login("anna")
    page.goto(page.base_url + f"/appointments/new/?date={day.isoformat()}")
    # The hand-over proposes the advisor's first free slot after the reception (the page's default arrival 10:00).
    expect(page.locator("#id_handover_time")).to_have_value("10:15")

    # The customer by the national form of the phone; the other dealership's namesake never shows.
    page.screenshot(path=f"{SHOTS}-0-form.png", full_page=True)
    control = page.locator("#id_customer-ts-control")
    control.click()
    control.press_sequentially("8 916 123-45-02", delay=20)
    assert picker_options(page, "id_customer") == ["Орлов Олег Олегович\n+7 916 123-45-02 · " + orlov.email]
    page.screenshot(path=f"{SHOTS}-1-customer-by-phone.png", full_page=True)
    control.press("Enter")  # picks; the form is not submitted
    assert page.eval_on_selector("#id_customer", "s => s.value") == str(orlov.pk)
    assert "/appointments/new/" in page.url and Appointment.objects.count() == 0
    page.keyboard.press("Tab")  # on to the vehicle picker
    # The vehicle picker lists only Орлов's cars (the stranger's Camry is not among them).
    options = picker_options(page, "id_vin")
    assert len(options) == 2 and all("Орлов" in text for text in options), options
    page.screenshot(path=f"{SHOTS}-2-vehicles-of-the-customer.png", full_page=True)
    assert pick(page, "id_vin", "camry", "JTNB11HK503123456") == camry.vin
    page.wait_for_selector("#vin-check >> text=Орлов Олег Олегович")  # the R15 check follows the picked car

    page.fill("#id_reason", "Скрип тормозов спереди")
    page.select_option("#id_area", "mechanical")
    # A later arrival: the proposed hand-over follows it.
    page.fill("#id_time", "11:00")
    page.select_option("#id_duration_minutes", "30")
    expect(page.locator("#id_handover_time")).to_have_value("11:30")
    page.screenshot(path=f"{SHOTS}-3-filled.png", full_page=True)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    appointment = Appointment.objects.get()
    assert appointment.customer == orlov and appointment.vehicle == camry
    tz = dealership.tz
    assert appointment.handover_at.astimezone(tz).time() == datetime.time(11, 30)
    page.screenshot(path=f"{SHOTS}-4-booked.png", full_page=True)
