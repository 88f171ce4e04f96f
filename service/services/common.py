"""Small helpers shared by the service app's write modules."""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.tenancy import allowed_dealership_ids

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


def _transition(actor, instance, method_name: str, *, message: str = "", check_perm: bool = True):
    method = getattr(instance, method_name)
    if check_perm and actor is not None and not has_transition_perm(method, actor):
        if can_proceed(method, check_conditions=False):
            raise PermissionDenied
    if not can_proceed(method, check_conditions=False):
        raise ConflictError(
            _("This action is not allowed while the status is «%(status)s».")
            % {"status": instance.get_status_display()}
        )
    source = instance.status
    method()
    instance.save()
    events.record_transition(actor=actor, instance=instance, source=source, target=instance.status, message=message)
    return instance


def _lock_work_order(work_order: WorkOrder) -> WorkOrder:
    return (
        WorkOrder.objects.select_for_update().select_related("dealership", "vehicle", "customer").get(pk=work_order.pk)
    )
