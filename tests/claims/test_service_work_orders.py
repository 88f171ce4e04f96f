"""claims.workorders reads the service app's real work orders (no fake backend here)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from claims import services, workorders
from claims.models import WarrantyStatus
from service.models import WorkOrder, WorkOrderJob, WorkOrderPart

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_work_order(warranty_vehicle, advisor, pump):
    wo = WorkOrder.objects.create(
        dealership=warranty_vehicle.dealership,
        number="ЗН-42",
        customer=warranty_vehicle.customer,
        vehicle=warranty_vehicle,
        advisor=advisor,
        status="delivered",
        mileage_in=30500,
        delivered_at=timezone.now(),
    )
    job = WorkOrderJob.objects.create(
        work_order=wo, description="Замена насоса ГУР", standard_hours=Decimal("1.2"), rate=Decimal("2500")
    )
    WorkOrderJob.objects.create(
        work_order=wo, description="Мойка", standard_hours=1, rate=1, consent=WorkOrderJob.Consent.DECLINED
    )
    WorkOrderPart.objects.create(job=job, part=pump, quantity=1, price=pump.price)
    return wo, job


def test_adapter_reads_the_service_work_order(delivered_work_order, dealership, pump):
    wo, job = delivered_work_order
    info = workorders.work_order_for_claim(dealership_id=dealership.pk, work_order_id=wo.pk)
    assert (info.number, info.delivered, info.mileage) == ("ЗН-42", True, 30500)
    assert [j.id for j in info.jobs] == [job.pk]  # the declined job is not claimable
    assert workorders.parts_issued_to(info) == {pump.pk: Decimal("1.00")}
    assert workorders.work_order_for_claim(dealership_id=dealership.pk + 999, work_order_id=wo.pk) is None
    assert [r.mileage for r in workorders.mileage_history(vehicle_id=wo.vehicle_id)] == [30500]


def test_claim_from_a_real_delivered_work_order_passes_the_checks(delivered_work_order, engineer, pump):
    wo, job = delivered_work_order
    claim = services.warranty_claim_create(
        actor=engineer,
        dealership=wo.dealership,
        work_order_id=wo.pk,
        job_id=job.pk,
        failure_date=timezone.localdate() - datetime.timedelta(days=1),
        failure_code="C1532",
        causal_part=pump,
        description="Течь",
        parts=[{"part": pump, "quantity": 1}],
    )
    assert claim.mileage == 30500 and claim.labour_hours == Decimal("1.2")
    claim = services.warranty_claim_submit(actor=engineer, claim=claim)
    assert claim.status == WarrantyStatus.AUTO_CHECKED
