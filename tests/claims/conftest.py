import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from claims import roles as claims_roles
from claims import workorders
from dms.core import roles
from parts import services as parts_services
from parts.models import Part
from service.models import WorkOrder, WorkOrderJob, WorkOrderStatus
from tests.factories import UserFactory


class WorkOrders:
    """Real service work orders for the claims tests (claims.workorders reads them): one job each, and the parts
    issued to it the way the warehouse does (R32: received, requisitioned, approved, issued — a ledger row)."""

    def __init__(self):
        self._count = 1000

    @staticmethod
    def _issue(wo, job, parts):
        staff = {
            role: UserFactory(role=role, dealership=[wo.dealership])
            for role in (roles.SERVICE_ADVISOR, roles.PARTS_MANAGER, roles.STOREKEEPER)
        }
        for part, quantity in parts.items():
            parts_services.stock_receive(
                actor=staff[roles.STOREKEEPER], dealership=wo.dealership, part=part, quantity=quantity,
                unit_cost=100, reference="ПН-1",
            )  # fmt: skip
            requisition = parts_services.requisition_create(
                actor=staff[roles.SERVICE_ADVISOR],
                dealership=wo.dealership,
                work_order_id=wo.pk,
                job_id=job.pk,
                lines=[{"part": part, "quantity": quantity}],
            )
            parts_services.requisition_approve(actor=staff[roles.PARTS_MANAGER], requisition=requisition)
            parts_services.requisition_issue(actor=staff[roles.STOREKEEPER], requisition=requisition)

    def add(self, *, vehicle, mileage=20000, delivered=True, parts=None, opened_at=None, number=None):
        self._count += 1
        wo = WorkOrder.objects.create(
            dealership=vehicle.dealership,
            number=number or f"ЗН-{self._count}",
            customer=vehicle.customer,
            vehicle=vehicle,
            advisor=UserFactory(role=roles.SERVICE_ADVISOR, dealership=[vehicle.dealership]),
            status=WorkOrderStatus.DELIVERED if delivered else WorkOrderStatus.IN_REPAIR,
            mileage_in=mileage,
            delivered_at=timezone.now() if delivered else None,
        )
        opened_at = opened_at or timezone.now() - datetime.timedelta(days=2)
        WorkOrder.objects.filter(pk=wo.pk).update(created_at=opened_at)
        job = WorkOrderJob.objects.create(
            work_order=wo, description="Замена насоса ГУР", standard_hours=Decimal("1.5"), rate=Decimal("2500")
        )
        self._issue(wo, job, parts or {})
        return workorders.work_order_for_claim(dealership_id=wo.dealership_id, work_order_id=wo.pk)


@pytest.fixture
def work_orders(db):
    return WorkOrders()


@pytest.fixture
def engineer(make_user):
    return make_user(roles.WARRANTY_ENGINEER, first_name="Виктор", last_name="Орлов", username="warranty")


@pytest.fixture
def make_external(dealership):
    def make(role, dealerships=None, **kwargs):
        user = UserFactory(dealership=dealerships or [dealership], **kwargs)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def fmc(make_external):
    return make_external(claims_roles.FIELD_MANAGER, first_name="Фёдор", last_name="Полевой", username="fmc")


@pytest.fixture
def claims_dept(make_external):
    return make_external(claims_roles.CLAIMS_DEPARTMENT, first_name="Ксения", last_name="Претензиева", username="cd")


@pytest.fixture
def cac(make_external):
    return make_external(claims_roles.CUSTOMER_ASSISTANCE, first_name="Пэй", last_name="Ван", username="cac")


@pytest.fixture
def storekeeper(make_user):
    return make_user(roles.STOREKEEPER)


@pytest.fixture
def inspector(make_user):
    return make_user(roles.QUALITY_INSPECTOR)


@pytest.fixture
def warranty_vehicle(vehicle):
    today = timezone.localdate()
    vehicle.warranty_start = today - datetime.timedelta(days=400)
    vehicle.warranty_end = today + datetime.timedelta(days=700)
    vehicle.warranty_mileage_limit = 100000
    vehicle.save()
    return vehicle


@pytest.fixture
def pump(dealership):
    return Part.objects.create(dealership=dealership, number="44310-02190", name="Насос ГУР", price=Decimal("18500"))


@pytest.fixture
def gearbox(dealership):
    return Part.objects.create(dealership=dealership, number="30500-42010", name="КПП в сборе", price=Decimal("240000"))


@pytest.fixture(autouse=True)
def _english_messages():
    # Assertions below match the services' (English) message ids; pages are checked in Russian separately.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("ru")


@pytest.fixture
def world(dealership, other_dealership):
    """Issue 18 item 6: the staff-KPI rows of tests/claims/staff_world.py (October 2025, Moscow)."""
    from tests.claims import staff_world

    dealership.time_zone = other_dealership.time_zone = "Europe/Moscow"
    dealership.save()
    other_dealership.save()
    return staff_world.build(dealership, other_dealership)
