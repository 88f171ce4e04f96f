import io

import pytest
from django.core.management import call_command

from orders.models import CustomerOrder, OrderStatus

pytestmark = pytest.mark.django_db


def test_demo_orders_cover_every_status_and_are_idempotent():
    call_command("load_demo", stdout=io.StringIO())
    statuses = set(CustomerOrder.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values)
    count = CustomerOrder.objects.count()
    # issue 15 item 8: d11 returned to the supplier; the call-backs demo adds its own four (issue 14 item 7)
    assert CustomerOrder.objects.filter(comment__startswith="[demo d").count() == 11
    assert any(order.is_overdue() for order in CustomerOrder.objects.select_related("dealership"))
    assert CustomerOrder.objects.filter(on_waiting_lot=True).exists()
    assert CustomerOrder.objects.filter(long_term_agreed=True, status=OrderStatus.ORDERED).exists()
    call_command("load_demo", stdout=io.StringIO())
    assert CustomerOrder.objects.count() == count
