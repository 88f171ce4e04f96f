"""R23 goodwill claims: FMC terms → signed agreement → claim with work order and agreement/invoice → FMC → CAC →
payment to the dealership."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import services
from claims.models import GoodwillStatus
from dms.core.exceptions import ConflictError
from dms.core.models import AuditEntry

from .helpers import pdf

pytestmark = pytest.mark.django_db


def goodwill(engineer, for_vehicle, **kwargs):
    data = {
        "customer": for_vehicle.customer,
        "vehicle": for_vehicle,
        "description": "Повторный ремонт КПП после окончания гарантии",
        "work_order_number": "ЗН-777",
    }
    data.update(kwargs)
    return services.goodwill_claim_create(actor=engineer, dealership=for_vehicle.dealership, **data)


def ready(engineer, vehicle):
    claim = goodwill(
        engineer,
        vehicle,
        fmc_terms="50% запчастей за счёт производителя",
        fmc_max_amount=Decimal("60000"),
        agreement_signed_on=timezone.localdate() - datetime.timedelta(days=1),
        requested_amount=Decimal("55000"),
    )
    services.attachment_add(actor=engineer, owner=claim, kind="agreement", file=pdf("agreement.pdf"))
    return claim


def test_r23_goodwill_claim_walks_to_payment(engineer, fmc, cac, vehicle):
    claim = ready(engineer, vehicle)
    assert claim.number == "ГП-000001"
    claim = services.goodwill_claim_submit(actor=engineer, claim=claim)
    assert claim.status == GoodwillStatus.SUBMITTED
    claim = services.goodwill_claim_fmc_confirm(actor=fmc, claim=claim)
    with pytest.raises(PermissionDenied):
        services.goodwill_claim_record_payment(actor=fmc, claim=claim, amount="1", reference="x")
    claim = services.goodwill_claim_cac_confirm(actor=cac, claim=claim)
    assert claim.status == GoodwillStatus.CAC_CONFIRMED and claim.cac_confirmed_by == cac
    claim = services.goodwill_claim_record_payment(actor=engineer, claim=claim, amount="55000", reference="ПП 91")
    assert claim.status == GoodwillStatus.PAID and claim.paid_amount == Decimal("55000.00")
    assert AuditEntry.objects.filter(object_id=claim.pk, action="transition").count() == 4


def test_r23_submission_needs_terms_agreement_work_order_and_document(engineer, vehicle):
    claim = goodwill(engineer, vehicle, work_order_number="")
    with pytest.raises(ValidationError) as error:
        services.goodwill_claim_submit(actor=engineer, claim=claim)
    assert set(error.value.message_dict) == {
        "fmc_terms",
        "agreement_signed_on",
        "work_order_number",
        "attachments",
        "requested_amount",
    }
    claim.refresh_from_db()
    assert claim.status == GoodwillStatus.DRAFT


def test_r23_amount_claimed_within_the_fmc_terms(engineer, vehicle):
    claim = ready(engineer, vehicle)
    services.goodwill_claim_update(actor=engineer, claim=claim, data={"requested_amount": Decimal("70000")})
    with pytest.raises(ValidationError) as error:
        services.goodwill_claim_submit(actor=engineer, claim=claim)
    assert "requested_amount" in error.value.message_dict


def test_r23_cac_confirms_only_after_fmc_and_returns_go_back_to_the_engineer(engineer, fmc, cac, vehicle):
    claim = services.goodwill_claim_submit(actor=engineer, claim=ready(engineer, vehicle))
    with pytest.raises(ConflictError):
        services.goodwill_claim_cac_confirm(actor=cac, claim=claim)
    with pytest.raises(PermissionDenied):
        services.goodwill_claim_return(actor=cac, claim=claim, reason="нет")
    claim = services.goodwill_claim_return(actor=fmc, claim=claim, reason="Приложите счёт")
    assert claim.status == GoodwillStatus.RETURNED
    claim = services.goodwill_claim_submit(actor=engineer, claim=claim)
    claim = services.goodwill_claim_fmc_confirm(actor=fmc, claim=claim)
    claim = services.goodwill_claim_reject(actor=cac, claim=claim, reason="Клиент отказался")
    assert claim.status == GoodwillStatus.REJECTED
    with pytest.raises(ConflictError):
        services.goodwill_claim_update(actor=engineer, claim=claim, data={"description": "x"})


def test_r23_foreign_customer_or_vehicle_is_refused(engineer, vehicle, other_dealership):
    from tests.factories import VehicleFactory

    foreign = VehicleFactory(customer__dealership=other_dealership)
    with pytest.raises(ValidationError) as error:
        goodwill(engineer, vehicle, customer=foreign.customer, vehicle=foreign)
    assert {"customer", "vehicle"} <= set(error.value.message_dict)
