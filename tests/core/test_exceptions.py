"""Every API error body is an object (README: ``{"detail": …}`` or field → messages; OpenAPI ``Error``)."""

import pytest
from rest_framework import exceptions

from dms.core import roles
from dms.core.exceptions import api_exception_handler


def test_a_validation_error_raised_outside_a_serializer_answers_an_object():
    response = api_exception_handler(exceptions.ValidationError("Неверный поиск."), {})
    assert response.status_code == 400
    assert response.data == {"detail": "Неверный поиск."}


def test_field_errors_keep_their_shape():
    response = api_exception_handler(exceptions.ValidationError({"name": ["Обязательное поле."]}), {})
    assert response.data == {"name": ["Обязательное поле."]}


@pytest.mark.django_db
def test_a_search_the_filter_backend_refuses_answers_an_object(api_as, make_user):
    # DRF's SearchFilter rejects a NUL byte with a bare ValidationError (found by schemathesis, issue 12 item 9).
    response = api_as(make_user(roles.ADMINISTRATOR)).get("/api/quarantined-parts/", {"search": "a\x00b"})
    assert response.status_code in (200, 400)
    assert isinstance(response.json(), dict)
