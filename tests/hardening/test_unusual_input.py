"""Unusual input never answers 5xx (issue 12, items 5 and 9): a sweep over every API operation and every page.

The values are the root causes the outside probe found: non-ASCII digits (a superscript two, Arabic-Indic digits),
digit strings thousands long, a NUL byte, dates at the ends of the calendar, integers beyond any database column,
negative numbers and JSON nested thousands of levels deep. Each goes — one at a time, the rest of the request being
ordinary — into every path parameter, query parameter, the ``X-Dealership`` header and every body field the OpenAPI
schema lists, as a dealership administrator; and each string goes into every GET parameter of every named page
(the parameters are read from the page's own GET forms, so a new filter is covered without a change here).

Every request runs in a savepoint (a database error must not poison the rest of the sweep); failures are collected
and reported together. Bounded: a subset of the values per kind of field keeps the module under ~3 minutes.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import zoneinfo
from collections import Counter

import pytest
from django.db import DatabaseError, transaction
from drf_spectacular.generators import SchemaGenerator

from dms.core import roles
from tests.hardening.test_access_matrix import API_ROWS, PAGES, api_url, page_url, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres

SUPERSCRIPT_TWO = "\u00b2"
ARABIC_INDIC_42 = "\u0664\u0662"
LONG_DIGITS = "9" * 5000
NUL = "a\x00b"
HUGE = 10**30
NESTED_DEPTH = 5000
NESTED_JSON = "[" * NESTED_DEPTH + "]" * NESTED_DEPTH

# Strings for parameters, headers and free-text fields.
STRINGS = [
    SUPERSCRIPT_TWO,
    ARABIC_INDIC_42,
    LONG_DIGITS,
    NUL,
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    str(HUGE),
    "-1",
]
# Pages: Arabic-Indic digits and "-1" behave as the superscript and an ordinary number there (a subset: bounded).
PAGE_STRINGS = [SUPERSCRIPT_TWO, LONG_DIGITS, NUL, "0001-01-01", "9999-12-31", "10000-01-01", str(HUGE)]
PATH_VALUES = [SUPERSCRIPT_TWO, ARABIC_INDIC_42, LONG_DIGITS, str(HUGE), "-1", NUL]
HEADER_VALUES = [SUPERSCRIPT_TWO, ARABIC_INDIC_42, LONG_DIGITS, str(HUGE), "-1"]
# Per JSON-schema kind of a body field (a subset each: the sweep stays bounded).
BODY_VALUES = {
    "integer": [SUPERSCRIPT_TWO, ARABIC_INDIC_42, LONG_DIGITS, HUGE, -HUGE, -1, NUL],
    # "9999999999.99": twelve digits, more than a numeric(10, 2) column holds but within a looser serializer field.
    "number": [SUPERSCRIPT_TWO, LONG_DIGITS, HUGE, -HUGE, "1e400", "9999999999.99", -1, NUL],
    "date": ["0001-01-01", "9999-12-31", "10000-01-01", SUPERSCRIPT_TWO, NUL],
    "date-time": [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
        "10000-01-01T00:00:00Z",
        NUL,
    ],
    "time": ["24:00", "23:59:59.9999999", SUPERSCRIPT_TWO, NUL],
    "string": [NUL, SUPERSCRIPT_TWO, LONG_DIGITS, "0001-01-01", "9999-12-31", str(HUGE)],
    "boolean": [SUPERSCRIPT_TWO, NUL, HUGE],
    "array": [[HUGE], [SUPERSCRIPT_TWO], [NUL], [{"x": HUGE}]],
    "object": [{"x": HUGE}, {NUL: NUL}],
}


# ------------------------------------------------------------------------------------------------------------------
# Requests
# ------------------------------------------------------------------------------------------------------------------


class Sweep:
    """Sends requests as the administrator, each in a savepoint, and collects every 5xx (or exception)."""

    def __init__(self, client):
        self.client = client
        self.client.raise_request_exception = False
        self.failures: list[str] = []
        self.sent = 0
        self.answers: dict[str, Counter] = {}  # path → status counts (printed with -s: how deep the sweep reached)

    def send(self, label: str, method: str, url: str, **kwargs) -> None:
        self.sent += 1
        try:
            with transaction.atomic():
                response = getattr(self.client, method)(url, **kwargs)
                status = response.status_code
                if status >= 500:
                    # Roll this request's writes back and keep the sweep going.
                    transaction.set_rollback(True)
        except DatabaseError as exc:  # a failed statement left the savepoint unusable
            status = f"database error {exc.__class__.__name__}"
        self.answers.setdefault(f"{method.upper()} {url[:60]}", Counter())[status] += 1
        if not isinstance(status, int) or status >= 500:
            self.failures.append(f"{method.upper()} {url[:120]!r} {label}: {status}")

    def assert_clean(self) -> None:
        for where, counts in sorted(self.answers.items()):
            print(where, dict(counts))
        assert self.failures == [], f"{len(self.failures)} of {self.sent} requests failed:\n" + "\n".join(self.failures)


@pytest.fixture
def sweep(world, db):  # noqa: F811 (the access matrix's module fixture, reused)
    from django.contrib.auth import get_user_model

    if not REFERENCES:
        REFERENCES.update(reference_ids(world))
        users = get_user_model().objects.filter(staff_profile__dealerships=world.main).order_by("pk")
        REFERENCES["user"] = users.get(username=f"m_{roles.ADMINISTRATOR}").pk
        REFERENCES["advisor"] = users.filter(groups__name=roles.SERVICE_ADVISOR).values_list("pk", flat=True)[0]
    return Sweep(world.clients[roles.ADMINISTRATOR])


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, methods in sorted(schema["paths"].items())
        for method, operation in sorted(methods.items())
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return resolve(schema, node["allOf"][0])
    return node


def kind_of(schema, prop: dict) -> str:
    prop = resolve(schema, prop)
    if "oneOf" in prop or "anyOf" in prop:
        options = [resolve(schema, p) for p in prop.get("oneOf", prop.get("anyOf"))]
        prop = next((p for p in options if p.get("type") not in (None, "null")), options[0])
    kind = prop.get("type", "string")
    if kind == "string" and prop.get("format") in ("date", "date-time", "time"):
        return prop["format"]
    if kind == "string" and prop.get("format") == "decimal":
        return "number"
    return kind if kind in BODY_VALUES else "string"


USER_FIELDS = {"advisor", "assignee", "technician", "manager", "parts_manager", "assigned_manager", "user"}


def reference_ids(world) -> dict[str, int]:  # noqa: F811
    """Field name → the id of a record of the main dealership it may name (``customer``, ``work_order_id``...)."""
    from django.apps import apps

    from dms.core.models import DealershipOwned

    ids = {}
    for model in apps.get_models():
        if issubclass(model, DealershipOwned):
            found = model.objects.filter(dealership=world.main).order_by("pk").values_list("pk", flat=True).first()
            if found is not None:
                snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
                ids.setdefault(snake, found)
    ids["dealership"] = world.main.pk
    ids["location"] = ids.get("bin_location", 1)
    return ids


REFERENCES: dict[str, int] = {}
# Optional fields without which most writes stop at an early 400 (the sweep means to reach the services).
USEFUL_OPTIONAL = {"advisor", "vehicle", "customer", "work_order_ref", "phone", "satisfaction"}
VINS = (f"XTA210990{n:08d}" for n in itertools.count())
WEEKS = itertools.count()
# A Monday 10:00 in Moscow a few weeks ahead: on the booking grid, inside the demo advisors' working hours.
_TODAY = datetime.date.today()
WORKING_MOMENT = datetime.datetime.combine(
    _TODAY + datetime.timedelta(days=28 - _TODAY.weekday()),
    datetime.time(10, 0),
    tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"),
)


def ordinary_value(schema, prop: dict, name: str = ""):
    """A plausible value of the field's type (the other fields of a request carrying one unusual value)."""
    prop = resolve(schema, prop)
    if prop.get("enum"):
        return next((v for v in prop["enum"] if v not in (None, "")), None)
    kind = kind_of(schema, prop)
    reference = re.sub(r"^(from|to)_", "", name.removesuffix("_id"))
    if kind == "integer" and reference in USER_FIELDS:
        return REFERENCES.get("advisor" if reference == "advisor" else "user", 1)
    if kind == "integer" and reference in REFERENCES:
        return REFERENCES[reference]
    if kind == "array":
        items = resolve(schema, prop.get("items", {}))
        if items.get("type") == "object" or "properties" in items:
            required = items.get("required", ())
            return [{k: ordinary_value(schema, p, k) for k, p in items.get("properties", {}).items() if k in required}]
        return []
    if kind == "string" and "phone" in name:
        return "+79161234567"
    if name == "vin":
        return next(VINS)
    if kind == "date-time":  # a hand-over is after the work
        return (WORKING_MOMENT + datetime.timedelta(hours=7 if "handover" in name else 0)).isoformat()
    today = datetime.date.today()
    return {
        "integer": 1,
        "number": "1",
        "date": today.isoformat(),
        "date-time": datetime.datetime.now(datetime.UTC).isoformat(),
        "time": "10:00",
        "boolean": False,
        "array": [],
        "object": {},
    }.get(kind, "x@example.com" if prop.get("format") == "email" else "x")


def request_body(schema, operation: dict) -> tuple[str, dict, dict] | None:
    """(content type, properties, ordinary body with the required fields) of an operation, or None."""
    content = operation.get("requestBody", {}).get("content", {})
    content_type = next((c for c in ("application/json", "multipart/form-data") if c in content), None)
    if content_type is None:
        return None
    body_schema = resolve(schema, content[content_type]["schema"])
    properties = body_schema.get("properties", {})
    ordinary = {
        name: ordinary_value(schema, prop, name)
        for name, prop in properties.items()
        if (name in body_schema.get("required", ()) or name in USEFUL_OPTIONAL)
        and not resolve(schema, prop).get("readOnly")
    }
    return content_type, properties, ordinary


def operation_url(world, path: str, method: str) -> str:  # noqa: F811
    model = API_ROWS.get((path, method), (None, None))[1]
    return api_url(world, path, model) if model else path.replace("{id}", "1")


def fresh(body: dict) -> dict:
    """The ordinary values that must differ between requests: a new VIN, an appointment a week later each time."""
    body = dict(body)
    if body.get("vin", "").startswith("XTA210990"):
        body["vin"] = next(VINS)
    week = datetime.timedelta(weeks=next(WEEKS))
    for name in ("starts_at", "handover_at"):
        if isinstance(body.get(name), str) and body[name].startswith(WORKING_MOMENT.date().isoformat()):
            body[name] = (datetime.datetime.fromisoformat(body[name]) + week).isoformat()
    return body


def send_body(sweep: Sweep, label: str, method: str, url: str, content_type: str, body: dict, **extra) -> None:
    body = fresh(body)
    if content_type == "application/json":
        sweep.send(label, method, url, data=json.dumps(body), content_type="application/json", **extra)
    else:
        flat = {k: v for k, v in body.items() if isinstance(v, str | int | float | bool)}
        data = {k: str(v) for k, v in flat.items()}
        if method == "post":
            sweep.send(label, method, url, data=data, **extra)


# ------------------------------------------------------------------------------------------------------------------
# API
# ------------------------------------------------------------------------------------------------------------------


def test_api_path_parameters(sweep, schema, world):  # noqa: F811
    for path, method, _operation in operations(schema):
        if "{" not in path:
            continue
        for value in PATH_VALUES:
            url = re.sub(r"\{[^}]+\}", lambda _m, v=value: v, path)
            sweep.send(f"path={value[:12]!r}", method, url)
        if method == "get" and (path, method) in API_ROWS:
            # A real record's id in Arabic-Indic digits is not its id (int() would read it as one): 404.
            real = re.search(r"/([0-9]+)/", operation_url(world, path, method))
            if real:
                arabic = "".join(chr(0x0660 + int(d)) for d in real.group(1))
                url = operation_url(world, path, method).replace(f"/{real.group(1)}/", f"/{arabic}/")
                status = sweep.client.get(url).status_code
                if status != 404:
                    sweep.failures.append(f"GET {path} with its id in Arabic-Indic digits: {status}, expected 404")
    sweep.assert_clean()


def test_api_query_parameters(sweep, schema, world):  # noqa: F811
    for path, method, operation in operations(schema):
        if method != "get":
            continue
        url = operation_url(world, path, method)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in STRINGS:
                sweep.send(f"?{parameter['name']}={value[:12]!r}", method, url, data={parameter["name"]: value})
    sweep.assert_clean()


def test_api_dealership_header(sweep, schema, world):  # noqa: F811
    for path, method, operation in operations(schema):
        url = operation_url(world, path, method)
        body = request_body(schema, operation)
        for value in HEADER_VALUES:
            label = f"X-Dealership: {value[:12]!r}"
            if body and method != "get":
                content_type, _properties, ordinary = body
                send_body(sweep, label, method, url, content_type, ordinary, HTTP_X_DEALERSHIP=value)
            else:
                sweep.send(label, method, url, HTTP_X_DEALERSHIP=value)
    sweep.assert_clean()


def test_api_body_fields(sweep, schema, world):  # noqa: F811
    for path, method, operation in operations(schema):
        body = request_body(schema, operation)
        if body is None:
            continue
        content_type, properties, ordinary = body
        url = operation_url(world, path, method)
        if content_type == "application/json":
            sweep.send("nested body", method, url, data=NESTED_JSON, content_type="application/json")
        for name, prop in properties.items():
            if resolve(schema, prop).get("readOnly"):
                continue
            for value in BODY_VALUES[kind_of(schema, prop)]:
                send_body(sweep, f"{name}={str(value)[:12]!r}", method, url, content_type, {**ordinary, name: value})
            if content_type == "application/json":
                nested = json.dumps({**ordinary, name: "NESTED"}).replace('"NESTED"', NESTED_JSON)
                sweep.send(f"{name}=nested", method, url, data=nested, content_type="application/json")
    sweep.assert_clean()


# ------------------------------------------------------------------------------------------------------------------
# Pages
# ------------------------------------------------------------------------------------------------------------------

GET_FORM = re.compile(r"<form\b(?![^>]*method=\"?post)[^>]*>(.*?)</form>", re.S | re.I)
FIELD_NAME = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.I)


def test_page_get_parameters(sweep, world):  # noqa: F811
    for name, row in sorted(PAGES.items()):
        if row.get is None:
            continue
        url = page_url(world, name, row)
        response = sweep.client.get(url)
        if response.status_code >= 500:
            sweep.failures.append(f"GET {url} (plain): {response.status_code}")
            continue
        parameters = {"page", "q", "sort", "dealership"}
        if response.get("Content-Type", "").startswith("text/html"):
            for form in GET_FORM.findall(response.content.decode()):
                parameters.update(FIELD_NAME.findall(form))
        parameters.discard("csrfmiddlewaretoken")
        for parameter in sorted(parameters):
            for value in PAGE_STRINGS:
                sweep.send(f"?{parameter}={value[:12]!r}", "get", url, data={parameter: value})
    sweep.assert_clean()
