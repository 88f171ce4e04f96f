"""Demo stock so the warehouse pages, preparation (R17) and sales orders have something to work with."""

from decimal import Decimal

from .models import Part, StockMovement
from .services import stock_receive

DEMO_REFERENCE = "DEMO: opening stock"
# part number → quantity on hand; the radiator and the shock absorber are left out so preparation orders them.
OPENING_STOCK = {
    "04152-YZZA1": 12,
    "17801-21050": 6,
    "04465-02220": 3,
    "90919-01253": 16,
    "87139-0N010": 1,
    "08880-83322": 20,
}


def load(*, users, dealership) -> None:
    if StockMovement.objects.filter(dealership=dealership, reference=DEMO_REFERENCE).exists():
        return
    storekeeper = users.get("storekeeper") or users["admin"]
    for part in Part.objects.filter(dealership=dealership, number__in=OPENING_STOCK):
        stock_receive(
            actor=storekeeper,
            dealership=dealership,
            part=part,
            quantity=Decimal(OPENING_STOCK[part.number]),
            unit_cost=(part.price * Decimal("0.7")).quantize(Decimal("0.01")),
            reference=DEMO_REFERENCE,
        )
