"""Reads for customers, vehicles and audit trails, always scoped to dealerships the caller may see."""

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet, Sum

from .inputs import is_phone_text, phone_search_forms
from .models import AuditEntry, Customer, Vehicle
from .search import text_search

User = get_user_model()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def customer_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "assigned_manager", "dealership"
    )
    search = (search or "").strip()
    phones = []
    if search:
        # Issue 14 item 4: the list's search understands the national form too (8 916 … finds +7 916 …).
        contains, prefix = phone_search_forms(search)
        for column in ("phone", "phone_alt"):
            if contains:
                phones.append(Q(**{f"{column}__contains": contains}))
            if prefix:
                phones.append(Q(**{f"{column}__startswith": prefix}))
    # the vehicles' VIN and plate per row (dms.core.search), not a join of every matching vehicle (issue 19)
    return text_search(qs, search, "name", "email", "vehicles__vin", "vehicles__plate", extra=phones)


def vehicle_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[Vehicle]:
    qs = Vehicle.objects.filter(dealership_id__in=list(dealership_ids)).select_related("customer", "dealership")
    digits = _digits(search or "")
    phones = [Q(customer__phone__contains=digits)] if len(digits) >= 3 and is_phone_text(search) else []
    return text_search(qs, search, "vin", "plate", "make", "model", "customer__name", extra=phones)


def audit_trail(instance) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True), object_id=instance.pk
    ).select_related("actor")


# Issue 14 item 4: the search-as-you-type pickers. Each answers with at most ``PICKER_LIMIT`` rows from one query, the
# LIMIT inside it; substring conditions are answered by the trigram indexes of ``core_customer``/``core_vehicle``
# (migrations ``0003_search_trigram_indexes`` and ``0008_picker_trigram_indexes``), so 100,000 customers are not read.
PICKER_LIMIT = 20


def picker_matches(qs: QuerySet, *, query: str, fields: Iterable[str], customer_id: int | None = None) -> QuerySet:
    """A record picker's candidates (a form's complaint, work order, sales order…): ``qs`` narrowed to the chosen
    customer's rows when ``customer_id`` is given, and to ``query`` in any of ``fields`` by the lists' own search
    (``text_search``). The caller names the columns it shows, its order and the LIMIT."""
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return text_search(qs, query, *fields)


def customer_search(*, dealership_id: int, query: str, limit: int = PICKER_LIMIT) -> list[Customer]:
    """Customers by name, e-mail or phone; a phone typed in the national form (8 916 …) finds +7 916 …."""
    qs = Customer.objects.filter(dealership_id=dealership_id)
    query = (query or "").strip()
    if query:
        condition = Q(name__icontains=query) | Q(email__icontains=query)
        contains, prefix = phone_search_forms(query)
        for column in ("phone", "phone_alt"):
            if contains:
                condition |= Q(**{f"{column}__contains": contains})
            if prefix:
                condition |= Q(**{f"{column}__startswith": prefix})
        qs = qs.filter(condition)
    return list(qs.only("id", "name", "phone", "email").order_by("name", "id")[:limit])


def vehicle_search(
    *, dealership_id: int, query: str, customer_id: int | None = None, limit: int = PICKER_LIMIT
) -> list[Vehicle]:
    """Vehicles by VIN, plate or model; only the customer's own cars when a customer is given (R15)."""
    qs = Vehicle.objects.filter(dealership_id=dealership_id)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(vin__icontains=query) | Q(plate__icontains=query) | Q(model__icontains=query))
    return list(
        qs.select_related("customer")
        .only("id", "vin", "make", "model", "plate", "customer_id", "customer__name")
        .order_by("make", "model", "vin")[:limit]
    )


def dealership_staff(*, dealership, role: str = "") -> QuerySet:
    """The dealership's active staff (those holding ``role``, a group of ``roles``, when given) by name: the choices
    of an employee field."""
    qs = User.objects.filter(staff_profile__dealerships=dealership, is_active=True)
    if role:
        qs = qs.filter(groups__name=role)
    return qs.order_by("last_name", "first_name", "username")


def employee_search(*, dealership_id: int, query: str, role: str = "", limit: int = PICKER_LIMIT) -> QuerySet:
    """Active staff of the dealership by name or login, optionally holding a role (a group of ``roles``)."""
    qs = User.objects.filter(is_active=True, staff_profile__dealerships=dealership_id)
    if role:
        qs = qs.filter(groups__name=role)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(username__icontains=query))
    return qs.only("id", "first_name", "last_name", "username").order_by("last_name", "first_name", "username")[:limit]


def satisfaction_totals(queryset: QuerySet, *, owner: str, at: str, start, end) -> dict[int, tuple[int, int]]:
    """Issue 18 item 6: the customers' satisfaction scores (1–5, column ``satisfaction``) given in [start, end) by
    ``at``, per employee ``owner`` (a user column): {user id: (sum of the scores, how many)} — sums, not averages,
    so the staff KPIs combine sources exactly."""
    rows = (
        queryset.filter(**{f"{at}__gte": start, f"{at}__lt": end, "satisfaction__isnull": False})
        .values(owner)
        .annotate(total=Sum("satisfaction"), n=Count("id"))
        .order_by()
    )
    return {row[owner]: (row["total"], row["n"]) for row in rows if row[owner] is not None}
