"""R32: parts for a job are issued against a requisition approved by a supervisor; removed old parts come back to
the warehouse and are registered; the parts cost of each job comes from the ledger rows issued to it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from dms.core import events
from dms.core.models import Dealership
from dms.core.transitions import locked, run_transition
from dms.core.validation import check_owned

from .. import selectors
from ..models import OldPartReturn, Part, Requisition, RequisitionLine
from .stock import _resolve_warehouse, clean_quantity, stock_issue


def _check_work_order(requisition: Requisition) -> tuple[Model, Model | None]:
    """Approval and issue act only on a requisition naming a real work order (and job) of its dealership: older
    requisitions that name one by text only (no such work order) stop here instead of issuing to no job."""
    if requisition.work_order_id is None:
        raise ValidationError(
            {
                "work_order_id": _(
                    "The requisition names no work order of the dealership (%(ref)s): reject it and make a new one."
                )
                % {"ref": requisition.work_order_ref or "—"}
            }
        )
    return selectors.resolve_work_order_and_job(
        dealership=requisition.dealership_id, work_order_id=requisition.work_order_id, job_id=requisition.job_id
    )


@transaction.atomic
def requisition_create(
    *,
    actor,
    dealership: Dealership,
    work_order_id: int,
    lines: list[dict],
    job_id: int | None = None,
    work_order_line: str = "",
    technician: str = "",
    warehouse=None,
    note: str = "",
) -> Requisition:
    work_order, job = selectors.resolve_work_order_and_job(
        dealership=dealership, work_order_id=work_order_id, job_id=job_id
    )
    if not lines:
        raise ValidationError({"lines": _("Add at least one part.")})
    check_owned(dealership, by_verbose_name=True, warehouse=warehouse)
    requisition = Requisition.objects.create(
        dealership=dealership,
        work_order_id=work_order.pk,
        job_id=job.pk if job is not None else None,
        work_order_ref=str(work_order)[:50],
        work_order_line=(work_order_line or "").strip()[:200] or (str(job)[:200] if job is not None else ""),
        technician=(technician or "").strip()[:200] or (actor.get_full_name() or actor.username),
        warehouse=warehouse,
        note=(note or "")[:300],
        requested_by=actor,
    )
    for line in lines:
        part: Part = line["part"]
        check_owned(dealership, by_verbose_name=True, part=part)
        RequisitionLine.objects.create(requisition=requisition, part=part, quantity=clean_quantity(line["quantity"]))
    events.record_created(
        actor=actor,
        instance=requisition,
        fields=("work_order_id", "job_id", "work_order_ref", "work_order_line", "technician"),
    )
    return requisition


@transaction.atomic
def requisition_approve(*, actor, requisition: Requisition) -> Requisition:
    requisition = locked(requisition, "dealership")
    _check_work_order(requisition)
    if requisition.requested_by_id == actor.pk:
        raise ValidationError(_("You cannot approve your own requisition: another supervisor must approve it."))
    requisition.approved_by = actor
    run_transition(requisition, "approve", actor=actor)
    return requisition


@transaction.atomic
def requisition_reject(*, actor, requisition: Requisition, reason: str) -> Requisition:
    requisition = locked(requisition, "dealership")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the rejection.")})
    requisition.reject_reason = reason.strip()[:300]
    run_transition(requisition, "reject", actor=actor, message=requisition.reject_reason)
    return requisition


@transaction.atomic
def requisition_issue(*, actor, requisition: Requisition) -> Requisition:
    """The storekeeper issues every line: ledger rows charged to the job (work order)."""
    requisition = locked(requisition, "dealership")
    _check_work_order(requisition)
    run_transition(requisition, "issue", actor=actor)
    warehouse = _resolve_warehouse(requisition.dealership, requisition.warehouse)
    for line in requisition.lines.select_related("part"):
        line.movement = stock_issue(
            actor=actor,
            dealership=requisition.dealership,
            part=line.part,
            quantity=line.quantity,
            reference=str(requisition),
            warehouse=warehouse,
            reason="work_order",
            work_order_ref=requisition.work_order_ref,
            # Issue 15 item 2 (R32): the ledger row carries the work order and job, so the cost lands on the job.
            work_order_id=requisition.work_order_id,
            job_id=requisition.job_id,
        )
        line.save(update_fields=["movement"])
    requisition.issued_by = actor
    requisition.save(update_fields=["issued_by", "updated_at"])
    return requisition


@transaction.atomic
def old_part_register(
    *,
    actor,
    dealership: Dealership,
    part: Part,
    quantity,
    condition: str,
    work_order_ref: str = "",
    requisition: Requisition | None = None,
    note: str = "",
) -> OldPartReturn:
    """R32: a removed old part handed back to the warehouse: counted, registered as reusable or scrap."""
    quantity = clean_quantity(quantity)
    check_owned(dealership, by_verbose_name=True, part=part, requisition=requisition)
    if condition not in OldPartReturn.Condition.values:
        raise ValidationError({"condition": _("Choose reusable or scrap.")})
    if requisition is not None:
        requisition = locked(requisition)  # two registrations at once queue up, so neither overshoots the issue
        work_order_ref = requisition.work_order_ref
        issued = sum(line.quantity for line in requisition.lines.filter(part=part))
        if requisition.status != Requisition.Status.ISSUED:
            raise ValidationError({"requisition": _("Old parts come back against an issued requisition.")})
        # What came back before counts too: no more old parts than new ones were issued against the requisition.
        returned = sum(old.quantity for old in requisition.old_parts.filter(part=part))
        if issued and returned + quantity > issued:
            raise ValidationError({"quantity": _("Only %(n)s were issued for this job.") % {"n": issued}})
    if not (work_order_ref or "").strip():
        raise ValidationError({"work_order_ref": _("Give the work order the part was removed in.")})
    item = OldPartReturn.objects.create(
        dealership=dealership,
        requisition=requisition,
        work_order_ref=work_order_ref.strip()[:50],
        part=part,
        quantity=quantity,
        condition=condition,
        note=(note or "")[:300],
        registered_by=actor,
    )
    events.record_created(actor=actor, instance=item, fields=("work_order_ref", "part", "quantity", "condition"))
    return item
