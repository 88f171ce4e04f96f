import pytest
from django.core.management import call_command

from parts.models import StockMovement

pytestmark = pytest.mark.django_db


def test_demo_stock_is_loaded_once():
    call_command("load_demo", verbosity=0)
    movements = StockMovement.objects.filter(reference="DEMO: opening stock").count()
    call_command("load_demo", verbosity=0)
    assert movements == 6
    assert StockMovement.objects.filter(reference="DEMO: opening stock").count() == 6
    from parts.demo import OPENING_STOCK

    opening = dict(
        StockMovement.objects.filter(reference="DEMO: opening stock").values_list("part__number", "quantity")
    )
    assert {number: int(qty) for number, qty in opening.items()} == OPENING_STOCK
