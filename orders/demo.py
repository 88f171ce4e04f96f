"""Demo customer orders in every status (some overdue, one on the waiting lot, one long-term), made by the services.

Idempotent: each demo order carries a marker in its comment and is created only once.
"""

import datetime

from django.utils import timezone

from dms.core.models import Customer, Vehicle
from parts.models import Part, Supplier

from . import services
from .models import CustomerOrder

# (marker, customer index, kind, purpose, [(part index, qty)], days ago ordered, steps, extra)
# steps: "place:<eta days after placing>", "receive:<part index>:<qty>", "issue", "cancel", "return"
DEMO_ORDERS = [
    ("d1", 0, "warranty", "repair", [(2, 1), (6, 1)], 0, [], {}),
    ("d2", 1, "commercial", "counter_sale", [(0, 4)], 1, [], {"comment": "Заберёт сам"}),
    ("d3", 2, "warranty", "repair", [(4, 1)], 4, ["place:5"], {"on_waiting_lot": True}),
    ("d4", 3, "commercial", "repair", [(1, 2), (3, 4)], 12, ["place:5"], {}),  # ETA passed: overdue
    ("d5", 4, "commercial", "repair", [(5, 1)], 3, ["place:21"], {"long_term_agreed": True}),  # R4
    ("d6", 5, "warranty", "repair", [(2, 2), (0, 1)], 9, ["place:5", "receive:2:1"], {}),
    ("d7", 6, "commercial", "repair", [(7, 1), (0, 1)], 10, ["place:4", "receive:7:1", "receive:0:1"], {}),
    ("d8", 7, "warranty", "repair", [(3, 4)], 15, ["place:3", "receive:3:4", "issue"], {}),
    ("d9", 0, "commercial", "repair", [(1, 1)], 6, ["place:5", "cancel"], {}),
    ("d10", 1, "warranty", "repair", [(6, 1)], 8, ["place:4"], {}),  # overdue too
    # Issue 15 item 8: received, never collected, sent back to the supplier.
    ("d11", 2, "commercial", "repair", [(4, 1)], 45, ["place:3", "receive:4:1", "return"], {}),
]


def _marker(key: str) -> str:
    return f"[demo {key}]"


def load(*, users, dealership) -> None:
    customers = list(Customer.objects.filter(dealership=dealership).order_by("id")[:8])
    parts = list(Part.objects.filter(dealership=dealership).order_by("id")[:8])
    supplier = Supplier.objects.filter(dealership=dealership).order_by("id").first()
    if len(customers) < 8 or len(parts) < 8 or supplier is None:
        return
    advisor, manager = users["advisor"], users["parts"]
    keeper = users.get("storekeeper", manager)
    real_now = timezone.now()
    existing = set(
        CustomerOrder.objects.filter(dealership=dealership, comment__startswith="[demo ").values_list(
            "comment", flat=True
        )
    )
    for key, customer_index, kind, purpose, lines, days_ago, steps, extra in DEMO_ORDERS:
        marker = _marker(key)
        if any(comment.startswith(marker) for comment in existing):
            continue
        customer = customers[customer_index]
        vehicle = Vehicle.objects.filter(customer=customer).first() if purpose == "repair" else None
        if purpose == "repair" and vehicle is None:
            continue
        order = services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=customer,
            vehicle=vehicle,
            kind=kind,
            purpose=purpose,
            lines=[{"part": parts[i], "quantity": q} for i, q in lines],
            parts_manager=manager,
            on_waiting_lot=extra.get("on_waiting_lot", False),
            long_term_agreed=extra.get("long_term_agreed", False),
            comment=f"{marker} {extra.get('comment', '')}".strip(),
        )
        ordered_at = real_now - datetime.timedelta(days=days_ago)
        # The demo pretends the order was taken days ago, so the «Обзвон» column shows days waiting.
        CustomerOrder.objects.filter(pk=order.pk).update(created_at=ordered_at)
        step_at = ordered_at + datetime.timedelta(hours=2)
        for step in steps:
            name, *args = step.split(":")
            if name == "place":
                eta = timezone.localtime(step_at, dealership.tz).date() + datetime.timedelta(days=int(args[0]))
                services.customer_order_place(
                    actor=manager,
                    order=order,
                    supplier=supplier,
                    supplier_order_number=f"TMR-{order.number[-4:]}",
                    expected_at=eta,
                    now=step_at,
                )
            elif name == "receive":
                part = parts[int(args[0])]
                line = order.lines.get(part=part)
                services.customer_order_receive(
                    actor=keeper, order=order, lines=[{"line": line.pk, "quantity": int(args[1])}], now=step_at
                )
            elif name == "issue":
                services.customer_order_issue(actor=keeper, order=order, now=step_at)
            elif name == "cancel":
                services.customer_order_cancel(
                    actor=manager, order=order, reason="Клиент отказался от ремонта", now=step_at
                )
            elif name == "return":
                services.customer_order_return_to_supplier(
                    actor=manager, order=order, reason="Клиент не забрал запчасти", now=step_at
                )
            step_at = min(step_at + datetime.timedelta(days=2), real_now)
