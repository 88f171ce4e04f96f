"""R29: returns and exchanges — requested within N working days of receipt with evidence, checked (quality by the
technical department), approved or refused with a reason, freight charged by fault, stock back in or a replacement
shipped."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.formatting import short_date
from dms.core.models import Customer, Dealership
from dms.core.transitions import audited_update, locked, run_transition
from dms.core.validation import check_owned

from .. import conf
from ..models import MovementKind, Part, ReturnEvidence, ReturnRequest, SalesOrder, StockBalance, StockMovement
from .stock import clean_quantity, stock_issue, stock_return_in

MAX_EVIDENCE_BYTES = 15 * 1024 * 1024
EVIDENCE_TYPES = (".jpg", ".jpeg", ".png", ".heic", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".txt")


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """``days`` working days (Monday to Friday) after ``start``."""
    current = start
    added = 0
    while added < days:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def _check_evidence(file) -> None:
    name = (getattr(file, "name", "") or "").lower()
    if not name.endswith(EVIDENCE_TYPES):
        raise ValidationError({"evidence": _("Attach photos (JPG, PNG, HEIC) or documents (PDF, Word, Excel).")})
    if getattr(file, "size", 0) > MAX_EVIDENCE_BYTES:
        raise ValidationError({"evidence": _("A file may be at most 15 MB.")})


def _request_errors(
    *, received_on: datetime.date, today: datetime.date, reason: str, resolution: str, description: str
):
    """The request's own fields: a receipt date not in the future, a description, a reason and a resolution that fits
    it (missing goods can only be shipped now; anything else is returned or exchanged)."""
    errors = {}
    if received_on > today:
        errors["received_on"] = _("The receipt date cannot be in the future.")
    if not (description or "").strip():
        errors["description"] = _("Describe the problem.")
    if reason not in ReturnRequest.Reason.values:
        errors["reason"] = _("Choose the reason.")
    if reason == ReturnRequest.Reason.MISSING and resolution != ReturnRequest.Resolution.REPLACEMENT:
        errors["resolution"] = _("Goods missing from the shipment can only be shipped now.")
    if reason != ReturnRequest.Reason.MISSING and resolution == ReturnRequest.Resolution.REPLACEMENT:
        errors["resolution"] = _("Choose a return or an exchange.")
    return errors


def _sales_order_errors(
    *, sales_order: SalesOrder, customer: Customer, part: Part, quantity: Decimal, received_on: datetime.date, tz
) -> dict:
    """A return against an order: the customer's own shipped order, with this part, no more than was sold, received
    after it was shipped."""
    if sales_order.customer_id != customer.pk:
        return {"sales_order": _("The order belongs to another customer.")}
    if sales_order.status != SalesOrder.Status.SHIPPED:
        return {"sales_order": _("Only shipped orders can be returned.")}
    errors = {}
    sold = sum((line.quantity for line in sales_order.lines.filter(part=part)), Decimal("0"))
    # The order's other requests for the part (refused ones aside) count too: the requests together never return
    # more than was sold.
    requested = sum(
        (r.quantity for r in sales_order.returns.filter(part=part).exclude(status=ReturnRequest.Status.REFUSED)),
        Decimal("0"),
    )
    if sold == 0:
        errors["part"] = _("This part is not in the order.")
    elif requested + quantity > sold:
        errors["quantity"] = _("Only %(sold)s were sold in this order.") % {"sold": sold}
    if sales_order.shipped_at and received_on < timezone.localdate(sales_order.shipped_at, tz):
        errors["received_on"] = _("The goods cannot be received before they were shipped.")
    return errors


def _return_deadline(received_on: datetime.date, today: datetime.date) -> datetime.date:
    """R29: the request must come within the set number of working days of receipt."""
    days = conf.get("PARTS_RETURN_WORKING_DAYS")
    deadline = add_working_days(received_on, int(days))
    if today > deadline:
        raise ValidationError(
            {
                "received_on": _(
                    "The return period has expired: requests are accepted within %(days)s working days of receipt, "
                    "that is until %(deadline)s."
                )
                % {"days": days, "deadline": short_date(deadline)}
            }
        )
    return deadline


def _returned_unit_cost(*, part: Part, sales_order: SalesOrder | None) -> Decimal:
    """The cost the goods left with: the sale's ledger row, else the part's average cost in its fullest warehouse."""
    if sales_order is not None:
        sale = StockMovement.objects.filter(
            kind=MovementKind.COUNTER_SALE, reference=sales_order.number, part=part
        ).first()
        if sale is not None:
            return sale.unit_cost
    balance = StockBalance.objects.filter(part=part).order_by("-on_hand").first()
    return balance.average_cost if balance else Decimal("0")


@transaction.atomic
def return_request_create(
    *,
    actor,
    dealership: Dealership,
    customer: Customer,
    part: Part,
    quantity,
    received_on: datetime.date,
    reason: str,
    resolution: str,
    description: str,
    sales_order: SalesOrder | None = None,
    evidence=(),
    today: datetime.date | None = None,
) -> ReturnRequest:
    quantity = clean_quantity(quantity)
    check_owned(dealership, by_verbose_name=True, customer=customer, part=part, sales_order=sales_order)
    today = today or timezone.localdate(timezone=dealership.tz)
    if sales_order is not None:
        sales_order = locked(sales_order)  # two requests against the order at once queue up (the quantity check)
    errors = _request_errors(
        received_on=received_on, today=today, reason=reason, resolution=resolution, description=description
    )
    if sales_order is not None:
        errors.update(
            _sales_order_errors(
                sales_order=sales_order,
                customer=customer,
                part=part,
                quantity=quantity,
                received_on=received_on,
                tz=dealership.tz,
            )
        )
    if errors:
        raise ValidationError(errors)
    deadline = _return_deadline(received_on, today)
    for file in evidence:
        _check_evidence(file)
    request = ReturnRequest.objects.create(
        dealership=dealership,
        customer=customer,
        sales_order=sales_order,
        part=part,
        quantity=quantity,
        unit_cost=_returned_unit_cost(part=part, sales_order=sales_order),
        received_on=received_on,
        requested_on=today,
        deadline=deadline,
        reason=reason,
        resolution=resolution,
        description=description.strip(),
        created_by=actor,
    )
    for file in evidence:
        ReturnEvidence.objects.create(request=request, file=file, uploaded_by=actor)
    events.record_created(
        actor=actor, instance=request, fields=("customer", "part", "quantity", "reason", "resolution", "deadline")
    )
    return request


@transaction.atomic
def return_add_evidence(*, actor, request: ReturnRequest, file, description: str = "") -> ReturnEvidence:
    request = locked(request, "dealership", "part")
    if request.status in (ReturnRequest.Status.COMPLETED, ReturnRequest.Status.REFUSED):
        raise ConflictError(_("The request is closed."))
    _check_evidence(file)
    item = ReturnEvidence.objects.create(request=request, file=file, description=description[:200], uploaded_by=actor)
    events.record(
        actor=actor,
        instance=request,
        action="action",
        message=events.text(gettext_noop("Evidence added: %(f)s"), f=item),
    )
    return item


@transaction.atomic
def return_send_to_inspection(*, actor, request: ReturnRequest) -> ReturnRequest:
    request = locked(request, "dealership", "part")
    run_transition(request, "send_to_inspection", actor=actor)
    return request


@transaction.atomic
def return_record_inspection(*, actor, request: ReturnRequest, defect_confirmed: bool, result: str) -> ReturnRequest:
    """The technical department's finding on a quality claim (R29)."""
    request = locked(request)
    if not actor.has_perm("parts.inspect_returnrequest"):
        raise PermissionDenied
    if request.status != ReturnRequest.Status.INSPECTION:
        raise ConflictError(_("Send the request to inspection first."))
    if not (result or "").strip():
        raise ValidationError({"result": _("Write down the inspection result.")})
    finding = {"defect_confirmed": bool(defect_confirmed), "inspection_result": result.strip(), "inspected_by": actor}
    return audited_update(request, actor=actor, data=finding, allowed=finding)


@transaction.atomic
def return_approve(
    *, actor, request: ReturnRequest, reason: str = "", customer_at_fault: bool = False, freight_cost=Decimal("0")
) -> ReturnRequest:
    """R29: freight is paid by the company for its faults and by the customer otherwise (an unconfirmed defect
    accepted as goodwill is the customer's freight; a confirmed defect, a wrong part shipped or goods missing from
    the shipment are the company's, whatever the approver ticked)."""
    request = locked(request, "dealership", "part")
    if request.reason == ReturnRequest.Reason.QUALITY and request.defect_confirmed is False:
        customer_at_fault = True
    company_fault = request.reason in (ReturnRequest.Reason.WRONG_SHIPMENT, ReturnRequest.Reason.MISSING) or (
        request.reason == ReturnRequest.Reason.QUALITY and request.defect_confirmed is True
    )
    if company_fault:
        customer_at_fault = False
    request.freight_payer = (
        ReturnRequest.FreightPayer.CUSTOMER if customer_at_fault else ReturnRequest.FreightPayer.COMPANY
    )
    request.freight_cost = Decimal(str(freight_cost or 0))
    if request.freight_cost < 0:
        raise ValidationError({"freight_cost": _("The freight cost cannot be negative.")})
    request.decided_by = actor
    request.decision_reason = (reason or "").strip()
    run_transition(
        request,
        "approve",
        actor=actor,
        message=request.decision_reason,
        conflict=_("A quality claim needs the technical department's inspection before the decision."),
    )
    return request


@transaction.atomic
def return_refuse(*, actor, request: ReturnRequest, reason: str) -> ReturnRequest:
    request = locked(request, "dealership", "part")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the customer the reason for the refusal.")})
    request.decided_by = actor
    request.decision_reason = reason.strip()
    request.freight_payer = ReturnRequest.FreightPayer.CUSTOMER
    run_transition(
        request,
        "refuse",
        actor=actor,
        message=request.decision_reason,
        conflict=_("A quality claim needs the technical department's inspection before the decision."),
    )
    return request


@transaction.atomic
def return_complete(*, actor, request: ReturnRequest, warehouse=None) -> ReturnRequest:
    """Goods come back into stock and/or the replacement leaves, as ledger rows."""
    request = locked(request, "dealership", "part")
    run_transition(request, "complete", actor=actor)
    dealership = request.dealership
    reference = str(request)
    if request.resolution in (ReturnRequest.Resolution.REFUND, ReturnRequest.Resolution.EXCHANGE):
        stock_return_in(
            actor=actor,
            dealership=dealership,
            part=request.part,
            quantity=request.quantity,
            unit_cost=request.unit_cost,
            reference=reference,
            reason=request.get_reason_display(),
            warehouse=warehouse,
        )
    if request.resolution in (ReturnRequest.Resolution.EXCHANGE, ReturnRequest.Resolution.REPLACEMENT):
        stock_issue(
            actor=actor,
            dealership=dealership,
            part=request.part,
            quantity=request.quantity,
            reference=reference,
            reason="counter_sale",
            warehouse=warehouse,
            note=_("Replacement shipped"),
        )
    return request
