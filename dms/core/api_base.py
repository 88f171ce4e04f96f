"""Building blocks every app's API uses to keep each dealership's data apart."""

from django.contrib.auth import get_user_model
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter
from rest_framework import filters, serializers

from .models import Dealership
from .tenancy import allowed_dealership_ids, resolve_dealership

User = get_user_model()


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id resolves only inside the caller's dealerships; a foreign id reads as "does not exist"."""

    def get_queryset(self):
        request = self.context.get("request")
        qs = super().get_queryset()
        ids = allowed_dealership_ids(request.user) if request else frozenset()
        if qs.model is User:
            return qs.filter(staff_profile__dealerships__in=ids).distinct()
        if qs.model is Dealership:
            return qs.filter(pk__in=ids)
        return qs.filter(dealership_id__in=ids)


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
