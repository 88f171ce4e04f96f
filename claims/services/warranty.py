"""Warranty claims (R22): draft → submitted → automatic system check → FMC confirmation → claims department
confirmation → paid; returned or rejected at each step with a reason. The failed part waits in quarantine until
the claim is decided, then is scrapped or returned as the claims department instructed."""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.models import AuditAction, Dealership
from dms.core.transitions import run_transition
from dms.core.validation import clean_text, money_amount
from parts.models import Part

from .. import selectors, workorders
from ..models import (
    PartInstruction,
    QuarantinedPart,
    QuarantineStatus,
    WarrantyClaim,
    WarrantyClaimKind,
    WarrantyClaimPart,
)
from .common import apply, decide_with_reason, guard, next_number, record_payment, require

WARRANTY_FIELDS = (
    "kind",
    "mileage",
    "failure_date",
    "failure_code",
    "causal_part",
    "causal_part_number",
    "description",
    "failed_part_serial",
    "replacement_part_serial",
    "labour_hours",
    "labour_rate",
    "tac_authorisation",
    "tac_authorised_by",
    "odometer_explanation",
)


def _validate_warranty(claim: WarrantyClaim, now: datetime.datetime) -> None:
    errors = {}
    if claim.kind not in WarrantyClaimKind.values:
        errors["kind"] = _("Unknown kind of claim.")
    if claim.mileage is None or claim.mileage < 0:
        errors["mileage"] = _("Enter the mileage at the repair.")
    if claim.failure_date is None:
        errors["failure_date"] = _("Enter the failure date.")
    elif claim.failure_date > timezone.localtime(now, claim.dealership.tz).date():
        errors["failure_date"] = _("The failure date is in the future.")
    if not clean_text(claim.failure_code):
        errors["failure_code"] = _("Enter the failure code.")
    if claim.causal_part_id:
        if claim.causal_part.dealership_id != claim.dealership_id:
            errors["causal_part"] = _("Unknown part.")
        else:
            claim.causal_part_number = claim.causal_part.number
    if not clean_text(claim.causal_part_number):
        errors["causal_part"] = _("Choose the causal part.")
    if not clean_text(claim.description):
        errors["description"] = _("Describe the complaint, the cause and the correction.")
    for name in ("labour_hours", "labour_rate"):
        value = money_amount(getattr(claim, name), field=name, required=False)
        setattr(claim, name, value if value is not None else Decimal("0"))
    if errors:
        raise ValidationError(errors)


def _parse_part_lines(dealership_id: int, parts: Iterable[dict]) -> list[tuple[Part, Decimal, bool]]:
    parsed = []
    seen = set()
    for index, line in enumerate(parts):
        part = line.get("part")
        if not isinstance(part, Part) or part.dealership_id != dealership_id:
            raise ValidationError({"parts": _("Line %(n)s: unknown part.") % {"n": index + 1}})
        if part.pk in seen:
            raise ValidationError({"parts": _("Part %(part)s is listed twice.") % {"part": part.number}})
        seen.add(part.pk)
        quantity = money_amount(line.get("quantity"), field="parts")
        if quantity <= 0:
            raise ValidationError(
                {"parts": _("Line %(n)s: the quantity must be greater than zero.") % {"n": index + 1}}
            )
        parsed.append((part, quantity, bool(line.get("is_special"))))
    return parsed


def _replace_part_lines(claim: WarrantyClaim, parsed: list[tuple[Part, Decimal, bool]]) -> None:
    claim.part_lines.all().delete()
    WarrantyClaimPart.objects.bulk_create(
        WarrantyClaimPart(claim=claim, part=part, quantity=quantity, unit_price=part.price, is_special=special)
        for part, quantity, special in parsed
    )


def _sync_quarantine(claim: WarrantyClaim, location: str | None = None) -> QuarantinedPart:
    """R22: the removed failed part is held in quarantine, linked to the claim."""
    held, created = QuarantinedPart.objects.get_or_create(
        claim=claim,
        defaults={
            "dealership_id": claim.dealership_id,
            "part_number": claim.causal_part_number,
            "serial_number": claim.failed_part_serial,
            "location": location or "",
        },
    )
    if not created and held.status == QuarantineStatus.QUARANTINED:
        held.part_number, held.serial_number = claim.causal_part_number, claim.failed_part_serial
        if location is not None:
            held.location = location
        held.save()
    return held


def _claim_from_job(*, actor, dealership: Dealership, work_order_id, job_id) -> tuple[WarrantyClaim, int | None]:
    """A new claim filled from the work order's job (customer, vehicle, standard hours and rate), and the mileage
    read when the vehicle arrived."""
    work_order = workorders.work_order_for_claim(dealership_id=dealership.pk, work_order_id=work_order_id)
    if work_order is None:
        raise ValidationError({"work_order_id": _("Unknown work order.")})
    job_id = parse_id(job_id)
    job = work_order.job(job_id) if job_id is not None else None
    if job is None:
        raise ValidationError(
            {"job_id": _("This job is not on work order %(number)s.") % {"number": work_order.number}}
        )
    claim = WarrantyClaim(
        dealership=dealership,
        engineer=actor,
        work_order_id=work_order.id,
        work_order_number=work_order.number,
        job_id=job.id,
        job_description=job.description[:300],
        customer_id=work_order.customer_id,
        vehicle_id=work_order.vehicle_id,
        labour_hours=job.labour_hours,
        labour_rate=job.labour_rate,
    )
    return claim, work_order.mileage


@transaction.atomic
def warranty_claim_create(
    *,
    actor,
    dealership: Dealership,
    work_order_id: int,
    job_id: int,
    parts: Iterable[dict] = (),
    quarantine_location: str = "",
    now: datetime.datetime | None = None,
    **data: Any,
) -> WarrantyClaim:
    """R22: the warranty engineer drafts a claim from a work order's job (parts, labour, causal part, failure code)."""
    now = now or timezone.now()
    claim, mileage_in = _claim_from_job(actor=actor, dealership=dealership, work_order_id=work_order_id, job_id=job_id)
    if data.get("mileage") in (None, "") and mileage_in is not None:
        data["mileage"] = mileage_in
    if data.get("labour_hours") in (None, ""):
        data.pop("labour_hours", None)  # the job's standard hours
    apply(claim, data, WARRANTY_FIELDS)
    _validate_warranty(claim, now)
    duplicate = selectors.live_claims_for_job(claim).first()
    if duplicate is not None:
        raise ValidationError(
            {"job_id": _("Claim %(number)s already exists for this job.") % {"number": duplicate.number}}
        )
    parsed = _parse_part_lines(dealership.pk, parts)
    claim.number = next_number(dealership, "warranty")
    claim.save()
    _replace_part_lines(claim, parsed)
    _sync_quarantine(claim, clean_text(quarantine_location))
    events.record_created(
        actor=actor, instance=claim, fields=["kind", "work_order_number", "job_description", "mileage", "failure_code"]
    )
    return claim


def _locked_warranty(claim: WarrantyClaim) -> WarrantyClaim:
    return WarrantyClaim.objects.select_for_update().select_related("dealership", "vehicle").get(pk=claim.pk)


@transaction.atomic
def warranty_claim_update(
    *,
    actor,
    claim: WarrantyClaim,
    data: dict[str, Any],
    parts: Iterable[dict] | None = None,
    quarantine_location: str | None = None,
    now: datetime.datetime | None = None,
) -> WarrantyClaim:
    now = now or timezone.now()
    claim = _locked_warranty(claim)
    if not claim.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s: it is corrected only as a draft or when returned.")
            % {"number": claim.number, "status": claim.get_status_display()}
        )
    before = events.snapshot(claim, [name for name in data if name in WARRANTY_FIELDS])
    apply(claim, data, WARRANTY_FIELDS)
    _validate_warranty(claim, now)
    claim.save()
    if parts is not None:
        _replace_part_lines(claim, _parse_part_lines(claim.dealership_id, parts))
    _sync_quarantine(claim, clean_text(quarantine_location) if quarantine_location is not None else None)
    events.record_updated(actor=actor, instance=claim, before=before)
    return claim


@transaction.atomic
def warranty_claim_submit(*, actor, claim: WarrantyClaim, now: datetime.datetime | None = None) -> WarrantyClaim:
    """R22: submit → automatic system check. A failed precondition or check is a 400 listing what failed, and
    nothing changes; a passed check moves the claim to «Проверена системой» for the field manager."""
    now = now or timezone.now()
    claim = _locked_warranty(claim)
    guard(
        claim,
        "submit",
        actor=actor,
        not_allowed=_("Claim %(number)s is %(status)s: only a draft or a returned claim can be submitted.")
        % {"number": claim.number, "status": claim.get_status_display()},
    )
    errors = selectors.warranty_claim_preconditions(claim)
    if errors:
        raise ValidationError(errors)
    results = selectors.run_automatic_checks(claim)
    failed = [r.message for r in results if not r.passed]
    if failed:
        raise ValidationError({"checks": failed})
    run_transition(claim, "submit", actor=actor, at=now)
    # The system's own step: no role, the actor of the audit row is the system.
    return run_transition(
        claim,
        "pass_auto_check",
        actor=None,
        message=events.text(gettext_noop("All automatic checks passed.")),
        at=now,
        results=[r.as_dict() for r in results],
    )


@transaction.atomic
def warranty_claim_fmc_confirm(*, actor, claim: WarrantyClaim, now: datetime.datetime | None = None) -> WarrantyClaim:
    claim = _locked_warranty(claim)
    guard(
        claim,
        "fmc_confirm",
        actor=actor,
        not_allowed=_("The field manager confirms a claim that passed the automatic check."),
    )
    return run_transition(claim, "fmc_confirm", actor=actor, at=now or timezone.now(), by=actor)


def _part_instruction(value: str, field: str = "part_instruction") -> dict[str, str]:
    if value in PartInstruction.values:
        return {}
    return {field: _("Say whether the failed part is scrapped or returned.")}


@transaction.atomic
def warranty_claim_claims_confirm(
    *,
    actor,
    claim: WarrantyClaim,
    part_instruction: str,
    approved_amount: Any = None,
    now: datetime.datetime | None = None,
) -> WarrantyClaim:
    claim = _locked_warranty(claim)
    guard(
        claim,
        "claims_confirm",
        actor=actor,
        not_allowed=_("The claims department confirms a claim after the field manager."),
    )
    if errors := _part_instruction(part_instruction):
        raise ValidationError(errors)
    approved = money_amount(approved_amount, field="approved_amount", required=False)
    approved = claim.total if approved is None else approved
    instruction_label = PartInstruction(part_instruction).label
    return run_transition(
        claim,
        "claims_confirm",
        actor=actor,
        message=f"{approved}; {instruction_label}",
        at=now or timezone.now(),
        by=actor,
        amount=approved,
        instruction=part_instruction,
    )


@transaction.atomic
def warranty_claim_record_payment(
    *, actor, claim: WarrantyClaim, amount: Any, reference: str, now: datetime.datetime | None = None
) -> WarrantyClaim:
    return record_payment(
        _locked_warranty(claim),
        actor=actor,
        amount=amount,
        reference=reference,
        not_allowed=_("Payment is recorded for a claim confirmed by the claims department."),
        now=now,
    )


@transaction.atomic
def warranty_claim_return(*, actor, claim: WarrantyClaim, reason: str) -> WarrantyClaim:
    """Return for correction at the FMC or claims-department step, with a reason."""
    return decide_with_reason(_locked_warranty(claim), "return_for_correction", actor=actor, reason=reason)


@transaction.atomic
def warranty_claim_reject(
    *,
    actor,
    claim: WarrantyClaim,
    reason: str,
    part_instruction: str,
    now: datetime.datetime | None = None,
) -> WarrantyClaim:
    claim = _locked_warranty(claim)
    guard(claim, "reject", actor=actor, not_allowed=_("This claim is not awaiting a confirmation."))
    errors = {"reason": _("Give the reason.")} if not clean_text(reason) else {}
    errors.update(_part_instruction(part_instruction))
    if errors:
        raise ValidationError(errors)
    return run_transition(
        claim,
        "reject",
        actor=actor,
        message=clean_text(reason),
        at=now or timezone.now(),
        reason=clean_text(reason),
        instruction=part_instruction,
    )


def _disposal_errors(claim: WarrantyClaim, action: str, reference: str) -> dict[str, str]:
    if action not in PartInstruction.values:
        return {"action": _("Choose scrap or return to the manufacturer.")}
    if claim.part_instruction and action != claim.part_instruction:
        return {
            "action": _("The instruction for this part is: %(instruction)s.")
            % {"instruction": claim.get_part_instruction_display()}
        }
    if action == PartInstruction.RETURN and not clean_text(reference):
        return {"reference": _("Enter the shipment reference of the return.")}
    return {}


@transaction.atomic
def quarantined_part_dispose(
    *,
    actor,
    part: QuarantinedPart,
    action: str,
    reference: str = "",
    now: datetime.datetime | None = None,
) -> QuarantinedPart:
    """R22: the failed part leaves quarantine only once the claim is decided, as the claims department instructed."""
    require(actor, "claims.dispose_quarantinedpart")
    part = QuarantinedPart.objects.select_for_update().select_related("claim").get(pk=part.pk)
    claim = part.claim
    if part.status != QuarantineStatus.QUARANTINED:
        raise ConflictError(_("The part has already left quarantine."))
    if not claim.is_decided:
        raise ConflictError(
            _("The part stays in quarantine until claim %(number)s is decided.") % {"number": claim.number}
        )
    if errors := _disposal_errors(claim, action, reference):
        raise ValidationError(errors)
    source = part.status
    part.status = {PartInstruction.SCRAP: QuarantineStatus.SCRAPPED, PartInstruction.RETURN: QuarantineStatus.RETURNED}[
        action
    ]
    part.disposed_at = now or timezone.now()
    part.disposed_by = actor
    part.shipment_reference = clean_text(reference)
    part.save()
    events.record(
        actor=actor,
        instance=part,
        action=AuditAction.TRANSITION,
        changes={"status": [source, part.status]},
        message=clean_text(reference),
    )
    events.record(
        actor=actor,
        instance=claim,
        action=AuditAction.ACTION,
        message=events.text(
            gettext_noop("Failed part %(part)s: %(status)s"), part=part, status=part.get_status_display()
        ),
    )
    return part
