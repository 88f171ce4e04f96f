"""Demo call-backs: a few orders in every situation of seed 000 and the events the generator makes of them."""

import datetime

from django.utils import timezone

from dms.core.models import Customer
from orders import services as order_services
from orders.models import CustomerOrder
from parts.models import Part, Supplier

from . import services
from .models import CallEvent, CallKind, CallOutcome, CallStatus
from .services import local_today

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
        ("commercial", 45, 5, 38, False),  # not collected 30 days after arrival: a call every day (all week)
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
    # Our own orders, placed and received so that calls fall due on each day of the past week (on top of the orders
    # app's demo orders, whose timeline brings few calls): made once, recognised by their comment.
    if not CustomerOrder.objects.filter(dealership=dealership, comment=DEMO_MARK).exists():
        _orders(users=users, dealership=dealership, now=now)
    today = local_today(dealership, now)
    if not CallEvent.objects.filter(dealership=dealership, status=CallStatus.DONE, due_date__lt=today).exists():
        _last_week(dealership=dealership, now=now, today=today)
    services.call_events_generate(now=now)
    # One recorded result today, so the order list, the history and the report have something fresh to show.
    if not CallEvent.objects.filter(dealership=dealership, status=CallStatus.DONE, completed_on=today).exists():
        event = (
            CallEvent.objects.filter(dealership=dealership, status=CallStatus.OPEN, due_date__gte=today)
            .exclude(kind=CallKind.LOT_REPAIR)
            .order_by("due_date", "id")
            .first()
        )
        if event is not None:
            services.call_event_complete(
                actor=event.assignee, event=event, outcome="unreachable", comment="Не берёт трубку", now=now
            )
    _messages(dealership=dealership, now=now)


def _messages(*, dealership, now) -> None:
    """Issue 17 item 3: customers answering the arrival SMS — a question left to the advisor on «Мои звонки», a
    «да» that reaches the customer — and one text from a number nobody knows."""
    from .conversations import inbound_message_receive
    from .models import Delivery, InboundMessage

    if InboundMessage.objects.filter(provider_id__startswith=f"DEMO{dealership.pk}-").exists():
        return
    arrivals = Delivery.objects.filter(dealership=dealership, event__isnull=False, channel="sms").order_by("id")
    replies = ("Добрый день! Можно приехать в субботу утром?", "Да")
    for n, (delivery, text) in enumerate(zip(arrivals, replies, strict=False)):
        inbound_message_receive(provider_id=f"DEMO{dealership.pk}-{n}", sender=delivery.recipient, body=text, now=now)
    inbound_message_receive(
        provider_id=f"DEMO{dealership.pk}-unknown", sender="+79990001122", body="Здравствуйте, это сервис?", now=now
    )


# R14: what became of the calls due last week — in turn made on the day, a day late, never made.
WEEK_RESULTS = ("on_time", "late", "missed")


def _last_week(*, dealership, now, today) -> None:
    """A week of call-backs as the generator would have made them day by day, and the advisors' results, so the
    compliance report has on-time, late and missed rows (issue 14 item 7)."""
    day = datetime.timedelta(days=1)
    for days_ago in range(7, 0, -1):
        services.call_events_generate(now=now - days_ago * day, notify=False)
    due = (
        CallEvent.objects.filter(
            dealership=dealership, status=CallStatus.OPEN, due_date__gte=today - 7 * day, due_date__lt=today
        )
        .exclude(kind=CallKind.LOT_REPAIR)
        .select_related("assignee")
        .order_by("due_date", "id")
    )
    for index, event in enumerate(list(due)):
        result = WEEK_RESULTS[index % len(WEEK_RESULTS)]
        if result == "missed":
            continue
        late = result == "late"
        called = datetime.datetime.combine(event.due_date + day * late, datetime.time(12), tzinfo=dealership.tz)
        services.call_event_complete(
            actor=event.assignee,
            event=event,
            outcome=CallOutcome.REACHED if not late else CallOutcome.NO_ANSWER_LEFT_MESSAGE,
            comment="Клиент в курсе сроков" if not late else "Перезвонили на следующий день",
            now=min(called, now),
        )
