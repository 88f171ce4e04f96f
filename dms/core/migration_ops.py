"""Migration helpers for PostgreSQL-only indexes (the app also runs on SQLite locally, where they are skipped)."""

from django.db import migrations


def trigram_indexes(*indexes: tuple[str, str, str]) -> migrations.RunPython:
    """GIN trigram indexes ``(name, table, expression)`` for substring search (``icontains``/``contains``): PostgreSQL
    answers ``LIKE '%…%'`` from them instead of reading every row. Skipped on other databases.

    ``icontains`` compiles to ``UPPER(column::text) LIKE UPPER(…)``, so such indexes use that expression.
    """

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, expression in indexes:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression} gin_trgm_ops)'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _table, _expression in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(create, drop, elidable=False)
