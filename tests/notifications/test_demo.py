import pytest
from django.core.management import call_command

from notifications.models import CallEvent

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_fills_every_kind(settings):
    call_command("load_demo", verbosity=0)
    first = sorted(CallEvent.objects.values_list("order_id", "kind", "due_date", "status"))
    call_command("load_demo", verbosity=0)
    assert sorted(CallEvent.objects.values_list("order_id", "kind", "due_date", "status")) == first
    kinds = {kind for _, kind, _, _ in first}
    # On top of the orders app's demo orders: parts that arrived and a long ETA (R3), one call recorded (R9).
    assert {"arrival", "interim_eta", "retry"} <= kinds
    assert CallEvent.objects.filter(status="done", outcome="unreachable").count() == 1


def test_demo_makes_its_own_orders_when_there_are_none(make_user, dealership):
    from dms.core import roles
    from notifications import demo
    from orders.models import CustomerOrder
    from tests.factories import CustomerFactory, VehicleFactory

    users = {"advisor": make_user(roles.SERVICE_ADVISOR), "parts": make_user(roles.PARTS_MANAGER)}
    from decimal import Decimal

    from parts.models import Part, Supplier

    Part.objects.create(dealership=dealership, number="P-1", name="Фильтр", price=Decimal("1"))
    Supplier.objects.create(dealership=dealership, name="ТМР")
    for _ in range(4):
        VehicleFactory(customer=CustomerFactory(dealership=dealership))
    demo.load(users=users, dealership=dealership)
    demo.load(users=users, dealership=dealership)
    assert CustomerOrder.objects.filter(dealership=dealership).count() == 4
    kinds = set(CallEvent.objects.values_list("kind", flat=True))
    assert {"lot_repair", "arrival", "interim_eta", "uncollected", "retry"} <= kinds
