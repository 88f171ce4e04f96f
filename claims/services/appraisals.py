"""Staff appraisal (seed 004 «绩效考核», issue 18 item 6): monthly and yearly, scored by the supervisor, colleagues,
customers and the employee, kept with a frozen copy of the figures (claims.staff_kpi).

Who enters which score: the employee only the self-assessment; a supervisor (``claims.appraise_staff``) the
supervisor's score and the customers' (from their feedback), never on his own appraisal; a colleague of the same
dealership a colleague's score. One score per source and author, changed by its author while the appraisal is open.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.core.exceptions import ConflictError
from dms.core.models import Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import audited_create, audited_update, locked, run_transition
from dms.core.validation import check_staff, clean_text

from .. import staff_kpi
from ..models import SCORE_MAX, SCORE_MIN, AppraisalScore, AppraisalStatus, ScoreSource, StaffAppraisal
from .common import require

APPRAISE = "claims.appraise_staff"


def _figures(*, dealership: Dealership, employee, period: staff_kpi.StaffPeriod, now: datetime.datetime) -> dict:
    row = staff_kpi.employee_row(dealership_ids=[dealership.pk], period=period, employee_id=employee.pk, now=now)
    return row.as_json()


@transaction.atomic
def staff_appraisal_open(
    *,
    actor,
    dealership: Dealership,
    employee,
    period: staff_kpi.StaffPeriod,
    now: datetime.datetime | None = None,
) -> StaffAppraisal:
    """A supervisor opens the employee's appraisal for a month or a year that has begun; the figures are frozen now."""
    require(actor, APPRAISE)
    now = now or timezone.now()
    check_staff(dealership, employee, field="employee", required=True)
    if employee.pk == actor.pk:
        raise ValidationError({"employee": _("A supervisor does not appraise himself.")})
    if period.start > timezone.localtime(now, dealership.tz).date():
        raise ValidationError({"period": _("The period has not begun yet.")})
    if StaffAppraisal.objects.filter(
        dealership=dealership, employee=employee, period_kind=period.kind, period_start=period.start
    ).exists():
        raise ConflictError(_("This employee already has an appraisal for this period."))
    try:
        with transaction.atomic():
            return audited_create(
                StaffAppraisal,
                actor=actor,
                data={
                    "employee": employee,
                    "period_kind": period.kind,
                    "period_start": period.start,
                    "figures": _figures(dealership=dealership, employee=employee, period=period, now=now),
                    "figures_at": now,
                },
                allowed=("employee", "period_kind", "period_start", "figures", "figures_at"),
                dealership=dealership,
                opened_by=actor,
            )
    except IntegrityError as error:  # two supervisors at the same moment
        raise ConflictError(_("This employee already has an appraisal for this period.")) from error


def _check_scorer(*, actor, appraisal: StaffAppraisal, source: str) -> None:
    if source not in ScoreSource.values:
        raise ValidationError({"source": _("Choose whose score this is.")})
    own = actor.pk == appraisal.employee_id
    if source == ScoreSource.SELF:
        if not own:
            raise PermissionDenied(_("Only the employee enters the self-assessment."))
        return
    if own:
        raise PermissionDenied(_("On your own appraisal you enter only the self-assessment."))
    if source in (ScoreSource.SUPERVISOR, ScoreSource.CUSTOMER):
        require(actor, APPRAISE)
        return
    # A colleague: someone else who works in the appraisal's dealership.
    if appraisal.dealership_id not in allowed_dealership_ids(actor) or not actor.has_perm("claims.view_staff_kpi"):
        raise PermissionDenied(_("You are not allowed to do this."))


def _score_value(score) -> int:
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(score, bool) or not SCORE_MIN <= value <= SCORE_MAX:
        raise ValidationError({"score": _("Enter a score from 1 to 5.")})
    return value


@transaction.atomic
def appraisal_score_record(
    *,
    actor,
    appraisal: StaffAppraisal,
    source: str,
    score: int,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> AppraisalScore:
    """Enter (or change one's own) score of an open appraisal; who may enter which source: the module docstring."""
    appraisal = locked(appraisal)
    _check_scorer(actor=actor, appraisal=appraisal, source=source)
    if appraisal.status != AppraisalStatus.OPEN:
        raise ConflictError(_("The appraisal is finalised; its scores no longer change."))
    data = {"score": _score_value(score), "comment": clean_text(comment or ""), "entered_at": now or timezone.now()}
    existing = AppraisalScore.objects.filter(appraisal=appraisal, source=source, entered_by=actor).first()
    if existing is not None:
        return audited_update(existing, actor=actor, data=data, allowed=("score", "comment", "entered_at"))
    return audited_create(
        AppraisalScore,
        actor=actor,
        data={**data, "source": source},
        allowed=("source", "score", "comment", "entered_at"),
        appraisal=appraisal,
        entered_by=actor,
    )


@transaction.atomic
def staff_appraisal_finalise(
    *, actor, appraisal: StaffAppraisal, summary: str = "", now: datetime.datetime | None = None
) -> StaffAppraisal:
    """The supervisor closes the appraisal: his conclusion, the figures taken once more and frozen for good."""
    now = now or timezone.now()
    appraisal = locked(appraisal)
    if actor.pk == appraisal.employee_id:
        raise PermissionDenied(_("On your own appraisal you enter only the self-assessment."))
    if not appraisal.scores.filter(source=ScoreSource.SUPERVISOR).exists():
        raise ValidationError({"summary": _("Enter the supervisor's score first.")})
    appraisal.summary = clean_text(summary or "")
    period = staff_kpi.StaffPeriod.of(appraisal.period_kind, appraisal.period_start)
    figures = _figures(dealership=appraisal.dealership, employee=appraisal.employee, period=period, now=now)
    return run_transition(appraisal, "finalise", actor=actor, at=now, by=actor, figures=figures)
