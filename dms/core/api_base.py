"""Building blocks every app's API uses to keep each dealership's data apart."""

from django.contrib.auth import get_user_model
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter
from rest_framework import filters, serializers
from rest_framework.permissions import SAFE_METHODS

from .models import Dealership
from .references import reference_target, scope_to_dealerships
from .tenancy import allowed_dealership_ids, resolve_dealership

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
        return user.get_full_name() or user.username


class DealershipScopedMixin:
    """For viewsets: reads cover the user's dealerships (``?dealership=`` narrows), writes act in one."""

    def scoped_dealership_ids(self) -> frozenset[int]:
        ids = allowed_dealership_ids(self.request.user)
        wanted = self.request.query_params.get("dealership")
        if wanted:
            ids = ids & {int(wanted)} if wanted.isdigit() else frozenset()
        return ids

    def scope_queryset(self, qs):
        return qs.filter(dealership_id__in=self.scoped_dealership_ids())

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

    def _input(self, serializer_class) -> dict:
        """Validate an action's payload with its own serializer (400 with field messages when bad)."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def write_dealership(self) -> Dealership:
        requested = self.request.headers.get("X-Dealership")
        if requested is None and isinstance(self.request.data, dict):
            requested = self.request.data.get("dealership")
        return resolve_dealership(self.request.user, requested)


# Viewsets whose ``search`` is done by a selector (phones and VINs need normalising) use these backends.
SELECTOR_SEARCH_BACKENDS = [DjangoFilterBackend, filters.OrderingFilter]
SEARCH_PARAMETER = OpenApiParameter("search", str, description="Free-text search")
