"""The quality check (R31): per job against its kind's checklist; failed jobs go back for rework."""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.transitions import is_available
from dms.core.uploads import IMAGE_UPLOADS, validate_upload

from .. import selectors
from ..models import (
    QualityCheck,
    QualityChecklistItem,
    QualityJobResult,
    QualityPhoto,
    WorkOrder,
    WorkOrderJob,
)
from .common import _lock_work_order, _run


@dataclass(frozen=True)
class JobQualityResult:
    """The inspector's result for one job (R31, issue 14 item 6)."""

    job: WorkOrderJob
    passed: bool
    comment: str = ""
    ticked_items: list[QualityChecklistItem] = field(default_factory=list)
    photos: list[Any] = field(default_factory=list)


def checklist_items_of(
    job: WorkOrderJob, item_ids: list, *, field: str = "checklist_items"
) -> list[QualityChecklistItem]:
    """The checklist items ``item_ids`` names, each one of the job's kind; an unknown id is a 400, never dropped."""
    wanted = [parse_id(item_id) if not isinstance(item_id, int) else item_id for item_id in item_ids]
    found = {
        item.pk: item
        for item in QualityChecklistItem.objects.filter(kind_id=job.kind_id, pk__in=[i for i in wanted if i])
    }
    if job.kind_id is None or any(item_id not in found for item_id in wanted):
        if wanted:
            raise ValidationError({field: _("%(job)s: a checklist item of another kind of job.") % {"job": job}})
    return [found[item_id] for item_id in wanted]


def _check_job_result(result: JobQualityResult, errors: list[str]) -> None:
    job = result.job
    items = list(job.kind.checklist.filter(active=True)) if job.kind_id else []
    item_ids = {item.pk for item in items}
    ticked = {item.pk for item in result.ticked_items}
    if not ticked <= item_ids:
        errors.append(_("%(job)s: a checklist item of another kind of job.") % {"job": job})
    if not result.passed and not (result.comment or "").strip():
        errors.append(_("%(job)s: describe what must be redone.") % {"job": job})
    if result.passed and item_ids - ticked:
        missing = ", ".join(item.text for item in items if item.pk not in ticked)
        errors.append(
            _("%(job)s: tick every checklist item (%(items)s) or fail the job.") % {"job": job, "items": missing}
        )


def _check_checked_jobs(due: list[WorkOrderJob], checked_ids: list[int]) -> bool:
    """The ticked jobs are due, each once, all of them when one is important; returns whether it is a full
    inspection."""
    due_ids = {job.pk for job in due}
    if len(set(checked_ids)) != len(checked_ids):
        raise ValidationError({"results": _("Each job is checked once.")})
    if not set(checked_ids) <= due_ids:
        raise ValidationError({"checked_jobs": _("Unknown job, or a job that has already passed.")})
    full = any(job.is_important for job in due)
    if full and set(checked_ids) != due_ids:
        raise ValidationError(
            {"checked_jobs": _("The work order has important jobs: a full inspection checks every job.")}
        )
    if not checked_ids:
        raise ValidationError({"checked_jobs": _("Tick the jobs you inspected.")})
    return full


def _store_job_results(check: QualityCheck, results: list[JobQualityResult], photo_types: dict[int, str]) -> None:
    for result in results:
        row = QualityJobResult.objects.create(
            quality_check=check, job=result.job, passed=result.passed, comment=(result.comment or "").strip()
        )
        row.ticked_items.set(result.ticked_items)
        for photo in result.photos:
            QualityPhoto(result=row).store_upload(photo, content_type=photo_types[id(photo)])


@transaction.atomic
def workorder_quality_check(
    *,
    actor,
    work_order: WorkOrder,
    passed: bool | None = None,
    checked_jobs: list[WorkOrderJob] | None = None,
    results: list[JobQualityResult] | None = None,
    notes: str = "",
    now=None,
) -> QualityCheck:
    """R31: the inspector passes or fails EACH job (issue 14 item 6) against its kind's checklist; a full inspection
    when a job waiting for the check is important. Only the failed jobs go back for rework; passed jobs stay passed,
    and the next check covers only the jobs that have not passed yet.

    ``passed`` + ``checked_jobs`` is the earlier form (one result for all ticked jobs, ``notes`` as their comment)."""
    work_order = _lock_work_order(work_order)
    if not actor.has_perm("service.qc_workorder"):
        raise PermissionDenied
    # The FSM says whether the check is possible now (no source states repeated here).
    if not is_available(work_order, "pass_quality_check"):
        raise ConflictError(_("The work order is not waiting for the quality check."))
    legacy = results is None
    if legacy:
        results = [JobQualityResult(job=job, passed=bool(passed), comment=notes) for job in checked_jobs or []]
    due = selectors.jobs_waiting_for_quality_check(work_order)
    due_ids = {job.pk for job in due}
    checked_ids = [r.job.pk for r in results]
    full = _check_checked_jobs(due, checked_ids)
    if legacy and not passed and not (notes or "").strip():
        raise ValidationError({"notes": _("Describe what must be redone.")})
    errors: list[str] = []
    for result in results:
        _check_job_result(result, errors)
    if errors:
        raise ValidationError({"results": errors})
    photo_types = {
        id(photo): validate_upload(photo, allowed=IMAGE_UPLOADS, field="photos")
        for result in results
        for photo in result.photos
    }
    failed = [r for r in results if not r.passed]
    check = QualityCheck.objects.create(
        work_order=work_order, inspector=actor, passed=not failed, full_inspection=full, notes=notes
    )
    check.checked_jobs.set(checked_ids)
    _store_job_results(check, results, photo_types)
    failed_ids = [r.job.pk for r in failed]
    # A spot check (no important job) passes the jobs not ticked as well: nothing was found against them.
    WorkOrderJob.objects.filter(pk__in=due_ids - set(failed_ids)).update(
        quality_status=WorkOrderJob.QualityStatus.PASSED
    )
    if not failed:
        _run(work_order, "pass_quality_check", actor=actor, message=notes)
    else:
        # Rework: only the failed jobs are redone (and self-checked again); passed jobs stay passed.
        WorkOrderJob.objects.filter(pk__in=failed_ids).update(
            done_at=None, quality_status=WorkOrderJob.QualityStatus.REWORK
        )
        work_order.rework_count += 1
        work_order.self_check_at = None
        names = ", ".join(r.job.description for r in failed)
        _run(
            work_order,
            "fail_quality_check",
            actor=actor,
            message=notes or events.text(gettext_noop("rework: %(jobs)s"), jobs=names),
        )
    return check
