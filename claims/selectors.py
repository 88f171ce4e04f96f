"""Reads for complaints and claims, always scoped to the dealerships the caller may see."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from . import workorders
from .models import Attachment, Complaint, GoodwillClaim, QuarantinedPart, WarrantyClaim


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
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(number__icontains=search)
            | Q(description__icontains=search)
            | Q(contact_name__icontains=search)
            | Q(contact_phone__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(vehicle__vin__icontains=search)
            | Q(vehicle__plate__icontains=search)
            | Q(vin_text__icontains=search)
        )
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if severity:
        qs = qs.filter(severity=severity)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if overdue:
        qs = qs.filter(overdue_flagged_at__isnull=False, closed_at__isnull=True)
    return qs


def warranty_claim_list(
    *, dealership_ids: Iterable[int], search: str = "", status: str = "", kind: str = ""
) -> QuerySet[WarrantyClaim]:
    qs = WarrantyClaim.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "vehicle", "customer", "engineer", "dealership"
    )
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(number__icontains=search)
            | Q(work_order_number__icontains=search)
            | Q(vehicle__vin__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(failure_code__icontains=search)
            | Q(causal_part_number__icontains=search)
        )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def goodwill_claim_list(
    *, dealership_ids: Iterable[int], search: str = "", status: str = ""
) -> QuerySet[GoodwillClaim]:
    qs = GoodwillClaim.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "vehicle", "customer", "dealership"
    )
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(number__icontains=search)
            | Q(work_order_number__icontains=search)
            | Q(vehicle__vin__icontains=search)
            | Q(customer__name__icontains=search)
        )
    if status:
        qs = qs.filter(status=status)
    return qs


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


def claim_job_search(*, dealership_id: int, work_order_id: int, query: str = "", limit: int = 20) -> list:
    """The warranty claim form's job picker (issue 14 item 4): the jobs of the chosen work order only, read through
    the claims app's window on work orders (``claims.workorders``), by description."""
    work_order = workorders.work_order_for_claim(dealership_id=dealership_id, work_order_id=work_order_id)
    if work_order is None:
        return []
    query = (query or "").strip().casefold()
    return [(work_order, job) for job in work_order.jobs if not query or query in job.description.casefold()][:limit]
