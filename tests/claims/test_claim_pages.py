"""Warranty and goodwill claim pages, quarantine, KPIs and CSV export: roles (403), isolation (404), flows."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import kpi, services
from claims.models import GoodwillClaim, QuarantineStatus, WarrantyClaim, WarrantyStatus
from dms.core import roles

from .helpers import draft_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def wo(work_orders, warranty_vehicle, pump):
    return work_orders.add(vehicle=warranty_vehicle, mileage=25000, parts={pump: 1})


def test_engineer_creates_a_claim_from_a_work_order_on_the_page(client, engineer, wo, pump):
    client.force_login(engineer)
    page = client.get(reverse("claims:claim_create"), {"work_order": wo.id})  # from the work order's card
    assert page.status_code == 200 and wo.number in page.content.decode()
    response = client.post(
        reverse("claims:claim_create"),
        {
            "work_order_id": wo.id,
            "job_id": wo.jobs[0].id,
            "kind": "regular",
            "failure_date": timezone.localdate().isoformat(),
            "failure_code": "P0A3F",
            "causal_part": pump.pk,
            "description": "Течь насоса",
            "labour_hours": "1.5",
            "line0-part": pump.pk,
            "line0-quantity": "1",
        },
    )
    claim = WarrantyClaim.objects.get()
    assert response.status_code == 302 and response.url == claim.get_absolute_url()
    assert claim.part_lines.get().part == pump
    response = client.post(reverse("claims:claim_submit", args=[claim.pk]), follow=True)
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.AUTO_CHECKED
    assert "claim-checks" in response.content.decode()


def test_failed_checks_are_shown_as_a_message(client, engineer, work_orders, warranty_vehicle, pump):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={pump: 1}, delivered=False)
    claim = draft_claim(engineer, wo, pump)
    client.force_login(engineer)
    response = client.post(reverse("claims:claim_submit", args=[claim.pk]), follow=True)
    assert "alert-danger" in response.content.decode() and wo.number in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.DRAFT


def test_claim_pages_roles_and_isolation(client, engineer, fmc, advisor, wo, pump, make_user, other_dealership):
    claim = draft_claim(engineer, wo, pump)
    client.force_login(fmc)
    assert client.get(claim.get_absolute_url()).status_code == 200
    assert client.get(reverse("claims:claim_create")).status_code == 403
    assert client.post(reverse("claims:claim_submit", args=[claim.pk])).status_code == 403
    assert client.get(reverse("claims:complaint_list")).status_code == 403
    client.force_login(advisor)
    assert client.get(reverse("claims:claim_list")).status_code == 403
    client.force_login(make_user(roles.WARRANTY_ENGINEER, dealerships=[other_dealership]))
    assert client.get(claim.get_absolute_url()).status_code == 404
    assert client.get(reverse("claims:claim_update", args=[claim.pk])).status_code == 404


def test_fmc_and_claims_department_confirm_on_pages_and_storekeeper_disposes(
    client, engineer, fmc, claims_dept, storekeeper, wo, pump
):
    claim = services.warranty_claim_submit(actor=engineer, claim=draft_claim(engineer, wo, pump))
    client.force_login(fmc)
    assert "fmc_confirm" in client.get(claim.get_absolute_url()).content.decode()
    client.post(reverse("claims:claim_fmc_confirm", args=[claim.pk]))
    client.force_login(claims_dept)
    client.post(
        reverse("claims:claim_confirm", args=[claim.pk]), {"part_instruction": "scrap", "approved_amount": "20000"}
    )
    client.post(reverse("claims:claim_payment", args=[claim.pk]), {"amount": "20000", "reference": "ПП 7"})
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.PAID and claim.approved_amount == Decimal("20000")
    client.force_login(storekeeper)
    listing = client.get(reverse("claims:quarantine_list"))
    assert claim.number in listing.content.decode()
    held = claim.quarantined_part
    client.post(reverse("claims:quarantine_dispose", args=[held.pk]), {"action": "scrap", "reference": "Акт 3"})
    held.refresh_from_db()
    assert held.status == QuarantineStatus.SCRAPPED


def test_goodwill_pages(client, engineer, fmc, vehicle):
    client.force_login(engineer)
    assert client.get(reverse("claims:goodwill_create")).status_code == 200
    response = client.post(
        reverse("claims:goodwill_create"),
        {"customer": vehicle.customer.pk, "vehicle": vehicle.pk, "description": "Скидка на ремонт"},
    )
    assert response.status_code == 302
    claim = GoodwillClaim.objects.get()
    assert client.get(claim.get_absolute_url()).status_code == 200
    response = client.post(reverse("claims:goodwill_submit", args=[claim.pk]), follow=True)
    assert "alert-danger" in response.content.decode()
    assert client.get(reverse("claims:goodwill_list"), {"q": claim.number}).context["page_obj"].paginator.count == 1
    client.force_login(fmc)
    assert client.get(reverse("claims:goodwill_update", args=[claim.pk])).status_code == 403


def test_kpis_timeliness_rejection_rate_and_cost(client, director, engineer, fmc, claims_dept, advisor, wo, pump,
                                                 work_orders, warranty_vehicle):  # fmt: skip
    # One claim paid, one rejected: rejection rate 50 %; cost by model and part from the paid one.
    paid = services.warranty_claim_submit(actor=engineer, claim=draft_claim(engineer, wo, pump))
    services.warranty_claim_fmc_confirm(actor=fmc, claim=paid)
    services.warranty_claim_claims_confirm(
        actor=claims_dept, claim=paid, part_instruction="scrap", approved_amount="100"
    )
    services.warranty_claim_record_payment(actor=claims_dept, claim=paid, amount="90", reference="1")
    wo2 = work_orders.add(vehicle=warranty_vehicle, mileage=26000, parts={pump: 1})
    rejected = services.warranty_claim_submit(actor=engineer, claim=draft_claim(engineer, wo2, pump))
    services.warranty_claim_reject(actor=fmc, claim=rejected, reason="нет", part_instruction="scrap")
    # Complaints: one closed on time by the advisor, one overdue.
    now = timezone.now()
    for on_time in (True, False):
        c = services.complaint_register(
            actor=advisor,
            dealership=advisor.staff_profile.default_dealership,
            channel="phone",
            description="x",
            contact_name="A",
            contact_phone="1",
        )
        c = services.complaint_assign(
            actor=engineer,
            complaint=c,
            category="other",
            department="service",
            assignee=advisor,
            deadline=c.local_today(now),
            now=now,
        )
        if on_time:
            c = services.complaint_start_investigation(actor=advisor, complaint=c)
            c = services.complaint_agree_solution(actor=advisor, complaint=c, cause="c", solution="s")
            services.complaint_add_note(actor=advisor, complaint=c, kind="follow_up", text="ok")
            services.complaint_close(actor=engineer, complaint=c, closing_report="r", satisfaction=5)
    dealership = advisor.staff_profile.default_dealership
    period = kpi.Period.from_params({}, dealership)
    report = kpi.report(dealership=dealership, period=period, now=now + datetime.timedelta(days=2))
    assert report["turnaround"]["rejection_rate"] == 50.0 and report["turnaround"]["paid"] == 1
    assert report["cost"]["by_model"] == [
        {"label": "Toyota Corolla", "claims": 1, "cost": Decimal("90.00"), "share": 100.0}
    ]
    assert report["cost"]["by_part"][0]["label"] == "44310-02190"
    advisor_row = next(r for r in report["timeliness"]["employees"] if r["total"] == 2)
    assert (advisor_row["on_time"], advisor_row["open_overdue"], advisor_row["on_time_rate"]) == (1, 1, 50.0)
    client.force_login(director)
    page = client.get(reverse("claims:kpi"))
    assert page.status_code == 200 and "kpi-rejection-rate" in page.content.decode()
    csv = client.get(reverse("claims:kpi_export"), {"section": "cost_by_part"})
    assert csv.status_code == 200 and "44310-02190;1;90,00" in csv.content.decode("utf-8-sig")
    assert client.get(reverse("claims:kpi_export"), {"section": "nope"}).status_code == 404
    client.force_login(advisor)
    assert client.get(reverse("claims:kpi")).status_code == 403
