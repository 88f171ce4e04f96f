"""The claims app's window on work orders (owned by the service app, which sits below claims).

Claims need a few facts about a work order: its number, customer and vehicle, whether it was delivered, its jobs,
the parts issued to it (from the parts warehouse's ledger) and the mileage read at each visit. The rest of this app
asks these functions, which read service's selectors and models by plain imports.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, QuerySet, Sum
from django.db.models.functions import Coalesce

from dms.core.inputs import parse_id
from dms.core.selectors import PICKER_LIMIT
from parts import selectors as parts_selectors
from service import selectors as service_selectors
from service.models import WorkOrder, WorkOrderJob, WorkOrderStatus


@dataclass(frozen=True)
class JobInfo:
    id: int
    description: str
    labour_hours: Decimal = Decimal("0")
    labour_rate: Decimal = Decimal("0")


@dataclass(frozen=True)
class WorkOrderInfo:
    id: int
    dealership_id: int
    number: str
    customer_id: int
    vehicle_id: int
    status: str
    delivered: bool
    mileage: int | None = None
    opened_at: datetime.datetime | None = None
    delivered_at: datetime.datetime | None = None
    jobs: tuple[JobInfo, ...] = ()
    # part id → quantity the warehouse issued to the work order against its requisitions, net of returns (R32; the
    # ledger, issue 15 item 3).
    parts_issued: dict[int, Decimal] = field(default_factory=dict)

    def job(self, job_id: int) -> JobInfo | None:
        return next((job for job in self.jobs if job.id == job_id), None)

    def __str__(self) -> str:
        return self.number


@dataclass(frozen=True)
class MileageReading:
    work_order_id: int
    work_order_number: str
    at: datetime.datetime
    mileage: int


def _info(wo: WorkOrder) -> WorkOrderInfo:
    # Issue 15 item 3 (R22): what was issued is what the warehouse ledger says left stock for this work order
    # against its requisitions (net of returns) — not the work order's planned part lines, which a part never in
    # stock, never requisitioned and never issued would pass.
    issued = parts_selectors.parts_issued_to_work_order(dealership_id=wo.dealership_id, work_order_id=wo.pk)
    return WorkOrderInfo(
        id=wo.pk,
        dealership_id=wo.dealership_id,
        number=str(wo),
        customer_id=wo.customer_id,
        vehicle_id=wo.vehicle_id,
        status=wo.status,
        delivered=wo.status == WorkOrderStatus.DELIVERED,
        mileage=wo.mileage_in,
        opened_at=wo.created_at,
        delivered_at=wo.delivered_at,
        # Only the jobs the customer agreed to (or that need no consent) can be claimed.
        jobs=tuple(
            JobInfo(id=job.pk, description=job.description, labour_hours=job.standard_hours, labour_rate=job.rate)
            for job in wo.doable_jobs()
        ),
        parts_issued=issued,
    )


def work_order_for_claim(*, dealership_id: int, work_order_id: int | None) -> WorkOrderInfo | None:
    work_order_id = parse_id(work_order_id)  # the one id parser (issue 12 item 5)
    if work_order_id is None:
        return None
    wo = (
        service_selectors.workorder_list(dealership_ids=[dealership_id])
        .filter(pk=work_order_id)
        .prefetch_related("jobs")
        .first()
    )
    return _info(wo) if wo else None


def work_orders_for_dealership(*, dealership_id: int, search: str = "", limit: int = 50) -> list[WorkOrderInfo]:
    qs = service_selectors.workorder_list(dealership_ids=[dealership_id], search=search)
    return [_info(wo) for wo in qs.prefetch_related("jobs").order_by("-created_at")[:limit]]


def last_delivered_id(*, vehicle) -> int | None:
    """The vehicle's most recent delivered work order: what a warranty claim from the vehicle's card starts from."""
    qs = service_selectors.workorder_list(dealership_ids=[vehicle.dealership_id]).filter(
        vehicle_id=vehicle.pk, status=WorkOrderStatus.DELIVERED
    )
    return qs.order_by("-created_at", "-pk").values_list("pk", flat=True).first()


def is_delivered(work_order: WorkOrderInfo) -> bool:
    return work_order.delivered


def parts_issued_to(work_order: WorkOrderInfo) -> dict[int, Decimal]:
    return dict(work_order.parts_issued)


def mileage_history(*, vehicle_id: int) -> list[MileageReading]:
    rows = (
        WorkOrder.objects.filter(vehicle_id=vehicle_id, mileage_in__isnull=False)
        .order_by("created_at", "pk")
        .values_list("pk", "number", "created_at", "mileage_in")
    )
    readings = [MileageReading(pk, number or f"#{pk}", at, mileage) for pk, number, at, mileage in rows]
    return sorted(readings, key=lambda r: (r.at, r.work_order_id))


HOURS = DecimalField(max_digits=12, decimal_places=2)


def delivered_work_orders(*, dealership, start: datetime.datetime, end: datetime.datetime):
    """Issue 18 item 6 (seed 004 repair volume): per advisor, the work orders delivered in [start, end) and their
    sold labour hours (jobs done: in the original order or agreed by the customer, R30) — (advisor id, orders,
    hours) tuples."""
    delivered = WorkOrder.objects.filter(
        dealership=dealership, status=WorkOrderStatus.DELIVERED, delivered_at__gte=start, delivered_at__lt=end
    )
    counts = dict(delivered.values("advisor_id").annotate(n=Count("id")).order_by().values_list("advisor_id", "n"))
    hours = dict(
        WorkOrderJob.objects.filter(work_order__in=delivered, consent__in=WorkOrderJob.DOABLE)
        .values("work_order__advisor_id")
        .annotate(h=Coalesce(Sum("standard_hours"), Decimal("0"), output_field=HOURS))
        .order_by()
        .values_list("work_order__advisor_id", "h")
    )
    return [(advisor_id, n, Decimal(hours.get(advisor_id) or 0)) for advisor_id, n in counts.items()]


def finished_jobs(*, dealership, start: datetime.datetime, end: datetime.datetime):
    """Issue 18 item 6 (seed 004 repair volume of the technicians who do the repairs): per technician, the jobs they
    finished in [start, end) (``done_at``, the job assigned to them) and those jobs' sold (standard) hours —
    (technician id, jobs, hours) tuples."""
    rows = (
        WorkOrderJob.objects.filter(
            work_order__dealership=dealership, technician__isnull=False, done_at__gte=start, done_at__lt=end
        )
        .values("technician_id")
        .annotate(n=Count("id"), h=Coalesce(Sum("standard_hours"), Decimal("0"), output_field=HOURS))
        .order_by()
    )
    return [(r["technician_id"], r["n"], Decimal(r["h"])) for r in rows]


def claimable_work_orders(*, dealership_id: int) -> QuerySet[WorkOrder]:
    """The work orders a warranty claim may name: every one of the dealership's, delivered or not (the claim form's
    work order field validates against them; its picker searches them, the page never lists them all)."""
    return WorkOrder.objects.filter(dealership_id=dealership_id)


def work_order_search(*, dealership_id: int, query: str, limit: int = PICKER_LIMIT) -> list[WorkOrder]:
    """The warranty claim form's work order picker: by number, customer name, VIN or plate (service's work order
    list search), newest first, at most ``limit`` from one query."""
    qs = service_selectors.workorder_list(dealership_ids=[dealership_id], search=query)
    return list(qs.order_by("-created_at", "-id")[:limit])


def work_order_label(wo: WorkOrder) -> str:
    """How the claim form names a work order: its number, a star while the car has not been delivered."""
    return f"{wo}{'' if wo.status == WorkOrderStatus.DELIVERED else ' *'}"
