"""The OpenAPI schema's links (dms.core.schema.add_links; issue 12 item 9): the stateful fuzzing walks records along
them, so every operation on a record must be reachable from the record's creation or from another operation on it."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(openapi: dict):
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "operationId" in operation:
                yield path, method, operation


def test_creating_an_order_links_to_its_actions_and_each_action_to_the_next(openapi):
    paths = openapi["paths"]
    created = paths["/api/orders/"]["post"]["responses"]["201"]["links"]
    place = paths["/api/orders/{id}/place/"]["post"]
    receive_id = paths["/api/orders/{id}/receive/"]["post"]["operationId"]
    assert created[place["operationId"]] == {
        "operationId": place["operationId"],
        "parameters": {"path.id": "$response.body#/id"},
    }
    assert place["responses"]["200"]["links"][receive_id] == {
        "operationId": receive_id,
        "parameters": {"path.id": "$request.path.id"},
    }
    # An operation does not link to itself, and error answers lead nowhere.
    assert place["operationId"] not in place["responses"]["200"]["links"]
    assert "links" not in place["responses"]["409"]


def test_every_link_names_an_operation_and_every_record_operation_is_reachable(openapi):
    ids = {operation["operationId"] for _path, _method, operation in operations(openapi)}
    reachable = set()
    for _path, _method, operation in operations(openapi):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids
                assert set(link["parameters"]) == {"path.id"}
                reachable.add(link["operationId"])
    on_records = {operation["operationId"] for path, _method, operation in operations(openapi) if "{id}/" in path}
    assert on_records, "the schema has no operations on records"
    assert on_records <= reachable, sorted(on_records - reachable)


def component(openapi: dict, name: str) -> dict:
    return openapi["components"]["schemas"][name]


def test_read_only_fields_document_null_and_blank_answers(openapi):
    """The values the model allows are in the schema (found by the schemathesis run, issue 12 item 9)."""
    # A nested user declared by hand over a nullable foreign key (a requisition not yet approved).
    requisition = component(openapi, "Requisition")["properties"]
    assert requisition["approved_by"].get("nullable") is True
    assert requisition["requested_by"].get("nullable") is not True  # NOT NULL stays non-nullable
    # A blank choice field listed in read_only_fields (a call not yet done has no outcome).
    outcome = component(openapi, "CallEvent")["properties"]["outcome"]
    assert any(
        "" in component(openapi, ref["$ref"].rsplit("/", 1)[1]).get("enum", [])
        for ref in outcome.get("oneOf", [])
        if "$ref" in ref
    ), outcome
    # A model property typed "-> Decimal | None" (a line not yet counted has no variance).
    assert component(openapi, "StockCountLine")["properties"]["variance"].get("nullable") is True


def test_every_operation_with_a_body_documents_415(openapi):
    with_body = [(path, method, op) for path, method, op in operations(openapi) if method in ("post", "put", "patch")]
    assert with_body
    missing = [f"{method.upper()} {path}" for path, method, op in with_body if "415" not in op["responses"]]
    assert not missing, missing


@pytest.mark.django_db
def test_a_body_in_an_unreadable_media_type_answers_the_documented_415(api_as, make_user):
    from dms.core import roles

    response = api_as(make_user(roles.ADMINISTRATOR)).generic(
        "POST", "/api/customers/", "name=x", content_type="text/plain"
    )
    assert response.status_code == 415
    assert isinstance(response.json().get("detail"), str)
