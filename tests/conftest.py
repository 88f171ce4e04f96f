import os

import pytest
from django.db import connection

from dms.core import roles

from .factories import CustomerFactory, DealershipFactory, UserFactory, VehicleFactory
from .openapi_validation import SchemaCheckingAPIClient, stats

# Issue 16 item 1: the `generated` (openapi-python-client) and `keep_connection` fixtures for any test module.
pytest_plugins = ["tests.generated_client"]


def pytest_collection_modifyitems(config, items):
    on_sqlite = os.environ.get("DATABASE_URL", "").startswith("sqlite")
    no_redis = not os.environ.get("TEST_REDIS_URL")
    for item in items:
        if on_sqlite and "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (running on the SQLite fallback)"))
        if no_redis and "redis" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs Redis (TEST_REDIS_URL not set)"))


@pytest.fixture(autouse=True)
def _axes_reset(settings):
    settings.AXES_ENABLED = True


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached lists (e.g. the dashboard's staff) are keyed by ids, and SQLite reuses ids after a test's rollback.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # A request in another language leaves it active in the thread; every test starts in Russian (the default).
    from django.utils import translation

    translation.activate("ru")
    yield
    translation.activate("ru")


@pytest.fixture
def dealership(db):
    return DealershipFactory(name="Демо Моторс", code="main")


@pytest.fixture
def other_dealership(db):
    return DealershipFactory(name="Чужой дилер", code="other")


@pytest.fixture
def make_user(db, dealership):
    def make(role: str | None = roles.SERVICE_ADVISOR, dealerships=None, **kwargs):
        return UserFactory(role=role, dealership=dealerships or [dealership], **kwargs)

    return make


@pytest.fixture
def advisor(make_user):
    return make_user(roles.SERVICE_ADVISOR, first_name="Анна", last_name="Смирнова")


@pytest.fixture
def parts_manager(make_user):
    return make_user(roles.PARTS_MANAGER, first_name="Павел", last_name="Кузнецов")


@pytest.fixture
def director(make_user, dealership, other_dealership):
    return make_user(roles.DIRECTOR, dealerships=[dealership, other_dealership])


def _schema_client(request):
    # Issue 16 item 1: every /api/ response the tests receive is validated against the OpenAPI schema.
    client = SchemaCheckingAPIClient()
    client.check_schema = request.node.get_closest_marker("no_schema_check") is None
    return client


@pytest.fixture
def api_client(request):
    return _schema_client(request)


@pytest.fixture
def api_as(request):
    def login(user):
        client = _schema_client(request)
        client.force_authenticate(user)
        return client

    return login


def pytest_terminal_summary(terminalreporter):
    if stats["validated"] or stats["skipped_non_json"]:
        terminalreporter.write_line(
            f"OpenAPI response validation: {stats['validated']} JSON responses validated, "
            f"{stats['skipped_non_json']} non-JSON responses checked for content type only"
        )


@pytest.fixture
def customer(dealership):
    return CustomerFactory(dealership=dealership)


@pytest.fixture
def vehicle(customer):
    return VehicleFactory(customer=customer)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
