"""Demo parts catalogue and stock so the warehouse pages, preparation (R17) and sales orders have something to work
with. Run by ``manage.py load_demo`` after the core demo data (dealerships, users, customers)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from .models import LowStockAlert, Part, StockBalance, StockMovement, Supplier, SupplierPrice
from .selectors import purchase_price
from .services import balance_update, part_create, stock_receive, supplier_create, supplier_price_create

# Supplier name → (code, delivery days); the first is every demo part's default supplier.
DEMO_SUPPLIERS = {"Дистрибьютор ТМР": ("TMR", 7), "Склад Япония": ("JP", 21)}
DEMO_PARTS = [
    ("04152-YZZA1", "Фильтр масляный", "890.00"),
    ("17801-21050", "Фильтр воздушный", "1450.00"),
    ("04465-02220", "Колодки тормозные передние", "6200.00"),
    ("90919-01253", "Свеча зажигания", "1150.00"),
    ("48510-09P20", "Амортизатор передний правый", "14300.00"),
    ("16400-0T040", "Радиатор охлаждения", "27800.00"),
    ("87139-0N010", "Фильтр салона", "1300.00"),
    ("08880-83322", "Масло моторное 0W-20, 4 л", "4100.00"),
]

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


# Issue 15 item 5: purchase prices, well below the selling prices (a distributor's usual 22–30 % margin for the
# dealer). Supplier code → share of the selling price: the main distributor a year ago and, for some parts, a newer
# price since last month; the Japanese warehouse is cheaper but slower.
PURCHASE_SHARE = {"TMR": Decimal("0.75"), "JP": Decimal("0.70")}
PRICE_RISE = {"04465-02220": Decimal("0.775"), "08880-83322": Decimal("0.78")}  # TMR's newer price, share of selling


# R27: the cabin filter's alert level is above the one on the shelf, so the demo has an open low-stock alert.
LOW_STOCK = ("87139-0N010", Decimal("4"))


def load(*, users, dealership) -> None:
    _load_catalogue(admin=users["admin"], dealership=dealership)
    _load_supplier_prices(users=users, dealership=dealership)
    if not StockMovement.objects.filter(dealership=dealership, reference=DEMO_REFERENCE).exists():
        _load_opening_stock(users=users, dealership=dealership)
    number, level = LOW_STOCK
    balance = StockBalance.objects.filter(dealership=dealership, part__number=number).first()
    if balance is not None and not LowStockAlert.objects.filter(dealership=dealership).exists():
        balance_update(actor=users.get("parts") or users["admin"], balance=balance, data={"alert_level": level})


def _load_opening_stock(*, users, dealership) -> None:
    storekeeper = users.get("storekeeper") or users["admin"]
    for part in Part.objects.filter(dealership=dealership, number__in=OPENING_STOCK):
        stock_receive(
            actor=storekeeper,
            dealership=dealership,
            part=part,
            quantity=Decimal(OPENING_STOCK[part.number]),
            unit_cost=_opening_cost(part),
            reference=DEMO_REFERENCE,
        )


def _load_catalogue(*, admin, dealership) -> None:
    """The suppliers and parts (idempotent: only the missing ones are created)."""
    suppliers = []
    for name, (code, delivery_days) in DEMO_SUPPLIERS.items():
        supplier = Supplier.objects.filter(dealership=dealership, name=name).first()
        if supplier is None:
            supplier = supplier_create(
                actor=admin, dealership=dealership, name=name, code=code, delivery_days=delivery_days
            )
        suppliers.append(supplier)
    for number, name, price in DEMO_PARTS:
        if not Part.objects.filter(dealership=dealership, number=number).exists():
            part_create(
                actor=admin,
                dealership=dealership,
                number=number,
                name=name,
                price=Decimal(price),
                default_supplier=suppliers[0],
            )


def _load_supplier_prices(*, users, dealership) -> None:
    if SupplierPrice.objects.filter(dealership=dealership).exists():
        return
    manager = users.get("parts") or users["admin"]
    today = timezone.localdate()
    year_ago, month_ago = today - datetime.timedelta(days=365), today - datetime.timedelta(days=30)
    suppliers = {s.code: s for s in Supplier.objects.filter(dealership=dealership, code__in=PURCHASE_SHARE)}
    for part in Part.objects.filter(dealership=dealership).order_by("number"):
        for code, supplier in suppliers.items():
            prices = [(year_ago, PURCHASE_SHARE[code])]
            if code == "TMR" and part.number in PRICE_RISE:
                prices.append((month_ago, PRICE_RISE[part.number]))
            for valid_from, share in prices:
                supplier_price_create(
                    actor=manager,
                    dealership=dealership,
                    supplier=supplier,
                    part=part,
                    price=(part.price * share).quantize(Decimal("1")),
                    valid_from=valid_from,
                )


def _opening_cost(part: Part) -> Decimal:
    """The opening stock came from the default supplier at its price list (issue 15 item 5)."""
    if part.default_supplier is not None:
        price = purchase_price(part=part, supplier=part.default_supplier, on=timezone.localdate())
        if price is not None:
            return price
    return (part.price * Decimal("0.7")).quantize(Decimal("0.01"))
