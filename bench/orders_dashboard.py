"""Benchmark of the order dashboard (issue 3): 100,000 orders (+ 1,000,000 call-log rows when the notifications
app's CallEvent table exists) in a separate PostgreSQL database; the dashboard page and /api/orders/ page of 50 rows
vs one raw SQL query fetching the same 50 rows with the same columns. Prints query counts and time ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms python bench/orders_dashboard.py [--rebuild] [--orders N]

The data goes to the database named like DATABASE_URL's plus ``_bench`` (created and migrated if missing; kept
between runs, rebuilt with --rebuild). Bounded in time: every statement has a timeout, measurements a fixed count.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ORDERS = 100_000
CALL_ROWS = 1_000_000
CUSTOMERS = 20_000
PARTS = 2_000
PAGE = 50
RUNS = 40
GOAL = 3.0
STATEMENT_TIMEOUT_MS = 180_000


def bench_url(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "dms"
    return urlunsplit(parts._replace(path="/" + name + "_bench"))


def ensure_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dms.settings.test")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"  {label}: {time.perf_counter() - start:.1f} s")
    return result


def build(n_orders: int, rebuild: bool):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from dms.core import roles
    from dms.core.models import DealerGroup, Dealership, StaffProfile
    from orders.models import CustomerOrder

    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    timed("migrate", lambda: call_command("migrate", verbosity=0))
    from django.contrib.auth.models import Permission

    roles.sync_roles(Group, Permission)
    group, _ = DealerGroup.objects.get_or_create(name="Bench group")
    dealership, _ = Dealership.objects.get_or_create(code="bench", defaults={"group": group, "name": "Bench Motors"})
    User = get_user_model()
    staff = []
    for i, (role, username) in enumerate(
        [(roles.PARTS_MANAGER, "bench_parts"), (roles.SERVICE_ADVISOR, "bench_advisor")]
        + [(roles.SERVICE_ADVISOR, f"bench_advisor{i}") for i in range(8)]
    ):
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": "Иван", "last_name": f"Сотрудник{i}"}
        )
        if created:
            user.set_password("bench12345")
            user.save()
            user.groups.add(Group.objects.get(name=role))
            profile = StaffProfile.objects.create(user=user, default_dealership=dealership)
            profile.dealerships.add(dealership)
        staff.append(user)
    manager = staff[0]

    existing = CustomerOrder.objects.filter(dealership=dealership).count()
    if existing >= n_orders and not rebuild:
        print(f"  {existing} orders already there (use --rebuild to start again)")
        return dealership, manager
    d = dealership.pk
    staff_ids = "ARRAY[" + ",".join(str(u.pk) for u in staff) + "]::bigint[]"
    with connection.cursor() as c:
        c.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        print(f"building {n_orders} orders …")
        for table in (
            "orders_receiptline",
            "orders_receipt",
            "orders_supplierdelayrecord",
            "orders_supplierorder",
            "orders_customerorderline",
            "orders_customerorder",
            "orders_ordernumbercounter",
        ):
            c.execute(f"DELETE FROM {table}")
        c.execute("DELETE FROM core_vehicle WHERE dealership_id = %s", [d])
        c.execute("DELETE FROM core_customer WHERE dealership_id = %s", [d])
        c.execute("DELETE FROM parts_part WHERE dealership_id = %s", [d])
        timed(
            "customers",
            lambda: c.execute(
                f"""INSERT INTO core_customer (created_at, updated_at, dealership_id, name, phone, phone_alt, email,
                    preferred_channel, first_contact_channel, lead_source, is_vip, notes, language)
                SELECT now(), now(), {d}, 'Клиент ' || i, '+7916' || lpad(i::text, 7, '0'), '', '', 'sms', '', '',
                    false, '', ''
                FROM generate_series(1, {CUSTOMERS}) AS i"""
            ),
        )
        timed(
            "vehicles",
            lambda: c.execute(
                f"""INSERT INTO core_vehicle (created_at, updated_at, dealership_id, vin, make, model, year, plate,
                    mileage, customer_id)
                SELECT now(), now(), {d}, 'JTD' || lpad(upper(to_hex(c.id)), 14, '0'), 'Toyota', 'Corolla', 2020, '',
                    10000, c.id
                FROM core_customer c WHERE c.dealership_id = {d}"""
            ),
        )
        timed(
            "parts",
            lambda: c.execute(
                f"""INSERT INTO parts_part (created_at, updated_at, dealership_id, number, name, price, unit, is_active,
                    abc_class, abc_consumption_value)
                SELECT now(), now(), {d}, 'P' || lpad(i::text, 6, '0'), 'Деталь ' || i, 1000, 'pcs', true, '', 0
                FROM generate_series(1, {PARTS}) AS i"""
            ),
        )
        statuses = (
            "ARRAY['not_placed','ordered','ordered','ordered','partially_received','received','received',"
            "'issued','issued','cancelled']"
        )
        timed(
            "orders",
            lambda: c.execute(
                f"""WITH cust AS (
                        SELECT row_number() OVER (ORDER BY c.id) AS rn, c.id AS customer_id, v.id AS vehicle_id
                        FROM core_customer c JOIN core_vehicle v ON v.customer_id = c.id WHERE c.dealership_id = {d}),
                    src AS (
                        SELECT i, ({statuses})[1 + i % 10] AS status,
                            now() - ((i % 400) || ' days')::interval - ((i % 1440) || ' minutes')::interval AS created
                        FROM generate_series(1, {n_orders}) AS i)
                INSERT INTO orders_customerorder (created_at, updated_at, dealership_id, number, status, kind, purpose,
                    customer_id, vehicle_id, author_id, parts_manager_id, expected_at, placed_at, first_received_at,
                    received_at, issued_at, cancelled_at, cancel_reason, long_term_agreed, on_waiting_lot, comment,
                    return_reason)
                SELECT created, created, {d}, 'Ф' || lpad(i::text, 9, '0'), status,
                    CASE WHEN i % 3 = 0 THEN 'warranty' ELSE 'commercial' END, 'repair',
                    cust.customer_id, cust.vehicle_id, ({staff_ids})[2 + i % 9], ({staff_ids})[1],
                    CASE WHEN status = 'not_placed' THEN NULL ELSE (created + interval '7 days')::date END,
                    CASE WHEN status = 'not_placed' THEN NULL ELSE created + interval '1 hour' END,
                    CASE WHEN status IN ('partially_received','received','issued')
                        THEN created + interval '6 days' END,
                    CASE WHEN status IN ('received','issued') THEN created + interval '8 days' END,
                    CASE WHEN status = 'issued' THEN created + interval '10 days' END,
                    CASE WHEN status = 'cancelled' THEN created + interval '2 days' END,
                    CASE WHEN status = 'cancelled' THEN 'bench' ELSE '' END,
                    i % 17 = 0, i % 23 = 0, '', ''
                FROM src JOIN cust ON cust.rn = 1 + i % {CUSTOMERS}"""
            ),
        )
        timed(
            "order lines",
            lambda: c.execute(
                f"""INSERT INTO orders_customerorderline (order_id, part_id, quantity, quantity_received, unit_price)
                SELECT o.id, p.id, 2,
                    CASE o.status WHEN 'partially_received' THEN 1 WHEN 'received' THEN 2 WHEN 'issued' THEN 2
                        ELSE 0 END, 1000
                FROM orders_customerorder o
                JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM parts_part WHERE dealership_id = {d}) p
                    ON p.rn = o.id % {PARTS}
                WHERE o.dealership_id = {d}"""
            ),
        )
        # Issue 19: every placed order has its supplier order (five suppliers), so the revised expected date of the
        # waiting ones reads a supplier with a long history of received orders, as on a live dealership.
        c.execute("DELETE FROM parts_supplier WHERE dealership_id = %s", [d])
        c.execute(
            f"""INSERT INTO parts_supplier (created_at, updated_at, dealership_id, name, code, delivery_days,
                return_days, email, phone, is_active)
            SELECT now(), now(), {d}, 'Поставщик ' || i, '', 7, 30, '', '', true FROM generate_series(1, 5) AS i"""
        )
        timed(
            "supplier orders",
            lambda: c.execute(
                f"""INSERT INTO orders_supplierorder (created_at, updated_at, dealership_id, customer_order_id,
                    supplier_id, supplier_order_number, expected_at, placed_by_id, placed_at)
                SELECT o.created_at, o.created_at, {d}, o.id, s.id, 'S-' || o.id,
                    -- ETAs of 5 to 7 days after placing: orders received on day 8 were 0 to 2 days late
                    (o.placed_at + ((5 + o.id % 3) || ' days')::interval)::date, ({staff_ids})[1], o.placed_at
                FROM orders_customerorder o
                JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM parts_supplier
                      WHERE dealership_id = {d}) s ON s.rn = o.id % 5
                WHERE o.dealership_id = {d} AND o.placed_at IS NOT NULL"""
            ),
        )
        c.execute("INSERT INTO orders_ordernumbercounter (dealership_id, last_value) VALUES (%s, %s)", [d, n_orders])
    from orders.services import supplier_delay_records_rebuild

    timed("supplier delay records", supplier_delay_records_rebuild)
    build_call_log(dealership, staff)
    with connection.cursor() as c:
        # what autovacuum does on a live database: statistics and the visibility map (index-only counts)
        timed("vacuum analyze", lambda: c.execute("VACUUM ANALYZE"))
    return dealership, manager


def build_call_log(dealership, staff) -> None:
    """1,000,000 call-log rows in the notifications app's CallEvent table, when that table exists."""
    from django.apps import apps
    from django.db import connection, models

    try:
        model = apps.get_model("notifications", "CallEvent")
    except LookupError:
        print("NOTE: notifications.CallEvent does not exist yet — the call-log rows are skipped.")
        return
    table = model._meta.db_table
    if table not in connection.introspection.table_names():
        print(f"NOTE: table {table} is not migrated — the call-log rows are skipped.")
        return
    from django.contrib.auth import get_user_model

    from orders.models import CustomerOrder

    staff_ids = "ARRAY[" + ",".join(str(u.pk) for u in staff) + "]::bigint[]"
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = connection.ops.quote_name(field.column)
        if isinstance(field, models.ForeignKey):
            target = field.related_model
            if target is CustomerOrder:
                expr = f"(SELECT min(id) FROM orders_customerorder) + (i % {ORDERS})"
            elif target is get_user_model():
                expr = f"({staff_ids})[1 + i % {len(staff)}]"
            elif target._meta.label == "core.Dealership":
                expr = str(dealership.pk)
            elif field.null:
                expr = "NULL"
            else:
                print(f"NOTE: cannot fill {model.__name__}.{field.name} (FK to {target.__name__}); call log skipped.")
                return
        elif field.choices:
            options = [str(value) for value, _label in field.flatchoices]
            array = "ARRAY[" + ",".join("'" + o.replace("'", "''") + "'" for o in options) + "]"
            expr = f"({array})[1 + i % {len(options)}]"
        elif isinstance(field, models.DateTimeField):
            expr = "now() - ((i % 400) || ' days')::interval"
        elif isinstance(field, models.DateField):
            # A different day for each of an order's rows keeps (order, kind, due date) unique.
            expr = "NULL" if field.null else f"(now() - ((i / {ORDERS}) || ' days')::interval)::date"
        elif isinstance(field, models.BooleanField):
            expr = "(i % 2 = 0)"
        elif isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
            expr = "NULL" if field.null else "0"
        elif isinstance(field, models.JSONField):
            expr = "'{}'::jsonb"
        elif isinstance(field, models.CharField | models.TextField):
            expr = "'bench'" if not field.null else "NULL"
        elif field.null:
            expr = "NULL"
        else:
            print(f"NOTE: cannot fill {model.__name__}.{field.name}; call log skipped.")
            return
        columns.append(column)
        values.append(expr)
    print(f"building {CALL_ROWS} call-log rows in {table} …")
    with connection.cursor() as c:
        c.execute(f"DELETE FROM {table}")
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM generate_series(1, {CALL_ROWS}) AS i"
        )
        try:
            timed("call log", lambda: c.execute(sql))
        except Exception as error:  # a constraint the generic filler does not know
            print(f"NOTE: the call log could not be generated ({error.__class__.__name__}: {error}); skipped.")


RAW_SQL = """
SELECT o.id, o.number, o.status, o.kind, o.purpose, o.created_at, o.placed_at, o.expected_at, o.first_received_at,
       o.received_at, o.issued_at, o.cancelled_at, o.on_waiting_lot, o.long_term_agreed,
       c.id, c.name, c.phone, v.id, v.vin, v.make, v.model, v.plate,
       a.id, a.username, a.first_name, a.last_name, m.id, m.username, m.first_name, m.last_name, d.time_zone
FROM orders_customerorder o
JOIN core_dealership d ON d.id = o.dealership_id
JOIN core_customer c ON c.id = o.customer_id
LEFT JOIN core_vehicle v ON v.id = o.vehicle_id
JOIN auth_user a ON a.id = o.author_id
LEFT JOIN auth_user m ON m.id = o.parts_manager_id
WHERE o.dealership_id = %s
ORDER BY o.created_at DESC, o.id DESC
LIMIT 50
"""


# The same 50 rows with the same columns as the dashboard, «Обзвон» included (R13: every recorded call result with
# the caller's name, newest first) — used when the notifications app's table exists.
RAW_SQL_WITH_CALL_LOG = """
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


def measure_all(named_funcs, runs=RUNS):
    """Query count of one call each, then ``runs`` rounds calling every function in turn: on a shared, noisy machine
    the raw query and the pages see the same conditions, so their ratios hold even when the absolute times drift.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for label, func in named_funcs:
        func()  # warm up
        connection.queries_log.clear()  # the log is a bounded deque: a full one would count nothing
        with CaptureQueriesContext(connection) as captured:
            func()
        results.append({"label": label, "func": func, "queries": len(captured.captured_queries), "times": []})
    for _ in range(runs):
        for row in results:
            start = time.perf_counter()
            row["func"]()
            row["times"].append(time.perf_counter() - start)
    for row in results:
        row["median"] = statistics.median(row["times"])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the benchmark data")
    parser.add_argument("--orders", type=int, default=ORDERS)
    args = parser.parse_args()
    url = bench_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms"))
    if not url.startswith("postgres"):
        print("The benchmark needs PostgreSQL (DATABASE_URL=postgres://…).")
        return 1
    ensure_database(url)
    setup_django(url)
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test import Client
    from rest_framework.test import APIClient

    from dms.core.pagination import CappedCountPaginator
    from orders import promises, selectors

    # Like a server with persistent connections (CONN_MAX_AGE), and keep the query log across a request.
    request_started.disconnect(reset_queries)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    started = time.perf_counter()
    dealership, manager = build(args.orders, args.rebuild)
    print(f"data ready in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM orders_customerorder WHERE dealership_id = %s", [dealership.pk])
        total = c.fetchone()[0]
    print(f"orders in the dealership: {total}")

    page_client = Client()
    page_client.force_login(manager)
    session = page_client.session
    session["active_dealership_id"] = dealership.pk
    session.save()
    api_client = APIClient()
    api_client.force_authenticate(manager)

    with_calls = "notifications_callevent" in connection.introspection.table_names()
    raw_sql = RAW_SQL_WITH_CALL_LOG if with_calls else RAW_SQL
    print("raw query includes the call log" if with_calls else "raw query without call log (no CallEvent table)")

    def raw():
        with connection.cursor() as c:
            c.execute(raw_sql, [dealership.pk])
            rows = c.fetchall()
        assert len(rows) == PAGE
        return rows

    def page():
        response = page_client.get("/orders/")
        assert response.status_code == 200 and response.content.count(b'class="order-row"') == PAGE
        return response

    def api():
        response = api_client.get("/api/orders/")
        assert response.status_code == 200 and len(response.data["results"]) == PAGE
        return response

    def data_layer():
        qs = selectors.customer_order_list(dealership_ids=[dealership.pk])
        return selectors.order_rows(qs[:PAGE])

    def data_layer_with_count():
        qs = selectors.customer_order_list(dealership_ids=[dealership.pk])
        _ = CappedCountPaginator(qs, PAGE).count
        return selectors.order_rows(qs[:PAGE])

    with connection.cursor() as c:
        c.execute(
            "SELECT v.vin, o.number FROM orders_customerorder o JOIN core_vehicle v ON v.id = o.vehicle_id "
            "WHERE o.dealership_id = %s ORDER BY o.id LIMIT 1 OFFSET 4321",
            [dealership.pk],
        )
        full_vin, number = c.fetchone()

    history_sql = promises.REVISED_EXPECTED_SQL.replace(promises._MEAN_DELAY_SQL, promises.HISTORY_MEAN_DELAY_SQL)

    def revised(sql):
        with connection.cursor() as c:
            c.execute(
                f"SELECT o.id, {sql.format(order='o')} FROM orders_customerorder o WHERE o.dealership_id = %s "
                "ORDER BY o.created_at DESC, o.id DESC LIMIT 50",
                [dealership.pk],
            )
            rows = c.fetchall()
        assert len(rows) == PAGE
        return rows

    assert revised(promises.REVISED_EXPECTED_SQL) == revised(history_sql)  # the record gives the history's dates
    results = measure_all(
        [
            ("raw SQL, 50 rows", raw),
            ("selector rows + call log", data_layer),
            ("selector count + rows + call log", data_layer_with_count),
            ("dashboard page /orders/", page),
            ("API /api/orders/", api),
            ("dashboard page, overdue filter", lambda: page_client.get("/orders/?overdue=true")),
            ("dashboard page, search by full VIN", lambda: page_client.get(f"/orders/?search={full_vin}")),
            ("dashboard page, search by order number", lambda: page_client.get(f"/orders/?search={number}")),
            # a common text: the part names «Деталь 1…» of 1,111 of the 2,000 parts, in ~55 % of the orders
            ("dashboard page, search 'Деталь 1'", lambda: page_client.get("/orders/?search=Деталь+1")),
            # a pathological substring: mostly zeros, shared by 256 VINs (1,280 orders) — trigrams barely narrow it
            ("dashboard page, search 'JTD00000000000A'", lambda: page_client.get("/orders/?search=JTD00000000000A")),
            ("API, status+kind filter", lambda: api_client.get("/api/orders/?status=ordered&kind=warranty")),
            # Issue 19: the revised expected date of the page's 50 rows alone, from the supplier's delay record
            # (today) and from its whole history (before): the history's cost grows with the supplier's orders.
            ("revised dates of 50 rows, delay record", lambda: revised(promises.REVISED_EXPECTED_SQL)),
            ("revised dates of 50 rows, history (before)", lambda: revised(history_sql)),
        ]
    )
    base = results[0]["median"]
    print()
    print(f"{'measurement':40} {'queries':>7} {'median ms':>10} {'× raw':>8}")
    for row in results:
        ratio = row["median"] / base
        print(f"{row['label']:40} {row['queries']:>7} {row['median'] * 1000:>10.2f} {ratio:>8.1f}")
    page_ratio = results[3]["median"] / base
    api_ratio = results[4]["median"] / base
    data_ratio = results[1]["median"] / base
    print()
    print(
        f"ratio page/raw = {page_ratio:.1f}×, API/raw = {api_ratio:.1f}×, data layer/raw = {data_ratio:.1f}× "
        f"(goal ≤ {GOAL:.0f}×)"
    )
    print(f"queries: page {results[3]['queries']}, API {results[4]['queries']} (constant; ≤ 10 asserted in tests)")
    print(f"total benchmark time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
