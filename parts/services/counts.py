"""R26: stock counts — a monthly count by the storekeeper (by bin, class or the count plan) and an annual full count
by a committee; closing gives a variance report with reasons; the head of parts approves, which writes the
adjustment rows into the ledger."""

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.core import events
from dms.core.models import Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import locked, run_transition
from dms.core.validation import check_owned

from .. import selectors
from ..models import Location, StockBalance, StockCount, StockCountLine, Warehouse
from .stock import _lock_balance, stock_adjust

User = get_user_model()

MIN_COMMITTEE = 2


def _balances_to_count(
    *, warehouse: Warehouse, scope: str, location: Location | None, abc_class: str, now: datetime.datetime
) -> list[StockBalance]:
    """The balances a count of ``scope`` covers: one bin, one ABC class, the ones the count plan says are due, or
    the whole warehouse."""
    balances = StockBalance.objects.filter(warehouse=warehouse).select_related("part", "location")
    if scope == StockCount.Scope.LOCATION:
        if location is None:
            raise ValidationError({"location": _("Choose the bin to count.")})
        if location.warehouse_id != warehouse.pk:
            raise ValidationError({"location": _("The bin belongs to another warehouse.")})
        balances = balances.filter(location=location)
    elif scope == StockCount.Scope.CLASS:
        if not abc_class:
            raise ValidationError({"abc_class": _("Choose the class to count.")})
        balances = balances.filter(part__abc_class=abc_class)
    elif scope == StockCount.Scope.DUE:
        due_ids = [b.pk for b in selectors.count_plan(warehouse=warehouse, now=now)]
        balances = balances.filter(pk__in=due_ids)
    return list(balances)


@transaction.atomic
def stock_count_start(
    *,
    actor,
    dealership: Dealership,
    warehouse: Warehouse,
    kind: str = StockCount.Kind.MONTHLY,
    scope: str = StockCount.Scope.LOCATION,
    location: Location | None = None,
    abc_class: str = "",
    committee: Iterable = (),
    note: str = "",
    now: datetime.datetime | None = None,
) -> StockCount:
    now = now or timezone.now()
    check_owned(dealership, by_verbose_name=True, warehouse=warehouse, location=location)
    committee = list(committee)
    if kind == StockCount.Kind.ANNUAL:
        # The annual count covers everything and is done by a committee (R26).
        scope = StockCount.Scope.ALL
        if len({u.pk for u in committee}) < MIN_COMMITTEE:
            raise ValidationError({"committee": _("An annual count needs a committee of at least two people.")})
    for member in committee:
        if dealership.pk not in allowed_dealership_ids(member):
            raise ValidationError({"committee": _("%(user)s does not work in the dealership.") % {"user": member}})
        if not member.is_active:
            raise ValidationError({"committee": _("%(user)s: the account is deactivated.") % {"user": member}})
    balances = _balances_to_count(warehouse=warehouse, scope=scope, location=location, abc_class=abc_class, now=now)
    if not balances:
        raise ValidationError(_("There is nothing to count in this selection."))
    count = StockCount(
        dealership=dealership,
        kind=kind,
        scope=scope,
        warehouse=warehouse,
        location=location if scope == StockCount.Scope.LOCATION else None,
        abc_class=abc_class if scope == StockCount.Scope.CLASS else "",
        started_by=actor,
        started_at=now,
        note=note,
    )
    count.save()
    if committee:
        count.committee.set(committee)
    StockCountLine.objects.bulk_create(
        [StockCountLine(count=count, part=b.part, location=b.location, expected_quantity=b.on_hand) for b in balances]
    )
    events.record_created(actor=actor, instance=count, fields=("kind", "scope", "warehouse", "location", "abc_class"))
    return count


@transaction.atomic
def stock_count_record(*, actor, count: StockCount, entries: Iterable[dict[str, Any]]) -> StockCount:
    """Enter counted quantities (the tablet page sends all lines at once). ``entries``: line, counted, reason."""
    count = locked(count, "warehouse")
    if count.status != StockCount.Status.IN_PROGRESS:
        raise ValidationError(_("Counted quantities can only be entered while the count is in progress."))
    lines = {line.pk: line for line in count.lines.select_related("part")}
    dealership = Dealership.objects.get(pk=count.dealership_id)
    errors = {}
    now = timezone.now()
    changed = []
    for entry in entries:
        line = lines.get(int(entry["line"]))
        if line is None:
            raise ValidationError({"entries": _("Unknown count line.")})  # issue 12 item 6: name the field
        counted = entry.get("counted")
        if counted in (None, ""):
            continue
        try:
            counted = Decimal(str(counted))
        except (InvalidOperation, ValueError):
            counted = Decimal("NaN")
        if not counted.is_finite():
            errors[f"line_{line.pk}"] = _("Enter a number.")
            continue
        if counted < 0:
            errors[f"line_{line.pk}"] = _("%(part)s: the counted quantity cannot be negative.") % {
                "part": line.part.number
            }
            continue
        # R26 while stock moves: the book quantity is the ledger's at the moment the line is counted, read under
        # the balance's row lock, so a sale or receipt during the count is neither lost nor applied twice — the
        # approval adjusts by (counted − book at counting) on top of whatever the ledger holds by then.
        line.expected_quantity = _lock_balance(dealership, line.part, count.warehouse).on_hand
        line.counted_quantity = counted
        line.reason = (entry.get("reason") or "").strip()[:300]
        line.counted_by = actor
        line.counted_at = now
        changed.append(line)
    if errors:
        raise ValidationError(errors)
    StockCountLine.objects.bulk_update(
        changed, ["expected_quantity", "counted_quantity", "reason", "counted_by", "counted_at"]
    )
    return count


@transaction.atomic
def stock_count_submit(*, actor, count: StockCount) -> StockCount:
    """Close the counting: every line counted, every difference explained; gives the variance report."""
    count = locked(count, "warehouse")
    lines = list(count.lines.select_related("part"))
    missing = [line.part.number for line in lines if line.counted_quantity is None]
    if missing:
        raise ValidationError(_("Not counted yet: %(parts)s.") % {"parts": ", ".join(missing[:10])})
    unexplained = [line.part.number for line in lines if line.variance and not line.reason]
    if unexplained:
        raise ValidationError(
            {"reason": _("Give a reason for each difference: %(parts)s.") % {"parts": ", ".join(unexplained[:10])}}
        )
    run_transition(count, "submit", actor=actor)
    return count


@transaction.atomic
def stock_count_approve(*, actor, count: StockCount, now: datetime.datetime | None = None) -> StockCount:
    """The head of parts approves: each difference becomes an adjustment row in the ledger (R26)."""
    count = locked(count, "warehouse")
    # The transition first (state, role), then the adjustment rows: one transaction, so a refused line undoes both.
    count.approved_by = actor
    run_transition(count, "approve", actor=actor)
    now = now or timezone.now()
    dealership = Dealership.objects.get(pk=count.dealership_id)
    reference = _("Count #%(id)s") % {"id": count.pk}
    for line in count.lines.select_related("part").order_by("part_id"):
        balance = _lock_balance(dealership, line.part, count.warehouse)
        if line.variance:
            if not line.reason:
                raise ValidationError({"reason": _("Give a reason for the adjustment.")})
            line.adjustment = stock_adjust(
                actor=actor, balance=balance, difference=line.variance, reason=line.reason, reference=reference
            )
            line.save(update_fields=["adjustment"])
        balance.last_counted_at = now
        balance.save(update_fields=["last_counted_at", "updated_at"])
    return count


@transaction.atomic
def stock_count_reopen(*, actor, count: StockCount, comment: str = "") -> StockCount:
    count = locked(count, "warehouse")
    run_transition(count, "reopen", actor=actor)
    if comment:
        events.record(actor=actor, instance=count, action="action", message=comment)
    return count


@transaction.atomic
def stock_count_cancel(*, actor, count: StockCount) -> StockCount:
    count = locked(count, "warehouse")
    run_transition(count, "cancel", actor=actor)
    return count
