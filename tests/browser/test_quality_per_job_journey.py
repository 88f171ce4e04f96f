"""Issue 14 item 6 in headless Chromium on a tablet: the inspector fails one job of two with a comment and a photo,
against the job kind's checklist; only that job goes back; after the rework the check covers only it."""

from decimal import Decimal
from pathlib import Path

import pytest

from dms.core import roles
from service import services
from service.models import JobKind, QualityChecklistItem, QualityPhoto, WorkOrderJob
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_inspector_fails_one_job_and_checks_only_the_rework(page, login, make_user, dealership, screenshot, tmp_path):
    page.set_viewport_size({"width": 1024, "height": 768})  # a tablet
    advisor = make_user(roles.SERVICE_ADVISOR, username="anna")
    make_user(roles.QUALITY_INSPECTOR, username="igor")
    brakes = JobKind.objects.create(name="Тормоза")
    pedal = QualityChecklistItem.objects.create(kind=brakes, text="Ход педали", position=1)
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership), mileage=1000)
    wo = services.workorder_open(
        actor=advisor, dealership=dealership, customer=vehicle.customer, vehicle=vehicle, complaint="ТО"
    )
    services.workorder_record_reception(
        actor=advisor, work_order=wo, mileage=1200, fuel_level="1/2", damage_notes="", customer_words="ТО"
    )
    pads = services.workorder_job_add(
        actor=advisor, work_order=wo, description="Колодки", standard_hours=Decimal("1"), kind=brakes
    )
    oil = services.workorder_job_add(actor=advisor, work_order=wo, description="Масло", standard_hours=Decimal("1"))
    services.workorder_start_diagnosis(actor=advisor, work_order=wo)
    services.workorder_start_repair(actor=advisor, work_order=wo)
    for job in (pads, oil):
        services.workorder_job_complete(actor=advisor, job=job)
    services.workorder_submit_for_quality_check(actor=advisor, work_order=wo, technician="Петров")
    photo = Path(tmp_path / "pads.png")
    photo.write_bytes(PNG)

    login("igor")
    page.goto(page.base_url + f"/workorders/{wo.pk}/")
    assert "«Колодки»" in page.locator("#next-step-text").inner_text()
    page.click(f"label[for=qc-fail-{pads.pk}]")
    page.fill(f"#qc-comment-{pads.pk}", "Стук при торможении")
    page.set_input_files(f"#qc-photos-{pads.pk}", str(photo))
    page.click(f"label[for=qc-pass-{oil.pk}]")
    screenshot("quality-per-job-form")
    with page.expect_navigation():
        page.click("#qc-form button[value=fail]")
    pads.refresh_from_db()
    oil.refresh_from_db()
    assert (pads.quality_status, oil.quality_status) == (WorkOrderJob.QualityStatus.REWORK, "passed")
    assert QualityPhoto.objects.get().result.job_id == pads.pk
    text = page.locator("#next-step-text").inner_text()
    assert text.startswith("Доработка: «Колодки»") and "«Масло»" in text
    screenshot("quality-per-job-rework")

    services.workorder_job_complete(actor=advisor, job=pads)
    services.workorder_submit_for_quality_check(actor=advisor, work_order=wo, technician="Петров")
    page.goto(page.base_url + f"/workorders/{wo.pk}/")
    assert page.locator("#qc-form fieldset.qc-job").count() == 1  # only the reworked job
    page.check(f"#qc-item-{pads.pk}-{pedal.pk}")
    page.click(f"label[for=qc-pass-{pads.pk}]")
    with page.expect_navigation():
        page.click("#qc-form button[value=pass]")
    wo.refresh_from_db()
    assert wo.status == "ready"
