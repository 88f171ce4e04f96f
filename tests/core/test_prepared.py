"""Issue 19 item 1: a list page's query runs as a statement prepared once per connection and query text
(dms.core.prepared.fetch_all_prepared) — planned once, with the rows a plain query gives."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dms.core import prepared
from dms.core.models import Dealership

pytestmark = pytest.mark.django_db

SQL = "SELECT id, name FROM core_dealership WHERE id = %s OR name = %s ORDER BY id"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")


def _prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def _plain(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_rows_are_the_plain_query_s_and_each_read_is_one_execute(dealership, other_dealership):
    params = [dealership.pk, other_dealership.name]
    with CaptureQueriesContext(connection) as queries:
        first = prepared.fetch_all_prepared(SQL, params, label="test")
        second = prepared.fetch_all_prepared(SQL, [other_dealership.pk, "nobody"], label="test")
    assert first == _plain(SQL, params) == sorted([(d.pk, d.name) for d in (dealership, other_dealership)])
    assert second == [(other_dealership.pk, other_dealership.name)]
    # PREPARE goes through the driver's cursor: the request's queries are the two EXECUTEs of one statement
    statements = {q["sql"].split("(")[0] for q in queries.captured_queries}
    assert len(queries.captured_queries) == 2 and len(statements) == 1
    name = statements.pop().removeprefix("EXECUTE ")
    assert name.startswith("test_")
    assert name in _prepared_here()


def test_a_statement_survives_a_rolled_back_transaction(dealership):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert prepared.fetch_all_prepared(SQL, [dealership.pk, ""], label="test") == [(dealership.pk, dealership.name)]
        raise RuntimeError("rolled back")
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetch_all_prepared(SQL, [dealership.pk, ""], label="test") == [(dealership.pk, dealership.name)]
    assert queries.captured_queries[0]["sql"].startswith("EXECUTE test_")


def test_a_text_postgresql_cannot_prepare_runs_as_a_plain_query_and_the_transaction_goes_on(dealership):
    sql = "SELECT %s IS NULL, (SELECT count(*) FROM core_dealership WHERE id = %s)"
    with transaction.atomic():
        assert prepared.fetch_all_prepared(sql, [None, dealership.pk], label="test") == [(True, 1)]
        assert prepared.fetch_all_prepared(sql, ["x", dealership.pk], label="test") == [(False, 1)]
        # the refused PREPARE was rolled back to its savepoint: the transaction still answers
        assert Dealership.objects.filter(pk=dealership.pk).exists()
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetch_all_prepared(sql, [None, 0], label="test") == [(True, 0)]
    assert not queries.captured_queries[0]["sql"].startswith("EXECUTE")
    like = "SELECT name FROM core_dealership WHERE name LIKE '%%' AND id = %s"
    assert prepared.fetch_all_prepared(like, [dealership.pk], label="test") == [(dealership.name,)]


def test_at_most_max_statements_stay_prepared_the_least_recently_used_goes(dealership, monkeypatch):
    monkeypatch.setattr(prepared, "MAX_STATEMENTS", 3)
    texts = [f"SELECT id, {n} FROM core_dealership WHERE id = %s" for n in range(5)]
    names = []
    for text in texts[:3]:
        with CaptureQueriesContext(connection) as queries:
            assert prepared.fetch_all_prepared(text, [dealership.pk], label="test") == [
                (dealership.pk, texts.index(text))
            ]
        names.append(queries.captured_queries[0]["sql"].split("(")[0].removeprefix("EXECUTE "))
    prepared.fetch_all_prepared(texts[0], [dealership.pk], label="test")  # used again: the second is now the oldest
    prepared.fetch_all_prepared(texts[3], [dealership.pk], label="test")
    here = _prepared_here()
    assert names[0] in here and names[2] in here and names[1] not in here
    assert prepared.fetch_all_prepared(texts[1], [dealership.pk], label="test") == [(dealership.pk, 1)]
    assert names[1] in _prepared_here()  # prepared again


def test_a_list_of_many_ids_runs_as_a_plain_query(dealership):
    ids = [dealership.pk, *range(-prepared.MAX_PARAMETERS, 0)]
    sql = f"SELECT id FROM core_dealership WHERE id IN ({', '.join(['%s'] * len(ids))})"
    with CaptureQueriesContext(connection) as queries:
        assert prepared.fetch_all_prepared(sql, ids, label="test") == [(dealership.pk,)]
    assert queries.captured_queries[0]["sql"].startswith("SELECT id")


def test_a_label_is_an_identifier(dealership):
    with pytest.raises(ValueError):
        prepared.fetch_all_prepared("SELECT 1", [], label="x; DROP TABLE core_dealership")
    assert prepared.fetch_all_prepared("SELECT 1", [], label="a_1") == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_its_statements_again(dealership):
    assert prepared.fetch_all_prepared(SQL, [dealership.pk, ""], label="test") == [(dealership.pk, dealership.name)]
    connection.close()
    assert prepared.fetch_all_prepared(SQL, [dealership.pk, ""], label="test") == [(dealership.pk, dealership.name)]
    assert any(name.startswith("test_") for name in _prepared_here())


def test_the_order_list_reads_its_page_through_one_prepared_statement(api_as, parts_manager, dealership):
    from tests.orders.factories import CustomerOrderFactory

    orders = [CustomerOrderFactory(dealership=dealership) for _ in range(3)]
    client = api_as(parts_manager)
    client.get("/api/orders/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/orders/?sort=number")
    assert response.status_code == 200
    assert [item["number"] for item in response.json()["results"]] == sorted(o.number for o in orders)
    assert sum(q["sql"].startswith("EXECUTE orders_page_") for q in queries.captured_queries) == 1


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_a_statement_is_prepared_on_the_connection_of_the_alias_asked():
    from django.db import connections

    with CaptureQueriesContext(connections["replica"]) as on_replica, CaptureQueriesContext(connection) as on_default:
        assert prepared.fetch_all_prepared("SELECT %s::int + 1", [41], label="test_alias", using="replica") == [(42,)]
    assert on_replica.captured_queries[0]["sql"].startswith("EXECUTE test_alias_") and not on_default.captured_queries
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'test_alias%%'")
        assert cursor.fetchall()
