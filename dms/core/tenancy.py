"""Which dealerships a user may see and which one a request acts in.

Pages act in the *active* dealership (kept in the session; directors with several switch it). API reads cover all
of the user's dealerships; API writes act in the one named by the ``X-Dealership`` header or the user's default.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Dealership

SESSION_KEY = "active_dealership_id"


def allowed_dealership_ids(user) -> frozenset[int]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_dms_dealership_ids", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(Dealership.objects.values_list("id", flat=True))
        else:
            cached = frozenset(Dealership.objects.filter(staff__user=user).values_list("id", flat=True))
        user._dms_dealership_ids = cached
    return cached


def default_dealership_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None) if getattr(user, "is_authenticated", False) else None
    if profile is not None and profile.default_dealership_id in allowed_dealership_ids(user):
        return profile.default_dealership_id
    allowed = allowed_dealership_ids(user)
    return min(allowed) if allowed else None


def resolve_dealership(user, requested: str | int | None) -> Dealership:
    """The dealership a write acts in; an unknown or foreign one is a validation error, never a silent default."""
    allowed = allowed_dealership_ids(user)
    if requested in (None, ""):
        dealership_id = default_dealership_id(user)
        if dealership_id is None:
            raise ValidationError({"dealership": _("You are not assigned to any dealership.")})
        return Dealership.objects.get(pk=dealership_id)
    lookup = {"pk": int(requested)} if str(requested).isdigit() else {"code": str(requested)}
    dealership = Dealership.objects.filter(**lookup).first()
    if dealership is None or dealership.pk not in allowed:
        raise ValidationError({"dealership": _("Unknown dealership.")})
    return dealership


def active_dealership(request) -> Dealership | None:
    user = request.user
    allowed = allowed_dealership_ids(user)
    if not allowed:
        return None
    chosen = request.session.get(SESSION_KEY)
    if chosen not in allowed:
        chosen = default_dealership_id(user)
    return Dealership.objects.filter(pk=chosen).first()
