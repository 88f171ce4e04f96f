import factory

from tests.factories import CustomerFactory, DealershipFactory, UserFactory
from tests.parts import factories as parts_factories
from tests.parts.factories import SupplierFactory

__all__ = ["CustomerOrderFactory", "PartFactory", "SupplierFactory"]


class PartFactory(parts_factories.PartFactory):
    number = factory.Sequence(lambda n: f"04152-{n:05d}")  # the catalogue's numbers, as the orders' pages show them


class CustomerOrderFactory(factory.django.DjangoModelFactory):
    """A bare order (no lines, not placed) — enough for records that reference one (issue 12 item 6)."""

    class Meta:
        model = "orders.CustomerOrder"

    dealership = factory.SubFactory(DealershipFactory)
    number = factory.Sequence(lambda n: f"Ф{n:09d}")
    kind = "commercial"
    customer = factory.SubFactory(CustomerFactory, dealership=factory.SelfAttribute("..dealership"))
    author = factory.SubFactory(UserFactory)
