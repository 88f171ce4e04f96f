import datetime

import factory

from service.models import Loaner, RecallCampaign, WorkingHours
from tests.factories import DealershipFactory
from tests.parts import factories as parts_factories
from tests.parts.factories import SupplierFactory


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    dealership = factory.SubFactory(DealershipFactory)
    weekday = 0
    starts_at = datetime.time(9, 0)
    ends_at = datetime.time(18, 0)


class RecallCampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecallCampaign

    dealership = factory.SubFactory(DealershipFactory)
    code = factory.Sequence(lambda n: f"RC{n:03d}")
    title = "Замена подушки безопасности"


class LoanerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Loaner

    dealership = factory.SubFactory(DealershipFactory)
    plate = factory.Sequence(lambda n: f"Т{n:03d}ТТ77")
    make = "Toyota"
    model = "Yaris"


class PartFactory(parts_factories.PartFactory):
    default_supplier = factory.SubFactory(SupplierFactory, dealership=factory.SelfAttribute("..dealership"))


def make_work_order(*, dealership, advisor, number: str, jobs=("Замена масла",), status: str = "in_repair", **kwargs):
    """A work order of ``dealership`` with one job per description (issue 15: requisitions name real ones)."""
    from service.models import WorkOrder, WorkOrderJob
    from tests.factories import VehicleFactory

    vehicle = kwargs.pop("vehicle", None) or VehicleFactory(customer__dealership=dealership)
    wo = WorkOrder.objects.create(
        dealership=dealership,
        number=number,
        customer=vehicle.customer,
        vehicle=vehicle,
        advisor=advisor,
        status=status,
        **kwargs,
    )
    for description in jobs:
        WorkOrderJob.objects.create(work_order=wo, description=description, standard_hours=1, rate=1000)
    return wo
