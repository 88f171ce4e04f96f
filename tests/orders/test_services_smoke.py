import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dms.core.exceptions import ConflictError
from orders import services
from orders.models import OrderStatus

pytestmark = pytest.mark.django_db


def test_order_walks_the_procedure(advisor, parts_manager, vehicle, part, supplier):
    order = services.customer_order_create(
        actor=advisor,
        dealership=vehicle.dealership,
        customer=vehicle.customer,
        vehicle=vehicle,
        kind="warranty",
        lines=[{"part": part, "quantity": 3}],
    )
    assert order.number == "Ф000000001" and order.status == OrderStatus.NOT_PLACED
    now = timezone.now()
    order = services.customer_order_place(
        actor=parts_manager,
        order=order,
        supplier=supplier,
        supplier_order_number="TMR-1",
        expected_at=order.local_today(now) + datetime.timedelta(days=5),
        now=now,
    )
    assert order.status == OrderStatus.ORDERED
    with pytest.raises(ConflictError):
        services.customer_order_place(
            actor=parts_manager,
            order=order,
            supplier=supplier,
            supplier_order_number="X",
            expected_at=order.expected_at,
        )
    line = order.lines.get()
    services.customer_order_receive(actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 1}])
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RECEIVED
    with pytest.raises(ValidationError):
        services.customer_order_receive(actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 3}])
    services.customer_order_receive(actor=parts_manager, order=order, lines=[{"line": line.pk, "quantity": 2}])
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED and order.received_at is not None
    order = services.customer_order_issue(actor=parts_manager, order=order)
    assert order.status == OrderStatus.ISSUED
