"""Building blocks every app's API uses to keep each dealership's data apart.

The viewsets (issue 13 item 1): ``ScopedReadOnlyViewSet`` (list, retrieve), ``ScopedCreateViewSet`` (+ create) and
``ScopedModelViewSet`` (+ PATCH) all derive from ``ScopedGenericViewSet``: the records of the user's dealerships,
any path id reaching the view (a malformed one is a JSON 404), the selector search backends, creates and updates
through the app's service (``create_service`` / ``update_service``) and ``run_action`` for the POST actions.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from .filters import CachedFilterBackend
from .inputs import parse_id
from .lean_items import lean_items
from .models import Dealership
from .names import user_name
from .references import reference_target, scope_to_dealerships
from .tenancy import allowed_dealership_ids, report_dealership_ids, resolve_dealership

User = get_user_model()


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id resolves only inside the dealership the write acts in (issue 12 item 6); a foreign id reads as
    "does not exist" (400). Views of ``DealershipScopedMixin`` say which dealership that is; elsewhere the
    caller's dealerships.

    ``target="…"`` names a reference target another app provides (``dms.core.references``) instead of a queryset,
    for a model of an app above the serializer's own (parts naming a customer order of the orders app).
    """

    def __init__(self, *, target: str | None = None, **kwargs):
        self.target = target
        if target is not None:
            # Only for the schema (an integer id) and DRF's own checks; get_queryset() reads the provided target.
            kwargs.setdefault("queryset", Dealership.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        if self.target is not None:
            qs = reference_target(self.target)
            if qs is None:  # no installed app provides it: nothing resolves
                return Dealership.objects.none()
        else:
            qs = super().get_queryset()
        return scope_to_dealerships(qs, self._dealership_ids())

    def _dealership_ids(self) -> frozenset[int]:
        acting = self.context.get("reference_dealership_ids")
        if acting is not None:
            return acting()
        request = self.context.get("request")
        return allowed_dealership_ids(request.user) if request else frozenset()


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    full_name = serializers.SerializerMethodField()

    def get_full_name(self, user) -> str:
        return user_name(user)


def id_param(request, name: str) -> int | None:
    """An id from the query string through the one id parser: absent is None, malformed is a 400 (issue 12 item 5)."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    value = parse_id(raw)
    if value is None:
        raise serializers.ValidationError({name: [_("Not a valid id.")]})
    return value


def transition_permissions(model, field: str = "status") -> dict[str, list[str]]:
    """``action_permissions`` entries for the actions named as the model's transitions, read from each
    ``@transition``'s ``permission`` so no viewset repeats it: a permission name as it is; a rule about the record and
    the user (a callable) asks the model's view permission here, and the transition runner asks the rule. A
    transition without a permission gives no entry. Put the viewset's own entries after it."""
    meta = model._meta
    found = {}
    for transition in meta.get_field(field).get_all_transitions(model):
        if isinstance(transition.permission, str):
            found[transition.name] = [transition.permission]
        elif callable(transition.permission):
            found[transition.name] = [f"{meta.app_label}.view_{meta.model_name}"]
    return found


def dealership_ids_param(request) -> list[int]:
    """A report's ``?dealership=``: that one, or all of the user's; malformed is "Not a valid id.", one that is not
    the user's "Unknown dealership." (both 400, never an empty report)."""
    return report_dealership_ids(request.user, id_param(request, "dealership"))


def column_field(model, name: str, **overrides) -> serializers.Field:
    """A plain serializer's field built from the model column it is written to, with exactly its bounds (digits,
    length, range): a value the column cannot hold is a 400 here, not a database error later (issue 12 item 5)."""
    model_field = model._meta.get_field(name)
    field_class, kwargs = serializers.ModelSerializer().build_standard_field(name, model_field)
    # DRF adds the label only when the verbose name differs from the field's name in the language active at import
    # time, so the schema's titles depended on which module was imported first; always carry the (lazy) label.
    kwargs["label"] = capfirst(model_field.verbose_name)
    kwargs.pop("read_only", None)
    for key in ("required", "allow_null", "default"):  # a plain payload's own rules decide these
        kwargs.pop(key, None)
    return field_class(**{**kwargs, **overrides})


class DealershipScopedMixin:
    """For viewsets: reads cover the user's dealerships (``?dealership=`` narrows), writes act in one."""

    def scoped_dealership_ids(self) -> frozenset[int]:
        ids = allowed_dealership_ids(self.request.user)
        wanted = id_param(self.request, "dealership")
        if wanted is not None:
            ids = ids & {wanted}
        return ids

    def get_object(self):
        """A path id that is not an id (non-ASCII digits, thousands of digits, beyond bigint) is a 404, as an unknown
        one is (issue 12 item 5)."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        if lookup in self.kwargs and self.lookup_field in ("pk", "id") and parse_id(self.kwargs[lookup]) is None:
            raise NotFound()
        return super().get_object()

    def scope_queryset(self, qs):
        return qs.filter(dealership_id__in=self.scoped_dealership_ids())

    def search_param(self) -> str:
        """``?search=`` for the app's list selector (a viewset on ``SELECTOR_SEARCH_BACKENDS``), as a page's
        ``PaginatedListMixin.search_param`` reads ``?q=``."""
        return self.request.query_params.get("search", "")

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["reference_dealership_ids"] = self.reference_dealership_ids
        return context

    def reference_dealership_ids(self) -> frozenset[int]:
        """Where the ids of this request's input resolve (issue 12 item 6): a write on a record acts in the record's
        dealership, any other write in the dealership it names (``write_dealership``); reads in the user's."""
        cached = getattr(self, "_reference_dealership_ids", None)
        if cached is not None:
            return cached
        if self.request.method in SAFE_METHODS:
            ids = allowed_dealership_ids(self.request.user)
        elif (self.lookup_url_kwarg or self.lookup_field) in self.kwargs:
            record = self.get_object()  # 404 when the record is not in the user's dealerships
            owner = getattr(record, "dealership_id", None)
            ids = frozenset({owner}) if owner is not None else allowed_dealership_ids(self.request.user)
        else:
            ids = frozenset({self.write_dealership().pk})
        self._reference_dealership_ids = ids
        return ids

    def action_input(self, serializer_class) -> dict:
        """Validate an action's payload with its own serializer (400 with field messages when bad)."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # An optional field that may be null reaches the service as None when left out (issue 12 item 5): services
        # take it as a keyword argument and answer a missing value with a 400, never a TypeError (a 500).
        for name, field in serializer.fields.items():
            if not field.read_only and field.allow_null and field.source == name and name not in data:
                data[name] = None
        return data

    def write_dealership(self) -> Dealership:
        requested = self.request.headers.get("X-Dealership")
        if requested is None and isinstance(self.request.data, dict):
            requested = self.request.data.get("dealership")
        return resolve_dealership(self.request.user, requested)


# Viewsets whose ``search`` is done by a selector (phones and VINs need normalising) use these backends.
SELECTOR_SEARCH_BACKENDS = [CachedFilterBackend, filters.OrderingFilter]
SEARCH_PARAMETER = OpenApiParameter("search", str, description="Free-text search")
# A report's ``?dealership=`` (read by ``dealership_ids_param``).
DEALERSHIP_PARAMETER = OpenApiParameter(
    "dealership", OpenApiTypes.INT, description="Only this dealership (one of yours)."
)


# The one dealership-scoped API viewset base (issue 13 item 1); pick the flavour below by the routes it has. (Comments,
# not docstrings: a viewset's docstring becomes its operations' description in the OpenAPI schema.)
# - ``get_queryset`` reads through the app's selector with ``self.scoped_dealership_ids()``;
# - ``create_service`` (called ``actor=…, dealership=<the write dealership>, **validated_data``) and ``update_service``
#   (called ``actor=…, <update_kwarg>=record, data=validated_data``) do the writes, so the API calls the same service
#   as the pages and the admin; override ``perform_create``/``perform_update`` when a service wants its input shaped
#   differently;
# - an ``@action`` is one line: ``return self.run_action(request, services.x_submit, InputSerializer, target="claim")``;
# - any path segment reaches the view (DRF's default pattern excludes dots), so a malformed id is DRF's JSON 404; the
#   schema then types the id as a string. A viewset whose schema has always typed it as an integer (core's, orders')
#   sets ``lookup_value_regex = DRF_LOOKUP_REGEX`` to keep its contract.
DRF_LOOKUP_REGEX = "[^/.]+"


class ScopedGenericViewSet(DealershipScopedMixin, viewsets.GenericViewSet):
    lookup_value_regex = "[^/]+"
    filter_backends = SELECTOR_SEARCH_BACKENDS
    http_method_names = ["get", "post", "patch", "head", "options"]
    create_service: Callable[..., Any] | None = None
    update_service: Callable[..., Any] | None = None
    update_kwarg = ""
    # Attributes a write leaves on its record for the answer only (issue 18: ``load_warning``), kept by ``respond``
    # when it reads the record again.
    answer_notes: tuple[str, ...] = ()

    def perform_create(self, serializer) -> None:
        create = type(self).create_service
        if create is None:
            raise NotImplementedError(f"{type(self).__name__} sets no create_service")
        serializer.instance = create(
            actor=self.request.user, dealership=self.write_dealership(), **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        update = type(self).update_service
        if update is None or not self.update_kwarg:
            raise NotImplementedError(f"{type(self).__name__} sets no update_service/update_kwarg")
        serializer.instance = update(
            actor=self.request.user, **{self.update_kwarg: serializer.instance}, data=dict(serializer.validated_data)
        )

    def fresh(self, obj: models.Model) -> models.Model:
        """The record read again after a write, through ``get_queryset`` (its prefetches and annotations); a
        record the selector no longer lists is read plainly."""
        found = self.get_queryset().filter(pk=obj.pk).first()
        return found if found is not None else type(obj)._default_manager.get(pk=obj.pk)

    def respond(self, obj: Any, *, status_code: int = status.HTTP_200_OK, serializer_class=None) -> Response:
        """The answer of a write: a record of this viewset's model is read again (``fresh``) and shown with the
        viewset's serializer, anything else (a movement, a note, a list) with ``serializer_class``."""
        if isinstance(obj, models.Model) and isinstance(obj, self.get_queryset().model):
            notes = {name: getattr(obj, name) for name in self.answer_notes if hasattr(obj, name)}
            obj = self.fresh(obj)
            for name, value in notes.items():  # what the write left on the record for its answer (a warning)
                setattr(obj, name, value)
        if serializer_class is None:
            serializer = self.get_serializer(obj)
        else:
            many = isinstance(obj, list | tuple)
            serializer = serializer_class(obj, many=many, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def run_action(
        self,
        request,
        service_callable: Callable[..., Any],
        serializer_class=None,
        *,
        target: str = "",
        status_code: int = status.HTTP_200_OK,
        response_serializer=None,
        **kwargs: Any,
    ) -> Response:
        """One API action: the record (``target`` names the service's keyword for it; 404 outside the user's
        dealerships), the payload validated by ``serializer_class`` (400), ``service_callable(actor=request.user,
        <target>=record, **kwargs, **payload)``, then the answer (``respond``): the service's result when it is
        a record of this viewset, else the record acted on, else the result with ``response_serializer``.

        The service's refusals become the API's codes in ``api_exception_handler``: ValidationError 400,
        PermissionDenied 403, ConflictError / TransitionNotAllowed / a lost race 409.
        """
        if target:
            kwargs[target] = self.get_object()
        data = self.action_input(serializer_class) if serializer_class is not None else {}
        result = service_callable(actor=request.user, **kwargs, **data)
        answer = result
        if target and not isinstance(result, self.get_queryset().model):
            answer = kwargs[target] if response_serializer is None else result
        return self.respond(answer, status_code=status_code, serializer_class=response_serializer)


# List and retrieve (ledgers, alerts), plus whatever actions the subclass declares.
class ScopedReadOnlyViewSet(ScopedGenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    # Issue 19 item 2: ``lean_list = True`` builds the list's items from ``.values()`` rows (dms.core.lean_items),
    # equal to the serializer's output (each such list has its test in tests/core/test_lean_list_items.py).
    lean_list = False

    def list(self, request, *args, **kwargs):
        if not self.lean_list:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        items = lean_items(self.get_serializer_class(), queryset if page is None else page,
                           context=self.get_serializer_context())  # fmt: skip
        return Response(items) if page is None else self.get_paginated_response(items)


# List, retrieve and create through ``create_service``; changes only through actions.
class ScopedCreateViewSet(ScopedReadOnlyViewSet, mixins.CreateModelMixin):
    pass


# List, retrieve, create and PATCH (through ``update_service``); no PUT, no DELETE.
class ScopedModelViewSet(ScopedCreateViewSet, mixins.UpdateModelMixin):
    pass
