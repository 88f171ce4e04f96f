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
