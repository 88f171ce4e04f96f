import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from claims import roles as claims_roles
from claims import workorders
from claims.workorders import JobInfo, MileageReading, WorkOrderInfo
from dms.core import roles
from parts.models import Part
from tests.factories import UserFactory


class FakeWorkOrders:
    """Stands in for the service app's work orders (claims.workorders backend)."""

    def __init__(self):
        self.orders: dict[int, WorkOrderInfo] = {}
        self.readings: list[MileageReading] = []
        self._next = 1000

    def add(self, *, vehicle, mileage=20000, delivered=True, parts=None, opened_at=None, jobs=None, number=None):
        self._next += 1
        wid = self._next
        opened_at = opened_at or timezone.now() - datetime.timedelta(days=2)
        info = WorkOrderInfo(
            id=wid,
            dealership_id=vehicle.dealership_id,
            number=number or f"ЗН-{wid}",
            customer_id=vehicle.customer_id,
            vehicle_id=vehicle.pk,
            status="delivered" if delivered else "in_repair",
            delivered=delivered,
            mileage=mileage,
            opened_at=opened_at,
            jobs=tuple(jobs or (JobInfo(wid * 10 + 1, "Замена насоса ГУР", Decimal("1.5"), Decimal("2500")),)),
            parts_issued={part.pk: Decimal(str(q)) for part, q in (parts or {}).items()},
        )
        self.orders[wid] = info
        if mileage is not None:
            self.readings.append(MileageReading(wid, info.number, opened_at, mileage))
        return info

    def get(self, *, dealership_id, work_order_id):
        info = self.orders.get(work_order_id)
        return info if info and info.dealership_id == dealership_id else None

    def search(self, *, dealership_id, search="", limit=50):
        return [o for o in self.orders.values() if o.dealership_id == dealership_id and search in o.number][:limit]

    def mileage_history(self, *, vehicle_id):
        ids = {o.id for o in self.orders.values() if o.vehicle_id == vehicle_id}
        return [r for r in self.readings if r.work_order_id in ids]


@pytest.fixture
def work_orders():
    fake = FakeWorkOrders()
    workorders.use_backend(fake)
    yield fake
    workorders.use_backend(None)


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
