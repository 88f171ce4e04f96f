"""Running a django-fsm transition from a service: state first (409), then the role (403), then conditions (409)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, can_proceed

from dms.core import events
from dms.core.exceptions import ConflictError


def run_transition(instance, name: str, actor, *, message: str = "", conflict: str = "", **kwargs) -> None:
    """Call ``instance.<name>()`` on a row the caller locked, save it and write the audit row."""
    method = getattr(instance, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            _("This action is not allowed in the record's current status."), object=instance, method=method
        )
    if not may_run(instance, name, actor):
        raise PermissionDenied
    if not can_proceed(method):
        raise ConflictError(conflict or _("The conditions for this action are not met."))
    source = instance.status
    method(**kwargs)
    instance.save()
    events.record_transition(actor=actor, instance=instance, source=source, target=instance.status, message=message)


def may_run(instance, name: str, actor) -> bool:
    """The role check alone (django-fsm's has_transition_perm also checks the conditions)."""
    meta = getattr(instance, name)._django_fsm
    return bool(meta.has_transition_perm(instance, meta.field.get_state(instance), actor))
