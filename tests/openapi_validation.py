"""Issue 16 item 1: every response the API tests receive is validated against the OpenAPI schema.

`SchemaCheckingAPIClient` (returned by the `api_client` and `api_as` fixtures) checks each response to a path under
/api/: the operation is found by matching the path against the schema's path templates and the method, the documented
response is picked by status code (or "default"); an undocumented status fails, a JSON body is validated with
OAS30ReadValidator ($refs resolved against the whole schema), other bodies are checked only for a declared content type.
A test that deliberately sends something the schema does not describe opts out with `@pytest.mark.no_schema_check`
(or, for one request inside a larger test, by setting `client.check_schema = False` around it).
"""

import json
import re
from functools import lru_cache

from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from rest_framework.test import APIClient

SCHEMA_URI = "urn:dms-openapi"
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
# The schema and its Swagger page describe the API; they are not operations of it (drf-spectacular excludes them).
SELF_DESCRIBING = {"/api/schema/", "/api/docs/"}

# Responses counted during a run (reported at the end of the session by conftest).
stats = {"validated": 0, "skipped_non_json": 0}


class SchemaMismatch(AssertionError):
    pass


@lru_cache(maxsize=1)
def openapi_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # Round-trip through JSON: lazy translation strings and decimals become plain values.
    return json.loads(json.dumps(schema, default=str))


@lru_cache(maxsize=1)
def _routes():
    routes = []
    for template, item in openapi_schema()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        # Literal templates win over parametrised ones (/api/orders/export/ before /api/orders/{id}/).
        routes.append((template.count("{"), re.compile(pattern), item))
    routes.sort(key=lambda r: r[0])
    return routes


@lru_cache(maxsize=1)
def _registry() -> Registry:
    whole = _rewrite_refs(openapi_schema())
    return Registry().with_resource(SCHEMA_URI, Resource.from_contents(whole, default_specification=DRAFT4))


def _nullable_all_of(node: dict) -> dict:
    # drf-spectacular writes a nullable nested object as {"allOf": [{"$ref": ...}], "nullable": true}; OAS 3.0.3 means
    # "the object or null", but the validator applies `nullable` only to a `type` at the same level: say it explicitly.
    if node.get("nullable") and "allOf" in node and "type" not in node:
        rest = {k: v for k, v in node.items() if k not in ("allOf", "nullable")}
        return {**rest, "anyOf": [{"allOf": node["allOf"]}, {"enum": [None]}]}
    return node


def find_operation(path: str, method: str):
    for _, pattern, item in _routes():
        if pattern.match(path):
            return item.get(method.lower())
    return None


def _rewrite_refs(node):
    # "#/components/schemas/X" -> "urn:dms-openapi#/components/schemas/X" so any sub-schema resolves against the whole.
    if isinstance(node, dict):
        node = _nullable_all_of(node)
        return {k: (SCHEMA_URI + v if k == "$ref" and v.startswith("#") else _rewrite_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def check_response(method: str, path: str, response) -> None:
    if not path.startswith("/api/") or method.lower() not in METHODS - {"head", "options"}:
        return
    if path in SELF_DESCRIBING:
        return
    operation = find_operation(path, method)
    if operation is None:
        raise SchemaMismatch(f"{method} {path}: no operation in the OpenAPI schema")
    responses = operation.get("responses", {})
    status = str(response.status_code)
    documented = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
    if documented is None:
        raise SchemaMismatch(f"{method} {path}: status {status} is not documented (documented: {sorted(responses)})")
    content = documented.get("content") or {}
    ctype = (response.get("Content-Type") or "").split(";")[0].strip()
    if ctype != "application/json" and not ctype.endswith("+json"):
        if content and ctype not in content and "*/*" not in content:
            raise SchemaMismatch(f"{method} {path} {status}: content type {ctype!r} not in {sorted(content)}")
        stats["skipped_non_json"] += 1
        return
    if not response.content:
        stats["validated"] += 1
        return
    media = content.get("application/json") or next((v for k, v in content.items() if "json" in k), None)
    if media is None:
        if content:
            raise SchemaMismatch(f"{method} {path} {status}: JSON returned, documented {sorted(content)}")
        raise SchemaMismatch(f"{method} {path} {status}: a JSON body is returned but the response documents none")
    body = json.loads(response.content)
    try:
        _validate(media.get("schema", {}), body)
    except SchemaMismatch as exc:
        raise SchemaMismatch(f"{method} {path} {status}: {exc}") from None
    stats["validated"] += 1


def _validate(schema: dict, body) -> None:
    # The read (response) variant of OAS30Validator: a required readOnly field (`id`) must be present, a writeOnly
    # one must not. Formats are checked: a blank email matches only the `maxLength: 0` branch of the email oneOf.
    validator = OAS30ReadValidator(_rewrite_refs(schema), registry=_registry(), format_checker=oas30_format_checker)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise SchemaMismatch("; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5]))


class SchemaCheckingAPIClient(APIClient):
    check_schema = True

    def generic(self, method, path, *args, **kwargs):
        response = super().generic(method, path, *args, **kwargs)
        if self.check_schema:
            check_response(method, path.split("?")[0], response)
        return response
