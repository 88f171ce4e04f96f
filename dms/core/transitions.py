"""The one way a status changes (issue 13): every app's services run their django-fsm transitions through here.

``run_transition`` is called inside the service's ``transaction.atomic`` on a row the caller fetched with
``locked`` (``SELECT … FOR UPDATE``), so two requests for the same record queue instead of both passing the state
check. It checks, in this order, so that every app answers the same way:

1. the state — the transition is not available from the record's current status → ``TransitionNotAllowed`` (409);
2. the role — the transition's ``permission`` refuses the actor → ``PermissionDenied`` (403);
3. the conditions — a django-fsm condition fails → ``ConflictError`` with the caller's message (409);

then calls the transition, saves the row (``ConcurrentTransitionMixin`` turns a lost race into 409), writes one
audit row (which also puts the change's webhook events into the outbox, in the same transaction) and registers
the caller's side effects with ``transaction.on_commit`` so an SMS or a task never leaves for a rolled-back change.

Pages and APIs never repeat a transition's source states: they ask ``available_transitions`` /
``can_run`` (django-fsm's own bookkeeping, the role included).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, can_proceed

from dms.core import events
from dms.core.exceptions import ConflictError

ModelT = TypeVar("ModelT", bound=models.Model)


def locked(instance: ModelT, *related: str) -> ModelT:
    """The caller's row read again under ``SELECT … FOR UPDATE`` (call inside ``transaction.atomic``); ``related``
    names foreign keys to read with it (``locked(order, "dealership")``) — only the row itself is locked."""
    qs = type(instance)._default_manager.select_for_update(of=("self",) if related else ())
    return (qs.select_related(*related) if related else qs).get(pk=instance.pk)


def _meta(instance: models.Model, name: str):
    return getattr(instance, name)._django_fsm


def is_available(instance: models.Model, name: str) -> bool:
    """The transition is declared from the record's current state (roles and conditions not asked)."""
    return can_proceed(getattr(instance, name), check_conditions=False)


def may_run(instance: models.Model, name: str, actor) -> bool:
    """The role check alone (django-fsm's ``has_transition_perm`` would also check the conditions)."""
    meta = _meta(instance, name)
    return bool(meta.has_transition_perm(instance, meta.field.get_state(instance), actor))


def can_run(instance: models.Model, name: str, actor) -> bool:
    """State, role and conditions: what a page asks before it shows a button."""
    return is_available(instance, name) and may_run(instance, name, actor) and can_proceed(getattr(instance, name))


def offered_transitions(instance: models.Model, actor, field: str = "status") -> set[str]:
    """The transitions a record's page offers ``actor`` (a button, or a link to the step's form): declared from the
    record's state and the actor holds the role. Conditions are not asked: the step's form fills them in, or pressing
    the button lets the service's runner explain what is missing."""
    names = {transition.name for transition in getattr(instance, f"get_all_{field}_transitions")()}
    return {name for name in names if is_available(instance, name) and may_run(instance, name, actor)}


def available_transitions(instance: models.Model, actor, field: str = "status") -> list[str]:
    """Names of the transitions ``actor`` may run now, in the order the model declares them."""
    method = getattr(instance, f"get_available_user_{field}_transitions")
    return [transition.name for transition in method(actor)]


def run_transition(
    instance: ModelT,
    name: str,
    *,
    actor,
    message: str = "",
    conflict: str = "",
    not_allowed: str = "",
    check_perm: bool = True,
    on_commit: Iterable[Callable[[], Any]] = (),
    field: str = "status",
    **kwargs: Any,
) -> ModelT:
    """Run ``instance.<name>(**kwargs)`` on a locked row, save it, audit it, and schedule the side effects."""
    method = getattr(instance, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            not_allowed
            or _("This action is not allowed while the status is «%(status)s».")
            % {"status": _status_label(instance, field)},
            object=instance,
            method=method,
        )
    if check_perm and actor is not None and not may_run(instance, name, actor):
        raise PermissionDenied
    if not can_proceed(method):
        raise ConflictError(conflict or _("The conditions for this action are not met."))
    source = getattr(instance, field)
    method(**kwargs)
    instance.save()
    events.record_transition(
        actor=actor, instance=instance, source=source, target=getattr(instance, field), message=message
    )
    for effect in on_commit:
        transaction.on_commit(effect)
    return instance


def _status_label(instance: models.Model, field: str) -> str:
    display = getattr(instance, f"get_{field}_display", None)
    return str(display()) if display else str(getattr(instance, field))


def audited_update(
    instance: ModelT,
    *,
    actor,
    data: dict[str, Any],
    allowed: Iterable[str],
    check: Callable[[ModelT], None] | None = None,
    message: str = "",
) -> ModelT:
    """The one audited edit: lock the row, set the allowed fields (others are ignored), validate, save, one audit
    row with the diff (none when nothing changed)."""
    data = {name: value for name, value in data.items() if name in set(allowed)}
    row = locked(instance)
    before = events.snapshot(row, list(data))
    for name, value in data.items():
        setattr(row, name, value)
    if check is not None:
        check(row)
    row.save()
    events.record_updated(actor=actor, instance=row, before=before, message=message)
    return row


def audited_create(
    model: type[ModelT],
    *,
    actor,
    data: dict[str, Any],
    allowed: Iterable[str],
    check: Callable[[ModelT], None] | None = None,
    **fixed: Any,
) -> ModelT:
    """The one audited creation: build from the allowed fields (plus fixed ones, e.g. the dealership), validate,
    save, one audit row."""
    allowed = tuple(allowed)
    row = model(**fixed, **{name: value for name, value in data.items() if name in allowed})
    if check is not None:
        check(row)
    row.save()
    events.record_created(actor=actor, instance=row, fields=allowed)
    return row


def record_writes(
    model: type[ModelT],
    *,
    entity: str,
    allowed: Iterable[str],
    check: Callable[[ModelT], None] | None = None,
    check_new: Callable[[ModelT], None] | None = None,
) -> tuple[Callable[..., ModelT], Callable[..., ModelT]]:
    """The plain create and update services of a dealership's record that has no workflow (parts, suppliers,
    warehouses, loaner cars), each one transaction through ``audited_create`` / ``audited_update``:
    ``<entity>_create(*, actor, dealership, **data)`` (checked by ``check_new``, else ``check``) and
    ``<entity>_update(*, actor, <entity>, data)``. A record whose writes do more keeps its own functions."""

    @transaction.atomic
    def create(*, actor, dealership, **data: Any) -> ModelT:
        return audited_create(
            model, actor=actor, data=data, allowed=allowed, check=check_new or check, dealership=dealership
        )

    @transaction.atomic
    def update(*, actor, data: dict[str, Any], **record: ModelT) -> ModelT:
        if set(record) != {entity}:
            raise TypeError(f"{entity}_update() takes actor=, {entity}= and data=")
        return audited_update(record[entity], actor=actor, data=data, allowed=allowed, check=check)

    create.__name__ = create.__qualname__ = f"{entity}_create"
    update.__name__ = update.__qualname__ = f"{entity}_update"
    return create, update
