"""Browser journeys: a complaint from intake to the closing report (R33), a warranty claim from draft to paid
through three users — warranty engineer, field manager (FMC), claims department (R22)."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from claims.models import Complaint, ComplaintStatus, WarrantyClaim, WarrantyStatus
from claims.roles import CLAIMS_DEPARTMENT, FIELD_MANAGER
from dms.core import roles
from parts.models import Part
from tests.claims.conftest import WorkOrders
from tests.factories import CustomerFactory, UserFactory, VehicleFactory

from .pickers import pick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logout(page):
    with page.expect_navigation():
        page.click("nav form[action*='logout'] button")


def test_complaint_from_intake_to_closing_report(page, login, make_user, dealership, screenshot):
    make_user(roles.SERVICE_ADVISOR, username="anna", first_name="Анна", last_name="Смирнова")
    make_user(roles.WARRANTY_ENGINEER, username="viktor", first_name="Виктор", last_name="Орлов")
    customer = CustomerFactory(dealership=dealership, name="Орлов Олег Олегович")
    VehicleFactory(customer=customer)

    # The advisor takes a phone complaint; first forgets the description.
    login("anna")
    page.goto(page.base_url + "/complaints/new/")
    page.select_option("#id_channel", "phone")
    pick(page, "id_customer", "Орлов", "Орлов Олег Олегович")  # issue 14 item 4: searched as typed
    page.click("main button[type=submit]")
    assert page.locator(".invalid-feedback").first.is_visible()
    screenshot("claims-complaint-bad-intake")
    assert Complaint.objects.count() == 0
    page.fill("#id_description", "После ТО горит Check Engine, мастер нагрубил")
    page.click("main button[type=submit]")
    page.wait_for_selector("#complaint-status")
    complaint = Complaint.objects.get()
    assert complaint.status == ComplaintStatus.REGISTERED
    logout(page)

    # The warranty engineer classifies and assigns with a deadline, investigates, agrees a solution.
    login("viktor")
    page.goto(page.base_url + complaint.get_absolute_url())
    page.click(f"a[href$='/complaints/{complaint.pk}/assign/']")
    page.select_option("#id_category", "repair_quality")
    page.select_option("#id_department", "service")
    pick(page, "id_assignee", "Виктор", "Виктор Орлов")
    page.click("main button[type=submit]")
    page.wait_for_selector("#complaint-status")
    page.click("#complaint-actions button[name=start]")
    page.wait_for_selector("#complaint-status")
    page.click(f"a[href$='/complaints/{complaint.pk}/note/']")
    page.fill("#id_text", "Датчик кислорода не подключён после ТО")
    page.click("main button[type=submit]")
    page.click(f"a[href$='/complaints/{complaint.pk}/solution/']")
    page.fill("#id_cause", "Ошибка механика при ТО")
    page.fill("#id_solution", "Бесплатное устранение и извинения, скидка 10% на следующее ТО")
    page.click("main button[type=submit]")
    page.wait_for_selector("#complaint-solution")
    # Follow-up, then the closing report with satisfaction.
    page.click(f"a[href$='/complaints/{complaint.pk}/note/']")
    page.select_option("#id_kind", "follow_up")
    page.fill("#id_text", "Клиент подтвердил: ошибка не появляется")
    page.click("main button[type=submit]")
    page.click(f"a[href$='/complaints/{complaint.pk}/close/']")
    page.fill("#id_closing_report", "Причина устранена, проведена беседа с механиком")
    page.select_option("#id_satisfaction", "4")
    page.click("main button[type=submit]")
    page.wait_for_selector("#complaint-satisfaction")
    screenshot("claims-complaint-closed")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.satisfaction == 4
    assert complaint.notes.count() == 2
    assert "4 / 5" in page.inner_text("#complaint-satisfaction")


def test_warranty_claim_from_draft_to_paid_through_three_users(page, login, make_user, dealership, screenshot):
    make_user(roles.WARRANTY_ENGINEER, username="viktor", first_name="Виктор", last_name="Орлов")
    for username, role in (("fmc", FIELD_MANAGER), ("claimsdept", CLAIMS_DEPARTMENT)):
        user = UserFactory(username=username, dealership=[dealership])
        user.groups.add(Group.objects.get(name=role))
    today = timezone.localdate()
    vehicle = VehicleFactory(
        customer=CustomerFactory(dealership=dealership),
        warranty_start=today - datetime.timedelta(days=300),
        warranty_end=today + datetime.timedelta(days=800),
        warranty_mileage_limit=100000,
    )
    pump = Part.objects.create(dealership=dealership, number="44310-02190", name="Насос ГУР", price=Decimal("18500"))
    wo = WorkOrders().add(vehicle=vehicle, mileage=31000, parts={pump: 1}, number="ЗН-000123")

    # The warranty engineer drafts the claim from the delivered work order and submits it.
    login("viktor")
    page.goto(page.base_url + "/claims/new/")
    assert pick(page, "id_work_order_id", "000123", "ЗН-000123") == str(wo.id)  # searched as typed
    assert pick(page, "id_job_id", "насос", "ЗН-000123: Замена насоса ГУР") == str(wo.jobs[0].id)
    page.fill("#id_failure_date", (today - datetime.timedelta(days=2)).isoformat())
    page.fill("#id_failure_code", "C1532")
    pick(page, "id_causal_part", "44310", "44310-02190")
    page.fill("#id_description", "Течь насоса ГУР, заменён насос")
    page.fill("#id_failed_part_serial", "PS-0001")
    page.fill("#id_replacement_part_serial", "PS-0999")
    pick(page, "id_line0-part", "насос", "44310-02190")
    page.fill("#id_line0-quantity", "1")
    page.click("main button[type=submit]")
    page.wait_for_selector("#claim-status")
    claim = WarrantyClaim.objects.get()
    assert claim.status == WarrantyStatus.DRAFT and claim.mileage == 31000
    page.click("#claim-actions button[name=submit]")
    page.wait_for_selector("#claim-checks")
    screenshot("claims-warranty-auto-checked")
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.AUTO_CHECKED
    logout(page)

    # The field manager confirms.
    login("fmc")
    page.goto(page.base_url + claim.get_absolute_url())
    page.click("#claim-actions button[name=fmc_confirm]")
    page.wait_for_selector("#claim-status")
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.FMC_CONFIRMED
    logout(page)

    # The claims department confirms (the failed part is to be returned) and records the payment.
    login("claimsdept")
    page.goto(page.base_url + claim.get_absolute_url())
    page.click(f"a[href$='/claims/{claim.pk}/confirm/']")
    page.select_option("#id_part_instruction", "return")
    page.click("main button[type=submit]")
    page.wait_for_selector("#claim-status")
    page.click(f"a[href$='/claims/{claim.pk}/payment/']")
    page.fill("#id_reference", "ПП 2024-118")
    page.click("main button[type=submit]")
    page.wait_for_selector("#claim-paid")
    screenshot("claims-warranty-paid")
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.PAID
    assert claim.paid_amount == claim.total == Decimal("22250.00")
    assert claim.part_instruction == "return"
