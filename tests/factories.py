import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dms.core.models import Customer, DealerGroup, Dealership, StaffProfile, Vehicle

User = get_user_model()

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def vin_for(n: int) -> str:
    tail = ""
    for _ in range(8):
        n, r = divmod(n, len(VIN_ALPHABET))
        tail = VIN_ALPHABET[r] + tail
    return "JTD" + "BR32E7" + tail


class DealerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealerGroup
        django_get_or_create = ["name"]

    name = "Test group"


class DealershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dealership

    group = factory.SubFactory(DealerGroupFactory)
    name = factory.Sequence(lambda n: f"Dealership {n}")
    code = factory.Sequence(lambda n: f"d{n}")
    time_zone = "Europe/Moscow"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Иван"
    last_name = factory.Sequence(lambda n: f"Сотрудник{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass12345")

    @factory.post_generation
    def dealership(self, create, extracted, **kwargs):
        if not create:
            return
        dealerships = extracted if isinstance(extracted, list | tuple) else [extracted] if extracted else []
        if dealerships:
            profile = StaffProfile.objects.create(user=self, default_dealership=dealerships[0])
            profile.dealerships.set(dealerships)
        self.save()

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    dealership = factory.SubFactory(DealershipFactory)
    name = factory.Sequence(lambda n: f"Клиент {n}")
    phone = factory.Sequence(lambda n: f"+7916{n:07d}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    preferred_channel = "sms"


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    customer = factory.SubFactory(CustomerFactory)
    dealership = factory.SelfAttribute("customer.dealership")
    vin = factory.Sequence(vin_for)
    make = "Toyota"
    model = "Corolla"
    year = 2021
    mileage = 10000
