"""Writes for dealerships' customers and vehicles. Pages, API and admin all call these."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import events
from .models import Customer, Dealership, Vehicle, normalize_vin
from .tenancy import allowed_dealership_ids

User = get_user_model()

CUSTOMER_FIELDS = (
    "name",
    "phone",
    "phone_alt",
    "email",
    "preferred_channel",
    "first_contact_channel",
    "lead_source",
    "assigned_manager",
    "is_vip",
    "notes",
    "language",
)
VEHICLE_FIELDS = (
    "vin",
    "make",
    "model",
    "year",
    "plate",
    "mileage",
    "warranty_start",
    "warranty_end",
    "warranty_mileage_limit",
    "customer",
)


def _check_same_dealership(dealership_id: int, **related: Any) -> None:
    errors = {}
    for field, obj in related.items():
        if obj is None:
            continue
        if isinstance(obj, User):
            if dealership_id not in allowed_dealership_ids(obj):
                errors[field] = _("This employee does not work in the dealership.")
        elif getattr(obj, "dealership_id", dealership_id) != dealership_id:
            errors[field] = _("Unknown %(field)s.") % {"field": field}
    if errors:
        raise ValidationError(errors)


def _check_vin_free(vehicle: Vehicle) -> None:
    taken = Vehicle.objects.filter(dealership_id=vehicle.dealership_id, vin=vehicle.vin).exclude(pk=vehicle.pk)
    if vehicle.vin and taken.exists():
        raise ValidationError({"vin": _("A vehicle with this VIN is already registered in the dealership.")})


def _apply(instance, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value)


@transaction.atomic
def customer_create(*, actor, dealership: Dealership, **data: Any) -> Customer:
    customer = Customer(dealership=dealership)
    _apply(customer, data, CUSTOMER_FIELDS)
    _check_same_dealership(dealership.pk, assigned_manager=customer.assigned_manager)
    customer.full_clean()
    customer.save()
    events.record_created(actor=actor, instance=customer, fields=CUSTOMER_FIELDS)
    return customer


@transaction.atomic
def customer_update(*, actor, customer: Customer, data: dict[str, Any]) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = events.snapshot(customer, [name for name in data if name in CUSTOMER_FIELDS])
    _apply(customer, data, CUSTOMER_FIELDS)
    _check_same_dealership(customer.dealership_id, assigned_manager=customer.assigned_manager)
    customer.full_clean()
    customer.save()
    events.record_updated(actor=actor, instance=customer, before=before)
    return customer


@transaction.atomic
def vehicle_create(*, actor, dealership: Dealership, **data: Any) -> Vehicle:
    vehicle = Vehicle(dealership=dealership)
    _apply(vehicle, data, VEHICLE_FIELDS)
    vehicle.vin = normalize_vin(vehicle.vin)
    _check_same_dealership(dealership.pk, customer=getattr(vehicle, "customer", None))
    _check_vin_free(vehicle)
    vehicle.full_clean()
    vehicle.save()
    events.record_created(actor=actor, instance=vehicle, fields=VEHICLE_FIELDS)
    return vehicle


@transaction.atomic
def vehicle_update(*, actor, vehicle: Vehicle, data: dict[str, Any]) -> Vehicle:
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    before = events.snapshot(vehicle, [name for name in data if name in VEHICLE_FIELDS])
    _apply(vehicle, data, VEHICLE_FIELDS)
    vehicle.vin = normalize_vin(vehicle.vin)
    _check_same_dealership(vehicle.dealership_id, customer=vehicle.customer)
    _check_vin_free(vehicle)
    vehicle.full_clean()
    vehicle.save()
    events.record_updated(actor=actor, instance=vehicle, before=before)
    return vehicle


@transaction.atomic
def vehicle_record_mileage(*, actor, vehicle: Vehicle, mileage: int, source: str) -> Vehicle:
    """Raise the vehicle's last known mileage (reception, claims); a lower reading never overwrites it."""
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    if mileage > vehicle.mileage:
        before = events.snapshot(vehicle, ["mileage"])
        vehicle.mileage = mileage
        vehicle.save(update_fields=["mileage", "updated_at"])
        events.record_updated(actor=actor, instance=vehicle, before=before, message=source)
    return vehicle
