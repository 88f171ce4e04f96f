"""Reads for customers, vehicles and audit trails, always scoped to dealerships the caller may see."""

import re
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from .models import AuditEntry, Customer, Vehicle


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def customer_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "assigned_manager", "dealership"
    )
    search = (search or "").strip()
    if search:
        condition = Q(name__icontains=search) | Q(email__icontains=search) | Q(vehicles__vin__icontains=search)
        condition |= Q(vehicles__plate__icontains=search)
        digits = _digits(search)
        if len(digits) >= 3:
            condition |= Q(phone__contains=digits) | Q(phone_alt__contains=digits)
        ids = Customer.objects.filter(dealership_id__in=list(dealership_ids)).filter(condition).values("id")
        qs = qs.filter(id__in=ids)
    return qs


def vehicle_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[Vehicle]:
    qs = Vehicle.objects.filter(dealership_id__in=list(dealership_ids)).select_related("customer", "dealership")
    search = (search or "").strip()
    if search:
        condition = (
            Q(vin__icontains=search)
            | Q(plate__icontains=search)
            | Q(make__icontains=search)
            | Q(model__icontains=search)
            | Q(customer__name__icontains=search)
        )
        digits = _digits(search)
        if len(digits) >= 3:
            condition |= Q(customer__phone__contains=digits)
        qs = qs.filter(condition)
    return qs


def audit_trail(instance) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True), object_id=instance.pk
    ).select_related("actor")
