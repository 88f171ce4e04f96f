import factory

from parts.models import Part, Supplier
from tests.factories import CustomerFactory, DealershipFactory, UserFactory


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


class CustomerOrderFactory(factory.django.DjangoModelFactory):
    """A bare order (no lines, not placed) — enough for records that reference one (issue 12 item 6)."""

    class Meta:
        model = "orders.CustomerOrder"

    dealership = factory.SubFactory(DealershipFactory)
    number = factory.Sequence(lambda n: f"Ф{n:09d}")
    kind = "commercial"
    customer = factory.SubFactory(CustomerFactory, dealership=factory.SelfAttribute("..dealership"))
    author = factory.SubFactory(UserFactory)
