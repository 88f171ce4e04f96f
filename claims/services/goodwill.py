"""Goodwill claims (R23): FMC terms → agreement signed with the customer → claim with the work order and the
agreement/invoice → FMC confirmation → customer-assistance (CAC) confirmation → payment to the dealership."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.models import Dealership
from dms.core.transitions import run_transition
from dms.core.validation import clean_text, money_amount
from dms.core.validators import vehicle_of_another_customer_error

from .. import workorders
from ..models import AttachmentKind, GoodwillClaim
from .common import apply, decide_with_reason, guard, next_number, record_payment

GOODWILL_FIELDS = (
    "complaint",
    "customer",
    "vehicle",
    "work_order_id",
    "work_order_number",
    "description",
    "fmc_terms",
    "fmc_max_amount",
    "agreement_signed_on",
    "requested_amount",
)


def _validate_goodwill(claim: GoodwillClaim, now: datetime.datetime | None = None) -> None:
    errors = {}
    today = timezone.localtime(now or timezone.now(), claim.dealership.tz).date()
    if claim.agreement_signed_on is not None and claim.agreement_signed_on > today:
        # R23: the agreement is signed with the customer before the claim — a date ahead is not a signature yet.
        errors["agreement_signed_on"] = _("The agreement signing date is in the future.")
    if not claim.customer_id or claim.customer.dealership_id != claim.dealership_id:
        errors["customer"] = _("Unknown customer.")
    if not claim.vehicle_id or claim.vehicle.dealership_id != claim.dealership_id:
        errors["vehicle"] = _("Unknown vehicle.")
    elif owner_error := vehicle_of_another_customer_error(customer=claim.customer_id, vehicle=claim.vehicle):
        errors["vehicle"] = owner_error  # R15, the shared check
    if claim.complaint_id and claim.complaint.dealership_id != claim.dealership_id:
        errors["complaint"] = _("Unknown complaint.")
    if not clean_text(claim.description):
        errors["description"] = _("Describe the case.")
    if claim.work_order_id:
        work_order = workorders.work_order_for_claim(
            dealership_id=claim.dealership_id, work_order_id=claim.work_order_id
        )
        if work_order is None:
            errors["work_order_id"] = _("Unknown work order.")
        else:
            claim.work_order_number = work_order.number
    for name in ("fmc_max_amount", "requested_amount"):
        setattr(claim, name, money_amount(getattr(claim, name), field=name, required=False))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def goodwill_claim_create(*, actor, dealership: Dealership, **data: Any) -> GoodwillClaim:
    claim = GoodwillClaim(dealership=dealership, author=actor)
    apply(claim, data, GOODWILL_FIELDS)
    if claim.complaint_id and not claim.customer_id and claim.complaint.customer_id:
        claim.customer = claim.complaint.customer
    _validate_goodwill(claim)
    claim.number = next_number(dealership, "goodwill")
    claim.save()
    events.record_created(actor=actor, instance=claim, fields=["customer", "vehicle", "complaint", "work_order_number"])
    return claim


def _locked_goodwill(claim: GoodwillClaim) -> GoodwillClaim:
    return GoodwillClaim.objects.select_for_update().select_related("dealership").get(pk=claim.pk)


@transaction.atomic
def goodwill_claim_update(
    *, actor, claim: GoodwillClaim, data: dict[str, Any], now: datetime.datetime | None = None
) -> GoodwillClaim:
    claim = _locked_goodwill(claim)
    if not claim.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s and cannot be changed.")
            % {"number": claim.number, "status": claim.get_status_display()}
        )
    before = events.snapshot(claim, [name for name in data if name in GOODWILL_FIELDS])
    apply(claim, data, GOODWILL_FIELDS)
    _validate_goodwill(claim, now)
    if "fmc_terms" in data and claim.fmc_terms and before.get("fmc_terms") != claim.fmc_terms:
        claim.fmc_terms_recorded_at = now or timezone.now()
    claim.save()
    events.record_updated(actor=actor, instance=claim, before=before)
    return claim


def _submission_errors(claim: GoodwillClaim) -> dict[str, str]:
    errors = {}
    if not clean_text(claim.fmc_terms):
        errors["fmc_terms"] = _("Record the terms the field manager allowed.")
    if claim.agreement_signed_on is None:
        errors["agreement_signed_on"] = _("Record when the agreement was signed with the customer.")
    if not (claim.work_order_id or clean_text(claim.work_order_number)):
        errors["work_order_number"] = _("The claim needs the work order.")
    if not claim.attachments.filter(kind__in=[AttachmentKind.AGREEMENT, AttachmentKind.INVOICE]).exists():
        errors["attachments"] = _("Attach the signed agreement or the invoice.")
    if claim.requested_amount is None:
        errors["requested_amount"] = _("Enter the amount claimed.")
    elif claim.fmc_max_amount is not None and claim.requested_amount > claim.fmc_max_amount:
        errors["requested_amount"] = _("The amount claimed exceeds the amount the field manager allowed.")
    return errors


@transaction.atomic
def goodwill_claim_submit(*, actor, claim: GoodwillClaim, now: datetime.datetime | None = None) -> GoodwillClaim:
    """R23: the claim goes to the FMC with the terms, the signed agreement and the work order and agreement/invoice."""
    claim = _locked_goodwill(claim)
    guard(claim, "submit", actor=actor, not_allowed=_("Only a draft or a returned claim can be submitted."))
    errors = _submission_errors(claim)
    if errors:
        raise ValidationError(errors)
    return run_transition(claim, "submit", actor=actor, at=now or timezone.now())


def _confirm(claim: GoodwillClaim, name: str, *, actor, not_allowed: str, now) -> GoodwillClaim:
    claim = _locked_goodwill(claim)
    guard(claim, name, actor=actor, not_allowed=not_allowed)
    return run_transition(claim, name, actor=actor, at=now or timezone.now(), by=actor)


@transaction.atomic
def goodwill_claim_fmc_confirm(*, actor, claim: GoodwillClaim, now: datetime.datetime | None = None) -> GoodwillClaim:
    return _confirm(
        claim,
        "fmc_confirm",
        actor=actor,
        not_allowed=_("Only a submitted claim can be confirmed by the field manager."),
        now=now,
    )


@transaction.atomic
def goodwill_claim_cac_confirm(*, actor, claim: GoodwillClaim, now: datetime.datetime | None = None) -> GoodwillClaim:
    return _confirm(
        claim,
        "cac_confirm",
        actor=actor,
        not_allowed=_("Customer assistance confirms a claim after the field manager."),
        now=now,
    )


@transaction.atomic
def goodwill_claim_record_payment(
    *, actor, claim: GoodwillClaim, amount: Any, reference: str, now: datetime.datetime | None = None
) -> GoodwillClaim:
    return record_payment(
        _locked_goodwill(claim),
        actor=actor,
        amount=amount,
        reference=reference,
        not_allowed=_("Payment is recorded after customer assistance confirmed the claim."),
        now=now,
    )


@transaction.atomic
def goodwill_claim_return(*, actor, claim: GoodwillClaim, reason: str) -> GoodwillClaim:
    return decide_with_reason(_locked_goodwill(claim), "return_for_correction", actor=actor, reason=reason)


@transaction.atomic
def goodwill_claim_reject(*, actor, claim: GoodwillClaim, reason: str) -> GoodwillClaim:
    return decide_with_reason(_locked_goodwill(claim), "reject", actor=actor, reason=reason)
