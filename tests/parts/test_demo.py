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


def test_demo_supplier_prices_are_below_selling_prices_and_cost_the_demo_receipts():
    """Issue 15 item 5: every demo part has a purchase price from each supplier, below its selling price; the demo's
    receipts against customer orders are costed at them, never at the selling price."""
    from orders.models import CustomerOrderLine
    from parts.models import Part, StockMovement, SupplierPrice

    call_command("load_demo", verbosity=0)
    prices = SupplierPrice.objects.filter(part__number="04465-02220").select_related("part")
    assert prices.count() == 3  # TMR a year ago and since last month, the Japanese warehouse a year ago
    for price in SupplierPrice.objects.select_related("part"):
        assert 0 < price.price < price.part.price, price
    call_command("load_demo", verbosity=0)
    assert SupplierPrice.objects.count() == Part.objects.filter(dealership__code="demo-moscow").count() * 2 + 2
    placed = CustomerOrderLine.objects.exclude(order__placed_at=None)
    assert placed.exists() and not placed.filter(purchase_price=None).exists()
    for movement in StockMovement.objects.filter(kind="receipt").select_related("part"):
        assert movement.unit_cost < movement.part.price, movement
