from decimal import Decimal

import pytest

from dms.core import roles
from parts import services

from .factories import PartFactory


@pytest.fixture
def storekeeper(make_user):
    return make_user(roles.STOREKEEPER, first_name="Сергей", last_name="Васильев")


@pytest.fixture
def part(dealership):
    return PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр масляный", price=Decimal("890"))


@pytest.fixture
def receive(storekeeper, dealership):
    """Put stock in: receive(part, qty, cost=...)."""

    def do(part, quantity, cost="100", **kwargs):
        return services.stock_receive(
            actor=storekeeper, dealership=dealership, part=part, quantity=quantity, unit_cost=cost, **kwargs
        )

    return do


@pytest.fixture
def work_order(dealership, advisor):
    """Issue 15 item 2: requisitions name a real work order (and job) of the dealership."""
    from tests.service.factories import make_work_order

    return make_work_order(dealership=dealership, advisor=advisor, number="ЗН-000123")
