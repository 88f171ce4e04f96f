"""Issue 14, "Done when": each role's whole day in Chromium, largely by keyboard, through the pickers, with
screenshots in /tmp/day-*.png, meeting no dead end.

advisor: a customer found by a phone typed in the national form (8 916 …) → the card → book → arrival →
reception → diagnosis → the customer's consent to extra work → repair → quality check → delivery, and the same for
a walk-in; inspector: a per-job fail and the rework; warranty engineer: a claim from a delivered work order seen on
the vehicle's card; director: the call-compliance report with late and missed rows from the demo data.
"""

import datetime

import pytest
from django.core.management import call_command

from claims.models import WarrantyClaim, WarrantyStatus
from dms.core import roles
from service.models import Appointment, WorkingHours, WorkOrder, WorkOrderJob, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

from .pickers import pick, picker_options

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DEMO_PASSWORD = "demo12345"


def shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/day-{name}.png", full_page=True)


def enter(page, selector: str) -> None:
    """Submit by keyboard: focus the field or button and press Enter, waiting for the next page."""
    with page.expect_navigation():
        page.locator(selector).first.press("Enter")


def logout(page) -> None:
    with page.expect_navigation():
        page.locator("nav form[action*='logout'] button").press("Enter")


def status_of(wo: WorkOrder) -> str:
    wo.refresh_from_db()
    return wo.status


def repair_to_delivery(page, wo: WorkOrder, *, login, name: str) -> None:
    """From a received car: a job, diagnosis, extra work and the customer's consent, repair, self-check, the
    inspector's check, delivery against the signature — each step offered on the work order's page."""
    page.locator("#add-job-form [name=description]").fill("Замена передних тормозных колодок")
    page.locator("#add-job-form [name=standard_hours]").fill("1.5")
    enter(page, "#add-job-form [name=standard_hours]")
    enter(page, "#next-step form button")  # start diagnosis
    assert status_of(wo) == WorkOrderStatus.DIAGNOSIS
    # Extra work found at diagnosis waits for the customer's consent (R30).
    page.locator("#add-job-form [name=description]").fill("Замена тормозной жидкости")
    page.locator("#add-job-form [name=standard_hours]").fill("0.5")
    enter(page, "#add-job-form [name=standard_hours]")
    assert status_of(wo) == WorkOrderStatus.AWAITING_APPROVAL
    assert page.locator("#next-step form:has(button[type=submit][disabled])").count() == 1  # repair waits
    shot(page, f"{name}-consent")
    consent = page.locator("#next-step form.consent-form").first
    consent.locator("[name=agreed]").select_option("yes")
    consent.locator("[name=given_by]").fill("Клиент по телефону")
    enter(page, "#next-step form.consent-form [name=given_by]")
    assert wo.jobs.filter(consent=WorkOrderJob.Consent.AGREED).count() == 1
    enter(page, "#next-step form button")  # start repair
    assert status_of(wo) == WorkOrderStatus.IN_REPAIR
    for _ in range(2):
        enter(page, "#jobs form:has(.job-done) button")
    page.locator("#next-step [name=technician]").fill("Петров П.")
    enter(page, "#next-step [name=technician]")
    assert status_of(wo) == WorkOrderStatus.QUALITY_CHECK
    shot(page, f"{name}-to-quality-check")
    logout(page)

    login("igor")
    page.goto(page.base_url + wo.get_absolute_url())
    assert "Контроль качества" in page.locator("#wo-status").inner_text()
    for job in wo.jobs.all():
        page.locator(f"label[for=qc-pass-{job.pk}]").click()
    enter(page, "#qc-form button[value=pass]")
    assert status_of(wo) == WorkOrderStatus.READY
    logout(page)

    login("anna")
    page.goto(page.base_url + wo.get_absolute_url())
    page.locator("#deliver-form [name=signed_by]").fill("Орлов О.О.")
    enter(page, "#deliver-form [name=signed_by]")
    assert status_of(wo) == WorkOrderStatus.DELIVERED and wo.signed_by == "Орлов О.О."
    assert "Орлов О.О." in page.locator("#delivery-signature").inner_text()
    shot(page, f"{name}-delivered")


@pytest.fixture
def service_people(make_user, dealership):
    anna = make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    make_user(roles.QUALITY_INSPECTOR, username="igor", first_name="Игорь", last_name="Соколов")
    for weekday in range(7):
        WorkingHours.objects.create(
            dealership=dealership, advisor=anna, weekday=weekday,
            starts_at=datetime.time(8, 0), ends_at=datetime.time(20, 0),
        )  # fmt: skip
    orlov = CustomerFactory(dealership=dealership, name="Орлов Олег Олегович", phone="+79161234502")
    camry = VehicleFactory(customer=orlov, make="Toyota", model="Camry", vin="JTNB11HK503123456", mileage=42000)
    return anna, orlov, camry


def test_advisor_day_booked_and_walk_in(page, login, service_people):
    anna, orlov, camry = service_people
    login("anna")

    # The customer rings: found by the phone in the national form in the picker, then the card.
    page.goto(page.base_url + "/workorders/new/")
    control = page.locator("#id_customer-ts-control")
    control.click()
    control.press_sequentially("8 916 123-45-02", delay=20)
    assert picker_options(page, "id_customer")[0].startswith("Орлов Олег Олегович")
    shot(page, "advisor-1-phone-picker")
    control.press("Escape")
    page.goto(page.base_url + "/customers/")
    page.locator("main input[name=q]").fill("Орлов")
    enter(page, "main input[name=q]")
    with page.expect_navigation():
        page.get_by_role("link", name="Орлов Олег Олегович").first.press("Enter")
    assert f"/customers/{orlov.pk}/" in page.url
    shot(page, "advisor-2-card")

    # Book from the card: the customer is prefilled, the vehicle picked among his cars by keyboard.
    with page.expect_navigation():
        page.locator("#action-appointment").press("Enter")
    assert page.eval_on_selector("#id_customer", "s => s.value") == str(orlov.pk)
    if page.eval_on_selector("#id_vin", "s => s.value") != camry.vin:
        assert pick(page, "id_vin", "camry", camry.vin) == camry.vin
    page.locator("#id_reason").fill("Скрип тормозов спереди")
    page.locator("#id_area").select_option("mechanical")
    page.locator("#id_time").fill("11:00")
    page.locator("#id_duration_minutes").select_option("30")
    page.locator("#id_handover_time").fill("17:00")
    shot(page, "advisor-3-booking")
    enter(page, "main button[type=submit]")
    appointment = Appointment.objects.get()
    assert appointment.customer == orlov and appointment.vehicle == camry

    # Arrival: the appointment's page offers the reception.
    with page.expect_navigation():
        page.locator(f"a[href$='/appointments/{appointment.pk}/reception/']").first.press("Enter")
    page.locator("#id_mileage").fill("43100")
    page.locator("#id_fuel_level").select_option("1/2")
    page.locator("#id_damage_notes").fill("Скол на капоте")
    shot(page, "advisor-4-reception")
    enter(page, "#id_mileage")
    wo = WorkOrder.objects.get(appointment=appointment)
    assert wo.arrived_at and wo.mileage_in == 43100
    if f"/workorders/{wo.pk}/" not in page.url:
        page.goto(page.base_url + wo.get_absolute_url())
    repair_to_delivery(page, wo, login=login, name="advisor-booked")

    # The same day for a walk-in: the form found from the menu, the customer by phone, his car narrowed to him.
    page.goto(page.base_url + "/workorders/new/")
    assert pick(page, "id_customer", "8 916 123-45-02", "Орлов Олег Олегович") == str(orlov.pk)
    page.keyboard.press("Tab")
    assert pick(page, "id_vehicle", "camry", camry.vin) == str(camry.pk)
    page.locator("#id_complaint").fill("Стучит справа при повороте")
    shot(page, "advisor-5-walk-in")
    enter(page, "main button[type=submit]")
    walk_in = WorkOrder.objects.get(appointment=None)
    with page.expect_navigation():
        page.locator("#wo-reception").press("Enter")
    page.locator("#id_mileage").fill("43150")
    page.locator("#id_fuel_level").select_option("1/4")
    enter(page, "#id_mileage")
    walk_in.refresh_from_db()
    assert walk_in.arrived_at and walk_in.customer_words == "Стучит справа при повороте"
    repair_to_delivery(page, walk_in, login=login, name="advisor-walk-in")


def test_inspector_fails_one_job_and_passes_the_rework(page, login, service_people):
    from service import services

    anna, orlov, camry = service_people
    wo = services.workorder_open(actor=anna, dealership=orlov.dealership, customer=orlov, vehicle=camry, complaint="ТО")
    services.workorder_record_reception(actor=anna, work_order=wo, mileage=43000, fuel_level="1/2", customer_words="ТО")
    pads = services.workorder_job_add(actor=anna, work_order=wo, description="Колодки", standard_hours=1)
    oil = services.workorder_job_add(actor=anna, work_order=wo, description="Масло", standard_hours=1)
    services.workorder_start_diagnosis(actor=anna, work_order=wo)
    services.workorder_start_repair(actor=anna, work_order=wo)
    for job in (pads, oil):
        services.workorder_job_complete(actor=anna, job=job)
    services.workorder_submit_for_quality_check(actor=anna, work_order=wo, technician="Петров")

    login("igor")
    page.goto(page.base_url + "/")  # the inspector's landing page: the quality-check queue
    shot(page, "inspector-1-landing")
    with page.expect_navigation():
        page.get_by_role("link", name=wo.number).first.press("Enter")
    page.locator(f"label[for=qc-fail-{pads.pk}]").click()
    page.locator(f"#qc-comment-{pads.pk}").fill("Стук при торможении")
    page.locator(f"label[for=qc-pass-{oil.pk}]").click()
    shot(page, "inspector-2-per-job")
    enter(page, "#qc-form button[value=fail]")
    pads.refresh_from_db()
    oil.refresh_from_db()
    assert (pads.quality_status, oil.quality_status) == (WorkOrderJob.QualityStatus.REWORK, "passed")
    assert status_of(wo) == WorkOrderStatus.IN_REPAIR
    assert page.locator("#next-step-text").inner_text().startswith("Доработка: «Колодки»")
    shot(page, "inspector-3-rework")
    logout(page)

    # The advisor marks the rework done and sends the car back; the check covers the reworked job only.
    login("anna")
    page.goto(page.base_url + wo.get_absolute_url())
    enter(page, "#jobs form:has(.job-done) button")
    page.locator("#next-step [name=technician]").fill("Петров")
    enter(page, "#next-step [name=technician]")
    assert status_of(wo) == WorkOrderStatus.QUALITY_CHECK
    logout(page)
    login("igor")
    page.goto(page.base_url + wo.get_absolute_url())
    assert page.locator("#qc-form fieldset.qc-job").count() == 1
    page.locator(f"label[for=qc-pass-{pads.pk}]").click()
    enter(page, "#qc-form button[value=pass]")
    assert status_of(wo) == WorkOrderStatus.READY
    shot(page, "inspector-4-ready")


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def test_warranty_engineer_claims_a_delivered_job_seen_on_the_vehicle_card(page, login, demo):
    from dms.core.models import Vehicle

    land_cruiser = Vehicle.objects.get(vin="JTMHV05J604123456")
    wo = WorkOrder.objects.get(vehicle=land_cruiser, status=WorkOrderStatus.DELIVERED)
    wipers = wo.jobs.get(description__startswith="Замена щёток")
    login("warranty", DEMO_PASSWORD)
    shot(page, "warranty-1-landing")
    page.goto(page.base_url + "/vehicles/")
    page.locator("main input[name=q]").fill("В456ОР77")
    enter(page, "main input[name=q]")
    with page.expect_navigation():
        page.get_by_role("link", name=land_cruiser.vin).first.press("Enter")
    row = page.locator(f"#history-work_order .history-row[data-id='{wo.pk}']")
    assert row.is_visible() and "Выдан" in row.inner_text()
    assert page.locator("#warranty-state").is_visible()
    shot(page, "warranty-2-vehicle-card")

    page.goto(page.base_url + f"/claims/new/?work_order={wo.pk}")
    assert page.eval_on_selector("#id_work_order_id", "s => s.value") == str(wo.pk)
    assert pick(page, "id_job_id", "щёт", "Замена щёток") == str(wipers.pk)
    today = datetime.date.today()
    page.locator("#id_failure_date").fill((today - datetime.timedelta(days=2)).isoformat())
    page.locator("#id_failure_code").fill("B1318")
    pick(page, "id_causal_part", "04152", "04152-YZZA1")
    page.locator("#id_description").fill("Щётки рвутся через неделю после замены")
    shot(page, "warranty-3-claim-form")
    enter(page, "#id_failure_code")
    claim = WarrantyClaim.objects.get(job_id=wipers.pk)
    assert claim.status == WarrantyStatus.DRAFT and claim.vehicle == land_cruiser
    with page.expect_navigation():
        page.locator("#claim-actions button[name=submit]").press("Enter")
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.AUTO_CHECKED, page.locator("main").inner_text()[:500]
    shot(page, "warranty-4-auto-checked")


def test_director_reads_the_compliance_report_with_late_and_missed_rows(page, login, demo):
    login("director", DEMO_PASSWORD)
    shot(page, "director-1-landing")
    page.goto(page.base_url + "/reports/call-compliance/")
    table = page.locator("main table").first
    rows = table.locator("tbody tr")
    assert rows.count() >= 1
    # Columns: employee, due, on time, late, missed …: the demo's week has both late and missed calls.
    late = sum(int(t) for t in table.locator("tbody tr td:nth-child(4)").all_inner_texts())
    missed = sum(int(t) for t in table.locator("tbody tr td:nth-child(5)").all_inner_texts())
    assert late > 0 and missed > 0, (late, missed)
    shot(page, "director-2-compliance")
