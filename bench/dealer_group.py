"""A dealer group on one PostgreSQL (issue 19 item 5): 20 dealerships, 2,000,000 customer orders, 10,000,000 call
events at ``--scale 1`` (built with INSERT … SELECT generate_series in SQL, no Python loop per row). Measures:

1. each dealership's order dashboard (the page, in-process) against the raw query of the same 50 rows — the ratio
   per dealership, and the worst;
2. a beat tick of the call-event generator (``notifications.services.call_events_generate``, rolled back) against
   the work that is due: the rows it reads vs the open orders and the whole table, with and without the partial
   index ``order_with_calls_idx`` (dropped inside the rolled-back transaction), and the other beat queries' plans;
3. list partitioning of the call events by dealership (a partitioned copy of the table, the same indexes): a
   dealership's «my calls» page, its weekly report aggregate and a count, against the table as it is.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms python bench/dealer_group.py [--scale 0.1] [--keep]

The data goes to DATABASE_URL's database name + ``_group`` (created, migrated, DROPPED at the end unless --keep;
``--reuse`` keeps existing data). On a 2-core shared machine use ``--scale 0.1`` (200,000 orders, 1,000,000 events,
a few minutes); ``--scale 1`` needs ~4 GB of disk and a quiet half hour.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEALERSHIPS = 20
ORDERS_AT_SCALE_1 = 2_000_000
EVENTS_PER_ORDER = 5  # → 10,000,000 call events at scale 1
PARTS = 500
PAGE = 50
STATEMENT_TIMEOUT_MS = 1_800_000
# Order statuses of a group's history (per 100 orders): most were issued long ago.
STATUS_MIX = (
    ["issued"] * 86
    + ["cancelled"] * 3
    + ["not_placed"] * 2
    + ["ordered"] * 4
    + ["partially_received"] * 1
    + ["received"] * 4
)

RAW_SQL = """
SELECT o.id, o.number, o.status, o.kind, o.purpose, o.created_at, o.placed_at, o.expected_at, o.first_received_at,
       o.received_at, o.issued_at, o.cancelled_at, o.on_waiting_lot, o.long_term_agreed,
       c.id, c.name, c.phone, v.id, v.vin, v.make, v.model, v.plate,
       a.id, a.username, a.first_name, a.last_name, m.id, m.username, m.first_name, m.last_name, d.time_zone,
       calls.log
FROM orders_customerorder o
JOIN core_dealership d ON d.id = o.dealership_id
JOIN core_customer c ON c.id = o.customer_id
LEFT JOIN core_vehicle v ON v.id = o.vehicle_id
JOIN auth_user a ON a.id = o.author_id
LEFT JOIN auth_user m ON m.id = o.parts_manager_id
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_array(e.completed_at, u.first_name, u.last_name, u.username, e.outcome, e.comment,
                                     e.agreed_date, e.kind) ORDER BY e.completed_at DESC, e.id DESC) AS log
    FROM notifications_callevent e LEFT JOIN auth_user u ON u.id = e.completed_by_id
    WHERE e.order_id = o.id AND e.status = 'done'
) calls ON TRUE
WHERE o.dealership_id = %s
ORDER BY o.created_at DESC, o.id DESC
LIMIT 50
"""


def log(message: str) -> None:
    print(message, flush=True)


def group_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + (parts.path.lstrip("/") or "dms") + "_group"))


def _admin(url: str):
    import psycopg2

    connection = psycopg2.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), connect_timeout=5)
    connection.autocommit = True
    return connection


def create_database(url: str, *, reuse: bool) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and not reuse:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
    log(f"dropped database {name}")


def timed(label: str, func):
    began = time.perf_counter()
    result = func()
    log(f"  {label}: {time.perf_counter() - began:.1f} s")
    return result


# -- data ----------------------------------------------------------------------------------------------------------
def build(scale: float) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command
    from django.db import connection

    from dms.core import roles
    from dms.core.models import DealerGroup, Dealership, StaffProfile
    from orders.models import CustomerOrder

    n_orders = int(ORDERS_AT_SCALE_1 * scale)
    customers_each = max(500, int(50_000 * scale))
    timed("migrate", lambda: call_command("migrate", verbosity=0))
    roles.sync_roles(Group, Permission)
    group, _ = DealerGroup.objects.get_or_create(name="Группа «Автомир»")
    User = get_user_model()
    dealerships, managers, staff = [], {}, {}
    for n in range(DEALERSHIPS):
        dealership, _ = Dealership.objects.get_or_create(
            code=f"dc{n:02d}", defaults={"group": group, "name": f"Автомир {n + 1}", "order_prefix": "Ф"}
        )
        dealerships.append(dealership)
        people = []
        for role, username in [(roles.PARTS_MANAGER, f"parts{n:02d}")] + [
            (roles.SERVICE_ADVISOR, f"advisor{n:02d}_{k}") for k in range(4)
        ]:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": "Иван", "last_name": f"Сотрудник {username}"}
            )
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(Group.objects.get(name=role))
                profile = StaffProfile.objects.create(user=user, default_dealership=dealership)
                profile.dealerships.add(dealership)
            people.append(user.pk)
        managers[dealership.pk] = people[0]
        staff[dealership.pk] = people
    if CustomerOrder.objects.count() >= n_orders:
        log(f"  {CustomerOrder.objects.count()} orders already there (--reuse)")
        return {"dealerships": dealerships, "managers": managers}

    ids = "ARRAY[" + ",".join(str(d.pk) for d in dealerships) + "]::bigint[]"
    # staff[d][k]: a 2-D array, row = dealership's position
    staff_rows = ",".join("ARRAY[" + ",".join(str(u) for u in staff[d.pk]) + "]" for d in dealerships)
    staff_array = f"ARRAY[{staff_rows}]::bigint[]"
    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUS_MIX) + "]"
    with connection.cursor() as c:
        c.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        c.execute("SET synchronous_commit = off")
        # a bench database: start again from the migrated, empty tables (a failed earlier build leaves rows)
        c.execute(
            "TRUNCATE notifications_callevent, orders_customerorderline, orders_ordernumbercounter, "
            "orders_customerorder, parts_part, core_vehicle, core_customer CASCADE"
        )
        log(
            f"building {DEALERSHIPS} dealerships × {customers_each} customers, {n_orders} orders, "
            f"{n_orders * EVENTS_PER_ORDER} call events …"
        )
        timed(
            "customers",
            lambda: c.execute(f"""
            INSERT INTO core_customer (created_at, updated_at, dealership_id, name, phone, phone_alt, email,
                preferred_channel, first_contact_channel, lead_source, is_vip, notes, language)
            SELECT now(), now(), ({ids})[1 + (i % {DEALERSHIPS})], 'Клиент ' || i,
                '+7916' || lpad(i::text, 7, '0'), '', '', 'sms', '', '', false, '', ''
            FROM generate_series(0, {customers_each * DEALERSHIPS - 1}) AS i"""),
        )
        timed(
            "vehicles",
            lambda: c.execute("""
            INSERT INTO core_vehicle (created_at, updated_at, dealership_id, vin, make, model, year, plate, mileage,
                customer_id)
            SELECT now(), now(), c.dealership_id, 'JTD' || lpad(upper(to_hex(c.id)), 14, '0'), 'Toyota', 'Camry',
                2021, '', 30000, c.id
            FROM core_customer c"""),
        )
        timed(
            "parts",
            lambda: c.execute(f"""
            INSERT INTO parts_part (created_at, updated_at, dealership_id, number, name, price, unit, is_active,
                abc_class, abc_consumption_value)
            SELECT now(), now(), d, 'P' || lpad(i::text, 6, '0'), 'Деталь ' || i, 1000, 'pcs', true, '', 0
            FROM unnest({ids}) AS d, generate_series(1, {PARTS}) AS i"""),
        )
        # Orders: dealership by i % 20; the newest are the open ones (a history mostly issued); created over 3 years.
        timed(
            "orders",
            lambda: c.execute(f"""
            WITH cust AS (
                SELECT c.dealership_id, row_number() OVER (PARTITION BY c.dealership_id ORDER BY c.id) - 1 AS rn,
                       c.id AS customer_id, v.id AS vehicle_id
                FROM core_customer c JOIN core_vehicle v ON v.customer_id = c.id),
            src AS (
                SELECT i, 1 + (i % {DEALERSHIPS}) AS dpos,
                       CASE WHEN i > {n_orders} * 0.97 THEN ({statuses})[1 + 86 + (i % 14)]
                            ELSE ({statuses})[1 + (i % 86)] END AS status,
                       -- the fraction first: 2,000,000 × 1,095 days overflows an interval (scale 1)
                       now() - (({n_orders} - i)::float8 / {n_orders}) * interval '1095 days' AS created
                FROM generate_series(1, {n_orders}) AS i)
            INSERT INTO orders_customerorder (created_at, updated_at, dealership_id, number, status, kind, purpose,
                customer_id, vehicle_id, author_id, parts_manager_id, expected_at, placed_at, first_received_at,
                received_at, issued_at, cancelled_at, cancel_reason, long_term_agreed, on_waiting_lot, comment,
                returned_at, return_reason)
            SELECT created, created, ({ids})[dpos], 'Ф' || lpad(i::text, 9, '0'), status,
                CASE WHEN i % 3 = 0 THEN 'warranty' ELSE 'commercial' END, 'repair',
                cust.customer_id, cust.vehicle_id, ({staff_array})[dpos][2 + i % 4], ({staff_array})[dpos][1],
                CASE WHEN status = 'not_placed' THEN NULL ELSE (created + interval '12 days')::date END,
                CASE WHEN status = 'not_placed' THEN NULL ELSE created + interval '1 hour' END,
                CASE WHEN status IN ('partially_received','received','issued') THEN created + interval '6 days' END,
                CASE WHEN status IN ('received','issued') THEN created + interval '8 days' END,
                CASE WHEN status = 'issued' THEN created + interval '10 days' END,
                CASE WHEN status = 'cancelled' THEN created + interval '2 days' END,
                CASE WHEN status = 'cancelled' THEN 'bench' ELSE '' END,
                i % 17 = 0, i % 23 = 0, '', NULL, ''
            FROM src JOIN cust ON cust.dealership_id = ({ids})[dpos]
                 AND cust.rn = (i / {DEALERSHIPS}) % {customers_each}"""),
        )
        timed(
            "order lines",
            lambda: c.execute(f"""
            INSERT INTO orders_customerorderline (order_id, part_id, quantity, quantity_received, unit_price)
            SELECT o.id, p.id, 2, CASE o.status WHEN 'partially_received' THEN 1 WHEN 'received' THEN 2
                                  WHEN 'issued' THEN 2 ELSE 0 END, 1000
            FROM orders_customerorder o
            JOIN (SELECT id, dealership_id, row_number() OVER (PARTITION BY dealership_id ORDER BY id) - 1 AS rn
                  FROM parts_part) p ON p.dealership_id = o.dealership_id AND p.rn = o.id % {PARTS}"""),
        )
        c.execute("""INSERT INTO orders_ordernumbercounter (dealership_id, last_value)
                     SELECT dealership_id, count(*) FROM orders_customerorder GROUP BY dealership_id""")
        # Five calls per order on distinct days: the history's are done (or cancelled with the order); an open
        # order's latest call is open.
        timed(
            "call events",
            lambda: c.execute(f"""
            INSERT INTO notifications_callevent (created_at, updated_at, dealership_id, order_id, kind, status,
                assignee_id, due_date, source_event_id, completed_at, completed_on, completed_by_id, outcome, comment,
                agreed_date, cancel_reason)
            SELECT o.created_at, o.created_at, o.dealership_id, o.id,
                (ARRAY['interim_eta','arrival','retry','agreed_date','uncollected'])[k], st.status, o.author_id,
                (o.created_at + k * interval '3 days')::date, NULL,
                CASE WHEN st.status = 'done' THEN o.created_at + k * interval '3 days' END,
                CASE WHEN st.status = 'done' THEN (o.created_at + k * interval '3 days')::date END,
                CASE WHEN st.status = 'done' THEN o.author_id END,
                CASE WHEN st.status = 'done' THEN 'reached' ELSE '' END, '', NULL,
                CASE WHEN st.status = 'cancelled' THEN 'order_issued' ELSE '' END
            FROM orders_customerorder o CROSS JOIN generate_series(1, {EVENTS_PER_ORDER}) AS k
            CROSS JOIN LATERAL (SELECT CASE
                WHEN o.status IN ('ordered','partially_received','received') AND k = {EVENTS_PER_ORDER} THEN 'open'
                WHEN o.status IN ('issued','cancelled') AND k = {EVENTS_PER_ORDER} THEN 'cancelled'
                ELSE 'done' END AS status) st"""),
        )
        timed("vacuum analyze", lambda: c.execute("VACUUM ANALYZE"))
    return {"dealerships": dealerships, "managers": managers}


# -- measurements --------------------------------------------------------------------------------------------------
def _median_ms(func, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def measure_dashboards(data: dict, runs: int) -> float:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    User = get_user_model()
    log(f"\n1. each dealership's dashboard page vs the raw query of the same {PAGE} rows (median of {runs}):")
    log(f"   {'dealership':<14}{'orders':>9}{'page ms':>9}{'raw ms':>8}{'ratio':>7}")
    worst = 0.0
    ratios = []
    for dealership in data["dealerships"]:
        client = Client()
        client.force_login(User.objects.get(pk=data["managers"][dealership.pk]))
        session = client.session
        session["active_dealership_id"] = dealership.pk
        session.save()

        def page(client=client):
            response = client.get("/orders/")
            assert response.status_code == 200 and response.content.count(b'class="order-row"') == PAGE

        def raw(pk=dealership.pk):
            with connection.cursor() as cursor:
                cursor.execute(RAW_SQL, [pk])
                assert len(cursor.fetchall()) == PAGE

        page()
        raw()
        page_times, raw_times = [], []
        for _ in range(runs):  # interleaved: both see the same machine
            page_times.append(_median_ms(page, 1))
            raw_times.append(_median_ms(raw, 1))
        page_ms, raw_ms = statistics.median(page_times), statistics.median(raw_times)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_customerorder WHERE dealership_id = %s", [dealership.pk])
            count = cursor.fetchone()[0]
        ratio = page_ms / raw_ms
        ratios.append(ratio)
        worst = max(worst, ratio)
        log(f"   {dealership.code:<14}{count:>9}{page_ms:>9.1f}{raw_ms:>8.1f}{ratio:>7.2f}")
    log(f"   ratio: median {statistics.median(ratios):.2f}, worst {worst:.2f}")
    return worst


class _Rollback(Exception):
    pass


def _tick_once(*, drop_index: bool) -> tuple[float, int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications import services

    box = {}
    try:
        with transaction.atomic():
            if drop_index:
                with connection.cursor() as cursor:
                    cursor.execute("DROP INDEX order_with_calls_idx")
            began = time.perf_counter()
            result = services.call_events_generate(now=timezone.now(), notify=False)
            box["ms"] = (time.perf_counter() - began) * 1000
            box["created"] = result.created + result.cancelled
            raise _Rollback
    except _Rollback:
        pass
    return box["ms"], box["created"]


def measure_tick(runs: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from notifications import generator
    from orders.promises import REVISED_EXPECTED_SQL

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('ordered','partially_received','received')"
            " AND purpose <> 'stock') FROM orders_customerorder"
        )
        total, open_orders = cursor.fetchone()
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM notifications_callevent")
        events, open_events = cursor.fetchone()
    log(
        f"\n2. a beat tick (call-event generator, rolled back) vs the work due: {open_orders} orders still called of "
        f"{total}; {open_events} open call events of {events}"
    )
    with_index = [_tick_once(drop_index=False) for _ in range(runs)]
    without = [_tick_once(drop_index=True) for _ in range(max(1, runs // 2))]
    ms = statistics.median(t for t, _ in with_index)
    ms_without = statistics.median(t for t, _ in without)
    log(
        f"   tick with the partial index: {ms:.0f} ms ({ms * 1000 / max(open_orders, 1):.1f} µs per order still "
        f"called, {ms * 1000 / total:.2f} µs per order in the table); writes due per tick: {with_index[0][1]}"
    )
    log(
        f"   tick without it (dropped in the rolled-back transaction): {ms_without:.0f} ms "
        f"→ the index saves {ms_without / ms:.1f}×"
    )
    sql = generator._INSERT_SQL.format(order_filter="", revised=REVISED_EXPECTED_SQL.format(order="o"))
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, generator._params(timezone.now()))
        plan = cursor.fetchone()[0]
        cursor.execute("ROLLBACK")
    scans = []

    def walk(node):
        if node.get("Relation Name") == "orders_customerorder":
            scans.append((node["Node Type"], node.get("Index Name", "—"), node.get("Actual Rows", 0)))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    for node_type, index, rows in scans:
        log(
            f"   orders read by the tick: {node_type} on {index}, {rows} rows "
            f"(open orders {open_orders}, table {total})"
        )


def measure_partitioning(data: dict, runs: int) -> None:
    from django.db import connection

    log(
        "\n3. call events partitioned by dealership (LIST, one partition each) vs the table as it is "
        f"(median of {runs}):"
    )
    dealership_ids = [d.pk for d in data["dealerships"]]
    with connection.cursor() as c:
        c.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        c.execute("DROP TABLE IF EXISTS bench_callevent_by_dealer")
        c.execute("""CREATE TABLE bench_callevent_by_dealer (LIKE notifications_callevent INCLUDING DEFAULTS)
                     PARTITION BY LIST (dealership_id)""")
        for pk in dealership_ids:
            c.execute(f"CREATE TABLE bench_callevent_d{pk} PARTITION OF bench_callevent_by_dealer FOR VALUES IN ({pk})")
        timed(
            "partitioned copy",
            lambda: c.execute("INSERT INTO bench_callevent_by_dealer SELECT * FROM notifications_callevent"),
        )
        timed(
            "its indexes",
            lambda: [
                c.execute(sql)
                for sql in (
                    "CREATE INDEX ON bench_callevent_by_dealer "
                    "(dealership_id, due_date, assignee_id, order_id, status, "
                    "completed_on)",
                    # the table's callevent_my_calls_idx
                    "CREATE INDEX ON bench_callevent_by_dealer (dealership_id, assignee_id, due_date, id) "
                    "WHERE status = 'open'",
                    "CREATE INDEX ON bench_callevent_by_dealer (order_id)",
                )
            ],
        )
        c.execute("VACUUM ANALYZE bench_callevent_by_dealer")
    queries = {
        "my calls (open, by due date, 50)": """
            SELECT id, order_id, kind, due_date FROM {t} WHERE dealership_id = %(d)s AND assignee_id = %(u)s
               AND status = 'open' ORDER BY due_date, id LIMIT 50""",
        "weekly report aggregate": """
            SELECT assignee_id, count(*), count(*) FILTER (WHERE status = 'done' AND completed_on <= due_date),
                   count(*) FILTER (WHERE status = 'open')
              FROM {t} WHERE dealership_id = %(d)s AND due_date BETWEEN %(a)s::date AND %(a)s::date + 6
             GROUP BY assignee_id""",
        "a dealership's events (count)": "SELECT count(*) FROM {t} WHERE dealership_id = %(d)s",
        "a year of a dealership's report": """
            SELECT count(*) FILTER (WHERE status = 'done') FROM {t}
             WHERE dealership_id = %(d)s AND due_date BETWEEN %(a)s::date - 365 AND %(a)s::date""",
    }
    with connection.cursor() as c:
        c.execute("SELECT (now() - interval '30 days')::date")
        anchor = c.fetchone()[0]
        picks = []
        for pk in dealership_ids[:5]:
            c.execute(
                "SELECT assignee_id FROM notifications_callevent WHERE dealership_id = %s AND status = 'open' LIMIT 1",
                [pk],
            )
            row = c.fetchone()
            picks.append({"d": pk, "u": row[0] if row else 0, "a": anchor})
    log(f"   {'query':<36}{'table ms':>10}{'partitioned ms':>16}{'ratio':>7}")
    for label, sql in queries.items():
        results = {}
        for table in ("notifications_callevent", "bench_callevent_by_dealer"):

            def run(table=table, sql=sql):
                with connection.cursor() as c:
                    for params in picks:
                        c.execute(sql.format(t=table), params)
                        c.fetchall()

            run()
            results[table] = _median_ms(run, runs) / len(picks)
        plain, parted = results["notifications_callevent"], results["bench_callevent_by_dealer"]
        log(f"   {label:<36}{plain:>10.2f}{parted:>16.2f}{parted / plain:>7.2f}")
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_callevent_by_dealer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 2,000,000 orders and 10,000,000 call events")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database (default: dropped at the end)")
    parser.add_argument("--reuse", action="store_true", help="reuse the database if it exists")
    parser.add_argument("--skip-partitioning", action="store_true")
    args = parser.parse_args()
    if not 0 < args.scale <= 2:
        parser.error("--scale must be in (0, 2]")
    url = group_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms"))
    if not url.startswith("postgres"):
        log("The benchmark needs PostgreSQL (DATABASE_URL=postgres://…).")
        return 1
    create_database(url, reuse=args.reuse)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "dms.settings.test"
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    import django

    django.setup()
    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connections

    settings.ALLOWED_HOSTS = ["*"]
    # like a server with persistent connections (CONN_MAX_AGE)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    began = time.perf_counter()
    try:
        data = build(args.scale)
        log(f"data ready in {time.perf_counter() - began:.0f} s (scale {args.scale})")
        worst = measure_dashboards(data, args.runs)
        measure_tick(max(3, args.runs // 2))
        if not args.skip_partitioning:
            measure_partitioning(data, args.runs)
        log(
            f"\nrun on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}; worst dashboard ratio {worst:.2f}"
        )
    finally:
        connections.close_all()
        if not args.keep:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
