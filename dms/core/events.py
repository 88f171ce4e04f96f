"""Audit rows. Every service that writes a business record calls one of these inside its transaction."""

import datetime
import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models

from . import outbox
from .models import AuditAction, AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, AbstractBaseUser):
        return value.get_full_name() or value.get_username()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(instance, name)) for name in fields}


@dataclass(frozen=True)
class EventText:
    """A history text kept untranslated with its parameters and translated when read (issue 14 item 8).

    Write ``events.text(gettext_noop("job removed: %(job)s"), job=job)``: ``gettext_noop`` lets makemessages find
    the text; the reader's language is applied by ``AuditEntry.shown_message``.
    """

    msgid: str
    params: dict[str, Any]


def text(msgid: str, **params: Any) -> EventText:
    return EventText(msgid, {name: _plain(value) for name, value in params.items()})


def record(
    *,
    actor,
    instance: models.Model,
    action: str,
    changes: dict[str, Any] | None = None,
    message: str | EventText = "",
) -> AuditEntry:
    params = None
    if isinstance(message, EventText):
        message, params = message.msgid, message.params
    entry = AuditEntry.objects.create(
        dealership_id=getattr(instance, "dealership_id", None),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        action=action,
        changes=changes or {},
        message=str(message)[:500],
        message_params=params,
    )
    # Issue 16 item 5: the change's webhook events go to the outbox here, in the same transaction as the change.
    outbox.emit_for_audit(entry, instance)
    return entry


def record_created(*, actor, instance: models.Model, fields: Iterable[str]) -> AuditEntry:
    return record(actor=actor, instance=instance, action=AuditAction.CREATED, changes=snapshot(instance, fields))


def record_updated(
    *, actor, instance: models.Model, before: dict[str, Any], message: str | EventText = ""
) -> AuditEntry | None:
    after = snapshot(instance, before)
    diff = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if not diff:
        return None
    return record(actor=actor, instance=instance, action=AuditAction.UPDATED, changes=diff, message=message)


def record_transition(
    *, actor, instance: models.Model, source: str, target: str, message: str | EventText = ""
) -> AuditEntry:
    return record(
        actor=actor,
        instance=instance,
        action=AuditAction.TRANSITION,
        changes={"status": [source, target]},
        message=message,
    )
