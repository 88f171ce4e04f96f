from collections.abc import Iterable

from django.db.models import Q, QuerySet

from .models import Part, Supplier


def part_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[Part]:
    qs = Part.objects.filter(dealership_id__in=list(dealership_ids)).select_related("default_supplier")
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(number__icontains=search.replace(" ", "")) | Q(name__icontains=search))
    return qs


def supplier_list(*, dealership_ids: Iterable[int]) -> QuerySet[Supplier]:
    return Supplier.objects.filter(dealership_id__in=list(dealership_ids))
