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


def test_enter_before_the_answer_picks_the_answer_not_the_earlier_list(page, login, make_user, dealership):
    """A storekeeper types a part number fast and presses Enter before the server has answered: the picker waits for
    that answer and takes its first option. Before, Enter took the highlighted option of the list preloaded on focus
    (every part), so the order line got another part than the one typed (seen under load in CI)."""
    from tests.orders.factories import PartFactory

    make_user(roles.SERVICE_ADVISOR, username="anna")
    PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный")
    pads = PartFactory(dealership=dealership, number="04465-02220", name="Колодки тормозные")
    CustomerFactory(dealership=dealership, name="Иванов Иван")
    login("anna")
    page.goto(page.base_url + "/orders/new/")
    control = page.locator("#id_lines-0-part-ts-control")
    control.click()
    page.locator("#id_lines-0-part-ts-dropdown .option").first.wait_for()  # the list preloaded on focus: both parts
    assert len(picker_options(page, "id_lines-0-part")) == 2

    held = []  # the server's answer to the typed text is held back until Enter has been pressed
    page.route(
        lambda url: "/parts/pick/" in url,
        lambda route: held.append(route) if "q=04465" in route.request.url else route.continue_(),
    )
    control.press_sequentially("04465", delay=10)
    control.press("Enter")
    assert page.eval_on_selector("#id_lines-0-part", "s => s.value") == ""  # nothing picked from the old list
    deadline = 200
    while not held and deadline:
        page.wait_for_timeout(50)  # the route handler runs while Playwright waits (browser time, not a time rule)
        deadline -= 1
    assert held, "the picker never asked the server for the typed text"
    assert page.eval_on_selector("#id_lines-0-part", "s => s.value") == ""
    for route in held:
        route.continue_()
    page.wait_for_function(f"() => document.querySelector('#id_lines-0-part').value === '{pads.pk}'")
    assert "/orders/new/" in page.url  # Enter picked; it did not submit the form
