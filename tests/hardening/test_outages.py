"""Issue 12, item 10: a request that cannot reach the database or the cache answers 503 + Retry-After, never 500.

The outages are real connection failures, not invented exceptions: the database "goes down" by pointing Django's
connection at a closed port (psycopg2 refuses, Django wraps it as it would in production); Redis by a cache on a
closed port. Errors of a server that is up (a lock timeout, a terminated query's siblings) are produced for real too,
to prove the line between "try again" and a real error.
"""

from __future__ import annotations

import contextlib
import socket

import psycopg2
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.utils import InterfaceError, OperationalError
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from dms.core import outage, roles

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MESSAGES = {
    "ru": "Сервис временно недоступен. Повторите попытку через несколько секунд.",
    "en": "The service is temporarily unavailable. Please try again in a few seconds.",
    "zh-hans": "服务暂时不可用，请几秒钟后重试。",
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_database_wrapper():
    """A second connection to the same database, but on a port where nothing listens."""
    settings_dict = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": closed_port()}
    settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
    return type(connections["default"])(settings_dict)  # alias "default": Django looks settings up by it


@contextlib.contextmanager
def database_down():
    """Every query of the request fails the way it does while PostgreSQL restarts: the connection is refused."""
    dead, default = dead_database_wrapper(), connections["default"]
    default.ensure_connection = dead.ensure_connection  # an instance attribute over the method
    try:
        yield
    finally:
        del default.ensure_connection
        dead.close()


@pytest.fixture
def signed_in(client, make_user):
    client.force_login(make_user(roles.ADMINISTRATOR))
    return client


def assert_outage_page(response, language: str):
    assert response.status_code == 503
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert MESSAGES[language] in html
    assert f'<html lang="{language}">' in html
    # the site's layout (navbar, stylesheet): rendered without reading the database
    assert 'class="navbar-brand' in html and "bootstrap.min.css" in html and 'id="service-unavailable"' in html
    assert response.get("Content-Security-Policy"), "the 503 page keeps the site's headers"


# ------------------------------------------------------------------------------------------------------------------
# Pages and the API while the database is down
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_a_page_answers_the_503_page_in_the_users_language(signed_in, language):
    if language != "ru":
        signed_in.cookies["django_language"] = language
    with database_down():
        response = signed_in.get(reverse("core:customer_list"))
    assert_outage_page(response, language)


def test_a_form_post_answers_503_too(signed_in):
    with database_down():
        response = signed_in.post(reverse("core:customer_create"), {"name": "X", "phone": "+79160000000"})
    assert_outage_page(response, "ru")


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_the_api_answers_json_503_with_retry_after(api_as, make_user, language):
    client = api_as(make_user(roles.ADMINISTRATOR))
    with database_down():
        response = client.get("/api/customers/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503
    assert response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": MESSAGES[language]}
    assert "no-store" in response["Cache-Control"]


def test_token_authentication_against_a_dead_database_is_503(make_user):
    token = Token.objects.create(user=make_user(roles.SERVICE_ADVISOR))
    with database_down():
        response = Client().get("/api/orders/", HTTP_AUTHORIZATION=f"Token {token.key}")
        login = Client().post("/api/auth/token/", {"username": "u", "password": "p"}, content_type="application/json")
    assert response.status_code == 503 and response.json() == {"detail": MESSAGES["ru"]}
    assert login.status_code == 503 and login["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)


def test_the_api_docs_page_answers_json_503_too(signed_in):
    """The docs page renders HTML templates; during an outage its /api/ path still gets the JSON shape."""
    with database_down():
        response = signed_in.get("/api/docs/")
    assert response.status_code == 503 and response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert response.json() == {"detail": MESSAGES["ru"]}


class QueryBeforeTheView:
    """A middleware that reads the database before any view (as a session or tenant lookup may)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        get_user_model().objects.exists()
        return self.get_response(request)


def test_an_outage_met_outside_the_view_is_503_too(settings):
    """Raised by a middleware, the error never reaches process_exception: handler500 answers 503 all the same."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.QueryBeforeTheView"]
    client = Client(raise_request_exception=False)
    with database_down():
        page = client.get(reverse("login"))
        api = client.get("/api/customers/")
    assert_outage_page(page, "ru")
    assert api.status_code == 503 and api.json() == {"detail": MESSAGES["ru"]}


def test_the_503_page_reads_nothing_and_falls_back_to_plain_html(rf, monkeypatch):
    request = rf.get("/orders/")
    with CaptureQueriesContext(connection) as queries:
        response = outage.outage_response(request)
    assert len(queries) == 0
    assert response.status_code == 503 and 'class="navbar-brand' in response.content.decode()

    def broken(name):
        raise RuntimeError("template engine broken")

    monkeypatch.setattr(outage, "get_template", broken)
    response = outage.outage_response(request)
    assert response.status_code == 503 and response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert MESSAGES["ru"] in response.content.decode()


def test_handler500_is_the_outage_aware_one():
    from dms import urls

    assert urls.handler500 is outage.server_error


# ------------------------------------------------------------------------------------------------------------------
# The cache
# ------------------------------------------------------------------------------------------------------------------


def test_a_dead_redis_that_is_not_swallowed_answers_503(signed_in, settings):
    """Our production cache (ResilientRedisCache) turns a dead Redis into misses; any other Redis client that raises
    (here Django's plain RedisCache, as a development setting might use) gets a 503, not a 500."""
    dead_redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead_redis):
        page = signed_in.get(reverse("core:customer_list"))
        api = signed_in.get("/api/customers/")
    assert_outage_page(page, "ru")
    assert api.status_code == 503 and api.json() == {"detail": MESSAGES["ru"]}


def test_the_resilient_cache_still_serves_pages_while_redis_is_down(signed_in):
    dead_redis = {
        "default": {
            "BACKEND": "dms.core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead_redis):
        assert signed_in.get(reverse("core:customer_list")).status_code == 200


# ------------------------------------------------------------------------------------------------------------------
# Which errors are outages: real ones from a real PostgreSQL
# ------------------------------------------------------------------------------------------------------------------


def test_a_refused_connection_is_an_outage():
    with pytest.raises(OperationalError) as refused:
        dead_database_wrapper().ensure_connection()
    assert outage.is_outage(refused.value)


def test_a_terminated_connection_is_an_outage():
    """What the restart does to open connections: the server ends them (57P01 / "server closed the connection"),
    and the next use finds the connection closed (InterfaceError)."""
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [other.get_backend_pid()])
        errors = []
        for _ in range(2):
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
                errors.append(error)
        assert errors and isinstance(errors[-1], psycopg2.InterfaceError)
        assert all(outage.is_outage(error) for error in errors), errors
    finally:
        other.close()


def test_a_lock_timeout_is_not_an_outage():
    """Another transaction holds the table: PostgreSQL answers 55P03 — the server is up, waiting would not help."""
    from dms.core.models import Customer

    holder = psycopg2.connect(**connection.get_connection_params())
    try:
        with holder.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # never hang the suite
            cursor.execute(f"LOCK TABLE {Customer._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(OperationalError) as locked, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '50ms'")
            Customer.objects.count()
        assert isinstance(locked.value.__cause__, psycopg2.errors.LockNotAvailable)
        assert not outage.is_outage(locked.value)
    finally:
        holder.rollback()
        holder.close()


def test_a_statement_timeout_is_not_an_outage():
    with pytest.raises(OperationalError) as cancelled, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '10ms'")
            cursor.execute("SELECT pg_sleep(1)")
    assert not outage.is_outage(cancelled.value)


@pytest.mark.parametrize(
    "driver_error, expected",
    [
        (psycopg2.errors.SerializationFailure("could not serialize access"), False),
        (psycopg2.errors.DeadlockDetected("deadlock detected"), False),
        (psycopg2.errors.LockNotAvailable("could not obtain lock"), False),
        (psycopg2.errors.QueryCanceled("canceling statement due to statement timeout"), False),
        (psycopg2.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg2.errors.CannotConnectNow("the database system is starting up"), True),
        (psycopg2.errors.TooManyConnections("too many clients already"), True),
        (psycopg2.errors.ConnectionFailure("connection failure"), True),
        (psycopg2.OperationalError("server closed the connection unexpectedly"), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_which_database_errors_are_outages(driver_error, expected):
    try:
        try:
            raise driver_error
        except psycopg2.Error as error:
            raise OperationalError(str(error)) from error  # Django's wrapper does exactly this
    except OperationalError as wrapped:
        assert outage.is_outage(wrapped) is expected
    assert outage.is_outage(InterfaceError("connection already closed"))
    assert not outage.is_outage(ValueError("x"))


def test_a_server_error_that_is_not_an_outage_stays_a_500(signed_in):
    """A lock timeout inside a page is a real error (logged, investigated), not a 503 that invites blind retries."""

    def locked():
        try:
            raise psycopg2.errors.LockNotAvailable("could not obtain lock on relation")
        except psycopg2.Error as error:
            raise OperationalError(str(error)) from error

    default = connections["default"]
    default.ensure_connection = locked
    try:
        with pytest.raises(OperationalError):
            signed_in.get(reverse("core:customer_list"))
    finally:
        del default.ensure_connection
    quiet = Client(raise_request_exception=False)
    quiet.force_login(get_user_model().objects.first())
    default.ensure_connection = locked
    try:
        answer = quiet.get(reverse("core:customer_list"))
    finally:
        del default.ensure_connection
    assert answer.status_code == 500
