"""Small helpers shared by the service app's write modules."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from dms.core.exceptions import ConflictError
from dms.core.tenancy import allowed_dealership_ids
from dms.core.transitions import ModelT, run_transition

from .. import scheduling
from ..models import WorkOrder


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _check_staff(dealership_id: int, field: str, user, role: str | None = None) -> None:
    if user is None:
        raise ValidationError({field: _("This field is required.")})
    if dealership_id not in allowed_dealership_ids(user):
        raise ValidationError({field: _("This employee does not work in the dealership.")})
    if role and not user.groups.filter(name=role).exists():
        raise ValidationError({field: _("This employee is not a service advisor.")})


def _check_owned(dealership_id: int, **related: Any) -> None:
    errors = {}
    for field, obj in related.items():
        if obj is not None and obj.dealership_id != dealership_id:
            errors[field] = _("Unknown %(field)s.") % {"field": field}
    if errors:
        raise ValidationError(errors)


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
    return (
        WorkOrder.objects.select_for_update().select_related("dealership", "vehicle", "customer").get(pk=work_order.pk)
    )
