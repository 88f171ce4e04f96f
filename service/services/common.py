"""Small helpers shared by the service app's write modules."""

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from dms.core import roles as core_roles
from dms.core.exceptions import ConflictError
from dms.core.transitions import ModelT, locked, run_transition
from dms.core.validation import check_staff

from .. import scheduling
from ..models import WorkOrder


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _check_advisor(dealership_id: int, advisor) -> None:
    """The advisor is given, works in the dealership and is a service advisor (the appointment book is theirs)."""
    check_staff(
        dealership_id,
        advisor,
        field="advisor",
        role=core_roles.SERVICE_ADVISOR,
        role_message=_("This employee is not a service advisor."),
        required=True,
    )


def _fmt(dt: datetime.datetime, tz) -> str:
    return scheduling.local(dt, tz).strftime("%d.%m.%Y %H:%M")


def _run(instance: ModelT, name: str, *, actor, **options: Any) -> ModelT:
    """``dms.core.transitions.run_transition``; a status that does not allow the step answers as a ConflictError
    (409 with the status in the message), which the pages show as a message as well as the API."""
    try:
        return run_transition(instance, name, actor=actor, **options)
    except TransitionNotAllowed as error:
        raise ConflictError(str(error)) from error


def _lock_work_order(work_order: WorkOrder) -> WorkOrder:
    """The work order locked, read with what its writes use (its dealership, vehicle and customer)."""
    return locked(work_order, "dealership", "vehicle", "customer")
