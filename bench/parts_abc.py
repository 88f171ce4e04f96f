"""Benchmark (issue 5): ABC classification of 50,000 parts with 2,000,000 movement rows, in SQL, under 5 s; and the
stock list page of 50 rows in a constant number of queries.

Run against PostgreSQL:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms_bench python bench/parts_abc.py
The data goes into a throw-away dealership (code "bench-abc") which is deleted at the end. Sizes can be lowered
with BENCH_PARTS / BENCH_MOVEMENTS.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dms.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms")

import django  # noqa: E402

django.setup()
from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()  # response.context for the query-count figures

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

PARTS = int(os.environ.get("BENCH_PARTS", 50_000))
MOVEMENTS = int(os.environ.get("BENCH_MOVEMENTS", 2_000_000))
LIMIT_SECONDS = 5.0


def main() -> int:
    if connection.vendor != "postgresql":
        print("needs PostgreSQL (set DATABASE_URL)")
        return 1
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group, Permission

    from dms.core import roles
    from dms.core.models import DealerGroup, Dealership
    from parts.models import Part, StockBalance, StockMovement, Warehouse

    roles.sync_roles(Group, Permission)
    keep = os.environ.get("BENCH_KEEP") == "1"  # reuse the data of a previous run with BENCH_KEEP=1
    if keep and Dealership.objects.filter(code="bench-abc").exists():
        dealership = Dealership.objects.get(code="bench-abc")
        return _measure(dealership, keep)
    _cleanup()
    group, _ = DealerGroup.objects.get_or_create(name="Bench")
    dealership = Dealership.objects.create(group=group, name="Bench ABC", code="bench-abc")
    warehouse = Warehouse.objects.create(dealership=dealership, code="MAIN", name="Main", is_default=True)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Part._meta.db_table}
                (dealership_id, number, name, price, unit, is_active, abc_class, abc_consumption_value,
                 created_at, updated_at)
            SELECT %s, 'B-' || lpad(g::text, 6, '0'), 'Bench part ' || g, 100 + g %% 900, 'pcs', true, '', 0,
                   now(), now()
            FROM generate_series(1, %s) g
            """,
            [dealership.pk, PARTS],
        )
        cursor.execute(f"SELECT min(id) FROM {Part._meta.db_table} WHERE dealership_id = %s", [dealership.pk])
        first_part = cursor.fetchone()[0]
        # Skewed consumption: a few parts move a lot (Pareto-like), most rarely; 10 % of rows are receipts.
        cursor.execute(
            f"""
            INSERT INTO {StockMovement._meta.db_table}
                (dealership_id, part_id, warehouse_id, kind, quantity, unit_cost, on_hand_after, occurred_at,
                 reference, reason, work_order_ref, created_at, updated_at)
            SELECT %(d)s,
                   %(first)s + floor(power(random(), 3) * %(parts)s)::bigint,
                   %(w)s,
                   CASE WHEN g %% 10 = 0 THEN 'receipt' WHEN g %% 10 = 1 THEN 'counter_sale' ELSE 'issue' END,
                   CASE WHEN g %% 10 = 0 THEN 5 ELSE -1 END,
                   10 + (g %% 500),
                   0,
                   now() - (random() * interval '500 days'),
                   '', '', '', now(), now()
            FROM generate_series(1, %(n)s) g
            """,
            {"d": dealership.pk, "first": first_part, "parts": PARTS, "w": warehouse.pk, "n": MOVEMENTS},
        )
        cursor.execute(
            f"""
            INSERT INTO {StockBalance._meta.db_table}
                (dealership_id, part_id, warehouse_id, on_hand, reserved, average_cost, created_at, updated_at)
            SELECT %s, id, %s, 10 + id %% 7, id %% 3, 50, now(), now()
            FROM {Part._meta.db_table} WHERE dealership_id = %s
            """,
            [dealership.pk, warehouse.pk, dealership.pk],
        )
    # As autovacuum would after a bulk load: statistics and the visibility map (index-only scans).
    connection.ensure_connection()
    old_autocommit = connection.get_autocommit()
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Part._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {StockMovement._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {StockBalance._meta.db_table}")
    connection.set_autocommit(old_autocommit)
    print(f"setup: {PARTS:,} parts, {MOVEMENTS:,} movements in {time.perf_counter() - started:.1f} s")
    return _measure(dealership, keep)


def _measure(dealership, keep: bool) -> int:
    from django.contrib.auth.models import Group

    from dms.core import roles
    from dms.core.models import StaffProfile
    from parts.models import Part
    from parts.services import abc_classify

    try:
        # Worst case: every part gets a new class (a first run); then a monthly rerun where few change.
        Part.objects.filter(dealership=dealership).update(abc_class="", abc_consumption_value=0)
        started = time.perf_counter()
        with transaction.atomic():
            counts = abc_classify(actor=None, dealership=dealership)
        elapsed = time.perf_counter() - started
        verdict = "OK" if elapsed < LIMIT_SECONDS else "TOO SLOW"
        print(f"ABC classification, first run: {elapsed:.2f} s (limit {LIMIT_SECONDS} s) {verdict}; classes {counts}")
        started = time.perf_counter()
        with transaction.atomic():
            abc_classify(actor=None, dealership=dealership)
        print(f"ABC classification, rerun: {time.perf_counter() - started:.2f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM parts_stockmovement WHERE dealership_id = %s", [dealership.pk])
            print(
                f"ledger rows: {cursor.fetchone()[0]:,}; parts: {Part.objects.filter(dealership=dealership).count():,}"
            )

        from django.contrib.auth import get_user_model

        user, created = get_user_model().objects.get_or_create(username="bench-abc-storekeeper")
        if created:
            user.groups.add(Group.objects.get(name=roles.STOREKEEPER))
            profile = StaffProfile.objects.create(user=user, default_dealership=dealership)
            profile.dealerships.add(dealership)
        client = Client()
        client.force_login(user)
        figures = []
        for page in (1, 2, 500):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get("/parts/stock/", {"page": page})
                ms = (time.perf_counter() - started) * 1000
            rows = len(response.context["page_obj"])
            figures.append(len(ctx.captured_queries))
            print(f"stock list page {page}: {rows} rows, {len(ctx.captured_queries)} queries, {ms:.0f} ms")
        constant = len(set(figures)) == 1
        print("stock list queries constant:", "OK" if constant else "NO")
        return 0 if elapsed < LIMIT_SECONDS and constant else 2
    finally:
        if not keep:
            _cleanup()


def _cleanup() -> None:
    from django.contrib.auth import get_user_model

    from dms.core.models import AuditEntry, Dealership, StaffProfile
    from parts.models import Part, StockBalance, StockMovement, Warehouse

    dealership = Dealership.objects.filter(code="bench-abc").first()
    if dealership is None:
        return
    StaffProfile.objects.filter(default_dealership=dealership).delete()
    get_user_model().objects.filter(username="bench-abc-storekeeper").delete()
    with connection.cursor() as cursor:
        for model in (StockMovement, StockBalance):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE dealership_id = %s", [dealership.pk])
    Part.objects.filter(dealership=dealership).delete()
    Warehouse.objects.filter(dealership=dealership).delete()
    with connection.cursor() as cursor:  # the append-only audit model refuses deletes; the bench rows go in SQL
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE object_id = %s", [dealership.pk])
    dealership.delete()


if __name__ == "__main__":
    sys.exit(main())
