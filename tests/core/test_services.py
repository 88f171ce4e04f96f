import pytest
from django.core.exceptions import ValidationError

from dms.core import services
from dms.core.models import AuditEntry, Customer, Vehicle
from dms.core.selectors import audit_trail, customer_list, vehicle_list
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_customer_create_normalises_phone_and_audits(advisor, dealership):
    customer = services.customer_create(
        actor=advisor, dealership=dealership, name="Иванов", phone="+7 (916) 123-45-67", preferred_channel="sms"
    )
    assert customer.phone.as_e164 == "+79161234567"
    entry = audit_trail(customer).get()
    assert entry.actor == advisor and entry.action == "created"
    assert entry.changes["name"] == "Иванов"


def test_customer_create_rejects_bad_phone_and_writes_nothing(advisor, dealership):
    with pytest.raises(ValidationError) as error:
        services.customer_create(actor=advisor, dealership=dealership, name="X", phone="12")
    assert "phone" in error.value.message_dict
    assert Customer.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_customer_update_records_only_the_diff(advisor, customer):
    services.customer_update(actor=advisor, customer=customer, data={"name": "Новое имя", "email": customer.email})
    entry = audit_trail(customer).get()
    assert entry.changes == {"name": [customer.name, "Новое имя"]}


def test_assigned_manager_must_work_in_the_dealership(advisor, dealership, other_dealership, make_user):
    stranger = make_user(dealerships=[other_dealership])
    with pytest.raises(ValidationError) as error:
        services.customer_create(
            actor=advisor, dealership=dealership, name="X", phone="+79161234567", assigned_manager=stranger
        )
    assert "assigned_manager" in error.value.message_dict


@pytest.mark.parametrize(
    "vin, ok",
    [
        ("jtdbr32e720012345", True),  # upper-cased
        ("JTDBR32E72001234", False),  # 16 characters
        ("JTDBR32E7200123456", False),  # 18 characters
        ("JTDBR32E72001234I", False),  # I is not allowed
        ("JTDBR32E72001234O", False),
        ("JTDBR32E72001234Q", False),
        ("JTDBR32E7200-2345", False),
    ],
)
def test_vin_rules(advisor, customer, vin, ok):
    kwargs = dict(actor=advisor, dealership=customer.dealership, customer=customer, vin=vin, make="Toyota", model="C")
    if ok:
        assert services.vehicle_create(**kwargs).vin == vin.upper()
    else:
        with pytest.raises(ValidationError) as error:
            services.vehicle_create(**kwargs)
        assert "vin" in error.value.message_dict
        assert Vehicle.objects.count() == 0


def test_vin_unique_per_dealership_only(advisor, customer, other_dealership):
    services.vehicle_create(
        actor=advisor, dealership=customer.dealership, customer=customer, vin="JTDBR32E720012345", make="T", model="C"
    )
    with pytest.raises(ValidationError) as error:
        services.vehicle_create(
            actor=advisor,
            dealership=customer.dealership,
            customer=customer,
            vin="jtdbr32e720012345",
            make="T",
            model="C",
        )
    assert error.value.message_dict["vin"] == ["Автомобиль с таким VIN уже зарегистрирован в дилерском центре."]
    other_customer = CustomerFactory(dealership=other_dealership)
    services.vehicle_create(
        actor=advisor,
        dealership=other_dealership,
        customer=other_customer,
        vin="JTDBR32E720012345",
        make="T",
        model="C",
    )
    assert Vehicle.objects.filter(vin="JTDBR32E720012345").count() == 2


def test_vehicle_owner_of_another_dealership_is_refused(advisor, dealership, other_dealership):
    foreign = CustomerFactory(dealership=other_dealership)
    with pytest.raises(ValidationError) as error:
        services.vehicle_create(
            actor=advisor, dealership=dealership, customer=foreign, vin="JTDBR32E720012345", make="T", model="C"
        )
    assert "customer" in error.value.message_dict


def test_mileage_never_goes_down(advisor, vehicle):
    services.vehicle_record_mileage(actor=advisor, vehicle=vehicle, mileage=vehicle.mileage - 100, source="reception")
    vehicle.refresh_from_db()
    assert vehicle.mileage == 10000
    services.vehicle_record_mileage(actor=advisor, vehicle=vehicle, mileage=12000, source="reception")
    vehicle.refresh_from_db()
    assert vehicle.mileage == 12000


def test_search_by_name_phone_vin_plate(dealership, other_dealership):
    a = CustomerFactory(dealership=dealership, name="Петров Пётр", phone="+79031112233")
    VehicleFactory(customer=a, vin="VF7SA9HZ8CW123456", plate="А123ВС77")
    CustomerFactory(dealership=other_dealership, name="Петров Чужой")
    ids = [dealership.pk]
    assert list(customer_list(dealership_ids=ids, search="петров")) == [a]
    assert list(customer_list(dealership_ids=ids, search="903 111-22")) == [a]
    assert list(customer_list(dealership_ids=ids, search="cw123456")) == [a]
    assert list(customer_list(dealership_ids=ids, search="А123ВС")) == [a]
    assert [v.vin for v in vehicle_list(dealership_ids=ids, search="vf7sa9")] == ["VF7SA9HZ8CW123456"]
    assert list(customer_list(dealership_ids=ids, search="nobody")) == []


def test_audit_entries_cannot_be_changed_or_deleted(advisor, dealership):
    customer = services.customer_create(actor=advisor, dealership=dealership, name="A", phone="+79161234567")
    entry = audit_trail(customer).get()
    entry.message = "forged"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
