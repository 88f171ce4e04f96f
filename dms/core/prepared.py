"""Server-side prepared statements for the few queries every request runs (issue 19 item 4).

The identity query (``auth_backends``: the user, the roles, the permissions and the dealerships in one query) joins
eleven tables; PostgreSQL spent 0.6–1.3 ms planning it and 0.2–0.7 ms running it, on every page and API request.
Prepared once per database connection, it is planned once (after five runs PostgreSQL keeps the generic plan of a
query whose only parameter is a key) and every later request only runs it.

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

from collections.abc import Sequence
from typing import Any

from django.db import connection

# Attribute of Django's connection wrapper: (the driver connection, the names prepared on it).
_PREPARED_ON = "_dms_prepared_statements"


def _placeholders_numbered(sql: str) -> str:
    """``%s`` placeholders (the driver's) as ``$1, $2, …`` (PREPARE's)."""
    if "%%" in sql or "%(" in sql:
        raise ValueError("A prepared query takes positional %s placeholders and no literal percent signs.")
    parts = sql.split("%s")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


def fetch_one_prepared(name: str, sql: str, params: Sequence[Any], *, types: Sequence[str]) -> tuple | None:
    """The first row of ``sql`` (with ``%s`` placeholders) run as the prepared statement ``name``, prepared on this
    connection the first time with the parameters' SQL ``types``. ``name`` must be unique to ``sql`` for the life of
    the process."""
    connection.ensure_connection()
    driver_connection = connection.connection
    state = getattr(connection, _PREPARED_ON, None)
    if state is None or state[0] is not driver_connection:
        state = (driver_connection, set())
        setattr(connection, _PREPARED_ON, state)
    prepared: set[str] = state[1]
    if name not in prepared:
        with connection.wrap_database_errors, driver_connection.cursor() as cursor:
            cursor.execute(f"PREPARE {name}({', '.join(types)}) AS {_placeholders_numbered(sql)}")
        prepared.add(name)
    arguments = ", ".join(["%s"] * len(params))
    with connection.cursor() as cursor:
        cursor.execute(f"EXECUTE {name}({arguments})", list(params))
        return cursor.fetchone()
