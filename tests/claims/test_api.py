"""REST API for complaints, goodwill and warranty claims with their transitions: 400/403/404/409."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from claims import services
from claims.models import Complaint, WarrantyStatus
from dms.core import roles

from .helpers import draft_claim

pytestmark = pytest.mark.django_db


def test_complaint_api_intake_to_close(api_as, advisor, engineer, vehicle):
    api = api_as(advisor)
    response = api.post(
        "/api/complaints/",
        {"channel": "email", "customer": vehicle.customer.pk, "vehicle": vehicle.pk, "description": "Долгая выдача"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["number"] == "ЖЛ-000001" and response.json()["status"] == "registered"
    # The advisor may not assign (403); the engineer may.
    deadline = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    body = {"category": "service_attitude", "department": "service", "assignee": advisor.pk, "deadline": deadline}
    assert api.post(f"/api/complaints/{pk}/assign/", body, format="json").status_code == 403
    eng = api_as(engineer)
    assert eng.post(f"/api/complaints/{pk}/assign/", body, format="json").json()["status"] == "assigned"
    assert api.post(f"/api/complaints/{pk}/start-investigation/").json()["status"] == "investigating"
    # Closing without a solution: 409, nothing changes.
    response = eng.post(f"/api/complaints/{pk}/close/", {"closing_report": "x", "satisfaction": 5}, format="json")
    assert response.status_code == 409
    response = api.post(f"/api/complaints/{pk}/agree-solution/", {"cause": "Очередь", "solution": ""}, format="json")
    assert response.status_code == 400
    api.post(f"/api/complaints/{pk}/agree-solution/", {"cause": "Очередь", "solution": "Скидка 10%"}, format="json")
    assert (
        api.post(f"/api/complaints/{pk}/notes/", {"kind": "follow_up", "text": "Ок"}, format="json").status_code == 201
    )
    response = eng.post(f"/api/complaints/{pk}/close/", {"closing_report": "Итог", "satisfaction": 4}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert response.json()["satisfaction"] == 4 and len(response.json()["notes"]) == 1


def test_complaint_api_isolation_and_foreign_ids(api_as, advisor, vehicle, make_user, other_dealership):
    complaint = services.complaint_register(
        actor=advisor, dealership=vehicle.dealership, channel="phone", description="x", vehicle=vehicle
    )
    stranger = api_as(make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership]))
    assert stranger.get(f"/api/complaints/{complaint.pk}/").status_code == 404
    assert stranger.get("/api/complaints/").json()["count"] == 0
    response = stranger.post(
        "/api/complaints/", {"channel": "phone", "vehicle": vehicle.pk, "description": "x"}, format="json"
    )
    assert response.status_code == 400 and "vehicle" in response.json()
    assert api_as(make_user(roles.STOREKEEPER)).get("/api/complaints/").status_code == 403


def test_public_complaint_api_throttled_and_honeypot(api_client, dealership, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public": "2/hour", "auth": "9/min"},
    }
    body = {"dealership": dealership.code, "name": "Анна", "phone": "+79160001122", "description": "Жалоба"}
    from rest_framework.throttling import ScopedRateThrottle

    # The rates the class held before (api_settings read inside ``finally`` would still see this test's override,
    # and every later test of the run would lose the other scopes — the online booking's among them).
    original_rates = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        assert api_client.post("/api/public/complaints/", body, format="json").status_code == 201
        spam = api_client.post("/api/public/complaints/", {**body, "website": "x"}, format="json")
        assert spam.status_code == 201 and "number" not in spam.json()
        assert api_client.post("/api/public/complaints/", body, format="json").status_code == 429
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original_rates
        cache.clear()
    assert Complaint.objects.count() == 1
    assert Complaint.objects.get().channel == "web_form"


def test_warranty_claim_api_draft_to_paid(api_as, engineer, fmc, claims_dept, work_orders, warranty_vehicle, pump):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={pump: 1})
    api = api_as(engineer)
    body = {
        "work_order_id": wo.id,
        "job_id": wo.jobs[0].id,
        "kind": "regular",
        "failure_date": timezone.localdate().isoformat(),
        "failure_code": "P0A3F",
        "causal_part": pump.pk,
        "description": "Течь",
        "parts": [{"part": pump.pk, "quantity": "1"}],
    }
    response = api.post("/api/warranty-claims/", body, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["quarantined_part"]["status"] == "quarantined"
    assert api_as(fmc).post(f"/api/warranty-claims/{pk}/submit/").status_code == 403
    assert api.post(f"/api/warranty-claims/{pk}/submit/").json()["status"] == "auto_checked"
    assert api.post(f"/api/warranty-claims/{pk}/submit/").status_code == 409
    assert api_as(fmc).post(f"/api/warranty-claims/{pk}/fmc-confirm/").json()["status"] == "fmc_confirmed"
    cd = api_as(claims_dept)
    assert cd.post(f"/api/warranty-claims/{pk}/claims-confirm/", {}, format="json").status_code == 400
    response = cd.post(f"/api/warranty-claims/{pk}/claims-confirm/", {"part_instruction": "scrap"}, format="json")
    assert response.json()["status"] == "confirmed"
    response = cd.post(
        f"/api/warranty-claims/{pk}/record-payment/", {"amount": "22250.00", "reference": "ПП 1"}, format="json"
    )
    assert response.json()["status"] == WarrantyStatus.PAID
    # The FMC is an external user: no complaints, no customers.
    assert api_as(fmc).get("/api/complaints/").status_code == 403


def test_warranty_claim_api_failed_checks_are_listed(api_as, engineer, work_orders, warranty_vehicle, pump):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={pump: 1}, delivered=False)
    claim = draft_claim(engineer, wo, pump)
    response = api_as(engineer).post(f"/api/warranty-claims/{claim.pk}/submit/")
    assert response.status_code == 400
    assert any(wo.number in m for m in response.json()["checks"])
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.DRAFT


def test_fmc_of_other_dealerships_sees_no_claims(api_as, engineer, make_external, work_orders, warranty_vehicle, pump,
                                                 other_dealership):  # fmt: skip
    from claims.roles import FIELD_MANAGER

    claim = draft_claim(engineer, work_orders.add(vehicle=warranty_vehicle, parts={pump: 1}), pump)
    services.warranty_claim_submit(actor=engineer, claim=claim)
    outsider = api_as(make_external(FIELD_MANAGER, dealerships=[other_dealership]))
    assert outsider.get(f"/api/warranty-claims/{claim.pk}/").status_code == 404
    assert outsider.post(f"/api/warranty-claims/{claim.pk}/fmc-confirm/").status_code == 404


def test_goodwill_api_and_kpi_api(api_as, engineer, director, vehicle):
    api = api_as(engineer)
    response = api.post(
        "/api/goodwill-claims/",
        {"customer": vehicle.customer.pk, "vehicle": vehicle.pk, "description": "Жест доброй воли"},
        format="json",
    )
    assert response.status_code == 201
    response = api.post(f"/api/goodwill-claims/{response.json()['id']}/submit/")
    assert response.status_code == 400 and "fmc_terms" in response.json()
    kpi = api_as(director).get("/api/claims-kpi/")
    assert kpi.status_code == 200 and kpi.json()["turnaround"]["submitted"] == 0
    assert api_as(engineer).get("/api/claims-kpi/").status_code == 200


def test_kpi_api_is_for_directors_and_engineers_only(api_as, advisor):
    assert api_as(advisor).get("/api/claims-kpi/").status_code == 403
