"""Demo call-backs: a few orders in every situation of seed 000 and the events the generator makes of them."""

import datetime

from django.utils import timezone

from dms.core.models import Customer
from orders import services as order_services
from orders.models import CustomerOrder
from parts.models import Part, Supplier

from . import services
from .models import CallEvent, CallStatus

DEMO_MARK = "[demo: call-backs]"


def _orders(*, users, dealership, now):
    advisor, parts = users["advisor"], users["parts"]
    part = Part.objects.filter(dealership=dealership).order_by("id").first()
    supplier = Supplier.objects.filter(dealership=dealership).order_by("id").first()
    customers = list(Customer.objects.filter(dealership=dealership).prefetch_related("vehicles").order_by("id")[:4])
    if part is None or supplier is None or len(customers) < 4:
        return
    day = datetime.timedelta(days=1)
    plans = [
        # (kind, placed days ago, ETA days after placement, received days ago, on the waiting lot)
        ("warranty", 6, 5, 0, True),  # R10: the repair task today, the arrival call within 3 days
        ("commercial", 14, 5, 9, False),  # R7: due 2 days ago — overdue
        ("warranty", 5, 20, None, False),  # R3: interim ETA calls every 3 days
        ("commercial", 40, 5, 31, False),  # not collected 30 days after arrival: a call every day
    ]
    for (kind, placed_ago, eta, received_ago, lot), customer in zip(plans, customers, strict=True):
        vehicle = customer.vehicles.first()
        order = order_services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=customer,
            vehicle=vehicle,
            kind=kind,
            lines=[{"part": part, "quantity": 1}],
            parts_manager=parts,
            on_waiting_lot=lot and vehicle is not None,
            long_term_agreed=True,
            comment=DEMO_MARK,
        )
        placed_at = now - placed_ago * day
        order = order_services.customer_order_place(
            actor=parts,
            order=order,
            supplier=supplier,
            supplier_order_number=f"DEMO-{order.pk}",
            expected_at=timezone.localtime(placed_at, dealership.tz).date() + eta * day,
            now=placed_at,
        )
        if received_ago is not None:
            line = order.lines.get()
            order_services.customer_order_receive(
                actor=parts, order=order, lines=[{"line": line.pk, "quantity": 1}], now=now - received_ago * day
            )


def load(*, users, dealership) -> None:
    now = timezone.now()
    # The orders app's demo (loaded first) brings its own orders; only without them do we make ours.
    if not CustomerOrder.objects.filter(dealership=dealership).exists():
        _orders(users=users, dealership=dealership, now=now)
    services.call_events_generate(now=now)
    # One recorded result, so the order list, the history and the report have something to show.
    if not CallEvent.objects.filter(dealership=dealership, status=CallStatus.DONE).exists():
        event = (
            CallEvent.objects.filter(dealership=dealership, status=CallStatus.OPEN)
            .exclude(kind="lot_repair")
            .order_by("due_date", "id")
            .first()
        )
        if event is not None:
            services.call_event_complete(
                actor=event.assignee,
                event=event,
                outcome="unreachable",
                comment="Не берёт трубку",
                now=now,
            )
