"""Helpers shared by the claims services: numbering, input cleaning, and the role/state guard of a transition."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from dms.core.exceptions import ConflictError
from dms.core.models import Dealership
from dms.core.transitions import run_transition
from dms.core.validation import clean_text, money_amount, next_document_number

from ..models import NumberCounter

NUMBER_PREFIXES = {"complaint": "ЖЛ", "goodwill": "ГП", "warranty": "ГА"}


def next_number(dealership: Dealership, kind: str) -> str:
    """ЖЛ-000001, ГП-000001, ГА-000001: per dealership and kind, under a row lock."""
    return next_document_number(
        NumberCounter, prefix=f"{NUMBER_PREFIXES[kind]}-", digits=6, dealership=dealership, kind=kind
    )


def require(actor, perm: str) -> None:
    """For the writes that are not status transitions (notes, files, quarantine)."""
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You are not allowed to do this."))


def apply(instance, data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def holds_role(instance, name: str, actor) -> bool:
    """The actor holds the role of transition ``name`` (its ``permission`` on the model), whatever the status.

    A step that depends on the status (return/reject: the FMC at its step, the claims department or CAC at theirs)
    declares a callable permission, asked for the record's current status."""
    if actor is None:
        return False
    meta = getattr(instance, name)._django_fsm
    transition = meta.get_transition(meta.field.get_state(instance)) or next(iter(meta.transitions.values()))
    return transition.has_perm(instance, actor)


def guard(instance, name: str, *, actor, not_allowed: str) -> None:
    """Before the input is validated: 403 for a role that never runs the step, then 409 (with the step's own
    message) for a status the step does not start from. ``dms.core.transitions.run_transition`` runs the step."""
    if not holds_role(instance, name, actor):
        raise PermissionDenied(_("You are not allowed to do this."))
    if not can_proceed(getattr(instance, name), check_conditions=False):
        raise ConflictError(not_allowed)


def record_payment(claim, *, actor, amount: Any, reference: str, not_allowed: str, now):
    """R22/R23: the manufacturer's payment of a confirmed claim (amount and payment reference), on a locked claim."""
    guard(claim, "record_payment", actor=actor, not_allowed=not_allowed)
    paid = money_amount(amount, field="amount")
    reference = clean_text(reference)
    if not reference:
        raise ValidationError({"reference": _("Enter the payment reference.")})
    return run_transition(
        claim,
        "record_payment",
        actor=actor,
        message=f"{paid} {reference}",
        at=now or timezone.now(),
        amount=paid,
        reference=reference,
    )


def decide_with_reason(claim, name: str, *, actor, reason: str):
    """Return for correction or reject at the deciding step (FMC, claims department, CAC), with a reason."""
    guard(claim, name, actor=actor, not_allowed=_("This claim is not awaiting a confirmation."))
    reason = clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason.")})
    return run_transition(claim, name, actor=actor, message=reason, reason=reason)
