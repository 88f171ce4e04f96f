"""Issue 12 item 6: every id a write names resolves inside the dealership the write acts in — one mechanism.

The three doors a write comes in by all narrow their querysets with :func:`scope_to_dealerships`:

- API serializers: ``ScopedPrimaryKeyRelatedField`` (``dms.core.api_base``);
- page forms: ``DealershipScopedFormMixin`` (``dms.core.forms``), for every model choice field of the form;
- the admin: ``DealershipScopedAdmin`` (``dms.core.admin``), for foreign-key and many-to-many choices;
- services that take a raw id (and ids of a record's lines): :func:`resolve_reference`, :func:`resolve_references`.

A record of another dealership (or an id that does not exist) reads as "does not exist": 400, nothing written.

Apps are layered ``core ← parts ← orders ← notifications`` (and ``parts ← service``, ``parts ← claims``): a lower app
may not import a higher one's models. When a lower app keeps the id of a higher app's record (a parts reservation
made for a customer order), the higher app *provides* a reference target here from its ``AppConfig.ready()``
(:func:`provide_reference_target`), and the lower app names that target. Without a provider nothing resolves.
"""

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from .models import Dealership, StaffProfile

_TARGETS: dict[str, Callable[[], QuerySet]] = {}


def provide_reference_target(name: str, queryset: Callable[[], QuerySet]) -> None:
    """Called by the app that owns the model (from ``ready()``): ``name`` resolves ids in ``queryset()``."""
    _TARGETS[name] = queryset


def reference_target(name: str) -> QuerySet | None:
    """The queryset a provided target resolves in, or None when no installed app provides it."""
    factory = _TARGETS.get(name)
    return factory() if factory else None


def _dealership_path(model: type[Model]) -> str | None:
    if model is get_user_model() or model is Dealership:
        return "pk"
    path = getattr(model, "DEALERSHIP_PATH", None)
    if path is None and any(field.name == "dealership" for field in model._meta.get_fields()):
        path = "dealership"
    return path


def is_dealership_record(model: type[Model]) -> bool:
    """Whether ids of ``model`` can be scoped to dealerships (staff users, dealerships, their records and lines)."""
    return _dealership_path(model) is not None


def scope_to_dealerships(queryset: QuerySet, dealership_ids: Iterable[int]) -> QuerySet:
    """``queryset`` narrowed to records of these dealerships.

    Staff users belong to dealerships through their profile; a model without a ``dealership`` of its own names the
    path to it in ``DEALERSHIP_PATH`` (e.g. ``"order__dealership"``). Any other model is a programming error: an
    unscoped reference must never pass silently.
    """
    ids = list(dealership_ids)
    model = queryset.model
    if model is get_user_model():
        # A subquery, not a join + DISTINCT: forms order users by any field, which DISTINCT would not allow.
        return queryset.filter(pk__in=StaffProfile.objects.filter(dealerships__in=ids).values("user_id"))
    if model is Dealership:
        return queryset.filter(pk__in=ids)
    if getattr(model, "SHARED_BY_ALL_DEALERSHIPS", False):
        # A catalogue every dealership uses alike and only a superuser edits (kinds of job with their quality
        # checklists): declared on the model, never assumed, so a forgotten dealership still raises below.
        return queryset
    path = _dealership_path(model)
    if path is None:
        raise ImproperlyConfigured(f"{model._meta.label} has no dealership: references to it cannot be scoped.")
    return queryset.filter(**{f"{path}__in": ids})


def _is_id(pk) -> bool:
    return isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63


def resolve_references(
    target: type[Model] | QuerySet | str, pks: Iterable, *, dealership: Dealership | int, field: str
) -> list[Model]:
    """The records ``pks`` name inside ``dealership``, in the order given; a ValidationError on ``field`` naming the
    first id that does not resolve (none is silently dropped).

    ``target`` is a model, a queryset (e.g. a parent's lines: ``work_order.jobs.all()``), or the name of a provided
    target (see :func:`provide_reference_target`).
    """
    if isinstance(target, str):
        queryset = reference_target(target)
    elif isinstance(target, QuerySet):
        queryset = target
    else:
        queryset = target._default_manager.all()
    pks = list(pks)
    dealership_id = dealership if isinstance(dealership, int) else dealership.pk
    wanted = [pk for pk in pks if _is_id(pk)]
    found = {}
    if queryset is not None and wanted:
        found = scope_to_dealerships(queryset, [dealership_id]).in_bulk(wanted)
    for pk in pks:
        if pk not in found:
            what = queryset.model._meta.verbose_name if queryset is not None else _("record")
            raise ValidationError({field: _("Not found: %(what)s #%(id)s.") % {"what": what, "id": pk}})
    return [found[pk] for pk in pks]


def resolve_reference(target: type[Model] | QuerySet | str, pk, *, dealership: Dealership | int, field: str) -> Model:
    """The record ``pk`` names inside ``dealership``; a ValidationError on ``field`` when there is none."""
    return resolve_references(target, [pk], dealership=dealership, field=field)[0]
