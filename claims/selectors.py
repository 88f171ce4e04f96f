"""Reads for complaints and claims, always scoped to the dealerships the caller may see; the R22 automatic checks
of a warranty claim (reads of the claim, its work order and the vehicle's visits)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from dms.core.formatting import plain_quantity, short_date
from dms.core.roles import DIRECTOR
from dms.core.search import text_search
from dms.core.selectors import PICKER_LIMIT, picker_matches

from . import workorders
from .models import (
    AppraisalStatus,
    Attachment,
    AttachmentKind,
    Complaint,
    GoodwillClaim,
    QuarantinedPart,
    StaffAppraisal,
    WarrantyClaim,
    WarrantyClaimKind,
    WarrantyStatus,
)


def _having(qs: QuerySet, **values) -> QuerySet:
    """The list's filters: each one given (not empty) narrows the rows to that value."""
    return qs.filter(**{name: value for name, value in values.items() if value})


def complaint_list(
    *,
    dealership_ids: Iterable[int],
    search: str = "",
    status: str = "",
    category: str = "",
    severity: str = "",
    assignee_id: int | None = None,
    overdue: bool = False,
) -> QuerySet[Complaint]:
    qs = Complaint.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "customer", "vehicle", "assignee", "dealership"
    )
    # the filters first, the search last: its probe reads the filtered rows (dms.core.search)
    qs = _having(qs, status=status, category=category, severity=severity, assignee_id=assignee_id)
    if overdue:
        qs = qs.filter(overdue_flagged_at__isnull=False, closed_at__isnull=True)
    return text_search(
        qs,
        search,
        "number",
        "description",
        "contact_name",
        "contact_phone",
        "customer__name",
        "vehicle__vin",
        "vehicle__plate",
        "vin_text",
    )


def warranty_claim_list(
    *, dealership_ids: Iterable[int], search: str = "", status: str = "", kind: str = ""
) -> QuerySet[WarrantyClaim]:
    qs = WarrantyClaim.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "vehicle", "customer", "engineer", "dealership"
    )
    qs = _having(qs, status=status, kind=kind)
    return text_search(
        qs,
        search,
        "number",
        "work_order_number",
        "vehicle__vin",
        "customer__name",
        "failure_code",
        "causal_part_number",
    )


def goodwill_claim_list(
    *, dealership_ids: Iterable[int], search: str = "", status: str = ""
) -> QuerySet[GoodwillClaim]:
    qs = GoodwillClaim.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "vehicle", "customer", "dealership"
    )
    qs = _having(qs, status=status)
    return text_search(qs, search, "number", "work_order_number", "vehicle__vin", "customer__name")


def quarantine_list(*, dealership_ids: Iterable[int], status: str = "") -> QuerySet[QuarantinedPart]:
    qs = QuarantinedPart.objects.filter(dealership_id__in=list(dealership_ids)).select_related("claim")
    return qs.filter(status=status) if status else qs


def attachment_for_user(*, user, attachment_id: int, dealership_ids: Iterable[int]) -> Attachment | None:
    """The attachment if the user may see its complaint or claim; ``None`` (→ 404) for other dealerships."""
    return (
        Attachment.objects.filter(pk=attachment_id, dealership_id__in=list(dealership_ids))
        .select_related("complaint", "warranty_claim", "goodwill_claim")
        .first()
    )


VIEW_PERM_OF_OWNER = {
    "complaint": "claims.view_complaint",
    "warranty_claim": "claims.view_warrantyclaim",
    "goodwill_claim": "claims.view_goodwillclaim",
}


def may_view_attachment(user, attachment: Attachment) -> bool:
    for field, perm in VIEW_PERM_OF_OWNER.items():
        if getattr(attachment, f"{field}_id"):
            return user.has_perm(perm)
    return False


def complaint_history(*, customer=None, vehicle=None) -> QuerySet[Complaint]:
    """Issue 14 item 3: the card's complaints, open ones first, then newest."""
    from dms.core.history import open_first, subject_q

    from .models import COMPLAINT_OPEN_STATUSES

    qs = Complaint.objects.filter(subject_q(customer=customer, vehicle=vehicle))
    return open_first(qs, open_q=Q(status__in=COMPLAINT_OPEN_STATUSES), newest="received_at")


def goodwill_history(*, customer=None, vehicle=None) -> QuerySet[GoodwillClaim]:
    """Issue 14 item 3: the card's goodwill claims; open until paid or rejected."""
    from dms.core.history import open_first, subject_q

    from .models import GoodwillStatus

    qs = GoodwillClaim.objects.filter(subject_q(customer=customer, vehicle=vehicle))
    closed = (GoodwillStatus.PAID, GoodwillStatus.REJECTED)
    return open_first(qs, open_q=~Q(status__in=closed), newest="created_at")


def warranty_history(*, customer=None, vehicle=None) -> QuerySet[WarrantyClaim]:
    """Issue 14 item 3: the card's warranty claims; open until paid or rejected."""
    from dms.core.history import open_first, subject_q

    from .models import WarrantyStatus

    qs = WarrantyClaim.objects.filter(subject_q(customer=customer, vehicle=vehicle))
    closed = (WarrantyStatus.PAID, WarrantyStatus.REJECTED)
    return open_first(qs, open_q=~Q(status__in=closed), newest="created_at")


def directors_of(dealership_id: int) -> list:
    """The dealership's active directors with an e-mail: overdue complaints are escalated to them (R33)."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=DIRECTOR, staff_profile__dealerships__id=dealership_id)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def live_claims_for_job(claim: WarrantyClaim) -> QuerySet[WarrantyClaim]:
    """R22: the claims (rejected ones aside) for the same job of the same work order."""
    return WarrantyClaim.objects.filter(
        dealership_id=claim.dealership_id, work_order_id=claim.work_order_id, job_id=claim.job_id
    ).exclude(status=WarrantyStatus.REJECTED)


# ----------------------------------------------------------------------------------------------------------------
# R22 «系统自动审批»: what a warranty claim needs before submission, and the system's own checks.
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "passed": self.passed, "message": self.message}


def _blank(value) -> bool:
    return not (value or "").strip()


def _odometer_rollback_errors(claim: WarrantyClaim) -> dict[str, str]:
    errors: dict[str, str] = {}
    if _blank(claim.odometer_explanation):
        errors["odometer_explanation"] = _("An odometer-rollback claim needs the explanation of the rollback.")
    kinds = set(claim.attachments.values_list("kind", flat=True))
    if AttachmentKind.PHOTO not in kinds:
        errors["photos"] = _("An odometer-rollback claim needs photos of the odometer.")
    if AttachmentKind.FMC_SIGNED_CONFIRMATION not in kinds:
        errors["fmc_signed_confirmation"] = _(
            "An odometer-rollback claim needs the field manager's signed confirmation (upload the scan)."
        )
    return errors


def warranty_claim_preconditions(claim: WarrantyClaim) -> dict[str, str]:
    """What must be on the claim before it may be submitted (R22): TAC authorisation, odometer evidence."""
    errors: dict[str, str] = {}
    if claim.needs_tac() and _blank(claim.tac_authorisation):
        errors["tac_authorisation"] = _(
            "A special or assembly part needs the TAC authorisation number before the claim is submitted."
        )
    if claim.kind == WarrantyClaimKind.ODOMETER_ROLLBACK:
        errors.update(_odometer_rollback_errors(claim))
    if not claim.part_lines.exists() and claim.labour_hours <= 0:
        errors["parts"] = _("The claim has neither parts nor labour.")
    return errors


def _check_warranty_date(claim: WarrantyClaim) -> CheckResult:
    vehicle = claim.vehicle
    if vehicle.warranty_end is None:
        return CheckResult("warranty_date", False, _("The vehicle has no warranty period recorded."))
    if (vehicle.warranty_start and claim.failure_date < vehicle.warranty_start) or (
        claim.failure_date > vehicle.warranty_end
    ):
        return CheckResult(
            "warranty_date",
            False,
            _("The failure date %(date)s is outside the warranty (until %(end)s).")
            % {"date": short_date(claim.failure_date), "end": short_date(vehicle.warranty_end)},
        )
    return CheckResult("warranty_date", True, _("In warranty by date."))


def _check_warranty_mileage(claim: WarrantyClaim) -> CheckResult:
    limit = claim.vehicle.warranty_mileage_limit
    if limit is not None and claim.mileage > limit:
        return CheckResult(
            "warranty_mileage",
            False,
            _("The mileage %(mileage)s km exceeds the warranty limit of %(limit)s km.")
            % {"mileage": claim.mileage, "limit": limit},
        )
    return CheckResult("warranty_mileage", True, _("In warranty by mileage."))


def _check_delivered(work_order: workorders.WorkOrderInfo) -> CheckResult:
    if workorders.is_delivered(work_order):
        return CheckResult("work_order_delivered", True, _("The work order was delivered."))
    return CheckResult(
        "work_order_delivered",
        False,
        _("Work order %(number)s has not been delivered to the customer.") % {"number": work_order.number},
    )


def _check_parts_issued(claim: WarrantyClaim, work_order: workorders.WorkOrderInfo) -> CheckResult:
    # Issue 15 item 3: the warehouse ledger's issues against the work order's requisitions (net of returns).
    issued = workorders.parts_issued_to(work_order)
    missing = [
        _("%(part)s (claimed %(claimed)s, issued %(issued)s)")
        % {
            "part": line.part.number,
            "claimed": plain_quantity(line.quantity),
            "issued": plain_quantity(issued.get(line.part_id, Decimal("0"))),
        }
        for line in claim.part_lines.select_related("part")
        if issued.get(line.part_id, Decimal("0")) < line.quantity
    ]
    if missing:
        return CheckResult(
            "parts_issued",
            False,
            _("Parts not issued from the warehouse to work order %(number)s against its requisitions: %(parts)s.")
            % {"number": work_order.number, "parts": "; ".join(missing)},
        )
    return CheckResult("parts_issued", True, _("The claimed parts were issued to the work order."))


def _check_duplicate(claim: WarrantyClaim) -> CheckResult:
    duplicate = live_claims_for_job(claim).exclude(pk=claim.pk).first()
    if duplicate is not None:
        return CheckResult(
            "duplicate",
            False,
            _("Claim %(number)s already exists for the same job.") % {"number": duplicate.number},
        )
    return CheckResult("duplicate", True, _("No other claim for this job."))


def _check_mileage_history(claim: WarrantyClaim, work_order: workorders.WorkOrderInfo | None) -> CheckResult:
    """Mileage never decreasing across the vehicle's visits (the claim's reading included)."""
    readings = [
        (r.at, r.mileage, r.work_order_number)
        for r in workorders.mileage_history(vehicle_id=claim.vehicle_id)
        if r.work_order_id != claim.work_order_id
    ]
    this_at = work_order.opened_at if work_order and work_order.opened_at else claim.created_at
    readings.append((this_at, claim.mileage, claim.work_order_number))
    readings.sort(key=lambda r: r[0])
    drops = [(earlier, later) for earlier, later in zip(readings, readings[1:], strict=False) if later[1] < earlier[1]]
    if not drops:
        return CheckResult("mileage", True, _("The mileage never decreased across the vehicle's visits."))
    earlier, later = drops[0]
    message = _("The mileage decreased from %(a)s km (%(wa)s) to %(b)s km (%(wb)s).") % {
        "a": earlier[1],
        "wa": earlier[2],
        "b": later[1],
        "wb": later[2],
    }
    if claim.kind == WarrantyClaimKind.ODOMETER_ROLLBACK:
        # The rollback is the claim's subject: explained, with photos and the FMC's signed confirmation.
        return CheckResult(
            "mileage", True, _("%(message)s Explained by the FMC-confirmed rollback.") % {"message": message}
        )
    return CheckResult("mileage", False, message)


def run_automatic_checks(claim: WarrantyClaim) -> list[CheckResult]:
    """R22 «系统自动审批»: the system's own checks. Each returns passed/failed with a message."""
    work_order = workorders.work_order_for_claim(dealership_id=claim.dealership_id, work_order_id=claim.work_order_id)
    if work_order is None or work_order.vehicle_id != claim.vehicle_id:
        order_checks = [
            CheckResult("work_order_delivered", False, _("The work order is not found for this vehicle.")),
            CheckResult("parts_issued", False, _("The parts cannot be checked without the work order.")),
        ]
    else:
        order_checks = [_check_delivered(work_order), _check_parts_issued(claim, work_order)]
    return [
        _check_warranty_date(claim),
        _check_warranty_mileage(claim),
        *order_checks,
        _check_duplicate(claim),
        _check_mileage_history(claim, work_order),
    ]


def claim_job_search(*, dealership_id: int, work_order_id: int, query: str = "", limit: int = 20) -> list:
    """The warranty claim form's job picker (issue 14 item 4): the jobs of the chosen work order only, read through
    the claims app's window on work orders (``claims.workorders``), by description."""
    work_order = workorders.work_order_for_claim(dealership_id=dealership_id, work_order_id=work_order_id)
    if work_order is None:
        return []
    query = (query or "").strip().casefold()
    return [(work_order, job) for job in work_order.jobs if not query or query in job.description.casefold()][:limit]


# -- issue 18 item 6: staff appraisals (seed 004) -------------------------------------------------------------------
def staff_appraisals(*, user, dealership_ids, employee_id: int | None = None):
    """Appraisals the user may read: a supervisor (``claims.appraise_staff``) every one of his dealerships'; anyone
    else his own, and his colleagues' open ones (to enter a colleague's score; their figures stay hidden)."""
    qs = StaffAppraisal.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "employee", "dealership", "opened_by", "finalised_by"
    )
    if not user.has_perm("claims.appraise_staff"):
        qs = qs.filter(Q(employee=user) | Q(status=AppraisalStatus.OPEN))
    if employee_id is not None:
        qs = qs.filter(employee_id=employee_id)
    return qs.prefetch_related("scores__entered_by")


def may_see_appraisal_figures(user, appraisal) -> bool:
    return appraisal.employee_id == user.pk or user.has_perm("claims.appraise_staff")


def complaint_search(
    *, dealership_id: int, query: str, customer_id: int | None = None, limit: int = PICKER_LIMIT
) -> list[Complaint]:
    """The goodwill claim form's complaint picker: the dealership's complaints by number or customer (or contact)
    name, only the chosen customer's when one is given, newest first; one query with the LIMIT inside it (a
    dealership's 100,000 complaints were each an <option> of the form)."""
    qs = picker_matches(
        Complaint.objects.filter(dealership_id=dealership_id),
        query=query,
        fields=["number", "customer__name", "contact_name"],
        customer_id=customer_id,
    )
    return list(
        qs.select_related("customer")
        .only("id", "number", "received_at", "contact_name", "customer_id", "customer__name")
        .order_by("-received_at", "-id")[:limit]
    )
