"""Issue 13: migration 0002 turns a claim's bare work order id into a foreign key and keeps the data."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from claims.models import GoodwillClaim, WarrantyClaim
from dms.core import roles
from service.models import WorkOrder
from tests.factories import UserFactory, VehicleFactory

BEFORE = [("claims", "0001_initial")]
AFTER = [("claims", "0002_work_order_foreign_keys")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_existing_claims_keep_their_work_order(dealership, other_dealership):
    user = UserFactory(role=roles.WARRANTY_ENGINEER, dealership=[dealership])
    vehicle = VehicleFactory(customer__dealership=dealership)
    wo = WorkOrder.objects.create(
        dealership=dealership, number="ЗН-1", customer=vehicle.customer, vehicle=vehicle, advisor=user
    )
    foreign_vehicle = VehicleFactory(customer__dealership=other_dealership)
    foreign = WorkOrder.objects.create(
        dealership=other_dealership, number="ЗН-2", customer=foreign_vehicle.customer, vehicle=foreign_vehicle,
        advisor=user,
    )  # fmt: skip
    try:
        old = _migrate(BEFORE).apps
        OldWarranty, OldGoodwill = old.get_model("claims", "WarrantyClaim"), old.get_model("claims", "GoodwillClaim")
        common = {
            "dealership_id": dealership.pk,
            "customer_id": vehicle.customer_id,
            "vehicle_id": vehicle.pk,
            "mileage": 1000,
            "failure_date": datetime.date(2026, 1, 1),
            "failure_code": "P1",
            "causal_part_number": "X",
            "description": "x",
            "engineer_id": user.pk,
            "job_id": 1,
            "job_description": "job",
        }
        linked = OldWarranty.objects.create(number="ГА-1", work_order_id=wo.pk, work_order_number="ЗН-1", **common)
        # An id of another dealership's work order, and one that names no work order at all.
        stray = OldWarranty.objects.create(number="ГА-2", work_order_id=foreign.pk, work_order_number="ЗН-2", **common)
        gone = OldWarranty.objects.create(number="ГА-3", work_order_id=999999, work_order_number="ЗН-9", **common)
        goodwill = OldGoodwill.objects.create(
            dealership_id=dealership.pk, number="ГП-1", customer_id=vehicle.customer_id, vehicle_id=vehicle.pk,
            work_order_id=wo.pk, work_order_number="ЗН-1", description="x", author_id=user.pk,
            requested_amount=Decimal("1"),
        )  # fmt: skip
        paper = OldGoodwill.objects.create(
            dealership_id=dealership.pk, number="ГП-2", customer_id=vehicle.customer_id, vehicle_id=vehicle.pk,
            work_order_number="ЗН-бумажный", description="x", author_id=user.pk,
        )  # fmt: skip
        _migrate(AFTER)
        claims = {c.number: (c.work_order_id, c.work_order_number) for c in WarrantyClaim.objects.all()}
        assert claims == {"ГА-1": (wo.pk, "ЗН-1"), "ГА-2": (None, "ЗН-2"), "ГА-3": (None, "ЗН-9")}
        assert WarrantyClaim.objects.get(pk=linked.pk).work_order == wo
        assert {stray.pk, gone.pk} == set(WarrantyClaim.objects.filter(work_order=None).values_list("pk", flat=True))
        assert GoodwillClaim.objects.get(pk=goodwill.pk).work_order == wo
        assert (GoodwillClaim.objects.get(pk=paper.pk).work_order_id, GoodwillClaim.objects.get(pk=paper.pk)
                .work_order_number) == (None, "ЗН-бумажный")  # fmt: skip
        assert list(wo.warranty_claims.all()) == [WarrantyClaim.objects.get(pk=linked.pk)]
    finally:
        _migrate(AFTER)
        WarrantyClaim.objects.all().delete()
        GoodwillClaim.objects.all().delete()
