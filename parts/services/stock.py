"""The stock ledger. Every change of stock is a StockMovement row written in the same transaction as the locked
balance it changes, so on-hand always equals the sum of the ledger (issue 5 §1).

Stock never goes negative and reservations never exceed on-hand (§2): the services check first (to give a clear
message), the balance row is locked with SELECT ... FOR UPDATE so concurrent issues queue up, and CHECK constraints
in the database refuse anything that slips through.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.formatting import plain_quantity
from dms.core.models import Dealership
from dms.core.references import resolve_reference
from dms.core.transitions import audited_create, audited_update, locked, record_writes
from dms.core.validation import check_owned, positive_quantity

from .. import selectors
from ..models import (
    Location,
    LowStockAlert,
    MovementKind,
    Part,
    Reservation,
    StockBalance,
    StockMovement,
    Warehouse,
)

User = get_user_model()

COST_STEP = Decimal("0.0001")
ISSUE_REASONS = {
    "work_order": MovementKind.ISSUE,
    "counter_sale": MovementKind.COUNTER_SALE,
    "write_off": MovementKind.WRITE_OFF,
    "return_to_supplier": MovementKind.RETURN_OUT,
}
WAREHOUSE_FIELDS = ("code", "name", "is_default", "is_active")
LOCATION_FIELDS = ("warehouse", "code", "description", "is_active")


# ---------------------------------------------------------------------------------------------------------------------
# Input checks


def clean_quantity(value: Any, field: str = "quantity") -> Decimal:
    """A quantity of parts: greater than zero, at most three decimal places (the ledger's precision)."""
    return positive_quantity(value, field=field, places=3, too_precise=_("Use at most three decimal places."))


def clean_cost(value: Any, field: str = "unit_cost") -> Decimal:
    try:
        cost = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not cost.is_finite() or cost < 0:
        raise ValidationError({field: _("The cost cannot be negative.")})
    return cost.quantize(COST_STEP, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------------------------------
# Warehouses and bins


def default_warehouse(dealership: Dealership) -> Warehouse:
    """The dealership's default warehouse; the first one is created on demand ("MAIN")."""
    # One statement answers both "is there a default?" and "is there any warehouse?": read as two, a first warehouse
    # created by a concurrent receipt between them made this receipt fail with "no default warehouse" (issue 19).
    first = Warehouse.objects.filter(dealership=dealership).order_by("-is_default", "pk").first()
    if first is None:
        # Two first receipts at once: the partial unique index lets only one default in, the other reads it.
        Warehouse.objects.bulk_create(
            [Warehouse(dealership=dealership, code="MAIN", name=_("Main warehouse"), is_default=True)],
            ignore_conflicts=True,
        )
        first = Warehouse.objects.filter(dealership=dealership, is_default=True).first()
    if first is None or not first.is_default:
        raise ValidationError({"warehouse": _("Choose a warehouse: the dealership has no default warehouse.")})
    return first


def _resolve_warehouse(dealership: Dealership, warehouse: Warehouse | None) -> Warehouse:
    if warehouse is None:
        return default_warehouse(dealership)
    check_owned(dealership, by_verbose_name=True, warehouse=warehouse)
    if not warehouse.is_active:
        raise ValidationError({"warehouse": _("The warehouse is closed.")})
    return warehouse


def _clean_warehouse(warehouse: Warehouse) -> None:
    """One code per dealership; one default warehouse (setting a new default clears the old one)."""
    warehouse.code = (warehouse.code or "").strip().upper()
    others = Warehouse.objects.filter(dealership_id=warehouse.dealership_id).exclude(pk=warehouse.pk)
    if others.filter(code=warehouse.code).exists():
        raise ValidationError({"code": _("A warehouse with this code already exists.")})
    warehouse.full_clean(validate_constraints=False)
    if warehouse.is_default:
        others.filter(is_default=True).update(is_default=False)


def _clean_new_warehouse(warehouse: Warehouse) -> None:
    if not Warehouse.objects.filter(dealership_id=warehouse.dealership_id, is_default=True).exists():
        warehouse.is_default = True  # the dealership's first warehouse is its default
    _clean_warehouse(warehouse)


warehouse_create, warehouse_update = record_writes(
    Warehouse, entity="warehouse", allowed=WAREHOUSE_FIELDS, check=_clean_warehouse, check_new=_clean_new_warehouse
)


def _clean_location(location: Location) -> None:
    """One code per warehouse; a bin still holding stock cannot be closed — its parts would be shelved in a place
    nobody may choose any more (issue 15 item 9)."""
    location.code = (location.code or "").strip().upper()
    if Location.objects.filter(warehouse_id=location.warehouse_id, code=location.code).exclude(pk=location.pk):
        raise ValidationError({"code": _("This bin already exists in the warehouse.")})
    if not location.is_active:
        holding = StockBalance.objects.filter(location=location, on_hand__gt=0).count()
        if holding:
            raise ValidationError(
                {
                    "is_active": ngettext(
                        "The bin still holds %(count)d part in stock: move it to another bin first.",
                        "The bin still holds %(count)d parts in stock: move them to other bins first.",
                        holding,
                    )
                    % {"count": holding}
                }
            )
    location.full_clean(validate_constraints=False)


def _clean_new_location(location: Location) -> None:
    check_owned(location.dealership_id, by_verbose_name=True, warehouse=location.warehouse)
    _clean_location(location)


@transaction.atomic
def location_create(*, actor, dealership: Dealership, **data: Any) -> Location:
    return audited_create(
        Location, actor=actor, data=data, allowed=LOCATION_FIELDS, check=_clean_new_location, dealership=dealership
    )


@transaction.atomic
def location_update(*, actor, location: Location, data: dict[str, Any]) -> Location:
    """Rename, describe, deactivate or reopen a bin (issue 15 item 9); pages, API and admin call this.

    A bin stays in its warehouse: the stock balances placed in it belong to that warehouse.
    """
    wanted_warehouse = data.get("warehouse")
    if wanted_warehouse is not None and wanted_warehouse.pk != location.warehouse_id:
        raise ValidationError({"warehouse": _("A bin cannot move to another warehouse; create a new bin there.")})
    editable = [name for name in LOCATION_FIELDS if name != "warehouse"]
    return audited_update(location, actor=actor, data=data, allowed=editable, check=_clean_location)


# ---------------------------------------------------------------------------------------------------------------------
# Balances, locks and the ledger


def _lock_balance(dealership: Dealership, part: Part, warehouse: Warehouse) -> StockBalance:
    """The balance row of (part, warehouse), created if missing, locked until the transaction ends."""
    qs = StockBalance.objects.select_for_update(of=("self",))
    balance = qs.filter(part=part, warehouse=warehouse).first()
    if balance is None:
        StockBalance.objects.bulk_create(
            [StockBalance(dealership=dealership, part=part, warehouse=warehouse)], ignore_conflicts=True
        )
        balance = qs.get(part=part, warehouse=warehouse)
    balance.part = part
    balance.warehouse = warehouse
    return balance


def _lock_balances_in_order(dealership: Dealership, part: Part, *warehouses: Warehouse) -> dict[int, StockBalance]:
    # Always lock in warehouse-id order so that two transfers in opposite directions cannot deadlock.
    return {w.pk: _lock_balance(dealership, part, w) for w in sorted(warehouses, key=lambda w: w.pk)}


def _not_enough(balance: StockBalance, wanted: Decimal) -> ValidationError:
    return ValidationError(
        {
            "quantity": _(
                "Not enough stock of %(part)s in %(warehouse)s: %(available)s %(unit)s available "
                "(on hand %(on_hand)s, reserved %(reserved)s), %(wanted)s requested."
            )
            % {
                "part": balance.part.number,
                "warehouse": balance.warehouse.name,
                "available": plain_quantity(balance.available),
                "unit": balance.part.get_unit_display(),
                "on_hand": plain_quantity(balance.on_hand),
                "reserved": plain_quantity(balance.reserved),
                "wanted": plain_quantity(wanted),
            }
        }
    )


def _post(
    *,
    actor,
    balance: StockBalance,
    kind: str,
    quantity: Decimal,
    unit_cost: Decimal | None = None,
    reference: str = "",
    reason: str = "",
    reservation: Reservation | None = None,
    work_order_ref: str = "",
    work_order_id: int | None = None,
    job_id: int | None = None,
    occurred_at=None,
) -> StockMovement:
    """Write one ledger row and apply it to the (locked) balance. ``quantity`` is signed: + in, - out."""
    new_on_hand = balance.on_hand + quantity
    if new_on_hand < 0 or new_on_hand < balance.reserved:
        raise _not_enough(balance, -quantity)
    if quantity > 0:
        cost = balance.average_cost if unit_cost is None else unit_cost
        # Moving average cost: the value of what is there plus what arrives, over the new quantity.
        balance.average_cost = ((balance.on_hand * balance.average_cost + quantity * cost) / new_on_hand).quantize(
            COST_STEP, rounding=ROUND_HALF_UP
        )
    else:
        cost = balance.average_cost
    balance.on_hand = new_on_hand
    balance.save(update_fields=["on_hand", "reserved", "average_cost", "updated_at"])
    movement = StockMovement.objects.create(
        dealership_id=balance.dealership_id,
        part=balance.part,
        warehouse=balance.warehouse,
        kind=kind,
        quantity=quantity,
        unit_cost=cost,
        on_hand_after=new_on_hand,
        occurred_at=occurred_at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reference=reference[:100],
        reason=reason[:300],
        reservation=reservation,
        work_order_ref=work_order_ref[:50],
        work_order_id=work_order_id,
        job_id=job_id,
    )
    check_low_stock(balance=balance)
    return movement


@transaction.atomic
def stock_receive(
    *,
    actor,
    dealership: Dealership,
    part: Part,
    quantity,
    unit_cost: Decimal | str | int | None,
    warehouse: Warehouse | None = None,
    reference: str = "",
    reserve_for_order_id: int | None = None,
) -> StockMovement:
    """A receipt from the supplier. With ``reserve_for_order_id`` the received quantity is reserved for that
    customer order (issue 5 §2: receipts for customer orders reserve what arrived).

    ``unit_cost=None``: the purchase price is unknown, so the receipt is costed at the warehouse's current average
    cost of the part and the moving average does not move (issue 15 item 5) — never guessed from a selling price."""
    quantity = clean_quantity(quantity)
    unit_cost = None if unit_cost is None else clean_cost(unit_cost)
    check_owned(dealership, by_verbose_name=True, part=part)
    if reserve_for_order_id is not None:
        # Issue 12 item 6: only an existing order of this dealership (the reservation's foreign key names the model,
        # so parts, below orders, does not import it).
        reserve_for_order_id = resolve_reference(
            Reservation.customer_order.field.related_model,
            reserve_for_order_id,
            dealership=dealership,
            field="reserve_for_order_id",
        ).pk
    warehouse = _resolve_warehouse(dealership, warehouse)
    balance = _lock_balance(dealership, part, warehouse)
    reservation = None
    if reserve_for_order_id is not None:
        reservation = Reservation.objects.create(
            dealership=dealership,
            part=part,
            warehouse=warehouse,
            quantity=quantity,
            reference=reference or _("Customer order #%(id)s") % {"id": reserve_for_order_id},
            customer_order_id=reserve_for_order_id,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        balance.reserved += quantity
    movement = _post(
        actor=actor,
        balance=balance,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        unit_cost=unit_cost,
        reference=reference,
        reason=_("Receipt from supplier"),
        reservation=reservation,
    )
    if reservation is not None:
        events.record_created(actor=actor, instance=reservation, fields=("quantity", "reference", "customer_order_id"))
    return movement


@transaction.atomic
def stock_reserve(
    *, actor, dealership: Dealership, part: Part, quantity, reference: str, warehouse: Warehouse | None = None
) -> Reservation:
    """Reserve free stock for a job or order; refuses (400) when less is available than asked."""
    quantity = clean_quantity(quantity)
    if not (reference or "").strip():
        raise ValidationError({"reference": _("Say what the parts are reserved for.")})
    check_owned(dealership, by_verbose_name=True, part=part)
    warehouse = _resolve_warehouse(dealership, warehouse)
    balance = _lock_balance(dealership, part, warehouse)
    if balance.available < quantity:
        raise _not_enough(balance, quantity)
    balance.reserved += quantity
    balance.save(update_fields=["reserved", "updated_at"])
    reservation = Reservation.objects.create(
        dealership=dealership,
        part=part,
        warehouse=warehouse,
        quantity=quantity,
        reference=reference.strip()[:100],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    events.record_created(actor=actor, instance=reservation, fields=("quantity", "reference"))
    check_low_stock(balance=balance)
    return reservation


def _lock_reservation(reservation: Reservation) -> tuple[StockBalance, Reservation]:
    part = Part.objects.get(pk=reservation.part_id)
    warehouse = Warehouse.objects.get(pk=reservation.warehouse_id)
    balance = _lock_balance(warehouse.dealership, part, warehouse)
    row = locked(reservation)
    row.part, row.warehouse = part, warehouse
    return balance, row


@transaction.atomic
def reservation_release(*, actor, reservation: Reservation) -> Reservation:
    """Give the not-yet-issued part of a reservation back to free stock."""
    balance, reservation = _lock_reservation(reservation)
    if reservation.status != Reservation.Status.ACTIVE:
        raise ConflictError(_("This reservation is no longer active."))
    balance.reserved -= reservation.remaining
    balance.save(update_fields=["reserved", "updated_at"])
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    events.record_transition(
        actor=actor, instance=reservation, source=Reservation.Status.ACTIVE, target=Reservation.Status.RELEASED
    )
    check_low_stock(balance=balance)
    return reservation


@transaction.atomic
def stock_issue(
    *,
    actor,
    dealership: Dealership,
    part: Part,
    quantity,
    reference: str,
    reservation: Reservation | None = None,
    warehouse: Warehouse | None = None,
    reason: str = "work_order",
    work_order_ref: str = "",
    work_order_id: int | None = None,
    job_id: int | None = None,
    note: str = "",
) -> StockMovement:
    """Stock leaves the warehouse: to a work order, a counter sale, a write-off or back to the supplier.

    With a reservation the reserved quantity is consumed first; anything beyond it must be free stock.
    ``work_order_id``/``job_id`` (issue 15 item 2, R32) are the work order and job a requisition resolved
    (``requisition_issue``): the row carries them so the parts cost lands on that job.
    """
    quantity = clean_quantity(quantity)
    kind = ISSUE_REASONS.get(reason)
    if kind is None:
        raise ValidationError({"reason": _("Unknown reason for the issue.")})
    if not (reference or "").strip():
        raise ValidationError({"reference": _("Give the document the parts are issued against.")})
    if kind == MovementKind.WRITE_OFF and not (note or "").strip():
        raise ValidationError({"note": _("Explain why the parts are written off.")})
    check_owned(dealership, by_verbose_name=True, part=part, reservation=reservation)
    if reservation is not None:
        if reservation.part_id != part.pk:
            raise ValidationError({"reservation": _("The reservation is for another part.")})
        if warehouse is not None and warehouse.pk != reservation.warehouse_id:
            raise ValidationError({"reservation": _("The reservation is in another warehouse.")})
        balance, reservation = _lock_reservation(reservation)
        if reservation.status != Reservation.Status.ACTIVE:
            raise ConflictError(_("This reservation is no longer active."))
    else:
        warehouse = _resolve_warehouse(dealership, warehouse)
        balance = _lock_balance(dealership, part, warehouse)
    from_reservation = min(quantity, reservation.remaining) if reservation else Decimal("0")
    if quantity - from_reservation > balance.available:
        raise _not_enough(balance, quantity - from_reservation)
    if reservation is not None:
        balance.reserved -= from_reservation
        reservation.issued_quantity += from_reservation
        if reservation.remaining == 0:
            reservation.status = Reservation.Status.ISSUED
        reservation.save(update_fields=["issued_quantity", "status", "updated_at"])
    return _post(
        actor=actor,
        balance=balance,
        kind=kind,
        quantity=-quantity,
        reference=reference.strip(),
        reason=(note or "").strip() or str(MovementKind(kind).label),
        reservation=reservation,
        work_order_ref=work_order_ref or (reference.strip() if kind == MovementKind.ISSUE else ""),
        work_order_id=work_order_id if kind == MovementKind.ISSUE else None,
        job_id=job_id if kind == MovementKind.ISSUE else None,
    )


@transaction.atomic
def stock_return_in(
    *, actor, dealership: Dealership, part: Part, quantity, unit_cost, reference: str, reason: str, warehouse=None
) -> StockMovement:
    """Goods come back from a customer (R29) at the cost they left with."""
    quantity = clean_quantity(quantity)
    unit_cost = clean_cost(unit_cost)
    check_owned(dealership, by_verbose_name=True, part=part)
    warehouse = _resolve_warehouse(dealership, warehouse)
    balance = _lock_balance(dealership, part, warehouse)
    return _post(
        actor=actor,
        balance=balance,
        kind=MovementKind.RETURN_IN,
        quantity=quantity,
        unit_cost=unit_cost,
        reference=reference,
        reason=reason,
    )


@transaction.atomic
def stock_transfer(
    *,
    actor,
    dealership: Dealership,
    part: Part,
    quantity,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    reference: str = "",
) -> tuple[StockMovement, StockMovement]:
    quantity = clean_quantity(quantity)
    check_owned(dealership, by_verbose_name=True, part=part, from_warehouse=from_warehouse, to_warehouse=to_warehouse)
    if from_warehouse.pk == to_warehouse.pk:
        raise ValidationError({"to_warehouse": _("Choose a different warehouse to transfer to.")})
    _resolve_warehouse(dealership, to_warehouse)
    balances = _lock_balances_in_order(dealership, part, from_warehouse, to_warehouse)
    source, target = balances[from_warehouse.pk], balances[to_warehouse.pk]
    if source.available < quantity:
        raise _not_enough(source, quantity)
    reason = _("Transfer %(source)s → %(target)s") % {"source": from_warehouse.code, "target": to_warehouse.code}
    out = _post(
        actor=actor,
        balance=source,
        kind=MovementKind.TRANSFER_OUT,
        quantity=-quantity,
        reference=reference,
        reason=reason,
    )
    into = _post(
        actor=actor,
        balance=target,
        kind=MovementKind.TRANSFER_IN,
        quantity=quantity,
        unit_cost=out.unit_cost,
        reference=reference,
        reason=reason,
    )
    return out, into


def stock_adjust(
    *, actor, balance: StockBalance, difference: Decimal, reason: str, reference: str, occurred_at=None
) -> StockMovement:
    """A count adjustment (R26) on a balance the caller has locked; the reason is mandatory."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason for the adjustment.")})
    return _post(
        actor=actor,
        balance=balance,
        kind=MovementKind.ADJUSTMENT,
        quantity=difference,
        reference=reference,
        reason=reason.strip(),
        occurred_at=occurred_at,
    )


BALANCE_FIELDS = ("location", "alert_level")


def _kept_bin(balance: StockBalance) -> bool:
    """The balance stays in the bin it is in (a closed bin may keep what it holds, only new placements are refused)."""
    return StockBalance.objects.filter(pk=balance.pk, location_id=balance.location_id).exists()


def _check_balance_settings(balance: StockBalance) -> None:
    location = balance.location
    if location is not None and location.warehouse_id != balance.warehouse_id:
        raise ValidationError({"location": _("The bin belongs to another warehouse.")})
    if location is not None and not location.is_active and not _kept_bin(balance):
        raise ValidationError({"location": _("The bin is closed.")})
    if balance.alert_level is not None and balance.alert_level < 0:
        raise ValidationError({"alert_level": _("The alert level cannot be negative.")})


@transaction.atomic
def balance_update(*, actor, balance: StockBalance, data: dict[str, Any]) -> StockBalance:
    """Set the bin and the alert level (R27) of a part in a warehouse."""
    balance = audited_update(balance, actor=actor, data=data, allowed=BALANCE_FIELDS, check=_check_balance_settings)
    check_low_stock(balance=balance)
    return balance


# ---------------------------------------------------------------------------------------------------------------------
# Low-stock alerts (R27)


def check_low_stock(*, balance: StockBalance, now=None) -> LowStockAlert | None:
    """Raise an alert when free stock falls below the level, close it when stock recovers. Called with the balance
    locked, so two movements cannot both open one; a partial unique index backs that up in the database."""
    now = now or timezone.now()
    level = selectors.effective_alert_level(balance)
    alert = LowStockAlert.objects.filter(
        part_id=balance.part_id, warehouse_id=balance.warehouse_id, status=LowStockAlert.Status.OPEN
    ).first()
    if balance.available < level:
        if alert is None:
            alert = LowStockAlert.objects.create(
                dealership_id=balance.dealership_id,
                part=balance.part,
                warehouse=balance.warehouse,
                alert_level=level,
                on_hand=balance.on_hand,
                available=balance.available,
                suggested_quantity=selectors.suggested_reorder_quantity(balance, level),
                opened_at=now,
            )
            alert_id = alert.pk
            transaction.on_commit(lambda: notify_low_stock(alert_id=alert_id))
        return alert
    if alert is not None:
        alert.status = LowStockAlert.Status.CLOSED
        alert.closed_at = now
        alert.save(update_fields=["status", "closed_at", "updated_at"])
    return None


def low_stock_scan(*, dealership: Dealership, now=None) -> int:
    """Re-check every balance of the dealership (after a reclassification changed default levels)."""
    opened = 0
    ids = list(StockBalance.objects.filter(dealership=dealership).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            balance = locked(StockBalance(pk=pk), "part", "warehouse")
            had = LowStockAlert.objects.filter(
                part_id=balance.part_id, warehouse_id=balance.warehouse_id, status=LowStockAlert.Status.OPEN
            ).exists()
            if check_low_stock(balance=balance, now=now) is not None and not had:
                opened += 1
    return opened


def notify_low_stock(*, alert_id: int) -> int:
    """E-mail the parts managers (purchasing) to reorder (R27). Runs after commit."""
    alert = LowStockAlert.objects.select_related("part", "warehouse").filter(pk=alert_id).first()
    if alert is None:
        return 0
    recipients = selectors.parts_manager_emails(alert.dealership_id)
    if not recipients:
        return 0
    subject = _("Low stock: %(part)s in %(warehouse)s") % {"part": alert.part, "warehouse": alert.warehouse.name}
    body = _(
        "Free stock of %(part)s in %(warehouse)s fell below the alert level.\n"
        "On hand: %(on_hand)s, available: %(available)s, alert level: %(level)s.\n"
        "Suggested reorder quantity: %(suggested)s."
    ) % {
        "part": alert.part,
        "warehouse": alert.warehouse.name,
        "on_hand": plain_quantity(alert.on_hand),
        "available": plain_quantity(alert.available),
        "level": plain_quantity(alert.alert_level),
        "suggested": plain_quantity(alert.suggested_quantity),
    }
    return send_mail(subject, body, None, recipients, fail_silently=True)
