"""Issue 12 item 2, swept: every write operation of the OpenAPI schema refuses a control character in each of its
text body fields — 400 with the field named, never a 2xx or a 500, and nothing stored.

The operations come from drf-spectacular's generator, so a new endpoint is swept without editing this file; the
records named in paths and the roles allowed to write come from the access matrix (its demo world is reused).
"""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.hardening.test_access_matrix import ANON, API_ROWS, PUBLIC, api_url, may, snapshot, users
from tests.hardening.test_access_matrix import world as matrix_world

world = matrix_world  # the access matrix's demo world (module-scoped fixture), built once for this module too

BAD = "Text\x1fmore"  # the unit separator of the original report, inside the text (strip() would drop it at an end)
TEXT_FORMATS = {None, "email", "uri"}  # formats that are text to the field (dates, decimals, files parse first)
WRITE_METHODS = ("post", "put", "patch")

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    return schema


def _is_text(schema: dict) -> bool:
    schema = _resolve(schema)
    return (
        schema.get("type") == "string"
        and "enum" not in schema
        and schema.get("format") in TEXT_FORMATS
        and not schema.get("readOnly")
    )


def _poisoned(schema: dict) -> tuple[dict, list[str]]:
    """A body with ``BAD`` in every text field (nested objects and lists of objects included) and the top-level
    names whose error must mention the control character."""
    schema = _resolve(schema)
    body, names = {}, []
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(prop)
        if prop.get("readOnly"):
            continue
        if _is_text(prop):
            body[name] = BAD
            names.append(name)
        elif prop.get("type") == "object" and prop.get("properties"):
            inner, inner_names = _poisoned(prop)
            if inner_names:
                body[name], names = inner, [*names, name]
        elif prop.get("type") == "array" and _resolve(prop.get("items", {})).get("properties"):
            inner, inner_names = _poisoned(prop["items"])
            if inner_names:
                body[name], names = [inner], [*names, name]
    return body, names


def write_operations() -> list[tuple[str, str, str]]:
    """(path, method, media type) of every write operation with a text field in its body."""
    operations = []
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            if method not in WRITE_METHODS or "requestBody" not in operation:
                continue
            content = operation["requestBody"]["content"]
            media = next(m for m in ("application/json", "multipart/form-data", *content) if m in content)
            if _poisoned(content[media]["schema"])[1]:
                operations.append((path, method, media))
    return sorted(operations)


OPERATIONS = write_operations()


def test_the_sweep_covers_the_api():
    assert len(OPERATIONS) >= 40, OPERATIONS
    assert ("/api/vehicles/", "post", "application/json") in OPERATIONS


@pytest.mark.parametrize("path, method, media", OPERATIONS, ids=lambda v: v)
def test_every_write_refuses_a_control_character_in_each_text_field(world, db, path, method, media):
    w = world
    perm, model = API_ROWS[(path, method)]
    role = ANON if perm == PUBLIC else next(r for r in users() if may(r, perm))
    client = w.clients[role]
    schema = SCHEMA["paths"][path][method]["requestBody"]["content"][media]["schema"]
    body, names = _poisoned(schema)
    url = api_url(w, path, model)
    before = snapshot()
    if media == "application/json":
        response = getattr(client, method)(url, body, content_type="application/json", HTTP_ACCEPT="application/json")
    else:  # multipart: nested values travel as JSON texts
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        response = client.post(url, flat, HTTP_ACCEPT="application/json")
    assert response.status_code == 400, f"{method.upper()} {url} as {role}: {response.status_code} {response.content!r}"
    errors = response.json()
    # Each text field is refused (a field that parses its text first — a phone number — says so in its own words)
    # and the control character is what the answer names.
    unnamed = [name for name in names if name not in errors]
    assert not unnamed, f"{method.upper()} {url}: no error for {unnamed}: {errors}"
    assert "U+001F" in json.dumps(errors, ensure_ascii=False), f"{method.upper()} {url}: {errors}"
    after = snapshot()
    changed = sorted(t for t in before if before[t] != after.get(t))
    assert not changed, f"{method.upper()} {url}: a refused write changed {changed}"
