import datetime

import pytest
from django.utils import timezone, translation

from dms.core import roles
from orders import services
from orders.models import CustomerOrder

from .factories import PartFactory, SupplierFactory


@pytest.fixture(autouse=True)
def _english(settings):
    # Messages are asserted in English (msgids); status labels are checked in Russian where the rule names them.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def part(dealership):
    return PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный")


@pytest.fixture
def part2(dealership):
    return PartFactory(dealership=dealership, number="04465-02220", name="Колодки тормозные")


@pytest.fixture
def supplier(dealership):
    return SupplierFactory(dealership=dealership, name="Дистрибьютор ТМР")


@pytest.fixture
def storekeeper(make_user):
    return make_user(roles.STOREKEEPER, first_name="Сергей", last_name="Васильев")


@pytest.fixture
def inspector(make_user):
    return make_user(roles.QUALITY_INSPECTOR)


@pytest.fixture
def make_order(advisor, vehicle, part):
    def make(*, lines=None, kind="warranty", actor=None, vehicle_=None, **kwargs) -> CustomerOrder:
        v = vehicle_ or vehicle
        return services.customer_order_create(
            actor=actor or advisor,
            dealership=v.dealership,
            customer=v.customer,
            vehicle=v,
            kind=kind,
            lines=lines or [{"part": part, "quantity": 2}],
            **kwargs,
        )

    return make


@pytest.fixture
def place(parts_manager, supplier):
    def do(order: CustomerOrder, *, days: int = 5, now=None, **kwargs) -> CustomerOrder:
        now = now or timezone.now()
        return services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=kwargs.pop("supplier", supplier),
            supplier_order_number=kwargs.pop("supplier_order_number", f"TMR-{order.pk}"),
            expected_at=order.local_today(now) + datetime.timedelta(days=days),
            now=now,
            **kwargs,
        )

    return do


@pytest.fixture
def order(make_order):
    return make_order()


@pytest.fixture
def placed_order(order, place):
    return place(order)
