"""Running a django-fsm transition from a service: state first (409), then the role (403), then conditions (409)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from dms.core import events
from dms.core.exceptions import ConflictError


def run_transition(instance, name: str, actor, *, message: str = "", conflict: str = "", **kwargs) -> None:
    """Call ``instance.<name>()`` on a row the caller locked, save it and write the audit row."""
    method = getattr(instance, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            _("This action is not allowed in the record's current status."), object=instance, method=method
        )
    if not has_transition_perm(method, actor):
        raise PermissionDenied
    if not can_proceed(method):
        raise ConflictError(conflict or _("The conditions for this action are not met."))
    source = instance.status
    method(**kwargs)
    instance.save()
    events.record_transition(actor=actor, instance=instance, source=source, target=instance.status, message=message)
