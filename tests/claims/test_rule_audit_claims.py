"""Rule audit (R22, R23, R24, R33): the rules read literally, checked at every entry point (services, API, pages,
beat job), with dates in the dealership's time zone."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from claims import kpi, services
from claims.models import Complaint, ComplaintNotification, GoodwillStatus, WarrantyStatus
from dms.core import roles

from .helpers import draft_claim, pdf, png

pytestmark = pytest.mark.django_db

VLADIVOSTOK = "Asia/Vladivostok"  # UTC+10: its day starts while UTC is still on the day before


@pytest.fixture
def contacts(dealership):
    return services.claims_settings_update(
        actor=None, dealership=dealership, data={"fmc_email": "fmc@tmr.example", "tac_email": "tac@tmr.example"}
    )


@pytest.fixture
def far_east(dealership):
    dealership.time_zone = VLADIVOSTOK
    dealership.save()
    return dealership


# R24 ------------------------------------------------------------------------------------------------------------------


def test_r24_emergency_complaint_created_over_the_api_is_reported_at_once(
    api_as, advisor, vehicle, contacts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = api_as(advisor).post(
            "/api/complaints/",
            {
                "channel": "phone",
                "customer": vehicle.customer.pk,
                "vehicle": vehicle.pk,
                "description": "Возгорание в моторном отсеке",
                "severity": "emergency",
                "emergency_kind": "vehicle_fire",
            },
            format="json",
        )
    assert r.status_code == 201, r.json()
    assert r.json()["contacts_notified_at"]
    sent = ComplaintNotification.objects.filter(complaint_id=r.json()["id"])
    assert sorted(sent.values_list("recipient", flat=True)) == ["fmc", "tac"]
    assert sorted(m.to[0] for m in mail.outbox) == ["fmc@tmr.example", "tac@tmr.example"]


def test_r24_upgrade_to_emergency_over_the_api_is_reported_once(
    api_as, advisor, vehicle, contacts, django_capture_on_commit_callbacks
):
    complaint = services.complaint_register(
        actor=advisor, dealership=vehicle.dealership, channel="phone", description="Дым из-под капота", vehicle=vehicle
    )
    api = api_as(advisor)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.patch(
            f"/api/complaints/{complaint.pk}/",
            {"severity": "emergency", "emergency_kind": "vehicle_fire"},
            format="json",
        )
        assert r.status_code == 200, r.json()
        api.patch(f"/api/complaints/{complaint.pk}/", {"description": "Возгорание"}, format="json")
    assert ComplaintNotification.objects.filter(complaint=complaint).count() == 2
    assert len(mail.outbox) == 2


def test_r24_emergency_needs_its_kind_and_media_needs_every_detail_over_the_api(api_as, advisor, vehicle):
    api = api_as(advisor)
    base = {"channel": "phone", "customer": vehicle.customer.pk, "description": "ДТП"}
    r = api.post("/api/complaints/", {**base, "severity": "emergency"}, format="json")
    assert r.status_code == 400 and "emergency_kind" in r.json()
    r = api.post("/api/complaints/", {**base, "involves_media": True, "media_outlet": "НТВ"}, format="json")
    assert r.status_code == 400
    assert {"media_programme", "journalist", "journalist_contact"} <= set(r.json())
    assert not Complaint.objects.exists()


# R33: the dealership's day -----------------------------------------------------------------------------------------


def _complaint(actor, vehicle, **kwargs):
    return services.complaint_register(
        actor=actor, dealership=vehicle.dealership, channel="phone", description="Долгий ремонт", vehicle=vehicle,
        **kwargs,
    )  # fmt: skip


def test_r33_deadline_in_the_past_is_judged_by_the_dealerships_day(far_east, advisor, engineer, vehicle):
    # 20:00 UTC on 1 March is 06:00 on 2 March in Vladivostok: 1 March is already yesterday there.
    now = datetime.datetime(2026, 3, 1, 20, 0, tzinfo=datetime.UTC)
    complaint = _complaint(advisor, vehicle, now=now, received_at=now)
    with pytest.raises(ValidationError) as error:
        services.complaint_assign(
            actor=engineer,
            complaint=complaint,
            category="service_attitude",
            department="service",
            assignee=advisor,
            deadline=datetime.date(2026, 3, 1),
            now=now,
        )
    assert "deadline" in error.value.message_dict


def test_r33_overdue_flag_and_kpi_follow_the_dealerships_day(far_east, advisor, engineer, director, vehicle):
    received = datetime.datetime(2026, 3, 1, 1, 0, tzinfo=datetime.UTC)  # 11:00 on 1 March local
    complaint = _complaint(advisor, vehicle, now=received, received_at=received)
    services.complaint_assign(
        actor=engineer,
        complaint=complaint,
        category="service_attitude",
        department="service",
        assignee=advisor,
        deadline=datetime.date(2026, 3, 3),
        now=received,
    )
    # 15:00 UTC on 3 March = 01:00 on 4 March local: the deadline has passed there.
    late = datetime.datetime(2026, 3, 3, 15, 0, tzinfo=datetime.UTC)
    assert services.complaints_flag_overdue(now=late) == 1
    complaint.refresh_from_db()
    assert complaint.overdue_flagged_at == late
    period = kpi.Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 1))
    row = kpi.complaint_timeliness(dealership=far_east, period=period, now=late)["employees"][0]
    assert row["total"] == 1 and row["open_overdue"] == 1


def test_r33_closing_on_the_deadline_day_local_is_on_time(far_east, advisor, engineer, vehicle):
    # received at 23:30 local on 31 March (13:30 UTC): it belongs to March in the dealership's report
    received = datetime.datetime(2026, 3, 31, 13, 30, tzinfo=datetime.UTC)
    complaint = _complaint(advisor, vehicle, now=received, received_at=received)
    services.complaint_assign(
        actor=engineer, complaint=complaint, category="service_attitude", department="service", assignee=advisor,
        deadline=datetime.date(2026, 4, 2), now=received,
    )  # fmt: skip
    services.complaint_start_investigation(actor=advisor, complaint=complaint)
    services.complaint_agree_solution(actor=advisor, complaint=complaint, solution="Скидка", cause="Очередь")
    services.complaint_add_note(actor=advisor, complaint=complaint, kind="follow_up", text="Доволен")
    # 14:30 UTC on 2 April = 00:30 on 3 April local: one day late there, although still 2 April in UTC.
    closed = datetime.datetime(2026, 4, 2, 14, 30, tzinfo=datetime.UTC)
    services.complaint_close(actor=engineer, complaint=complaint, closing_report="Итог", satisfaction=5, now=closed)
    march = kpi.Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    row = kpi.complaint_timeliness(dealership=far_east, period=march, now=closed)["employees"][0]
    assert row["total"] == 1 and row["late"] == 1 and row["on_time"] == 0


# R22 ------------------------------------------------------------------------------------------------------------------


def test_r22_special_part_needs_the_tac_authorisation_over_the_api(
    api_as, engineer, work_orders, warranty_vehicle, gearbox
):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={gearbox: 1})
    api = api_as(engineer)
    body = {
        "work_order_id": wo.id,
        "job_id": wo.jobs[0].id,
        "kind": "regular",
        "failure_date": timezone.localdate().isoformat(),
        "failure_code": "P0700",
        "causal_part": gearbox.pk,
        "description": "Пинки КПП",
        "parts": [{"part": gearbox.pk, "quantity": "1", "is_special": True}],
    }
    r = api.post("/api/warranty-claims/", body, format="json")
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    r = api.post(f"/api/warranty-claims/{pk}/submit/")
    assert r.status_code == 400 and "tac_authorisation" in r.json()
    assert api.patch(f"/api/warranty-claims/{pk}/", {"tac_authorisation": "TAC-1"}, format="json").status_code == 200
    assert api.post(f"/api/warranty-claims/{pk}/submit/").json()["status"] == WarrantyStatus.AUTO_CHECKED


def test_r22_odometer_rollback_needs_explanation_photos_and_fmc_signature_over_the_api(
    api_as, engineer, work_orders, warranty_vehicle, pump
):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={pump: 1})
    claim = draft_claim(engineer, wo, pump, kind="odometer_rollback")
    api = api_as(engineer)
    r = api.post(f"/api/warranty-claims/{claim.pk}/submit/")
    assert r.status_code == 400
    assert {"odometer_explanation", "photos", "fmc_signed_confirmation"} <= set(r.json())
    api.patch(f"/api/warranty-claims/{claim.pk}/", {"odometer_explanation": "Замена щитка"}, format="json")
    api.post(f"/api/warranty-claims/{claim.pk}/attachments/", {"kind": "photo", "file": png()}, format="multipart")
    assert api.post(f"/api/warranty-claims/{claim.pk}/submit/").status_code == 400
    api.post(f"/api/warranty-claims/{claim.pk}/attachments/", {"kind": "fmc_signed", "file": pdf()}, format="multipart")
    assert api.post(f"/api/warranty-claims/{claim.pk}/submit/").json()["status"] == WarrantyStatus.AUTO_CHECKED


def test_r22_steps_in_order_fmc_before_claims_department(api_as, engineer, fmc, claims_dept, work_orders,
                                                        warranty_vehicle, pump):  # fmt: skip
    claim = draft_claim(engineer, work_orders.add(vehicle=warranty_vehicle, parts={pump: 1}), pump)
    cd = api_as(claims_dept)
    assert cd.post(f"/api/warranty-claims/{claim.pk}/claims-confirm/", {"part_instruction": "scrap"}).status_code == 409
    assert api_as(fmc).post(f"/api/warranty-claims/{claim.pk}/fmc-confirm/").status_code == 409
    services.warranty_claim_submit(actor=engineer, claim=claim)
    assert cd.post(f"/api/warranty-claims/{claim.pk}/claims-confirm/", {"part_instruction": "scrap"}).status_code == 409
    assert api_as(engineer).post(f"/api/warranty-claims/{claim.pk}/fmc-confirm/").status_code == 403


# R23 ------------------------------------------------------------------------------------------------------------------


def test_r23_goodwill_steps_in_order_over_the_api(api_as, engineer, fmc, cac, vehicle):
    api = api_as(engineer)
    r = api.post(
        "/api/goodwill-claims/",
        {
            "customer": vehicle.customer.pk,
            "vehicle": vehicle.pk,
            "description": "Жест доброй воли",
            "fmc_terms": "50% работ",
            "fmc_max_amount": "10000",
            "agreement_signed_on": timezone.localdate().isoformat(),
            "work_order_number": "ЗН-1",
            "requested_amount": "12000",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    r = api.post(f"/api/goodwill-claims/{pk}/submit/")
    assert r.status_code == 400 and {"attachments", "requested_amount"} <= set(r.json())
    api.patch(f"/api/goodwill-claims/{pk}/", {"requested_amount": "9000"}, format="json")
    api.post(f"/api/goodwill-claims/{pk}/attachments/", {"kind": "agreement", "file": pdf()}, format="multipart")
    assert api.post(f"/api/goodwill-claims/{pk}/submit/").json()["status"] == GoodwillStatus.SUBMITTED
    assert api_as(cac).post(f"/api/goodwill-claims/{pk}/cac-confirm/").status_code == 409
    assert api_as(fmc).post(f"/api/goodwill-claims/{pk}/fmc-confirm/").json()["status"] == "fmc_confirmed"
    pay = {"amount": "9000", "reference": "ПП 7"}
    assert api_as(cac).post(f"/api/goodwill-claims/{pk}/record-payment/", pay, format="json").status_code in (403, 409)
    assert api_as(cac).post(f"/api/goodwill-claims/{pk}/cac-confirm/").json()["status"] == "cac_confirmed"


def test_r23_goodwill_agreement_is_not_signed_in_the_future(engineer, vehicle):
    claim = services.goodwill_claim_create(
        actor=engineer, dealership=vehicle.dealership, customer=vehicle.customer, vehicle=vehicle, description="x"
    )
    tomorrow = timezone.localdate() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError) as error:
        services.goodwill_claim_update(actor=engineer, claim=claim, data={"agreement_signed_on": tomorrow})
    assert "agreement_signed_on" in error.value.message_dict


def test_r33_complaint_assignee_must_work_in_the_dealership(api_as, engineer, vehicle, make_user, other_dealership):
    complaint = _complaint(engineer, vehicle)
    stranger = make_user(roles.SERVICE_ADVISOR, dealerships=[other_dealership])
    body = {
        "category": "service_attitude",
        "department": "service",
        "assignee": stranger.pk,
        "deadline": (timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
    }
    assert api_as(engineer).post(f"/api/complaints/{complaint.pk}/assign/", body, format="json").status_code == 400


def test_r33_public_complaint_api_bad_phone_is_a_400(api_client, dealership):
    r = api_client.post(
        "/api/public/complaints/",
        {"dealership": dealership.code, "name": "Иван", "phone": "не телефон", "description": "Долго"},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert not Complaint.objects.exists()
