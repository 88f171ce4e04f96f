"""R20, R21: sales orders for wholesale and counter customers — inquiry, confirmed need, quote with stock check and
delivery term, order (stock reserved), invoice, payment, shipment with carrier, and the customer told of dispatch."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core import services as core_services
from dms.core.exceptions import ConflictError
from dms.core.models import Customer, Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import is_available, locked, run_transition
from dms.core.validation import check_owned

from .. import selectors, signals
from ..models import Part, Reservation, SalesOrder, SalesOrderLine, Warehouse
from .stock import _resolve_warehouse, clean_quantity, reservation_release, stock_issue, stock_reserve

ORDER_FIELDS = (
    "customer",
    "channel",
    "payment_method",
    "need_description",
    "delivery_method",
    "delivery_address",
    "warehouse",
)
EDITABLE = (SalesOrder.Status.INQUIRY, SalesOrder.Status.NEED_CONFIRMED)


@transaction.atomic
def sales_order_create(*, actor, dealership: Dealership, lines: list[dict] | None = None, **data: Any) -> SalesOrder:
    order = SalesOrder(dealership=dealership, **{k: v for k, v in data.items() if k in ORDER_FIELDS})
    customer: Customer = order.customer
    check_owned(dealership, by_verbose_name=True, customer=customer, warehouse=order.warehouse)
    # R20: an existing customer is routed to their assigned manager; otherwise whoever takes the inquiry.
    manager = customer.assigned_manager
    if manager is None or not manager.is_active or dealership.pk not in allowed_dealership_ids(manager):
        manager = actor
    order.manager = manager
    order.full_clean(exclude=["number", "status"])
    order.save()
    order.number = f"SO-{order.pk:06d}"  # not translated: numbers stay the same in every language
    order.save(update_fields=["number"])
    # R20: a new customer's first contact records the channel.
    if order.channel and not customer.first_contact_channel:
        core_services.customer_update(actor=actor, customer=customer, data={"first_contact_channel": order.channel})
    for line in lines or ():
        _add_line(order, **line)
    events.record_created(actor=actor, instance=order, fields=(*ORDER_FIELDS, "manager"))
    return order


def _add_line(order: SalesOrder, *, part: Part, quantity, unit_price=None) -> SalesOrderLine:
    check_owned(order.dealership, by_verbose_name=True, part=part)
    quantity = clean_quantity(quantity)
    price = part.price if unit_price in (None, "") else Decimal(str(unit_price))
    if price < 0:
        raise ValidationError({"unit_price": _("The price cannot be negative.")})
    return SalesOrderLine.objects.create(order=order, part=part, quantity=quantity, unit_price=price)


@transaction.atomic
def sales_order_add_line(*, actor, order: SalesOrder, part: Part, quantity, unit_price=None) -> SalesOrderLine:
    order = locked(order, "dealership", "customer")
    if order.status not in EDITABLE:
        raise ConflictError(_("Lines can only be changed before the quote is sent."))
    line = _add_line(order, part=part, quantity=quantity, unit_price=unit_price)
    events.record(
        actor=actor,
        instance=order,
        action="action",
        message=events.text(gettext_noop("Line added: %(line)s"), line=line),
    )
    return line


@transaction.atomic
def sales_order_remove_line(*, actor, line: SalesOrderLine) -> None:
    order = locked(line.order, "dealership", "customer")
    if order.status not in EDITABLE:
        raise ConflictError(_("Lines can only be changed before the quote is sent."))
    events.record(
        actor=actor,
        instance=order,
        action="action",
        message=events.text(gettext_noop("Line removed: %(line)s"), line=line),
    )
    line.delete()


@transaction.atomic
def sales_order_confirm_need(*, actor, order: SalesOrder, need_description: str = "") -> SalesOrder:
    order = locked(order, "dealership", "customer")
    if need_description:
        order.need_description = need_description
    run_transition(order, "confirm_need", actor=actor, conflict=_("Add at least one part before confirming the need."))
    return order


def _warehouse(order: SalesOrder) -> Warehouse:
    return _resolve_warehouse(order.dealership, order.warehouse)


@transaction.atomic
def sales_order_quote(*, actor, order: SalesOrder, delivery_days: int | None = None) -> SalesOrder:
    """R21: stock check per line and the delivery term (from stock: the given term or 1 day; otherwise the longest
    supplier term of the missing parts)."""
    order = locked(order, "dealership", "customer")
    warehouse = _warehouse(order)
    longest = 0
    for line in order.lines.select_related("part__default_supplier"):
        line.available_at_quote = selectors.stock_available(
            dealership=order.dealership, part=line.part, warehouse=warehouse
        )
        line.save(update_fields=["available_at_quote"])
        if line.available_at_quote < line.quantity:
            supplier = line.part.default_supplier
            longest = max(longest, supplier.delivery_days if supplier else 7)
    if delivery_days is not None and delivery_days < 0:
        raise ValidationError({"delivery_days": _("The delivery term cannot be negative.")})
    order.delivery_days = delivery_days if delivery_days is not None else max(longest, 1)
    order.warehouse = warehouse
    run_transition(order, "quote", actor=actor)
    return order


@transaction.atomic
def sales_order_place(*, actor, order: SalesOrder) -> SalesOrder:
    """The customer accepted the quote: what is in stock is reserved for the order."""
    order = locked(order, "dealership", "customer")
    run_transition(order, "place", actor=actor)
    warehouse = _warehouse(order)
    for line in order.lines.select_related("part"):
        free = selectors.stock_available(dealership=order.dealership, part=line.part, warehouse=warehouse)
        quantity = min(free, line.quantity)
        if quantity > 0:
            line.reservation = stock_reserve(
                actor=actor,
                dealership=order.dealership,
                part=line.part,
                quantity=quantity,
                reference=order.number,
                warehouse=warehouse,
            )
            line.save(update_fields=["reservation"])
    return order


def _next_invoice_number(order: SalesOrder) -> str:
    return f"INV-{order.pk:06d}"


@transaction.atomic
def sales_order_invoice(*, actor, order: SalesOrder) -> SalesOrder:
    order = locked(order, "dealership", "customer")
    if not order.lines.exists():
        raise ConflictError(_("The order has no lines."))
    order.invoice_number = _next_invoice_number(order)
    run_transition(order, "invoice", actor=actor)
    return order


@transaction.atomic
def sales_order_record_payment(*, actor, order: SalesOrder, amount, reference: str = "") -> SalesOrder:
    order = locked(order, "dealership", "customer")
    try:
        amount = Decimal(str(amount))
    except Exception:
        raise ValidationError({"amount": _("Enter a number.")}) from None
    if amount < order.total:
        raise ValidationError(
            {
                "amount": _("The payment %(amount)s is less than the invoice total %(total)s.")
                % {"amount": amount, "total": order.total}
            }
        )
    order.paid_amount = amount
    order.payment_reference = (reference or "").strip()[:100]
    run_transition(order, "record_payment", actor=actor, message=order.payment_reference)
    return order


@transaction.atomic
def sales_order_ship(
    *, actor, order: SalesOrder, carrier: str, tracking_number: str = "", now: datetime.datetime | None = None
) -> SalesOrder:
    """R21: a cash-less order ships only after payment; the shipment records the carrier; the goods leave the ledger
    as a counter sale; the customer is notified when they leave."""
    order = locked(order, "dealership", "customer")
    if not is_available(order, "ship"):
        raise ConflictError(_("Only an invoiced order can be shipped."))
    if not order.is_payment_settled():
        raise ConflictError(_("Cash-less order: shipping is blocked until the payment is recorded."))
    if not (carrier or "").strip():
        raise ValidationError({"carrier": _("Say who carries the goods (or “pickup”).")})
    order.carrier = carrier.strip()[:100]
    order.tracking_number = (tracking_number or "").strip()[:100]
    warehouse = _warehouse(order)
    for line in order.lines.select_related("part", "reservation"):
        reservation = (
            line.reservation if line.reservation and line.reservation.status == Reservation.Status.ACTIVE else None
        )
        stock_issue(
            actor=actor,
            dealership=order.dealership,
            part=line.part,
            quantity=line.quantity,
            reference=order.number,
            reservation=reservation,
            warehouse=None if reservation else warehouse,
            reason="counter_sale",
        )
    if order.paid_at is None:  # cash at the counter
        order.paid_at = now or timezone.now()
        order.paid_amount = order.total
    run_transition(order, "ship", actor=actor, message=f"{order.carrier} {order.tracking_number}".strip())
    notify_customer_of_dispatch(actor=actor, order=order, now=now)
    return order


@transaction.atomic
def sales_order_cancel(*, actor, order: SalesOrder, reason: str) -> SalesOrder:
    order = locked(order, "dealership", "customer")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the cancellation.")})
    order.cancel_reason = reason.strip()[:300]
    run_transition(order, "cancel", actor=actor, message=order.cancel_reason)
    for line in order.lines.select_related("reservation"):
        if line.reservation and line.reservation.status == Reservation.Status.ACTIVE:
            reservation_release(actor=actor, reservation=line.reservation)
    return order


def notify_customer_of_dispatch(*, actor, order: SalesOrder, now: datetime.datetime | None = None) -> bool:
    """R21: tell the customer the goods have left, on the customer's preferred channel (SMS or e-mail), through the
    notifications app's deliveries (recorded, retried, opt-outs honoured). Called inside the shipping transaction."""
    with translation.override(order.customer.message_language()):  # the customer's language (issue 17)
        subject = _("Your order %(number)s has been shipped") % {"number": order.number}
        body = _(
            "Dear %(name)s,\n\nyour order %(number)s has left our warehouse.\nCarrier: %(carrier)s\n"
            "Tracking number: %(tracking)s\n\n%(dealership)s"
        ) % {
            "name": order.customer.name,
            "number": order.number,
            "carrier": order.carrier,
            "tracking": order.tracking_number or "—",
            "dealership": order.dealership.name,
        }
    answers = signals.goods_dispatched.send(
        sender=SalesOrder,
        customer=order.customer,
        actor=actor,
        subject=subject,
        body=body,
        reference=f"dispatch:{order.number}",
    )
    notified = any(answer is not None for _receiver, answer in answers)
    if notified:
        order.customer_notified_at = now or timezone.now()
        order.save(update_fields=["customer_notified_at"])
    return notified
