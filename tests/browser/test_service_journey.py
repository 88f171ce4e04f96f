"""The advisor's whole service journey in headless Chromium: book, prepare with one missing part (customer order),
receive the car, repair with the inspector's quality check, deliver with the customer's signature (R15-R17, R31)."""

import datetime
from decimal import Decimal

import pytest

from dms.core import roles
from orders.models import CustomerOrder
from parts import selectors as parts_selectors
from parts import services as parts_services
from service.models import Appointment, WorkingHours, WorkOrder
from tests.factories import CustomerFactory, VehicleFactory
from tests.service.factories import PartFactory

from .pickers import pick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _submit(page, form_selector):
    with page.expect_navigation():
        page.click(f"{form_selector} button[type=submit]")


def test_advisor_books_prepares_receives_and_delivers_through_quality_check(
    page, login, make_user, dealership, screenshot, monkeypatch
):
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    make_user(roles.QUALITY_INSPECTOR, username="igor", first_name="Игорь", last_name="Соколов")
    for weekday in range(7):
        WorkingHours.objects.create(
            dealership=dealership, advisor=advisor, weekday=weekday,
            starts_at=datetime.time(8, 0), ends_at=datetime.time(20, 0),
        )  # fmt: skip
    customer = CustomerFactory(dealership=dealership, name="Орлов Олег Олегович", preferred_channel="sms")
    vehicle = VehicleFactory(customer=customer, vin="JTNB11HK503123456", mileage=42000, plate="М654ТУ77")
    pads = PartFactory(dealership=dealership, number="04465-02220", name="Колодки тормозные передние")
    disc = PartFactory(dealership=dealership, number="43512-02220", name="Диск тормозной")
    # The warehouse has the pads but not the disc (the parts app's stock, stubbed at its selector and service).
    monkeypatch.setattr(
        parts_selectors, "stock_available", lambda *, dealership, part: Decimal("4") if part == pads else Decimal(0)
    )
    monkeypatch.setattr(parts_services, "stock_reserve", lambda **kw: None)
    day = datetime.date.today() + datetime.timedelta(days=2)

    login("anna")
    # 1. Book: a time off the grid is refused with a message, then a valid one.
    page.goto(page.base_url + f"/appointments/new/?date={day.isoformat()}")
    pick(page, "id_vin", vehicle.vin.lower(), vehicle.vin)  # issue 14 item 4: the vehicle picker, by VIN
    page.wait_for_selector("#vin-check >> text=Орлов Олег Олегович")
    page.fill("#id_reason", "Скрип тормозов спереди")
    page.select_option("#id_area", "mechanical")
    page.fill("#id_time", "10:10")
    page.select_option("#id_duration_minutes", "30")
    page.fill("#id_handover_time", "17:00")
    page.click("main button[type=submit]")
    page.wait_for_selector(".invalid-feedback")
    assert "15" in page.locator(".invalid-feedback").first.inner_text()
    screenshot("service-booking-off-grid")
    assert Appointment.objects.count() == 0
    page.fill("#id_time", "10:15")
    _submit(page, "main form")
    appointment = Appointment.objects.get()
    assert appointment.vehicle == vehicle and appointment.slots.count() == 3
    screenshot("service-appointment")
    page.goto(page.base_url + f"/appointments/?date={day.isoformat()}")
    assert page.locator("#day-grid >> text=Орлов Олег Олегович").count() >= 1
    screenshot("service-calendar-day")

    # 2. Prepare: open the work order, add the job and two parts, reserve and order what is missing.
    page.goto(page.base_url + f"/appointments/{appointment.pk}/prepare/")
    _submit(page, "main form")
    page.fill("#add-job-form #id_description", "Замена тормозных колодок и дисков")
    page.fill("#add-job-form #id_standard_hours", "1.5")
    _submit(page, "#add-job-form")
    pick(page, "id_part", "04465", "04465-02220")
    page.fill("#add-part-form #id_quantity", "1")
    _submit(page, "#add-part-form")
    assert pick(page, "id_part", "43512", "43512-02220") == str(disc.pk)
    page.fill("#add-part-form #id_quantity", "2")
    _submit(page, "#add-part-form")
    _submit(page, "#prepare-form")
    order = CustomerOrder.objects.get()
    assert order.status == "not_placed" and [line.part for line in order.lines.all()] == [disc]
    assert page.locator("#prep-order").inner_text() == order.number
    screenshot("service-preparation")

    # 3. Receive the car.
    page.goto(page.base_url + f"/appointments/{appointment.pk}/reception/")
    page.fill("#id_mileage", "43100")
    page.select_option("#id_fuel_level", "1/2")
    page.fill("#id_damage_notes", "Скол на капоте")
    _submit(page, "main form")
    wo = WorkOrder.objects.get()
    assert wo.arrived_at and wo.mileage_in == 43100
    vehicle.refresh_from_db()
    assert vehicle.mileage == 43100

    # 4. Diagnosis, repair, job done, self-check.
    _submit(page, "#next-step form")
    _submit(page, "#next-step form")
    _submit(page, "#jobs form:has(.job-done)")
    wo.refresh_from_db()
    assert wo.status == "in_repair" and wo.jobs.get().done_at is not None
    page.fill("#next-step #id_technician", "Петров П.")
    _submit(page, "#next-step form")
    wo.refresh_from_db()
    assert wo.status == "quality_check"
    screenshot("service-workorder-qc")

    # 5. The inspector checks quality.
    page.click("nav button[type=submit]")  # log out
    page.wait_for_url("**/accounts/login/**")
    login("igor")
    page.goto(page.base_url + f"/workorders/{wo.pk}/")
    page.check("#qc-form input[name=checked_jobs]")
    with page.expect_navigation():
        page.click("#qc-form button[value=pass]")
    wo.refresh_from_db()
    assert wo.status == "ready"

    # 6. The advisor delivers the car against the customer's signature.
    page.click("nav button[type=submit]")
    page.wait_for_url("**/accounts/login/**")
    login("anna")
    page.goto(page.base_url + f"/workorders/{wo.pk}/")
    page.fill("#deliver-form #id_signed_by", "Орлов О.О.")
    _submit(page, "#deliver-form")
    wo.refresh_from_db()
    assert wo.status == "delivered" and wo.signed_by == "Орлов О.О." and wo.delivered_at
    assert "Орлов О.О." in page.locator("#delivery-signature").inner_text()
    screenshot("service-workorder-delivered")
