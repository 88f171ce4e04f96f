"""Issue 19 item 6: reports read from the replica (dms.core.db_router), everything else from the primary.

In tests the ``replica`` alias is a test mirror of the default database (dms/settings/test.py): the same rows
through a second connection, as a streaming replica would serve them. The queries each connection ran tell which
database answered.
"""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from dms.core import roles
from dms.core.db_router import REPLICA, ReplicaRouter, replica_reads
from orders.models import CustomerOrder

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica_on(settings):
    settings.REPORTS_FROM_REPLICA = True


def _queries(alias, call):
    with CaptureQueriesContext(connections[alias]) as captured:
        response = call()
    return response, [q["sql"] for q in captured.captured_queries]


@pytest.mark.no_schema_check
def test_report_api_reads_from_the_replica_and_lists_from_the_primary(replica_on, api_as, make_user, dealership):
    director = make_user(roles.DIRECTOR)
    client = api_as(director)

    with CaptureQueriesContext(connections["default"]) as primary:
        response, on_replica = _queries(REPLICA, lambda: client.get("/api/reports/parts-kpis/"))
    assert response.status_code == 200, response.content
    assert any("orders_customerorder" in sql for sql in on_replica), on_replica
    assert not any("orders_customerorder" in sql for sql in (q["sql"] for q in primary.captured_queries))

    # An ordinary list is no report: the primary answers it.
    response, on_replica = _queries(REPLICA, lambda: client.get("/api/orders/"))
    assert response.status_code == 200
    assert on_replica == []


@pytest.mark.no_schema_check
def test_report_page_reads_from_the_replica(replica_on, client, make_user):
    director = make_user(roles.DIRECTOR)
    client.force_login(director)
    response, on_replica = _queries(REPLICA, lambda: client.get("/reports/call-compliance/"))
    assert response.status_code == 200
    assert on_replica, "the call-compliance page read nothing from the replica"
    # Sign-in never comes from the replica (a user created a moment ago may not be there yet).
    assert not any("django_session" in sql or "auth_user" in sql for sql in on_replica)


def test_without_a_replica_everything_stays_on_the_primary(api_as, make_user):
    client = api_as(make_user(roles.DIRECTOR))
    response, on_replica = _queries(REPLICA, lambda: client.get("/api/reports/parts-kpis/"))
    assert response.status_code == 200
    assert on_replica == []


def test_inside_a_transaction_of_the_primary_reads_stay_there(replica_on):
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(CustomerOrder) == REPLICA
        with transaction.atomic():
            assert router.db_for_read(CustomerOrder) is None  # sees its own writes
    assert router.db_for_read(CustomerOrder) is None
    assert router.db_for_write(CustomerOrder) == "default"
    assert router.allow_migrate(REPLICA, "orders") is False
    assert router.allow_migrate("default", "orders") is True
