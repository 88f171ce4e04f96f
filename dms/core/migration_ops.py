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


def cross_app_foreign_key(
    *, name: str, table: str, columns: tuple[str, ...], ref_table: str, ref_columns: tuple[str, ...], nullable: str
) -> migrations.RunPython:
    """A foreign key that a HIGHER app adds to a lower app's table (issue 12 item 6).

    The lower app keeps a plain id column (its models may not import the higher app's: core ← parts ← orders), the
    database still holds a real reference. Composite columns (``dealership_id``, ``…_id``) make the reference stay
    inside one dealership. Before the constraint, rows whose reference dangles (no such record, or one of another
    dealership) lose it (``nullable`` set to NULL) — the row itself stays. Deleting the referenced record sets
    ``nullable`` to NULL (PostgreSQL 15: ``ON DELETE SET NULL (column)``). PostgreSQL only; skipped elsewhere.
    """
    join = " AND ".join(f'r."{ref}" = t."{col}"' for col, ref in zip(columns, ref_columns, strict=True))

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f'UPDATE "{table}" t SET "{nullable}" = NULL WHERE t."{nullable}" IS NOT NULL '
            f'AND NOT EXISTS (SELECT 1 FROM "{ref_table}" r WHERE {join})'
        )
        cols = ", ".join(f'"{c}"' for c in columns)
        refs = ", ".join(f'"{c}"' for c in ref_columns)
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ({cols}) REFERENCES "{ref_table}" ({refs}) '
            f'ON DELETE SET NULL ("{nullable}") DEFERRABLE INITIALLY DEFERRED'
        )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"')

    return migrations.RunPython(create, drop, elidable=False)
