"""Timing of the pickers' searches (issue 14 item 4): 100,000 customers and 50,000 parts in a separate PostgreSQL
database; each search (phone in the national form, a name fragment, an e-mail, a part number and name) runs through
the same selectors the endpoints use, with its query count, median time and whether PostgreSQL used an index.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms python bench/pickers.py [--rebuild]

The data goes to the database named like DATABASE_URL's plus ``_bench`` (see bench/orders_dashboard.py, whose
helpers it shares; the rows are kept between runs). Not part of the test suite.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.orders_dashboard import bench_url, ensure_database, setup_django  # noqa: E402

CUSTOMERS = 100_000
PARTS = 50_000
RUNS = 30
GOAL_MS = 50.0
STATEMENT_TIMEOUT_MS = 180_000


def build(rebuild: bool):
    from django.core.management import call_command
    from django.db import connection

    from dms.core.models import Customer, DealerGroup, Dealership
    from parts.models import Part

    call_command("migrate", verbosity=0)
    group, _ = DealerGroup.objects.get_or_create(name="Bench group")
    dealership, _ = Dealership.objects.get_or_create(code="pick", defaults={"group": group, "name": "Pick Motors"})
    d = dealership.pk
    have = Customer.objects.filter(dealership=dealership).count(), Part.objects.filter(dealership=dealership).count()
    if have >= (CUSTOMERS, PARTS) and not rebuild:
        print(f"  {have[0]} customers and {have[1]} parts already there (use --rebuild to start again)")
        return dealership
    surnames = "ARRAY['Иванов','Петров','Сидоров','Смирнов','Кузнецов','Попов','Волков','Орлов','Соколов','Лебедев']"
    with connection.cursor() as c:
        c.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        c.execute("DELETE FROM core_vehicle WHERE dealership_id = %s", [d])
        c.execute("DELETE FROM core_customer WHERE dealership_id = %s", [d])
        c.execute("DELETE FROM parts_part WHERE dealership_id = %s", [d])
        c.execute(
            f"""INSERT INTO core_customer (created_at, updated_at, dealership_id, name, phone, phone_alt, email,
                preferred_channel, first_contact_channel, lead_source, is_vip, notes, language)
            SELECT now(), now(), {d}, ({surnames})[1 + i % 10] || ' Клиент ' || i, '+79' || lpad(i::text, 9, '0'),
                '', 'client' || i || '@example.com', 'sms', '', '', false, '', ''
            FROM generate_series(1, {CUSTOMERS}) AS i"""
        )
        c.execute(
            f"""INSERT INTO parts_part (created_at, updated_at, dealership_id, number, name, price, unit, is_active,
                abc_class, abc_consumption_value)
            SELECT now(), now(), {d}, lpad(i::text, 5, '0') || '-' || upper(to_hex(i * 7919 % 65536)),
                (ARRAY['Фильтр','Колодки','Диск','Ремень','Свеча'])[1 + i % 5] || ' ' || i, 1000, 'pcs', true, '', 0
            FROM generate_series(1, {PARTS}) AS i"""
        )
        c.execute("ANALYZE core_customer")
        c.execute("ANALYZE parts_part")
    print(f"  built {CUSTOMERS} customers and {PARTS} parts")
    return dealership


def measure(label: str, search) -> float:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        rows = search()
    queries = len(captured.captured_queries)
    with connection.cursor() as c:
        c.execute("EXPLAIN " + captured.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in c.fetchall())
    uses_index = "Index" in plan or "Bitmap" in plan
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        search()
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(f"  {label:40} {len(rows):3} rows  {queries} query  median {median:6.1f} ms  index: {uses_index}")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    url = bench_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms"))
    ensure_database(url)
    setup_django(url)
    dealership = build(args.rebuild)

    from dms.core.selectors import customer_search
    from parts.selectors import part_search

    d = dealership.pk
    medians = [
        measure("customer: 8 912 345-67-89", lambda: customer_search(dealership_id=d, query="8 912 345-67-89")),
        measure("customer: 8912345 (beginning)", lambda: customer_search(dealership_id=d, query="8912345")),
        measure("customer: орлов клиент 4567", lambda: customer_search(dealership_id=d, query="Орлов Клиент 4567")),
        measure("customer: client99@", lambda: customer_search(dealership_id=d, query="client99@")),
        measure("customer: no text (first 20)", lambda: customer_search(dealership_id=d, query="")),
        measure("part: 01234-", lambda: part_search(dealership_id=d, query="01234-")),
        measure("part: колодки 4999", lambda: part_search(dealership_id=d, query="Колодки 4999")),
    ]
    worst = max(medians)
    print(f"worst median {worst:.1f} ms (goal ≤ {GOAL_MS:.0f} ms)")
    return 0 if worst <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
