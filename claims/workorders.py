"""The claims app's window on work orders (owned by the service app).

Claims need a few facts about a work order: its number, customer and vehicle, whether it was delivered, its jobs,
the parts issued to it (from the parts warehouse's ledger) and the mileage read at each visit. Everything else in
this app asks these functions, never the service models directly, so that the service app can change its models
freely.

The backend is chosen at call time: the service app's ``WorkOrder`` model if it exists, otherwise an empty one (no
work orders known). Tests install a fake backend with ``use_backend(...)``.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.apps import apps

from dms.core.inputs import parse_id
from parts import selectors as parts_selectors


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


class Backend(Protocol):
    def get(self, *, dealership_id: int, work_order_id: int) -> WorkOrderInfo | None: ...

    def search(self, *, dealership_id: int, search: str = "", limit: int = 50) -> list[WorkOrderInfo]: ...

    def mileage_history(self, *, vehicle_id: int) -> list[MileageReading]: ...


class NullBackend:
    """No service app yet: no work orders."""

    def get(self, *, dealership_id: int, work_order_id: int) -> WorkOrderInfo | None:
        return None

    def search(self, *, dealership_id: int, search: str = "", limit: int = 50) -> list[WorkOrderInfo]:
        return []

    def mileage_history(self, *, vehicle_id: int) -> list[MileageReading]:
        return []


class ServiceBackend:
    """Reads ``service.WorkOrder`` (jobs with the customer's consent, their part lines, reception mileage)."""

    def __init__(self, model):
        self.model = model

    def _info(self, wo) -> WorkOrderInfo:
        doable = getattr(type(wo), "doable_jobs", None)
        jobs = wo.doable_jobs() if doable else list(wo.jobs.all())
        # Issue 15 item 3 (R22): what was issued is what the warehouse ledger says left stock for this work order
        # against its requisitions (net of returns) — not the work order's planned part lines, which a part never
        # in stock, never requisitioned and never issued would pass.
        issued = parts_selectors.parts_issued_to_work_order(dealership_id=wo.dealership_id, work_order_id=wo.pk)
        return WorkOrderInfo(
            id=wo.pk,
            dealership_id=wo.dealership_id,
            number=str(wo),
            customer_id=wo.customer_id,
            vehicle_id=wo.vehicle_id,
            status=wo.status,
            delivered=wo.status == "delivered",
            mileage=getattr(wo, "mileage_in", None),
            opened_at=wo.created_at,
            delivered_at=getattr(wo, "delivered_at", None),
            jobs=tuple(
                JobInfo(
                    id=job.pk,
                    description=job.description,
                    labour_hours=getattr(job, "standard_hours", Decimal("0")),
                    labour_rate=getattr(job, "rate", Decimal("0")),
                )
                for job in jobs
            ),
            parts_issued=issued,
        )

    def get(self, *, dealership_id: int, work_order_id: int) -> WorkOrderInfo | None:
        wo = self.model.objects.filter(pk=work_order_id, dealership_id=dealership_id).prefetch_related("jobs").first()
        return self._info(wo) if wo else None

    def search(self, *, dealership_id: int, search: str = "", limit: int = 50) -> list[WorkOrderInfo]:
        qs = self.model.objects.filter(dealership_id=dealership_id).select_related("vehicle")
        if search:
            from django.db.models import Q

            qs = qs.filter(Q(number__icontains=search) | Q(vehicle__vin__icontains=search))
        return [self._info(wo) for wo in qs.prefetch_related("jobs").order_by("-created_at")[:limit]]

    def mileage_history(self, *, vehicle_id: int) -> list[MileageReading]:
        rows = (
            self.model.objects.filter(vehicle_id=vehicle_id, mileage_in__isnull=False)
            .order_by("created_at", "pk")
            .values_list("pk", "number", "created_at", "mileage_in")
        )
        return [MileageReading(pk, number or f"#{pk}", at, mileage) for pk, number, at, mileage in rows]


_override: Backend | None = None


def use_backend(backend: Backend | None) -> None:
    """Install a backend (tests, or another source of work orders); ``None`` goes back to the automatic one."""
    global _override
    _override = backend


def backend() -> Backend:
    if _override is not None:
        return _override
    try:
        return ServiceBackend(apps.get_model("service", "WorkOrder"))
    except LookupError:
        return NullBackend()


# -- the functions the rest of the app calls ------------------------------------------------------------------


def work_order_for_claim(*, dealership_id: int, work_order_id: int | None) -> WorkOrderInfo | None:
    work_order_id = parse_id(work_order_id)  # the one id parser (issue 12 item 5)
    if work_order_id is None:
        return None
    return backend().get(dealership_id=dealership_id, work_order_id=work_order_id)


def work_orders_for_dealership(*, dealership_id: int, search: str = "", limit: int = 50) -> list[WorkOrderInfo]:
    return backend().search(dealership_id=dealership_id, search=search, limit=limit)


def is_delivered(work_order: WorkOrderInfo) -> bool:
    return work_order.delivered


def parts_issued_to(work_order: WorkOrderInfo) -> dict[int, Decimal]:
    return dict(work_order.parts_issued)


def mileage_history(*, vehicle_id: int) -> list[MileageReading]:
    return sorted(backend().mileage_history(vehicle_id=vehicle_id), key=lambda r: (r.at, r.work_order_id))
