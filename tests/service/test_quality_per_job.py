"""Issue 14 item 6 (R31): the inspector passes or fails EACH job, against its kind's checklist, with a comment and
photos; a fail sends back only the failed jobs; the next check covers only them; the next step names the jobs."""

import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from dms.core import roles
from dms.core.exceptions import ConflictError
from service import selectors, services
from service.models import JobKind, QualityChecklistItem, QualityPhoto, WorkOrderJob, WorkOrderStatus
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import NOW

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
R = services.JobQualityResult


@pytest.fixture
def brakes():
    kind = JobKind.objects.create(name="Тормоза")
    QualityChecklistItem.objects.create(kind=kind, text="Ход педали", position=1)
    QualityChecklistItem.objects.create(kind=kind, text="Нет стука", position=2)
    return kind


@pytest.fixture
def two_jobs(advisor, dealership, brakes):
    """A work order at the quality check with two done jobs: «Колодки» (brakes) and «Масло» (no kind)."""
    vehicle = VehicleFactory(customer=CustomerFactory(dealership=dealership), mileage=1000)
    wo = services.workorder_open(
        actor=advisor, dealership=dealership, customer=vehicle.customer, vehicle=vehicle, complaint="ТО"
    )
    services.workorder_record_reception(
        actor=advisor, work_order=wo, mileage=1200, fuel_level="1/2", damage_notes="", customer_words="ТО", now=NOW
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
    wo.refresh_from_db()
    return wo, pads, oil


def _all_items(job):
    return list(job.kind.checklist.all()) if job.kind_id else []


def test_failing_one_job_of_two_sends_back_only_that_job_and_rework_is_checked_alone(two_jobs, inspector, advisor):
    wo, pads, oil = two_jobs
    check = services.workorder_quality_check(
        actor=inspector,
        work_order=wo,
        results=[R(job=pads, passed=False, comment="Стук колодки"), R(job=oil, passed=True)],
    )
    assert check.passed is False
    wo.refresh_from_db()
    pads.refresh_from_db()
    oil.refresh_from_db()
    assert wo.status == WorkOrderStatus.IN_REPAIR and wo.rework_count == 1
    assert (pads.quality_status, pads.done_at) == (WorkOrderJob.QualityStatus.REWORK, None)
    assert oil.quality_status == WorkOrderJob.QualityStatus.PASSED and oil.done_at is not None
    assert {r.job_id: r.comment for r in check.results.all()} == {pads.pk: "Стук колодки", oil.pk: ""}

    # The next step names the job waiting for rework.
    text = selectors.workorder_next_step(wo)
    assert "«Колодки»" in text and "Rework" in text

    # Rework: only the failed job is redone and self-checked; the check then covers only it.
    services.workorder_job_complete(actor=advisor, job=pads)
    services.workorder_submit_for_quality_check(actor=advisor, work_order=wo, technician="Петров")
    wo.refresh_from_db()
    assert [j.pk for j in selectors.jobs_waiting_for_quality_check(wo)] == [pads.pk]
    text = selectors.workorder_next_step(wo)
    assert "Waiting for the quality check: «Колодки»." in text and "Passed already: «Масло»." in text
    with pytest.raises(ValidationError) as error:  # a passed job is not checked again
        services.workorder_quality_check(actor=inspector, work_order=wo, results=[R(job=oil, passed=True)])
    assert "checked_jobs" in error.value.message_dict
    check = services.workorder_quality_check(
        actor=inspector, work_order=wo, results=[R(job=pads, passed=True, ticked_items=_all_items(pads))]
    )
    wo.refresh_from_db()
    assert check.passed and wo.status == WorkOrderStatus.READY
    assert list(check.checked_jobs.values_list("pk", flat=True)) == [pads.pk]


def test_a_fail_needs_a_comment(two_jobs, inspector):
    wo, pads, oil = two_jobs
    with pytest.raises(ValidationError) as error:
        services.workorder_quality_check(
            actor=inspector, work_order=wo, results=[R(job=pads, passed=False, comment="  "), R(job=oil, passed=True)]
        )
    assert "Колодки" in " ".join(error.value.message_dict["results"])
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.QUALITY_CHECK and not wo.quality_checks.exists()


def test_every_checklist_item_of_the_jobs_kind_is_ticked_to_pass(two_jobs, inspector, brakes):
    wo, pads, oil = two_jobs
    first = brakes.checklist.first()
    with pytest.raises(ValidationError) as error:
        services.workorder_quality_check(
            actor=inspector,
            work_order=wo,
            results=[R(job=pads, passed=True, ticked_items=[first]), R(job=oil, passed=True)],
        )
    assert "Нет стука" in " ".join(error.value.message_dict["results"])
    other = QualityChecklistItem.objects.create(kind=JobKind.objects.create(name="Кузов"), text="Зазоры")
    with pytest.raises(ValidationError):
        services.checklist_items_of(pads, [other.pk])
    services.workorder_quality_check(
        actor=inspector, work_order=wo, results=[R(job=pads, passed=True, ticked_items=_all_items(pads))]
    )
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.READY


def test_the_fsm_decides_whether_the_check_can_be_made(two_jobs, inspector):
    wo, pads, oil = two_jobs
    services.workorder_quality_check(actor=inspector, work_order=wo, passed=True, checked_jobs=[oil])
    with pytest.raises(ConflictError):
        services.workorder_quality_check(actor=inspector, work_order=wo, passed=True, checked_jobs=[oil])


# --- API ---------------------------------------------------------------------------------------------------------


def test_api_per_job_results_fail_one_and_the_next_step_names_it(two_jobs, inspector, api_as):
    wo, pads, oil = two_jobs
    url = f"/api/work-orders/{wo.pk}/quality-check/"
    client = api_as(inspector)
    no_comment = {"results": [{"job": pads.pk, "passed": False}, {"job": oil.pk, "passed": True}]}
    r = client.post(url, no_comment, format="json")
    assert r.status_code == 400 and "results" in r.json()
    missing_items = {"results": [{"job": pads.pk, "passed": True, "checklist_items": []}]}
    assert client.post(url, missing_items, format="json").status_code == 400
    foreign_item = QualityChecklistItem.objects.create(kind=JobKind.objects.create(name="Кузов"), text="Зазоры")
    bad_item = {"results": [{"job": pads.pk, "passed": False, "comment": "x", "checklist_items": [foreign_item.pk]}]}
    assert client.post(url, bad_item, format="json").status_code == 400
    body = {"results": [{"job": pads.pk, "passed": False, "comment": "Стук"}, {"job": oil.pk, "passed": True}]}
    r = client.post(url, body, format="json")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["status"] == "in_repair"
    assert {j["id"]: j["quality_status"] for j in data["jobs"]} == {pads.pk: "rework", oil.pk: "passed"}
    assert "«Колодки»" in data["next_step"] and "«Масло»" in data["next_step"]


def test_api_photo_is_checked_by_content_and_served_only_to_permitted_users(
    two_jobs, inspector, api_as, client, make_user, other_dealership
):
    wo, pads, oil = two_jobs
    url = f"/api/work-orders/{wo.pk}/quality-check/"
    results = json.dumps([{"job": pads.pk, "passed": False, "comment": "Стук"}, {"job": oil.pk, "passed": True}])
    fake = SimpleUploadedFile("pads.png", b"<html>not an image</html>", content_type="image/png")
    r = api_as(inspector).post(url, {"results": results, f"photos_{pads.pk}": fake}, format="multipart")
    assert r.status_code == 400 and "photos" in r.json()
    pdf = SimpleUploadedFile("pads.pdf", b"%PDF-1.4\n" + b"0" * 64, content_type="application/pdf")
    r = api_as(inspector).post(url, {"results": results, f"photos_{pads.pk}": pdf}, format="multipart")
    assert r.status_code == 400  # quality photos are images only
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.QUALITY_CHECK and not QualityPhoto.objects.exists()

    photo = SimpleUploadedFile("pads.png", PNG, content_type="image/png")
    r = api_as(inspector).post(url, {"results": results, f"photos_{pads.pk}": photo}, format="multipart")
    assert r.status_code == 200, r.content
    stored = QualityPhoto.objects.get()
    assert stored.result.job_id == pads.pk and stored.content_type == "image/png"
    photo_url = reverse("service:quality_photo", args=[stored.pk])

    client.force_login(inspector)
    response = client.get(photo_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(make_user(None))
    assert client.get(photo_url).status_code == 403
    client.force_login(make_user(roles.QUALITY_INSPECTOR, dealerships=[other_dealership]))
    assert client.get(photo_url).status_code in (403, 404)


# --- page --------------------------------------------------------------------------------------------------------


def test_page_form_per_job_fail_shows_the_next_step_naming_the_job(two_jobs, inspector, client, brakes):
    wo, pads, oil = two_jobs
    client.force_login(inspector)
    page = client.get(wo.get_absolute_url()).content.decode()
    assert f'name="result_{pads.pk}"' in page and f'name="items_{pads.pk}"' in page and "Ход педали" in page
    assert "«Колодки»" in page  # the next-step card names the jobs waiting for the check
    action = reverse("service:workorder_action", args=[wo.pk, "quality-check"])
    # A fail without a comment is a form error; nothing changes.
    client.post(action, {f"result_{pads.pk}": "fail", f"result_{oil.pk}": "pass"})
    wo.refresh_from_db()
    assert wo.status == WorkOrderStatus.QUALITY_CHECK
    photo = SimpleUploadedFile("pads.png", PNG, content_type="image/png")
    client.post(
        action,
        {
            f"result_{pads.pk}": "fail",
            f"comment_{pads.pk}": "Скрип",
            f"photos_{pads.pk}": photo,
            f"result_{oil.pk}": "pass",
        },
    )
    wo.refresh_from_db()
    pads.refresh_from_db()
    oil.refresh_from_db()
    assert wo.status == WorkOrderStatus.IN_REPAIR
    assert (pads.quality_status, oil.quality_status) == ("rework", "passed")
    page = client.get(wo.get_absolute_url()).content.decode()
    next_step = re.search(r'id="next-step-text">([^<]*)<', page).group(1)
    with translation.override("ru"):
        assert next_step == escape(selectors.workorder_next_step(wo))
    assert next_step.startswith("Доработка: «Колодки»") and "«Масло»" in next_step
    assert QualityPhoto.objects.get().get_absolute_url() in page
