"""Server-side prepared statements for the queries every request runs (issue 19 items 1 and 4).

The identity query (``auth_backends``: the user, the roles, the permissions and the dealerships in one query) joins
eleven tables; PostgreSQL spent 0.6–1.3 ms planning it and 0.2–0.7 ms running it, on every page and API request.
Prepared once per database connection, it is planned once (after five runs PostgreSQL keeps the generic plan of a
query whose only parameter is a key) and every later request only runs it (``fetch_one_prepared``).

The order dashboard's page query (``orders.selectors.order_rows``: 50 orders with their customers, vehicles, users,
call logs and lines in one statement) took 0.4–0.8 ms to plan and 0.7–1.9 ms to run; ``fetch_all_prepared`` prepares
it per query text — one per filter and sort combination, at most ``MAX_STATEMENTS`` per connection, the least
recently used deallocated — with the parameters' types inferred by PostgreSQL. A text it cannot prepare (a parameter
whose type nothing determines) runs as a plain query; inside a transaction the refused ``PREPARE`` is rolled back to
a savepoint, so the transaction goes on.

A prepared statement belongs to the database session, not to a transaction: a rollback keeps it, a new connection
(``CONN_MAX_AGE`` expired, a broken connection replaced) has none — so which names are prepared is remembered per
driver connection. ``PREPARE`` goes through the driver's own cursor, not Django's: it is no query of the request's
(the query-count tests count the ``EXECUTE`` alone, as they counted the plain query before).

A migration that changes the type of a column such a statement returns makes PostgreSQL refuse the old plan
("cached plan must not change result type") on connections opened before it: web processes restart after migrating
(docker-compose.yml migrates before gunicorn starts).

PostgreSQL only; a connection pooler in transaction mode (PgBouncer: it follows protocol-level prepared statements,
not SQL ``PREPARE``) would need these disabled — this project connects to PostgreSQL directly (docker-compose.yml).
"""

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import psycopg2
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

# Attribute of Django's connection wrapper: (the driver connection, the names prepared on it).
_PREPARED_ON = "_dms_prepared_statements"
# Statements kept prepared per connection by fetch_all_prepared (a page's query per filter and sort combination).
MAX_STATEMENTS = 64
# A query with more parameters is a list of ids a search found: its text is seldom asked twice, and a statement
# prepared for it would cost a round trip and push a reused one out.
MAX_PARAMETERS = 16
_LABEL = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _placeholders_numbered(sql: str) -> str:
    """``%s`` placeholders (the driver's) as ``$1, $2, …`` (PREPARE's)."""
    if "%%" in sql or "%(" in sql:
        raise ValueError("A prepared query takes positional %s placeholders and no literal percent signs.")
    parts = sql.split("%s")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


def _prepared_names(connection) -> OrderedDict[str, bool]:
    """The statements prepared on this driver connection, least recently used first (name → prepared, or False
    where PostgreSQL refused to prepare the text)."""
    connection.ensure_connection()
    driver_connection = connection.connection
    state = getattr(connection, _PREPARED_ON, None)
    if state is None or state[0] is not driver_connection:
        state = (driver_connection, OrderedDict())
        setattr(connection, _PREPARED_ON, state)
    return state[1]


def _prepare(connection, name: str, sql: str, types: Sequence[str] | None) -> bool:
    """``PREPARE`` through the driver's cursor (no query of the request's). Inside a transaction a savepoint keeps a
    refusal (a parameter whose type PostgreSQL cannot infer) from aborting it."""
    declared = f"({', '.join(types)})" if types else ""
    statement = f"PREPARE {name}{declared} AS {_placeholders_numbered(sql)}"
    driver_connection = connection.connection
    if not connection.in_atomic_block:
        try:
            with connection.wrap_database_errors, driver_connection.cursor() as cursor:
                cursor.execute(statement)
        except DatabaseError:
            if types is not None:
                raise
            return False
        return True
    with connection.wrap_database_errors, driver_connection.cursor() as cursor:
        cursor.execute("SAVEPOINT dms_prepare")
        try:
            cursor.execute(statement)
        except psycopg2.Error:
            cursor.execute("ROLLBACK TO SAVEPOINT dms_prepare")
            if types is not None:
                raise
            return False
        finally:
            cursor.execute("RELEASE SAVEPOINT dms_prepare")
    return True


def fetch_all_prepared(sql: str, params: Sequence[Any], *, label: str, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """All rows of ``sql`` (with ``%s`` placeholders), run as a statement prepared on this connection the first time
    it is asked, named ``<label>_<hash of the text>`` (``label``: letters, digits and underscores, e.g.
    ``orders_page``: what the query log shows), the parameters' types inferred by PostgreSQL. At most
    ``MAX_STATEMENTS`` stay prepared per connection (the least recently used is deallocated). A text PostgreSQL
    cannot prepare, one with literal percent signs or more than ``MAX_PARAMETERS`` parameters runs as a plain
    query. ``using``: the database alias (a replica's connection keeps its own statements)."""
    if not _LABEL.fullmatch(label):
        raise ValueError(f"A statement label is an identifier of up to 40 characters, not {label!r}.")
    if "%%" in sql or "%(" in sql or len(params) > MAX_PARAMETERS:
        return _fetch_all_plain(sql, params, using=using)
    connection = connections[using]
    names = _prepared_names(connection)
    name = f"{label}_{hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()}"
    prepared = names.get(name)
    if prepared is None:
        prepared = names[name] = _prepare(connection, name, sql, None)
        while len(names) > MAX_STATEMENTS:
            oldest, was_prepared = names.popitem(last=False)
            if was_prepared:
                with connection.wrap_database_errors, connection.connection.cursor() as cursor:
                    cursor.execute(f"DEALLOCATE {oldest}")
    else:
        names.move_to_end(name)
    if not prepared:
        return _fetch_all_plain(sql, params, using=using)
    with connection.cursor() as cursor:
        cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params)
        return cursor.fetchall()


def _fetch_all_plain(sql: str, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_one_prepared(name: str, sql: str, params: Sequence[Any], *, types: Sequence[str]) -> tuple | None:
    """The first row of ``sql`` (with ``%s`` placeholders) run as the prepared statement ``name``, prepared on this
    connection the first time with the parameters' SQL ``types``. ``name`` must be unique to ``sql`` for the life of
    the process."""
    connection = connections[DEFAULT_DB_ALIAS]
    names = _prepared_names(connection)
    if name not in names:
        names[name] = _prepare(connection, name, sql, types)
    arguments = ", ".join(["%s"] * len(params))
    with connection.cursor() as cursor:
        cursor.execute(f"EXECUTE {name}({arguments})", list(params))
        return cursor.fetchone()
