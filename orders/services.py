"""Writes for customer orders. Each transition: lock, check, transition, save, audit, side effects on commit."""

import datetime
from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.formatting import plain_quantity
from dms.core.models import Customer, Dealership, Vehicle
from dms.core.transitions import audited_update, is_available, locked, run_transition
from dms.core.validation import check_staff, money_amount, next_document_number, positive_quantity
from dms.core.validators import vehicle_of_another_customer_error
from parts.models import LowStockAlert, Part, Reservation, Supplier
from parts.selectors import purchase_price
from parts.services import reservation_release, stock_issue, stock_receive

from . import signals
from .models import (
    LONG_DELIVERY_DAYS,
    CustomerOrder,
    CustomerOrderLine,
    OrderKind,
    OrderNumberCounter,
    OrderPurpose,
    OrderStatus,
    Receipt,
    ReceiptLine,
    SupplierOrder,
)


def _quantity(value: Any) -> Decimal:
    # An order line holds hundredths, below 10⁸ (CustomerOrderLine.quantity: 10 digits, 2 decimals).
    return positive_quantity(value, field="lines", places=2, below=Decimal("100000000"))


def _locked_for(order: CustomerOrder, transition: str, refusal: str) -> CustomerOrder:
    """The order under its row lock; 409 with ``refusal`` (given the number and status) when django-fsm has no
    ``transition`` from its status."""
    order = locked(order, "dealership")
    if not is_available(order, transition):
        raise ConflictError(refusal % {"number": order.number, "status": order.get_status_display()})
    return order


def _reason(reason: str, missing: str) -> str:
    """The reason a closing transition records (at most 500 characters); 400 with ``missing`` when empty."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": missing})
    return reason[:500]


def _transition(
    order: CustomerOrder, name: str, *, actor, at: datetime.datetime, message: str = "", **kwargs: Any
) -> CustomerOrder:
    """Run one of the order's transitions through the shared runner (role, save, audit) and announce the change
    after commit: ``status_changed`` carries the moment, so a listener never reads the order back for it."""
    source = order.status
    run_transition(order, name, actor=actor, message=message, at=at, **kwargs)
    order_id, target = order.pk, order.status
    transaction.on_commit(
        lambda: signals.status_changed.send(
            sender=CustomerOrder, order_id=order_id, source=source, target=target, at=at
        )
    )
    return order


def _order_lines(lines: Iterable[dict], dealership: Dealership) -> list[tuple[Part, Decimal]]:
    """(part, quantity) of a new order's lines: parts of the dealership, each once, at least one line."""
    parsed: list[tuple[Part, Decimal]] = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        part = line.get("part")
        if not isinstance(part, Part) or part.dealership_id != dealership.pk:
            raise ValidationError({"lines": _("Line %(n)s: unknown part.") % {"n": index + 1}})
        if part.pk in seen:
            raise ValidationError({"lines": _("Part %(part)s is listed twice.") % {"part": part.number}})
        seen.add(part.pk)
        parsed.append((part, _quantity(line.get("quantity"))))
    if not parsed:
        raise ValidationError({"lines": _("An order needs at least one line.")})
    return parsed


@transaction.atomic
def customer_order_create(
    *,
    actor,
    dealership: Dealership,
    customer: Customer,
    vehicle: Vehicle | None = None,
    kind: str,
    purpose: str = OrderPurpose.REPAIR,
    lines: Iterable[dict],
    parts_manager=None,
    on_waiting_lot: bool = False,
    long_term_agreed: bool = False,
    comment: str = "",
) -> CustomerOrder:
    errors: dict[str, str] = {}
    if customer.dealership_id != dealership.pk:
        errors["customer"] = _("Unknown customer.")
    if vehicle is not None:
        if vehicle.dealership_id != dealership.pk:
            errors["vehicle"] = _("Unknown vehicle.")
        elif owner_error := vehicle_of_another_customer_error(customer=customer, vehicle=vehicle):
            errors["vehicle"] = owner_error  # R15, the shared check
    if kind not in OrderKind.values:
        errors["kind"] = _("Unknown order kind.")
    if purpose not in OrderPurpose.values:
        errors["purpose"] = _("Unknown purpose.")
    elif purpose == OrderPurpose.REPAIR and vehicle is None:
        errors["vehicle"] = _("An order for a repair needs the vehicle.")
    if on_waiting_lot and vehicle is None:
        errors["on_waiting_lot"] = _("Only an order with a vehicle can wait on the lot.")
    if errors:
        raise ValidationError(errors)
    check_staff(dealership, parts_manager, field="parts_manager")

    parsed = _order_lines(lines, dealership)

    order = CustomerOrder(
        dealership=dealership,
        number=next_document_number(
            OrderNumberCounter, prefix=dealership.order_prefix, digits=9, dealership=dealership
        ),
        kind=kind,
        purpose=purpose,
        customer=customer,
        vehicle=vehicle,
        author=actor,
        parts_manager=parts_manager,
        on_waiting_lot=on_waiting_lot,
        long_term_agreed=long_term_agreed,
        comment=comment,
    )
    order.save()
    CustomerOrderLine.objects.bulk_create(
        CustomerOrderLine(order=order, part=part, quantity=quantity, unit_price=part.price) for part, quantity in parsed
    )
    events.record_created(
        actor=actor,
        instance=order,
        fields=["kind", "purpose", "customer", "vehicle", "parts_manager", "on_waiting_lot", "long_term_agreed"],
    )
    return order


@transaction.atomic
def customer_order_update(*, actor, order: CustomerOrder, data: dict[str, Any]) -> CustomerOrder:
    """Edit the order's working details (not its status, lines or dates: those follow the procedure)."""
    editable = ("parts_manager", "on_waiting_lot", "long_term_agreed", "comment")
    unknown = set(data) - set(editable)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})

    def check(row: CustomerOrder) -> None:
        if row.status in (OrderStatus.ISSUED, OrderStatus.CANCELLED):
            raise ConflictError(_("A closed order cannot be changed."))
        check_staff(row.dealership_id, data.get("parts_manager"), field="parts_manager")
        if row.on_waiting_lot and row.vehicle_id is None:
            raise ValidationError({"on_waiting_lot": _("Only an order with a vehicle can wait on the lot.")})

    return audited_update(order, actor=actor, data=data, allowed=editable, check=check)


@transaction.atomic
def customer_order_place(
    *,
    actor,
    order: CustomerOrder,
    supplier: Supplier,
    supplier_order_number: str,
    expected_at: datetime.date,
    long_term_agreed: bool | None = None,
    purchase_prices: dict[int, Any] | None = None,
    now: datetime.datetime | None = None,
) -> CustomerOrder:
    """Place the order with a supplier (R1, R4). Each line records its purchase price (issue 15 item 5): the one
    given in ``purchase_prices`` (line id → price) or else the supplier's price list on the placing date."""
    now = now or timezone.now()
    order = _locked_for(order, "place", _("Order %(number)s is already %(status)s; it can be placed only once."))
    errors = {}
    if supplier.dealership_id != order.dealership_id:
        errors["supplier"] = _("Unknown supplier.")
    if not (supplier_order_number or "").strip():
        errors["supplier_order_number"] = _("Enter the supplier's order number.")
    today = order.local_today(now)
    if expected_at is None:
        errors["expected_at"] = _("Enter the expected arrival date.")
    elif expected_at < today:
        errors["expected_at"] = _("The expected arrival date is in the past.")
    lines = list(order.lines.select_related("part"))
    given = _clean_purchase_prices(purchase_prices, lines, errors)
    if errors:
        raise ValidationError(errors)
    if long_term_agreed is not None:
        order.long_term_agreed = long_term_agreed
    # R4: a long delivery term needs the customer's recorded agreement.
    if (expected_at - today).days > LONG_DELIVERY_DAYS and not order.long_term_agreed:
        raise ValidationError(
            {
                "long_term_agreed": _(
                    "The ETA is more than %(days)s days away: record that the customer agreed to the long term."
                )
                % {"days": LONG_DELIVERY_DAYS}
            }
        )
    for line in lines:
        line.purchase_price = given.get(line.pk, purchase_price(part=line.part, supplier=supplier, on=today))
    CustomerOrderLine.objects.bulk_update(lines, ["purchase_price"])
    SupplierOrder.objects.create(
        dealership_id=order.dealership_id,
        customer_order=order,
        supplier=supplier,
        supplier_order_number=supplier_order_number.strip(),
        expected_at=expected_at,
        placed_by=actor,
        placed_at=now,
    )
    return _transition(
        order,
        "place",
        actor=actor,
        at=now,
        expected_at=expected_at,
        message=events.text(
            gettext_noop("Supplier %(supplier)s, order %(number)s, ETA %(eta)s"),
            supplier=supplier,
            number=supplier_order_number.strip(),
            eta=expected_at,
        ),
    )


# The largest purchase price a line can hold (CustomerOrderLine.purchase_price: 12 digits, 2 decimals).
MAX_PURCHASE_PRICE = Decimal("9999999999.99")


def _line_id(key: Any) -> int | None:
    """A line given by id or as the line itself (purchase prices are keyed either way)."""
    try:
        return int(getattr(key, "pk", key))
    except (TypeError, ValueError):
        return None


def _clean_purchase_prices(
    purchase_prices: dict[int, Any] | None, lines: list[CustomerOrderLine], errors: dict
) -> dict[int, Decimal]:
    """Explicit purchase prices per line of this order: a number from 0 to MAX_PURCHASE_PRICE (issue 15 item 5)."""
    cleaned: dict[int, Decimal] = {}
    by_id = {line.pk: line for line in lines}
    bounds = _("Enter a purchase price from 0 to %(max)s.") % {"max": MAX_PURCHASE_PRICE}
    for key, value in (purchase_prices or {}).items():
        line_id = _line_id(key)
        if line_id not in by_id:
            errors["purchase_prices"] = _("Unknown order line.")
            continue
        try:
            price = money_amount(
                value,
                field="purchase_prices",
                required=False,  # not given: the price list decides
                maximum=MAX_PURCHASE_PRICE,
                invalid=bounds,
                out_of_range=bounds,
            )
        except ValidationError as error:
            errors.update(error.message_dict)
            continue
        if price is not None:
            cleaned[line_id] = price
    return cleaned


@transaction.atomic
def customer_order_receive(
    *,
    actor,
    order: CustomerOrder,
    lines: Iterable[dict],
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Receipt:
    """Record arrived parts per line (R2). ``lines`` is ``[{"line": line id or CustomerOrderLine, "quantity": q}]``."""
    now = now or timezone.now()
    order = locked(order, "dealership")
    if not is_available(order, "receive"):
        if is_available(order, "place"):
            raise ConflictError(_("Order %(number)s is not placed with a supplier yet.") % {"number": order.number})
        raise ConflictError(
            _("Order %(number)s is %(status)s: nothing more can be received.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    # Only the lines are locked here (of=self): the parts' rows are locked one by one by the stock ledger, in part
    # order (_stock_in). Locking the joined parts too, in no order, deadlocked two receipts of orders sharing parts
    # (issue 19 item 4: seen under load with threaded workers).
    order_lines = {
        line.pk: line for line in order.lines.select_for_update(of=("self",)).select_related("part").order_by("pk")
    }
    wanted: dict[int, Decimal] = {}
    for item in lines:
        ref = item.get("line")
        line_id = ref.pk if isinstance(ref, CustomerOrderLine) else ref
        if not isinstance(line_id, int) or line_id not in order_lines:
            raise ValidationError({"lines": _("Line %(line)s is not a line of this order.") % {"line": line_id}})
        if line_id in wanted:
            raise ValidationError({"lines": _("Line %(line)s is listed twice.") % {"line": line_id}})
        wanted[line_id] = _quantity(item.get("quantity"))
    if not wanted:
        raise ValidationError({"lines": _("Enter at least one received line.")})
    for line_id, quantity in wanted.items():
        line = order_lines[line_id]
        if line.quantity_received + quantity > line.quantity:
            raise ValidationError(
                {
                    "lines": _(
                        "Part %(part)s: %(ordered)s ordered, %(received)s already received — "
                        "at most %(left)s more can be received."
                    )
                    % {
                        "part": line.part.number,
                        "ordered": plain_quantity(line.quantity),
                        "received": plain_quantity(line.quantity_received),
                        "left": plain_quantity(line.quantity_outstanding),
                    }
                }
            )
    receipt = Receipt.objects.create(
        dealership_id=order.dealership_id, order=order, received_by=actor, received_at=now, comment=comment
    )
    for line_id, quantity in wanted.items():
        line = order_lines[line_id]
        line.quantity_received += quantity
        line.save(update_fields=["quantity_received"])
        ReceiptLine.objects.create(receipt=receipt, line=line, quantity=quantity)
    _stock_in(actor=actor, order=order, receipt=receipt, received={order_lines[k]: v for k, v in wanted.items()})
    _transition(
        order,
        "receive",
        actor=actor,
        at=now,
        message=", ".join(f"{order_lines[k].part.number} × {plain_quantity(v)}" for k, v in wanted.items()),
    )
    if order.status == OrderStatus.RECEIVED:
        _supplier_delay_record_add(order=order)
    order_id, receipt_id = order.pk, receipt.pk
    transaction.on_commit(
        lambda: signals.parts_received.send(sender=CustomerOrder, order_id=order_id, receipt_id=receipt_id)
    )
    return receipt


# Issue 19: one more fully received order in the supplier's delay record; an upsert, so two receipts of the same
# supplier at once both count (the row lock of ON CONFLICT DO UPDATE serialises them).
_DELAY_RECORD_ADD_SQL = """
    INSERT INTO orders_supplierdelayrecord (supplier_id, received_orders, delay_days) VALUES (%s, 1, %s)
    ON CONFLICT (supplier_id) DO UPDATE
       SET received_orders = orders_supplierdelayrecord.received_orders + 1,
           delay_days = orders_supplierdelayrecord.delay_days + EXCLUDED.delay_days
"""


def _supplier_delay_record_add(*, order: CustomerOrder) -> None:
    """The order's parts have all arrived: its delay (days from the supplier's ETA to the day the last part arrived,
    0 when on time, in the dealership's calendar — orders.promises) joins its supplier's record, in the receipt's
    transaction. Derived data, not an audited change: the receipt's own audit entry records the event."""
    placed = SupplierOrder.objects.filter(customer_order=order).values_list("supplier_id", "expected_at").first()
    if placed is None or order.received_at is None:
        return
    supplier_id, expected_at = placed
    received_on = timezone.localtime(order.received_at, order.dealership.tz).date()
    with connection.cursor() as cursor:
        cursor.execute(_DELAY_RECORD_ADD_SQL, [supplier_id, max((received_on - expected_at).days, 0)])


# The records rebuilt from the history of fully received orders (the same formula as the data migration's).
_DELAY_RECORDS_REBUILD_SQL = """
    INSERT INTO orders_supplierdelayrecord (supplier_id, received_orders, delay_days)
    SELECT so.supplier_id, COUNT(*), SUM(GREATEST((co.received_at AT TIME ZONE d.time_zone)::date - so.expected_at, 0))
      FROM orders_supplierorder AS so
      JOIN orders_customerorder AS co ON co.id = so.customer_order_id
      JOIN core_dealership AS d ON d.id = so.dealership_id
     WHERE co.received_at IS NOT NULL
     GROUP BY so.supplier_id
"""


@transaction.atomic
def supplier_delay_records_rebuild() -> int:
    """Issue 19: every supplier's delay record recomputed from the history — after rows were written around
    ``customer_order_receive`` (bulk seeding in bench/, a restored dump) or a dealership's time zone changed.
    Returns the number of records."""
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE orders_supplierdelayrecord IN EXCLUSIVE MODE")
        cursor.execute("DELETE FROM orders_supplierdelayrecord")
        cursor.execute(_DELAY_RECORDS_REBUILD_SQL)
        return cursor.rowcount


def _stock_in(*, actor, order: CustomerOrder, receipt: Receipt, received: dict[CustomerOrderLine, Decimal]) -> None:
    """Arrived parts go into the warehouse, reserved for this order.

    Issue 15 item 5: costed at the line's purchase price (recorded when placing); when it is unknown, ``None`` makes
    the ledger cost it at the warehouse's current average, so the moving average does not move. Never at the
    selling price (``unit_price``), which once pushed a 4,805 part in at 6,200."""
    # Issue 15 item 6: a replenishment order restocks the warehouse its low-stock alert (R27) was raised for.
    alert = order.low_stock_alert if order.low_stock_alert_id else None
    # In part order: every transaction locks parts in the same order, so two receipts never wait on each other.
    for line, quantity in sorted(received.items(), key=lambda item: item[0].part_id):
        stock_receive(
            actor=actor,
            dealership=order.dealership,
            part=line.part,
            quantity=quantity,
            unit_cost=line.purchase_price,
            reference=f"{order.number} / {receipt.pk}",
            # Issue 15 item 6: parts ordered for the warehouse (R27) are free stock, reserved for nobody.
            reserve_for_order_id=None if order.purpose == OrderPurpose.STOCK else order.pk,
            **({"warehouse": alert.warehouse} if alert is not None else {}),
        )


@transaction.atomic
def customer_order_issue(*, actor, order: CustomerOrder, now: datetime.datetime | None = None) -> CustomerOrder:
    now = now or timezone.now()
    refusal = _("Order %(number)s is %(status)s: only a fully received order can be issued.")
    return _transition(_locked_for(order, "issue", refusal), "issue", actor=actor, at=now)


@transaction.atomic
def customer_order_cancel(
    *, actor, order: CustomerOrder, reason: str, now: datetime.datetime | None = None
) -> CustomerOrder:
    now = now or timezone.now()
    reason = _reason(reason, _("Enter the reason for cancelling."))
    order = _locked_for(order, "cancel", _("Order %(number)s is %(status)s and can no longer be cancelled."))
    return _transition(order, "cancel", actor=actor, at=now, reason=reason, message=reason)


@transaction.atomic
def customer_order_return_to_supplier(
    *, actor, order: CustomerOrder, reason: str, now: datetime.datetime | None = None
) -> CustomerOrder:
    """Issue 15 item 8: received parts the customer never collected go back to the supplier.

    The order ends in «Возвращён поставщику»; its stock reservations are released and the parts leave the
    warehouse (a «Return to supplier» ledger row per reservation); its open call events are cancelled by the
    notifications app on the status change (no more "uncollected" calls)."""
    now = now or timezone.now()
    reason = _reason(reason, _("Enter the reason for the return."))
    refusal = _("Order %(number)s is %(status)s: only received, uncollected parts can be returned to the supplier.")
    order = _locked_for(order, "return_to_supplier", refusal)
    _transition(order, "return_to_supplier", actor=actor, at=now, reason=reason, message=reason)
    reservations = Reservation.objects.filter(
        dealership=order.dealership, customer_order_id=order.pk, status=Reservation.Status.ACTIVE
    ).select_related("part", "warehouse")
    for reservation in reservations:
        quantity = reservation.remaining
        reservation_release(actor=actor, reservation=reservation)
        stock_issue(
            actor=actor,
            dealership=order.dealership,
            part=reservation.part,
            quantity=quantity,
            warehouse=reservation.warehouse,
            reference=order.number,
            reason="return_to_supplier",
            note=reason[:300],
        )
    return order


# -- issue 15 item 6: batch work ----------------------------------------------------------------------------------
def _service_messages(error: Exception) -> list[str]:
    """The plain messages of a service error (a ValidationError's per-field messages, or a conflict's text)."""
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(getattr(error, "message", "") or error)]


@transaction.atomic
def customer_order_place_batch(
    *,
    actor,
    dealership: Dealership,
    orders: Iterable[CustomerOrder],
    supplier: Supplier,
    supplier_order_number: str,
    expected_at: datetime.date,
    long_term_agreed: bool | None = None,
    purchase_prices: dict[int, Any] | None = None,
    now: datetime.datetime | None = None,
) -> list[CustomerOrder]:
    """Place several «Неразмещён» orders as ONE supplier order (issue 15 item 6): each through
    ``customer_order_place`` (R1, R4 and the purchase prices of item 5 hold per order), all sharing the supplier's
    order number, all or nothing. Every order that cannot be placed is named in the error, not only the first."""
    now = now or timezone.now()
    orders = list(orders)
    if not orders:
        raise ValidationError({"orders": _("Choose at least one order.")})
    ids = [order.pk for order in orders]
    if len(set(ids)) != len(ids):
        raise ValidationError({"orders": _("An order is listed twice.")})
    foreign = [order for order in orders if order.dealership_id != dealership.pk]
    if foreign:
        raise ValidationError({"orders": _("Unknown order: %(id)s.") % {"id": foreign[0].pk}})
    # Purchase prices are given per line id across all the orders; each order gets the prices of its own lines.
    line_order = dict(CustomerOrderLine.objects.filter(order_id__in=ids).values_list("pk", "order_id"))
    prices_by_order: dict[int, dict[int, Any]] = {}
    for key, value in (purchase_prices or {}).items():
        line_id = _line_id(key)
        if line_id not in line_order:
            raise ValidationError({"purchase_prices": _("Unknown order line.")})
        prices_by_order.setdefault(line_order[line_id], {})[line_id] = value
    errors: list[str] = []
    placed: list[CustomerOrder] = []
    for order in sorted(orders, key=lambda item: item.pk):  # one lock order: no deadlock between two batches
        try:
            with transaction.atomic():  # a savepoint: a failed order leaves nothing behind while the rest are tried
                placed.append(
                    customer_order_place(
                        actor=actor,
                        order=order,
                        supplier=supplier,
                        supplier_order_number=supplier_order_number,
                        expected_at=expected_at,
                        long_term_agreed=long_term_agreed,
                        purchase_prices=prices_by_order.get(order.pk),
                        now=now,
                    )
                )
        except (ValidationError, ConflictError) as error:
            number = order.number
            errors.extend(
                _("Order %(number)s: %(message)s") % {"number": number, "message": message}
                for message in _service_messages(error)
            )
    if errors:
        # All or nothing: raising rolls back the orders that were placed.
        raise ValidationError({"orders": errors})
    return placed


@transaction.atomic
def customer_order_receive_batch(
    *,
    actor,
    dealership: Dealership,
    supplier: Supplier,
    supplier_order_number: str,
    lines: Iterable[dict],
    comment: str = "",
    now: datetime.datetime | None = None,
) -> list[Receipt]:
    """Receive one supplier delivery against every customer order placed under its number (issue 15 item 6).

    ``lines`` is ``[{"order": order id or CustomerOrder, "line": line id, "quantity": q}]``; a zero quantity means
    nothing arrived for that line. Each order is received through ``customer_order_receive`` (R2 statuses, stock
    reserved for that order), all in one transaction: any error rolls every order back and names each failing one."""
    now = now or timezone.now()
    number = (supplier_order_number or "").strip()
    if supplier.dealership_id != dealership.pk:
        raise ValidationError({"supplier": _("Unknown supplier.")})
    placed = {
        order.pk: order
        for order in CustomerOrder.objects.filter(
            dealership=dealership,
            supplier_order__supplier=supplier,
            supplier_order__supplier_order_number=number,
        )
    }
    if not placed:
        raise ValidationError({"supplier_order_number": _("No order is placed with this supplier under this number.")})
    wanted: dict[int, list[dict]] = {}
    for item in lines:
        ref = item.get("order")
        order_id = ref.pk if isinstance(ref, CustomerOrder) else ref
        if not isinstance(order_id, int) or order_id not in placed:
            raise ValidationError(
                {"lines": _("Order %(order)s is not placed under this supplier order.") % {"order": order_id}}
            )
        quantity = item.get("quantity")
        try:
            nothing = Decimal(str(quantity)) == 0
        except (InvalidOperation, ValueError, TypeError):
            nothing = False
        if nothing:
            continue
        wanted.setdefault(order_id, []).append({"line": item.get("line"), "quantity": quantity})
    if not wanted:
        raise ValidationError({"lines": _("Enter the quantity that arrived for at least one line.")})
    errors: list[str] = []
    receipts: list[Receipt] = []
    for order_id in sorted(wanted):
        order = placed[order_id]
        try:
            with transaction.atomic():
                receipts.append(
                    customer_order_receive(actor=actor, order=order, lines=wanted[order_id], comment=comment, now=now)
                )
        except (ValidationError, ConflictError) as error:
            errors.extend(
                _("Order %(number)s: %(message)s") % {"number": order.number, "message": message}
                for message in _service_messages(error)
            )
    if errors:
        raise ValidationError({"lines": errors})
    return receipts


# Marks the dealership's own customer record that stock replenishment orders are written to (a customer order needs
# a customer; the warehouse is its own customer).
WAREHOUSE_CUSTOMER_MARK = "dms:warehouse-replenishment"


def _warehouse_customer(dealership: Dealership) -> Customer:
    customer = Customer.objects.filter(dealership=dealership, notes=WAREHOUSE_CUSTOMER_MARK).order_by("pk").first()
    if customer is None:
        customer = Customer.objects.create(
            dealership=dealership,
            name=_("Warehouse: stock replenishment"),
            phone=dealership.phone or "",
            notes=WAREHOUSE_CUSTOMER_MARK,
        )
    return customer


@transaction.atomic
def customer_order_replenish(*, actor, alert: LowStockAlert) -> tuple[CustomerOrder, bool]:
    """Issue 15 item 6, R27: the replenishment order for a low-stock alert — a «Неразмещён» order of purpose
    "stock replenishment" for the suggested quantity, linked to the alert. Once per alert: a second call returns
    the existing order (``created`` False)."""
    alert = LowStockAlert.objects.select_for_update().select_related("dealership", "part").get(pk=alert.pk)
    existing = CustomerOrder.objects.filter(low_stock_alert=alert).first()
    if existing is not None:
        return existing, False
    if alert.status != LowStockAlert.Status.OPEN:
        raise ConflictError(_("The alert is closed: the stock has recovered."))
    # The alert suggests in thousandths; an order line holds hundredths: round up, never order less.
    quantity = alert.suggested_quantity.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    if quantity <= 0:
        raise ValidationError({"quantity": _("The alert suggests no quantity to order.")})
    order = customer_order_create(
        actor=actor,
        dealership=alert.dealership,
        customer=_warehouse_customer(alert.dealership),
        kind=OrderKind.COMMERCIAL,
        purpose=OrderPurpose.STOCK,
        lines=[{"part": alert.part, "quantity": quantity}],
        comment=_("Low-stock alert: %(part)s at %(warehouse)s")
        % {"part": alert.part.number, "warehouse": alert.warehouse},
    )
    order.low_stock_alert = alert
    order.save(update_fields=["low_stock_alert", "updated_at"])
    return order, True
