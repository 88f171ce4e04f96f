"""Who may manage which user account, and what they may grant (issue 12, item 1).

The ONE place the rule lives; the user admin (queryset, object permissions, password view, form choices and form
validation), the staff-profile admin and any future API that manages users, roles, permissions or dealership
membership call these functions.

The rule for an actor who is not a superuser:

* they manage (see, change, set the password of, delete) only users who are not superusers, work in at least one
  dealership and in no dealership outside the actor's own, and hold no role or permission the actor could not grant —
  otherwise setting the user's password would be a way to act as someone with more rights;
* they grant no role (group), permission, staff flag, superuser flag or dealership they do not hold themselves. A role
  counts as held when the actor holds every permission it carries (the dealership administrator assigns the advisor
  role without being an advisor).

Superusers manage everyone and grant everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .models import Dealership, StaffProfile
from .tenancy import allowed_dealership_ids

User = get_user_model()


def _is_superuser(actor) -> bool:
    return bool(getattr(actor, "is_active", False) and getattr(actor, "is_superuser", False))


def held_permissions(actor) -> QuerySet[Permission]:
    """The permissions the actor holds, directly or through a role."""
    if _is_superuser(actor):
        return Permission.objects.all()
    if not getattr(actor, "is_active", False) or actor.pk is None:
        return Permission.objects.none()
    held = Permission.objects.filter(Q(user=actor) | Q(group__user=actor)).values("pk")
    return Permission.objects.filter(pk__in=held)


def grantable_permissions(actor) -> QuerySet[Permission]:
    return held_permissions(actor).select_related("content_type")


def grantable_groups(actor) -> QuerySet[Group]:
    """Roles carrying no permission beyond the actor's own."""
    if _is_superuser(actor):
        return Group.objects.all()
    return Group.objects.exclude(permissions__in=Permission.objects.exclude(pk__in=held_permissions(actor)))


def grantable_dealerships(actor) -> QuerySet[Dealership]:
    if _is_superuser(actor):
        return Dealership.objects.all()
    return Dealership.objects.filter(pk__in=allowed_dealership_ids(actor))


def may_grant_staff_status(actor) -> bool:
    return bool(getattr(actor, "is_active", False) and (actor.is_staff or actor.is_superuser))


def may_grant_superuser_status(actor) -> bool:
    return _is_superuser(actor)


def users_manageable_by(actor) -> QuerySet:
    """The accounts the actor may see and manage (see the module's docstring for the rule)."""
    if _is_superuser(actor):
        return User.objects.all()
    own = allowed_dealership_ids(actor)
    if not getattr(actor, "is_active", False) or not own:
        return User.objects.none()
    qs = User.objects.filter(
        is_superuser=False, pk__in=StaffProfile.objects.filter(dealerships__in=own).values("user_id")
    )
    # Someone who also works in another dealership is managed by that dealership's administrators too: the actor
    # would otherwise reach into a dealership that is not theirs (the demo's director of two dealerships).
    outside = Dealership.objects.exclude(pk__in=own)
    qs = qs.exclude(pk__in=StaffProfile.objects.filter(dealerships__in=outside).values("user_id"))
    qs = qs.exclude(groups__in=Group.objects.exclude(pk__in=grantable_groups(actor)))
    qs = qs.exclude(user_permissions__in=Permission.objects.exclude(pk__in=held_permissions(actor)))
    if not may_grant_staff_status(actor):
        qs = qs.exclude(is_staff=True)
    return qs


def may_manage_user(actor, user: AbstractBaseUser | None) -> bool:
    if user is None or user.pk is None:
        return False
    if _is_superuser(actor):
        return True
    return users_manageable_by(actor).filter(pk=user.pk).exists()


def ensure_may_manage_user(actor, user: AbstractBaseUser) -> None:
    """For services and APIs: refuse (403) managing an account outside the actor's reach."""
    if not may_manage_user(actor, user):
        raise PermissionDenied(_("You may not manage this user."))


def _names(objects: Iterable) -> str:
    return ", ".join(sorted(str(o) for o in objects))


def refused_grants(
    actor,
    *,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
    dealerships: Iterable[Dealership] | None = None,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
) -> dict[str, str]:
    """Field → message for each thing in the wanted state of an account that the actor may not grant.

    Only what is passed is checked. The whole wanted state is checked, not only what is new: a manageable user never
    holds more than the actor could grant, so keeping what they have is always allowed.
    """
    if _is_superuser(actor):
        return {}
    errors: dict[str, str] = {}
    if groups is not None:
        groups = list(groups)
        allowed = set(grantable_groups(actor).filter(pk__in=[g.pk for g in groups]).values_list("pk", flat=True))
        refused = [g for g in groups if g.pk not in allowed]
        if refused:
            errors["groups"] = _("You cannot grant a role you do not hold: %(names)s.") % {"names": _names(refused)}
    if permissions is not None:
        permissions = list(permissions)
        allowed = set(held_permissions(actor).filter(pk__in=[p.pk for p in permissions]).values_list("pk", flat=True))
        refused = [p for p in permissions if p.pk not in allowed]
        if refused:
            errors["user_permissions"] = _("You cannot grant a permission you do not hold: %(names)s.") % {
                "names": _names(refused)
            }
    if dealerships is not None:
        own = allowed_dealership_ids(actor)
        refused = [d for d in dealerships if d.pk not in own]
        if refused:
            errors["dealerships"] = _("You cannot grant access to a dealership that is not yours: %(names)s.") % {
                "names": _names(refused)
            }
    if is_staff and not may_grant_staff_status(actor):
        errors["is_staff"] = _("You cannot grant a status you do not hold yourself.")
    if is_superuser and not may_grant_superuser_status(actor):
        errors["is_superuser"] = _("You cannot grant a status you do not hold yourself.")
    return errors
