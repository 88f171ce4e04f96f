import factory

from parts.models import Part, Supplier
from tests.factories import DealershipFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    dealership = factory.SubFactory(DealershipFactory)
    name = factory.Sequence(lambda n: f"Поставщик {n}")
    delivery_days = 7


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part

    dealership = factory.SubFactory(DealershipFactory)
    number = factory.Sequence(lambda n: f"04152-{n:05d}")
    name = factory.Sequence(lambda n: f"Деталь {n}")
    price = 1000
