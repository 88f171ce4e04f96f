from decimal import Decimal

import factory

from parts.models import Location, Part, Supplier, Warehouse
from tests.factories import DealershipFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    dealership = factory.SubFactory(DealershipFactory)
    name = factory.Sequence(lambda n: f"Поставщик {n}")
    code = factory.Sequence(lambda n: f"S{n}")


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part

    dealership = factory.SubFactory(DealershipFactory)
    number = factory.Sequence(lambda n: f"P-{n:05d}")
    name = factory.Sequence(lambda n: f"Деталь {n}")
    price = Decimal("1000.00")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    dealership = factory.SubFactory(DealershipFactory)
    code = factory.Sequence(lambda n: f"W{n}")
    name = factory.Sequence(lambda n: f"Склад {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    dealership = factory.SelfAttribute("warehouse.dealership")
    code = factory.Sequence(lambda n: f"A-{n:02d}")
