"""Issue 16 item 1: the validator behind `api_client`/`api_as` catches an answer the schema does not describe."""

import json

import pytest
from django.http import HttpResponse

from tests.openapi_validation import SchemaMismatch, check_response


def _json(body, status=200):
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _a_customer(api_as, make_user):
    client = api_as(make_user())
    response = client.post("/api/customers/", {"name": "Иванов", "phone": "+79161234567"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_documented_answer_passes(api_as, make_user):
    customer = _a_customer(api_as, make_user)
    check_response("GET", f"/api/customers/{customer['id']}/", _json(customer))


def test_a_body_missing_a_required_field_fails(api_as, make_user):
    customer = _a_customer(api_as, make_user)
    del customer["id"]
    with pytest.raises(SchemaMismatch, match="'id' is a required property"):
        check_response("GET", "/api/customers/1/", _json(customer))


def test_a_wrong_type_and_an_undocumented_status_fail(api_as, make_user):
    customer = _a_customer(api_as, make_user)
    with pytest.raises(SchemaMismatch, match="is not of type"):
        check_response("GET", f"/api/customers/{customer['id']}/", _json({**customer, "id": "seven"}))
    with pytest.raises(SchemaMismatch, match="status 418 is not documented"):
        check_response("GET", f"/api/customers/{customer['id']}/", _json({}, status=418))


def test_an_unknown_path_fails():
    with pytest.raises(SchemaMismatch, match="no operation"):
        check_response("GET", "/api/no-such-thing/", _json({}))
