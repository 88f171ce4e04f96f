"""The OpenAPI schema: what the API really answers (read-only fields), the error responses our exception handler
produces, and the links between the operations on one record."""

import typing

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular import plumbing
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


def _reads_none_or_blank(field: serializers.Field) -> tuple[bool, bool]:
    """Whether a read-only serializer field may answer null, and whether it may answer "" — from what it reads along
    its ``source`` (``order.number`` → the order, then its number): a nullable model field anywhere on the way, a
    blank model field at the end, or a model property typed ``-> X | None``. Anything else reads as neither."""
    parent = field.parent
    if isinstance(parent, serializers.ListSerializer):
        parent = parent.parent
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or not field.source or field.source == "*":
        return False, False
    nullable = blank = False
    for attr in field.source.split("."):
        if model is None:
            return nullable, False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            prop = getattr(model, attr, None)
            if isinstance(prop, property):
                try:
                    hints = typing.get_type_hints(prop.fget) if prop.fget else {}
                except (NameError, TypeError):  # an annotation that does not resolve tells nothing
                    hints = {}
                nullable = nullable or type(None) in typing.get_args(hints.get("return"))
            return nullable, False
        if not isinstance(model_field, models.Field):  # a reverse relation
            return nullable, False
        nullable = nullable or model_field.null
        blank = model_field.blank
        model = model_field.related_model
    return nullable, blank


DEALERSHIP_QUERY_PARAMETER = OpenApiParameter(
    "dealership", OpenApiTypes.INT, description="Only this dealership's records (one of yours)."
)
DEALERSHIP_HEADER_PARAMETER = OpenApiParameter(
    "X-Dealership",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    description="The dealership a write acts in, when you work in several (else the body's `dealership`, else your "
    "only one).",
)


def _carries_file(serializer) -> bool:
    if isinstance(serializer, type):
        try:
            serializer = serializer()
        except TypeError:
            return False
    fields = getattr(serializer, "fields", None) or {}
    return any(isinstance(field, serializers.FileField) for field in fields.values())


class AutoSchema(SpectacularAutoSchema):
    """Read-only fields are documented with every value they answer (issue 12 item 9: the schemathesis run found
    answers off the schema). DRF drops ``allow_blank`` from read-only fields, and a field declared by hand
    (``approved_by = UserBriefSerializer(read_only=True)``) does not know that its model field may be empty; so a
    nullable model field anywhere along the source makes the field nullable, and a blank choice field admits ""."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.Field) and field.read_only and getattr(field, "parent", None) is not None:
            nullable, blank = _reads_none_or_blank(field)
            if nullable:
                field.allow_null = True
            if blank and isinstance(field, (serializers.ChoiceField, serializers.CharField)):
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _insert_field_validators(self, field, schema):
        """drf-spectacular writes a blank-allowed e-mail as ``oneOf: [{format: email, default: ""}, {maxLength: 0}]``
        — the default "" inside the branch it fails, which openapi-spec-validator rejects (issue 16 item 1). The
        default belongs to the field, outside the ``oneOf``."""
        super()._insert_field_validators(field, schema)
        for branch in schema.get("oneOf", ()):
            if isinstance(branch, dict) and "default" in branch:
                schema["default"] = branch.pop("default")

    def get_override_parameters(self):
        """Every parameter a dealership-scoped view reads is declared once here (issue 16 item 1): ``?dealership=``
        narrows its reads, the ``X-Dealership`` header names the dealership a write acts in (``api_base``)."""
        from .api_base import DealershipScopedMixin  # api_base imports models; the schema module loads early

        parameters = list(super().get_override_parameters())
        if isinstance(self.view, DealershipScopedMixin):
            if self.method == "GET":
                parameters.append(DEALERSHIP_QUERY_PARAMETER)
            else:
                parameters.append(DEALERSHIP_HEADER_PARAMETER)
        return parameters

    def _is_viewset_action_other_than_list(self) -> bool:
        action = getattr(self.view, "action", None)
        return action is not None and action != "list"

    def get_filter_backends(self):
        """Only a viewset's ``list`` filters; another GET action on the collection (``/api/appointments/slots/``)
        reads its own parameters (issue 16 item 1: the schema promised seven it ignored)."""
        if self._is_viewset_action_other_than_list():
            return []
        return super().get_filter_backends()

    def _get_paginator(self):
        """Only a viewset's ``list`` answers a page; other actions answer what their serializer says (a bare array
        for the slots)."""
        if self._is_viewset_action_other_than_list():
            return None
        return super()._get_paginator()

    def map_parsers(self):
        """One request content type per operation (issue 16 item 1): JSON, or multipart for a body that carries a
        file. The views still parse what DRF's default parsers read; the schema documents the one way to call."""
        serializer = self.get_request_serializer()
        if serializer is not None and _carries_file(serializer):
            return ["multipart/form-data"]
        return ["application/json"]


ERROR_RESPONSES = {
    "400": 'Bad input: `{"detail": ...}` or field → list of messages; nothing was written.',
    "401": "Not authenticated.",
    "403": "Your role may not do this.",
    "404": "No such record in your dealerships.",
    "409": "The record's state (or a concurrent change) does not allow this; nothing was written.",
    "415": "The body's Content-Type is not one this operation reads; nothing was written.",
    "429": "Too many requests.",
    "503": "The database or the broker is unavailable for a moment; nothing was written — retry.",
}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "Either {detail: message} or {field: [messages]}.",
        "additionalProperties": True,
        "properties": {"detail": {"type": "string"}},
    }
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            # 404 also answers a list's page number out of range; 400 a bad filter value.
            codes = ["400", "401", "403", "404", "429", "503"]  # 503: dms.core.outage, any operation
            if method in ("post", "put", "patch", "delete"):
                codes.append("409")
            if method in ("post", "put", "patch"):
                # DRF answers a body it has no parser for with 415 (found by schemathesis, issue 12 item 9).
                codes.append("415")
            for code in codes:
                operation["responses"].setdefault(code, {"description": ERROR_RESPONSES[code]})
            # Every 4xx carries the error body, also one a view declared with a description only (the order
            # actions' OpenApiResponse(description=...)): issue 16 item 1.
            for code, response in operation["responses"].items():
                if str(code)[0] in "45" and not response.get("content"):
                    response["content"] = {"application/json": {"schema": ref}}
    return result


SUCCESS_CODES = ("200", "201")
ITEM_SEGMENT = "{id}/"


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return components.get(ref.rsplit("/", 1)[1], {})
    return schema


def _answers_with_id(operation: dict, components: dict) -> list[str]:
    """The success codes whose JSON body carries the record's ``id``."""
    codes = []
    for code in SUCCESS_CODES:
        content = operation.get("responses", {}).get(code, {}).get("content", {}).get("application/json", {})
        body = _resolve(content.get("schema", {}), components)
        if "id" in body.get("properties", {}):
            codes.append(code)
    return codes


def _lists_records(operation: dict, components: dict) -> bool:
    """Whether the list's 200 answer is a page whose ``results`` carry each record's ``id``."""
    content = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    page = _resolve(content.get("schema", {}), components)
    items = page.get("properties", {}).get("results", {}).get("items", {})
    return "id" in _resolve(items, components).get("properties", {})


def _item_operations(paths: dict) -> dict[str, list[dict]]:
    """ "/api/orders/{id}/" → the operations on "/api/orders/{id}/" and "/api/orders/{id}/<action>/"."""
    item_operations: dict[str, list[dict]] = {}
    for path, operations in paths.items():
        if ITEM_SEGMENT not in path:
            continue
        record = path[: path.index(ITEM_SEGMENT) + len(ITEM_SEGMENT)]
        for operation in operations.values():
            if isinstance(operation, dict) and "operationId" in operation:
                item_operations.setdefault(record, []).append(operation)
    return item_operations


def add_links(result, generator, request, public):
    """OpenAPI links between the operations on one record (issue 12 item 9), for clients and for schemathesis'
    stateful phase: creating a record (``POST /api/x/``) leads to every operation on ``/api/x/{id}/…`` with the new
    id, the list (``GET /api/x/``) leads to them with its first record's id, and any operation on ``/api/x/{id}/…``
    leads to every other one on the same id — so scenarios walk a record through its states (create → place →
    receive → issue) and meet the state conflicts (409) on the way.

    Schemathesis also infers links from the schema's field names; these are the ones the URL structure states."""
    components = result.get("components", {}).get("schemas", {})
    paths = result.get("paths", {})
    item_operations = _item_operations(paths)

    def link(source: dict, codes: list[str], targets: list[dict], id_from: str) -> None:
        for code in codes:
            links = source["responses"][code].setdefault("links", {})
            for target in targets:
                if target is not source:
                    links.setdefault(
                        target["operationId"],
                        {"operationId": target["operationId"], "parameters": {"path.id": id_from}},
                    )

    for record, targets in item_operations.items():
        collection = paths.get(record[: -len(ITEM_SEGMENT)], {})
        create = collection.get("post")
        if isinstance(create, dict):
            link(create, _answers_with_id(create, components), targets, "$response.body#/id")
        listing = collection.get("get")
        if isinstance(listing, dict) and _lists_records(listing, components):
            link(listing, ["200"], targets, "$response.body#/results/0/id")
        for operation in targets:
            codes = [code for code in SUCCESS_CODES if code in operation.get("responses", {})]
            link(operation, codes, targets, "$request.path.id")
    return result


def build_mock_request(method, path, view, original_request, **kwargs):
    """drf-spectacular's mock request, content-negotiated as a real one is (SPECTACULAR_SETTINGS GET_MOCK_REQUEST):
    with Accept-header versioning (issue 16 item 2) the schema reads the request's ``accepted_media_type``, which
    drf-spectacular only sets on the paths it walks itself — sweeps that walk the endpoints by hand need it too."""
    request = plumbing.build_mock_request(method, path, view, original_request, **kwargs)
    if not hasattr(request, "accepted_renderer"):
        request.accepted_renderer, request.accepted_media_type = view.perform_content_negotiation(request)
    return request
