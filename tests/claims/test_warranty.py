"""R22 warranty claims: draft → submitted → automatic check → FMC → claims department → paid; returns and
rejections with a reason; TAC authorisation; odometer-rollback evidence; quarantine of the failed part."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from claims import services
from claims.models import QuarantinedPart, QuarantineStatus, WarrantyClaim, WarrantyStatus
from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry

from .helpers import draft_claim, pdf, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def wo(work_orders, warranty_vehicle, pump):
    return work_orders.add(vehicle=warranty_vehicle, mileage=25000, parts={pump: 1})


def test_r22_claim_walks_from_draft_to_paid_through_three_roles(engineer, fmc, claims_dept, wo, pump):
    claim = draft_claim(engineer, wo, pump)
    assert claim.number == "ГА-000001" and claim.status == WarrantyStatus.DRAFT
    assert claim.mileage == 25000  # taken from the work order
    assert claim.total == Decimal("18500") + Decimal("1.5") * Decimal("2500")
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    assert claim.status == WarrantyStatus.AUTO_CHECKED
    assert all(r["passed"] for r in claim.check_results) and len(claim.check_results) == 6
    claim = services.warranty_claim_fmc_confirm(actor=fmc, claim=claim)
    assert claim.status == WarrantyStatus.FMC_CONFIRMED and claim.fmc_confirmed_by == fmc
    claim = services.warranty_claim_claims_confirm(actor=claims_dept, claim=claim, part_instruction="return")
    assert claim.status == WarrantyStatus.CONFIRMED and claim.approved_amount == claim.total
    claim = services.warranty_claim_record_payment(
        actor=claims_dept, claim=claim, amount="22250.00", reference="ПП 4711"
    )
    assert claim.status == WarrantyStatus.PAID and claim.paid_amount == Decimal("22250.00")
    statuses = [
        e.changes["status"] for e in AuditEntry.objects.filter(object_id=claim.pk, action="transition").order_by("id")
    ]
    assert statuses == [
        ["draft", "submitted"],
        ["submitted", "auto_checked"],
        ["auto_checked", "fmc_confirmed"],
        ["fmc_confirmed", "confirmed"],
        ["confirmed", "paid"],
    ]


def test_r22_only_the_steps_own_role_moves_the_claim(engineer, fmc, claims_dept, advisor, wo, pump):
    claim = draft_claim(engineer, wo, pump)
    with pytest.raises(PermissionDenied):
        services.warranty_claim_submit(actor=advisor, claim=claim)
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    with pytest.raises(PermissionDenied):
        services.warranty_claim_fmc_confirm(actor=engineer, claim=claim)
    with pytest.raises(PermissionDenied):
        services.warranty_claim_return(actor=claims_dept, claim=claim, reason="нет")
    with pytest.raises(ConflictError):
        services.warranty_claim_claims_confirm(actor=claims_dept, claim=claim, part_instruction="scrap")
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.AUTO_CHECKED


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("expired", "outside the warranty"),
        ("mileage_limit", "exceeds the warranty limit"),
        ("not_delivered", "has not been delivered"),
        ("part_not_issued", "Parts not issued"),
        ("rollback", "mileage decreased"),
    ],
)
def test_r22_failed_automatic_checks_are_listed_and_nothing_changes(
    setup, expected, engineer, work_orders, warranty_vehicle, pump, gearbox
):
    vehicle = warranty_vehicle
    kwargs = {"mileage": 25000, "parts": {pump: 1}}
    if setup == "expired":
        vehicle.warranty_end = timezone.localdate() - datetime.timedelta(days=30)
        vehicle.save()
    elif setup == "mileage_limit":
        kwargs["mileage"] = 150000
    elif setup == "not_delivered":
        kwargs["delivered"] = False
    elif setup == "part_not_issued":
        kwargs["parts"] = {gearbox: 1}
    elif setup == "rollback":
        work_orders.add(vehicle=vehicle, mileage=40000, opened_at=timezone.now() - datetime.timedelta(days=200))
    wo = work_orders.add(vehicle=vehicle, **kwargs)
    claim = draft_claim(engineer, wo, pump)
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_submit(actor=engineer, claim=claim)
    assert any(expected in message for message in error.value.message_dict["checks"])
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.DRAFT and claim.submitted_at is None and claim.check_results == []
    assert not AuditEntry.objects.filter(object_id=claim.pk, action="transition").exists()


def test_r22_no_duplicate_claim_for_the_same_job(engineer, wo, pump):
    draft_claim(engineer, wo, pump)
    with pytest.raises(ValidationError) as error:
        draft_claim(engineer, wo, pump)
    assert "ГА-000001" in error.value.message_dict["job_id"][0]
    assert WarrantyClaim.objects.count() == 1


def test_r22_a_rejected_claim_frees_the_job_for_a_new_claim(engineer, fmc, wo, pump):
    claim = services.warranty_claim_submit(actor=engineer, claim=draft_claim(engineer, wo, pump))
    services.warranty_claim_reject(actor=fmc, claim=claim, reason="Не гарантийный случай", part_instruction="scrap")
    second = draft_claim(engineer, wo, pump)
    assert second.number == "ГА-000002"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r22_concurrent_claims_for_one_job_only_one_wins(make_user, work_orders, dealership):
    from dms.core import roles
    from parts.models import Part
    from tests.factories import VehicleFactory

    engineer = make_user(roles.WARRANTY_ENGINEER)
    vehicle = VehicleFactory(customer__dealership=dealership)
    part = Part.objects.create(dealership=dealership, number="P-1", name="Насос", price=Decimal("100"))
    wo = work_orders.add(vehicle=vehicle, parts={part: 1})
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            draft_claim(engineer, wo, part)
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1
    assert WarrantyClaim.objects.filter(work_order_id=wo.id).count() == 1


def test_r22_special_or_assembly_part_needs_tac_before_submission(engineer, work_orders, warranty_vehicle, gearbox):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={gearbox: 1})
    claim = draft_claim(engineer, wo, gearbox, is_special=True)
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_submit(actor=engineer, claim=claim)
    assert "tac_authorisation" in error.value.message_dict
    claim.refresh_from_db()
    assert claim.status == WarrantyStatus.DRAFT
    services.warranty_claim_update(
        actor=engineer, claim=claim, data={"tac_authorisation": "TAC-2024-0117", "tac_authorised_by": "Ли Сян"}
    )
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    assert claim.status == WarrantyStatus.AUTO_CHECKED


def test_r22_special_part_kind_needs_tac_too(engineer, wo, pump):
    claim = draft_claim(engineer, wo, pump, kind="special_part")
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_submit(actor=engineer, claim=claim)
    assert "tac_authorisation" in error.value.message_dict


def test_r22_odometer_rollback_needs_explanation_photos_and_signed_fmc_scan(
    engineer, work_orders, warranty_vehicle, pump
):
    work_orders.add(vehicle=warranty_vehicle, mileage=60000, opened_at=timezone.now() - datetime.timedelta(days=300))
    wo = work_orders.add(vehicle=warranty_vehicle, mileage=12000, parts={pump: 1})
    claim = draft_claim(engineer, wo, pump, kind="odometer_rollback")
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_submit(actor=engineer, claim=claim)
    assert set(error.value.message_dict) == {"odometer_explanation", "photos", "fmc_signed_confirmation"}
    services.warranty_claim_update(
        actor=engineer, claim=claim, data={"odometer_explanation": "Замена щитка приборов у третьих лиц"}
    )
    services.attachment_add(actor=engineer, owner=claim, kind="photo", file=png())
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_submit(actor=engineer, claim=claim)
    assert list(error.value.message_dict) == ["fmc_signed_confirmation"]
    services.attachment_add(actor=engineer, owner=claim, kind="fmc_signed", file=pdf())
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    assert claim.status == WarrantyStatus.AUTO_CHECKED
    mileage = next(r for r in claim.check_results if r["code"] == "mileage")
    assert mileage["passed"] and "60000" in mileage["message"]


def test_r22_returned_claim_is_corrected_and_resubmitted(engineer, fmc, claims_dept, wo, pump):
    claim = services.warranty_claim_submit(actor=engineer, claim=draft_claim(engineer, wo, pump))
    claim = services.warranty_claim_fmc_confirm(actor=fmc, claim=claim)
    with pytest.raises(ValidationError):
        services.warranty_claim_return(actor=claims_dept, claim=claim, reason="  ")
    claim = services.warranty_claim_return(actor=claims_dept, claim=claim, reason="Уточните код неисправности")
    assert claim.status == WarrantyStatus.RETURNED and claim.return_count == 1
    assert claim.decision_reason == "Уточните код неисправности"
    claim = services.warranty_claim_update(actor=engineer, claim=claim, data={"failure_code": "C1234"})
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    assert claim.status == WarrantyStatus.AUTO_CHECKED and claim.decision_reason == ""
    with pytest.raises(ConflictError):
        services.warranty_claim_update(actor=engineer, claim=claim, data={"failure_code": "X"})


def test_r22_failed_part_stays_in_quarantine_until_decided_then_follows_instruction(
    engineer, fmc, claims_dept, storekeeper, wo, pump
):
    claim = draft_claim(engineer, wo, pump, quarantine_location="Стеллаж К-1")
    held = QuarantinedPart.objects.get(claim=claim)
    assert (held.part_number, held.serial_number, held.location) == ("44310-02190", "SN-OLD-1", "Стеллаж К-1")
    assert held.status == QuarantineStatus.QUARANTINED
    with pytest.raises(ConflictError, match="quarantine"):
        services.quarantined_part_dispose(actor=storekeeper, part=held, action="scrap")
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    claim = services.warranty_claim_fmc_confirm(actor=fmc, claim=claim)
    services.warranty_claim_claims_confirm(actor=claims_dept, claim=claim, part_instruction="return")
    with pytest.raises(ValidationError) as error:
        services.quarantined_part_dispose(actor=storekeeper, part=held, action="scrap")
    assert "action" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.quarantined_part_dispose(actor=storekeeper, part=held, action="return")
    held = services.quarantined_part_dispose(actor=storekeeper, part=held, action="return", reference="ТТН 555")
    assert held.status == QuarantineStatus.RETURNED and held.disposed_by == storekeeper
    with pytest.raises(ConflictError):
        services.quarantined_part_dispose(actor=storekeeper, part=held, action="return", reference="ТТН 556")


def test_r22_rejection_needs_reason_and_part_instruction(engineer, fmc, wo, pump):
    claim = services.warranty_claim_submit(actor=engineer, claim=draft_claim(engineer, wo, pump))
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_reject(actor=fmc, claim=claim, reason="", part_instruction="")
    assert set(error.value.message_dict) == {"reason", "part_instruction"}
    claim = services.warranty_claim_reject(
        actor=fmc, claim=claim, reason="Внешнее воздействие", part_instruction="scrap"
    )
    assert claim.status == WarrantyStatus.REJECTED and claim.is_decided


def test_r22_claim_needs_a_known_work_order_and_job(engineer, work_orders, pump, dealership, other_dealership):
    from tests.factories import VehicleFactory

    foreign = work_orders.add(vehicle=VehicleFactory(customer__dealership=other_dealership))
    with pytest.raises(ValidationError) as error:
        services.warranty_claim_create(
            actor=engineer, dealership=dealership, work_order_id=foreign.id, job_id=foreign.jobs[0].id,
            failure_date=timezone.localdate(), failure_code="X", causal_part=pump, description="d",
        )  # fmt: skip
    assert "work_order_id" in error.value.message_dict
    assert WarrantyClaim.objects.count() == 0
