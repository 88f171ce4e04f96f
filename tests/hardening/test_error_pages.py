"""Error pages speak the user's language inside the site's layout; the API keeps JSON (issue 14 item 8)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.db import OperationalError, ProgrammingError, connections
from django.test import Client
from django.urls import reverse

from dms.core import roles

pytestmark = pytest.mark.django_db

LAYOUT_MARKS = ('class="navbar', 'href="/static/favicon.svg"', 'id="error-page"')
TEXTS = {
    403: {"ru": "Доступ запрещён", "en": "Access denied"},
    404: {"ru": "Страница не найдена", "en": "Page not found"},
    500: {"ru": "Что-то пошло не так", "en": "Something went wrong"},
}


def assert_error_page(response, status: int, language: str) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    for mark in LAYOUT_MARKS:
        assert mark in html, f"{status} page lacks {mark!r}"
    assert f'<html lang="{language}">' in html
    assert TEXTS[status][language] in html
    other = "en" if language == "ru" else "ru"
    assert TEXTS[status][other] not in html
    return html


def page_form(html: str) -> str:
    """The page's own form (the top bar holds the language and dealership forms)."""
    main = html[html.index("<main") :]
    return main[main.index("<form") : main.index("</form>")]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_403_page_in_the_layout_and_language(client, advisor, language):
    client.force_login(advisor)
    client.cookies["django_language"] = language
    html = assert_error_page(client.get(reverse("claims:claim_list")), 403, language)
    assert 'id="mainNav"' in html  # the logged-in user keeps the menu


@pytest.mark.parametrize("language", ["ru", "en"])
def test_404_page_in_the_layout_and_language(client, advisor, language):
    client.force_login(advisor)
    client.cookies["django_language"] = language
    assert_error_page(client.get("/no-such-page/"), 404, language)


def test_404_page_for_an_anonymous_visitor(client):
    assert_error_page(client.get("/no-such-page/"), 404, "ru")


@pytest.mark.no_schema_check  # deliberately a path the API does not have
def test_api_keeps_json_errors(api_as, advisor):
    response = api_as(advisor).get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.urls("tests.hardening.error_urls")
@pytest.mark.parametrize("language", ["ru", "en"])
def test_500_page_renders_without_the_database(advisor, language):
    """The 500 page must not query: the database being down is a common reason for a 500."""
    client = Client(raise_request_exception=False)
    client.force_login(advisor)
    client.cookies["django_language"] = language
    queries = []

    def database_down(execute, sql, params, many, context):
        # A broken query that is not a lost connection (that would be a 503): the 500 page must still render.
        queries.append(sql)
        raise ProgrammingError("relation does not exist")

    with connections["default"].execute_wrapper(database_down):
        response = client.get("/test-broken/")
    html = assert_error_page(response, 500, language)
    assert 'id="mainNav"' not in html  # no menu: it would need the user's permissions from the database
    assert queries, "the view should have tried the database and failed"


def test_director_reads_the_claims_settings_the_role_table_grants(client, director, dealership):
    """claims/roles.py gives the director view_claimssettings: the page opens read-only; saving is a 403 page."""
    client.force_login(director)
    response = client.get(reverse("claims:settings"))
    assert response.status_code == 200
    form = page_form(response.content.decode())
    fields = re.findall(r"<(?:input|select|textarea)\b[^>]*>", form)
    editable = [f for f in fields if 'type="hidden"' not in f and "disabled" not in f]
    assert fields and not editable, editable
    assert 'type="submit"' not in form
    denied = client.post(reverse("claims:settings"), {})
    assert_error_page(denied, 403, "ru")


def test_warranty_engineer_still_edits_the_claims_settings(client, make_user):
    client.force_login(make_user(roles.WARRANTY_ENGINEER))
    form = page_form(client.get(reverse("claims:settings")).content.decode())
    assert 'type="submit"' in form
    assert " disabled" not in form


def test_favicon_ships_and_every_layout_links_it(client, advisor):
    path = finders.find("favicon.svg")
    assert path, "static/favicon.svg is missing"
    with open(path, encoding="utf-8") as icon:
        assert icon.read().lstrip().startswith("<svg")
    client.force_login(advisor)
    assert 'rel="icon" href="/static/favicon.svg"' in client.get(reverse("core:customer_list")).content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in Client().get(reverse("login")).content.decode()
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_expired_form_page_in_the_layout_and_language(language):
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = language
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="error-page"' in html and 'href="/static/favicon.svg"' in html
    assert {"ru": "Форма устарела", "en": "The form has expired"}[language] in html


def test_refused_requests_are_logged_without_a_traceback(client, advisor):
    """make run printed a traceback for every 403 (issue 14 item 9); a 5xx keeps its traceback."""
    import io
    import logging
    import sys

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for configured in logging.getLogger("django").handlers:
        for log_filter in configured.filters:
            handler.addFilter(log_filter)
    assert handler.filters, "the console handler of the django logger has no filter"
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.force_login(advisor)
        assert client.get(reverse("claims:claim_list")).status_code == 403
        try:
            raise OperationalError("database is down")
        except OperationalError:
            logger.error("Internal Server Error: /x/", exc_info=sys.exc_info(), extra={"status_code": 500})
    finally:
        logger.removeHandler(handler)
    log = stream.getvalue()
    assert "Forbidden (Permission denied): /claims/" in log
    assert log.count("Traceback") == 1 and "database is down" in log


@pytest.mark.urls("tests.hardening.error_urls")
def test_api_server_error_is_json():
    response = Client(raise_request_exception=False).get("/api/test-broken/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}
