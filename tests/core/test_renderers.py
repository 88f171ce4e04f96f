"""Issue 19 item 4: the API's JSON is written by orjson (dms.core.renderers) and JSON columns are read by it
(dms.core.apps.json_loads) — the bytes of every answer are the ones DRF's own renderer writes."""

import datetime
import decimal
import json
import uuid
import zoneinfo
from collections import OrderedDict

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy, override
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from dms.core.apps import json_loads
from dms.core.renderers import JSONRenderer

FAST, DRF = JSONRenderer(), DRFJSONRenderer()

TEXT = "".join(chr(code) for code in range(0x20)) + '"\\/ \u2028\u2029 Ж 汉 \U0001f600 \x7f'
PAYLOADS = [
    {"count": 2, "next": None, "results": [{"id": 1, "ok": True, "name": TEXT}, {"id": 2, "ok": False}]},
    {
        "at": datetime.datetime(2026, 12, 2, 8, 30, 15, 123456, tzinfo=datetime.UTC),
        "local": datetime.datetime(2026, 12, 2, 11, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow")),
        "naive": datetime.datetime(2026, 12, 2, 11, 30),
        "day": datetime.date(2026, 12, 2),
        "time": datetime.time(9, 5),
        "duration": datetime.timedelta(hours=1, seconds=3),
        "amount": decimal.Decimal("1234.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "tuple": (1, "a", None),
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        "big": 2**70,
        "negative": -(2**63),
    },
    ReturnList([ReturnDict({"id": 1, "label": "Получен"}, serializer=None)], serializer=None),
    [],
    {},
    "text",
    0,
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_bytes_are_drf_s(payload):
    assert FAST.render(payload) == DRF.render(payload)


def test_lazy_translations_are_rendered_in_the_active_language():
    payload = {"status": gettext_lazy("Received"), "items": [gettext_lazy("Cancelled")]}
    for language in ("ru", "en", "zh-hans"):
        with override(language):
            assert FAST.render(payload) == DRF.render(payload)
    with override("ru"):
        assert json.loads(FAST.render(payload))["status"] != "Received"


def test_what_orjson_cannot_write_is_drf_s_answer_or_error():
    assert FAST.render({1: "int key", None: "none key"}) == DRF.render({1: "int key", None: "none key"})
    with pytest.raises(TypeError):
        FAST.render({"object": object()})


def test_pretty_printed_json_and_none_are_drf_s():
    payload = {"a": [1, {"b": "ж"}]}
    pretty = FAST.render(payload, "application/json; indent=4")
    assert pretty == DRF.render(payload, "application/json; indent=4")
    assert b'\n    "a"' in pretty
    assert FAST.render(None) == b""


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_any_json_value_is_written_as_drf_writes_it(value):
    assert FAST.render(value) == DRF.render(value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=5))
def test_floats_are_the_same_numbers(values):
    assert json.loads(FAST.render(values)) == json.loads(DRF.render(values))


@pytest.mark.django_db
def test_an_api_answer_is_drf_s_rendering_of_its_data(api_as, customer, advisor):
    customer.name = "Пётр \u2028 Иванов"
    customer.save()
    response = api_as(advisor).get("/api/customers/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == DRF.render(response.data)
    assert b"\\u2028" in response.content
    assert response.json()["results"][0]["name"] == "Пётр \u2028 Иванов"


@pytest.mark.django_db
def test_json_columns_are_read_as_the_standard_library_reads_them():
    text = '{"id": 7, "name": "Ж \\u2028", "big": 123456789012345678901234567890, "x": [1.5, null, true]}'
    assert json_loads(text) == json.loads(text)
    assert json_loads(text)["big"] == 123456789012345678901234567890
    assert json_loads('[9223372036854775807, -1e-7, "a"]') == [9223372036854775807, -1e-7, "a"]
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's json type")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::json, json_build_array(1, 'два', 2.5)", [text])
        value, built = cursor.fetchone()
    assert value == json.loads(text)
    assert built == [1, "два", 2.5]
