"""Filters every app's API shares (issue 16 item 1)."""

import django_filters
import django_filters.rest_framework
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .inputs import parse_id


class IdFormField(forms.Field):
    """A record id through the one id parser (ASCII digits, 1 … bigint): "12.5", "12.0" or "١٢" are not ids."""

    default_error_messages = {"invalid": _("Not a valid id.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.Filter):
    """An id filter typed as an integer in the schema and at run time: django-filter's NumberFilter reads a
    decimal, so ``?order=12.5`` meant order 12 (issue 16 item 1); here it is a 400."""

    field_class = IdFormField


def filter_given(qs, **lookups):
    """``qs`` narrowed by each lookup whose value was given (issue 13: the ``if status: qs = qs.filter(status=…)``
    ladders of the selectors). A falsy value (None, "", 0, False, an empty list) is "not given", exactly as the
    ``if value:`` it replaces; a list or tuple value is given as it is, so name the lookup ``status__in``."""
    given = {lookup: value for lookup, value in lookups.items() if value}
    return qs.filter(**given) if given else qs


def _request_dependent(filters) -> bool:
    """A filter whose choices are read per request (django-filter's callable ``queryset``): its form field cannot be
    shared between requests."""
    return any(callable(getattr(filter_, "queryset", None)) for filter_ in filters.values())


class CachedFormMixin:
    """A FilterSet whose form class is built once per FilterSet class, not on every request: django-filter makes a new
    form class (and a new form field per filter) each time, ~1 ms of the order dashboard and ``/api/orders/``
    (issue 19 item 1). Sharing the class is safe: every form instance deep-copies the class's fields, and the labels
    and choices are lazy translations read in the request's language. Not cached when a filter's choices depend on
    the request."""

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_dms_form_class")  # the class's own: a subclass builds its own form
        if form_class is None:
            form_class = super().get_form_class()
            if not _request_dependent(self.filters):
                cls._dms_form_class = form_class
        return form_class


class FilterSet(CachedFormMixin, django_filters.FilterSet):
    """Every declared FilterSet's base (the form class built once)."""


class ApiFilterSet(CachedFormMixin, django_filters.rest_framework.FilterSet):
    """The base of the FilterSets the backend builds from a view's ``filterset_fields``."""


class CachedFilterBackend(DjangoFilterBackend):
    """django-filter's backend with its ``filterset_fields`` FilterSet built once per view, not on every request:
    creating that class (its filters from the model's fields) cost 0.25–0.35 ms of every list API request (issue 19
    item 4). A FilterSet class holds no request state (each request's FilterSet copies its filters), as a declared
    ``filterset_class`` is built once at import."""

    filterset_base = ApiFilterSet
    _classes: dict = {}

    def get_filterset_class(self, view, queryset=None):
        if getattr(view, "filterset_class", None) or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model, repr(getattr(view, "filterset_fields", None)))
        cached = self._classes.get(key)
        if cached is None:
            cached = self._classes[key] = super().get_filterset_class(view, queryset)
        return cached


