"""Which dealerships a user may see and which one a request acts in.

Pages act in the *active* dealership (kept in the session; directors with several switch it). API reads cover all
of the user's dealerships; API writes act in the one named by the ``X-Dealership`` header or the user's default.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import F, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from .inputs import parse_id
from .models import Dealership, StaffProfile

SESSION_KEY = "active_dealership_id"
_CODE_LENGTH = Dealership._meta.get_field("code").max_length


def user_dealerships(user) -> dict[int, Dealership]:
    """The user's dealerships, loaded once per request in ONE query (with the profile's default as an annotation)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_dms_dealerships", None)
    if cached is None:
        if user.is_superuser:
            qs = Dealership.objects.annotate(
                default_id=Subquery(StaffProfile.objects.filter(user=user).values("default_dealership_id")[:1])
            )
        else:
            qs = Dealership.objects.filter(staff__user=user).annotate(default_id=F("staff__default_dealership_id"))
        cached = {d.pk: d for d in qs}
        user._dms_dealerships = cached
    return cached


def _dealership_fields():
    return [field for field in Dealership._meta.concrete_fields]


def user_dealerships_sql(user_table_alias: str) -> str:
    """PostgreSQL: the user's dealerships (all of them for a superuser) and the profile's default as one JSON value,
    for the identity query of ``auth_backends`` — read back by :func:`prefill_user_dealerships`.
    """
    dealership, profile = Dealership._meta.db_table, StaffProfile._meta.db_table
    links = StaffProfile.dealerships.through._meta.db_table
    columns = ", ".join(f'd."{field.column}"' for field in _dealership_fields())
    default = f'(SELECT p.default_dealership_id FROM "{profile}" p WHERE p.user_id = {user_table_alias}.id)'
    mine = (
        f'EXISTS (SELECT 1 FROM "{links}" l JOIN "{profile}" p ON p.id = l.staffprofile_id '
        f"WHERE l.dealership_id = d.id AND p.user_id = {user_table_alias}.id)"
    )
    return (
        f"json_build_array({default}, (SELECT json_agg(json_build_array({columns}) ORDER BY d.name, d.id) "
        f'FROM "{dealership}" d WHERE {user_table_alias}.is_superuser OR {mine}))'
    )


def prefill_user_dealerships(user, value) -> None:
    """Keep what :func:`user_dealerships_sql` read as the user's dealerships for this request (no query later)."""
    default_id, rows = value
    fields = _dealership_fields()
    names = [field.attname for field in fields]
    dealerships = {}
    for row in rows or ():
        dealership = Dealership.from_db("default", names, [f.to_python(v) for f, v in zip(fields, row, strict=True)])
        dealership.default_id = default_id
        dealerships[dealership.pk] = dealership
    user._dms_dealerships = dealerships


def allowed_dealership_ids(user) -> frozenset[int]:
    return frozenset(user_dealerships(user))


def default_dealership_id(user) -> int | None:
    dealerships = user_dealerships(user)
    if not dealerships:
        return None
    default = next(iter(dealerships.values())).default_id
    return default if default in dealerships else min(dealerships)


def resolve_dealership(user, requested: str | int | None) -> Dealership:
    """The dealership a write acts in; an unknown or foreign one is a validation error, never a silent default."""
    allowed = allowed_dealership_ids(user)
    if requested in (None, ""):
        dealership_id = default_dealership_id(user)
        if dealership_id is None:
            raise ValidationError({"dealership": _("You are not assigned to any dealership.")})
        return user_dealerships(user)[dealership_id]
    # An id through the one id parser (issue 12 item 5); anything else may be a dealership's code.
    dealership_id = parse_id(requested)
    if dealership_id is not None:
        dealership = Dealership.objects.filter(pk=dealership_id).first()
    elif isinstance(requested, str) and len(requested) <= _CODE_LENGTH and "\x00" not in requested:
        dealership = Dealership.objects.filter(code=requested).first()
    else:
        dealership = None
    if dealership is None or dealership.pk not in allowed:
        raise unknown_dealership()
    return dealership


def unknown_dealership() -> ValidationError:
    """A dealership the user does not have, or none at all: named as such, never a silent default or an empty
    report."""
    return ValidationError({"dealership": _("Unknown dealership.")})


def report_dealership_ids(user, wanted: int | None) -> list[int]:
    """The dealerships a report reads (``?dealership=``): the one asked for, or all of the user's in id order when
    none is asked for. One that is not the user's is :func:`unknown_dealership`."""
    allowed = allowed_dealership_ids(user)
    if wanted is None:
        return sorted(allowed)
    if wanted not in allowed:
        raise unknown_dealership()
    return [wanted]


def report_today(dealership_ids, now: datetime.datetime) -> datetime.date:
    """The day a report over several dealerships calls today: the first one's (by id) local date."""
    dealership = Dealership.objects.filter(pk__in=list(dealership_ids)).order_by("pk").first()
    return timezone.localtime(now, dealership.tz).date() if dealership else timezone.localdate(now)


def active_dealership(request) -> Dealership | None:
    dealerships = user_dealerships(request.user)
    if not dealerships:
        return None
    chosen = request.session.get(SESSION_KEY)
    if chosen not in dealerships:
        chosen = default_dealership_id(request.user)
    return dealerships[chosen]
