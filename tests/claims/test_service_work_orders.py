"""claims.workorders reads the service app's real work orders (no fake backend here)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from claims import selectors, services, workorders
from claims.models import WarrantyStatus
from parts import services as parts_services
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


def _issue_through_a_requisition(wo, job, part, *, requester, supervisor, storekeeper, quantity=1):
    """R32: the warehouse issues ``part`` to the job against an approved requisition (a ledger row)."""
    parts_services.stock_receive(
        actor=storekeeper, dealership=wo.dealership, part=part, quantity=quantity, unit_cost=100, reference="ПН-1"
    )
    requisition = parts_services.requisition_create(
        actor=requester,
        dealership=wo.dealership,
        work_order_id=wo.pk,
        job_id=job.pk,
        lines=[{"part": part, "quantity": quantity}],
    )
    parts_services.requisition_approve(actor=supervisor, requisition=requisition)
    return parts_services.requisition_issue(actor=storekeeper, requisition=requisition)


@pytest.fixture
def issued_work_order(delivered_work_order, pump, advisor, parts_manager, storekeeper):
    wo, job = delivered_work_order
    _issue_through_a_requisition(wo, job, pump, requester=advisor, supervisor=parts_manager, storekeeper=storekeeper)
    return wo, job


def test_adapter_reads_the_service_work_order(issued_work_order, dealership, pump):
    wo, job = issued_work_order
    info = workorders.work_order_for_claim(dealership_id=dealership.pk, work_order_id=wo.pk)
    assert (info.number, info.delivered, info.mileage) == ("ЗН-42", True, 30500)
    assert [j.id for j in info.jobs] == [job.pk]  # the declined job is not claimable
    assert workorders.parts_issued_to(info) == {pump.pk: Decimal("1.00")}
    assert workorders.work_order_for_claim(dealership_id=dealership.pk + 999, work_order_id=wo.pk) is None
    assert [r.mileage for r in workorders.mileage_history(vehicle_id=wo.vehicle_id)] == [30500]


def test_claim_from_a_real_delivered_work_order_passes_the_checks(issued_work_order, engineer, pump):
    wo, job = issued_work_order
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


def _parts_check(claim):
    return next(result for result in selectors.run_automatic_checks(claim) if result.code == "parts_issued")


def test_parts_check_reads_the_warehouse_ledger_not_the_planned_lines(
    delivered_work_order, engineer, pump, advisor, parts_manager, storekeeper
):
    """Issue 15 item 3 (R22): a part only planned on the work order (never in stock, never requisitioned, never
    issued) fails the check; once the warehouse issues it against a requisition of that work order, it passes."""
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
    failed = _parts_check(claim)
    assert not failed.passed and "44310-02190" in failed.message and "issued 0" in failed.message
    assert workorders.parts_issued_to(workorders.work_order_for_claim(dealership_id=wo.dealership_id,
                                                                      work_order_id=wo.pk)) == {}  # fmt: skip
    # Issued to another work order: still not this one's.
    other = WorkOrder.objects.create(
        dealership=wo.dealership, number="ЗН-43", customer=wo.customer, vehicle=wo.vehicle, advisor=advisor
    )
    other_job = WorkOrderJob.objects.create(work_order=other, description="x", standard_hours=1, rate=1)
    _issue_through_a_requisition(
        other, other_job, pump, requester=advisor, supervisor=parts_manager, storekeeper=storekeeper
    )
    assert not _parts_check(claim).passed
    _issue_through_a_requisition(wo, job, pump, requester=advisor, supervisor=parts_manager, storekeeper=storekeeper)
    passed = _parts_check(claim)
    assert passed.passed, passed.message


def test_parts_check_counts_the_claimed_quantity(delivered_work_order, engineer, pump, advisor, parts_manager,
                                                 storekeeper):  # fmt: skip
    wo, job = delivered_work_order
    _issue_through_a_requisition(wo, job, pump, requester=advisor, supervisor=parts_manager, storekeeper=storekeeper)
    claim = services.warranty_claim_create(
        actor=engineer,
        dealership=wo.dealership,
        work_order_id=wo.pk,
        job_id=job.pk,
        failure_date=timezone.localdate() - datetime.timedelta(days=1),
        failure_code="C1532",
        causal_part=pump,
        description="Течь",
        parts=[{"part": pump, "quantity": 2}],
    )
    failed = _parts_check(claim)
    assert not failed.passed and "claimed 2, issued 1" in failed.message
