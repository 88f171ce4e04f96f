"""Benchmark of every list page and list API (issue 19, goals 2 and 3): 100,000 rows of each kind in one dealership,
each list's first page vs one raw SQL query of the same rows (the table's columns joined to every row it points to,
same order, same LIMIT), plus searches (a text half the rows share, one character, part of a VIN) vs the raw query
of the same filtered page. Prints every ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms python bench/lists.py [--rebuild] [--rows N] [--runs R]
        [--only customers,vehicles,...|search] [--database NAME] [--drop]

The data goes to the database named like DATABASE_URL's plus ``_bench`` (the order dashboard's benchmark builds the
orders and call log there first; this script adds 100,000 rows of every other kind with ``generate_series``; about
two minutes on 2 shared cores; ``--database NAME`` to use another, e.g. one per engineer on a shared server).
``--only search`` runs the searches alone. ``--drop`` drops the database at the end.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orders_dashboard as od  # noqa: E402

ROWS = 100_000
RUNS = 15
GOAL = 3.0
SEARCH_GOAL = 5.0

# kind → (model, page URL, page size, API URL)
KINDS = {
    "orders": ("orders.CustomerOrder", "/orders/", 50, "/api/orders/"),
    "customers": ("core.Customer", "/customers/", 25, "/api/customers/"),
    "vehicles": ("core.Vehicle", "/vehicles/", 25, "/api/vehicles/"),
    "parts": ("parts.Part", "/parts/", 25, "/api/parts/"),
    "stock": ("parts.StockBalance", "/parts/stock/", 50, "/api/stock/"),
    "sales orders": ("parts.SalesOrder", "/parts/sales/", 25, "/api/sales-orders/"),
    "returns": ("parts.ReturnRequest", "/parts/returns/", 25, "/api/returns/"),
    "appointments": ("service.Appointment", "/appointments/list/", 25, "/api/appointments/"),
    "work orders": ("service.WorkOrder", "/workorders/", 25, "/api/work-orders/"),
    "warranty claims": ("claims.WarrantyClaim", "/claims/", 25, "/api/warranty-claims/"),
    "goodwill claims": ("claims.GoodwillClaim", "/goodwill/", 25, "/api/goodwill-claims/"),
    "complaints": ("claims.Complaint", "/complaints/", 25, "/api/complaints/"),
    "call events": ("notifications.CallEvent", None, 25, "/api/call-events/"),
}

# Searches (goal 3): (label, URL, model, SQL filter of the raw query). A text half the rows share, one character,
# part of a VIN.
SEARCHES = [
    ("orders, 'Деталь 1' (half the orders' parts)", "/orders/?search=Деталь+1", None),
    ("orders, '7' (one character)", "/orders/?search=7", None),
    ("orders, 'JTD00000000000A' (part of 256 VINs)", "/orders/?search=JTD00000000000A", None),
    ("customers, 'Клиент 1' (half the names)", "/customers/?q=Клиент+1", None),
    ("customers, '7'", "/customers/?q=7", None),
    ("vehicles, 'BEN000' (part of every VIN)", "/vehicles/?q=BEN000", None),
    ("vehicles, '7'", "/vehicles/?q=7", None),
    ("parts, 'Деталь 1'", "/parts/?q=Деталь+1", None),
    ("API customers, 'Клиент 1'", "/api/customers/?search=Клиент+1", None),
    ("API vehicles, 'BEN000'", "/api/vehicles/?search=BEN000", None),
    # every other searchable list (issue 19 item 3: one shared search, dms.core.search)
    ("appointments, 'Клиент 1' (the customer's name)", "/appointments/list/?q=Клиент+1", None),
    ("work orders, 'BEN000' (the car's VIN)", "/workorders/?q=BEN000", None),
    ("work orders, 'JTD00000000000A' (part of 256 VINs)", "/workorders/?q=JTD00000000000A", None),
    ("warranty claims, '7'", "/claims/?q=7", None),
    ("complaints, 'Клиент 1'", "/complaints/?q=Клиент+1", None),
    ("sales orders, '7'", "/parts/sales/?q=7", None),
    ("API work orders, 'Клиент 1'", "/api/work-orders/?search=Клиент+1", None),
    ("API complaints, 'BEN000'", "/api/complaints/?search=BEN000", None),
]


def fill(model, n: int, dealership_id: int, staff_ids: list[int], pools: dict, overrides: dict | None = None):
    """``n`` rows of ``model`` by one INSERT … SELECT FROM generate_series: every column gets a value its type and
    constraints accept; a field of a unique group gets a value per row; a foreign key points into ``pools``."""
    from django.db import connection, models

    overrides = overrides or {}
    opts = model._meta
    unique_fields = {f.name for f in opts.concrete_fields if f.unique}
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            unique_fields.update(constraint.fields or ())
    for together in opts.unique_together:
        unique_fields.update(together)
    users = "ARRAY[" + ",".join(map(str, staff_ids)) + "]::bigint[]"
    columns, values = [], []
    for field in opts.concrete_fields:
        if field.primary_key:
            continue
        if field.name in overrides:
            expr = overrides[field.name]
        elif isinstance(field, models.ForeignKey):
            target = field.related_model._meta.label
            if target == "core.Dealership":
                expr = str(dealership_id)
            elif target == "auth.User":
                expr = f"({users})[1 + i % {len(staff_ids)}]"
            elif target in pools and target != opts.label:
                first, count = pools[target]
                expr = f"{first} + (i % {count})"
            elif field.null:
                expr = "NULL"
            else:
                raise RuntimeError(f"{model.__name__}.{field.name}: no pool of {target}")
        elif field.choices:
            options = [str(value) for value, _label in field.flatchoices]
            array = "ARRAY[" + ",".join("'" + o.replace("'", "''") + "'" for o in options) + "]"
            expr = f"({array})[1 + i % {len(options)}]"
        elif isinstance(field, models.DateTimeField):
            expr = "now() - ((i % 400) || ' days')::interval - ((i % 1440) || ' minutes')::interval"
            if field.null and field.name not in unique_fields:
                expr = "NULL"
        elif isinstance(field, models.DateField):
            expr = "current_date - i" if field.name in unique_fields else "current_date - (i % 400)"
            if field.null and field.name not in unique_fields:
                expr = "NULL"
        elif isinstance(field, models.BooleanField):
            expr = "false"
        elif isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
            if field.name in unique_fields:
                expr = "i"
            else:
                expr = "NULL" if field.null else "1 + i % 5"
        elif isinstance(field, models.JSONField):
            expr = "'[]'::jsonb" if isinstance(field.default, list) or field.default is list else "'{}'::jsonb"
        elif isinstance(field, models.UUIDField):
            expr = "gen_random_uuid()"
        elif isinstance(field, models.CharField | models.TextField):
            prefix = model.__name__[:3].upper()
            expr = f"'{prefix}-' || i" if field.name in unique_fields else "''"
            if field.null and field.name not in unique_fields:
                expr = "NULL"
        elif isinstance(field, models.FileField):
            expr = "''"
        elif field.null:
            expr = "NULL"
        else:
            raise RuntimeError(f"cannot fill {model.__name__}.{field.name}")
        columns.append(connection.ops.quote_name(field.column))
        values.append(expr)
    table = opts.db_table
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM generate_series(1, {n}) AS i"
        )
        c.execute(f"SELECT min(id), count(*) FROM {table} WHERE dealership_id = %s", [dealership_id])
        first, count = c.fetchone()
    pools[opts.label] = (first, count)


def build(rows: int, rebuild: bool):
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db import connection

    from dms.core.models import Customer

    od.CALL_ROWS = rows  # 100,000 call events (the dashboard's own benchmark makes 1,000,000)
    dealership, manager = od.build(od.ORDERS, rebuild)
    d = dealership.pk
    staff_ids = list(
        get_user_model().objects.filter(username__startswith="bench_").order_by("pk").values_list("pk", flat=True)
    )
    admin, _ = get_user_model().objects.get_or_create(
        username="bench_lists_admin", defaults={"is_superuser": True, "is_staff": True, "first_name": "Админ"}
    )
    from dms.core.models import StaffProfile

    profile, _ = StaffProfile.objects.get_or_create(user=admin, defaults={"default_dealership": dealership})
    profile.dealerships.add(dealership)
    if Customer.objects.filter(dealership=dealership).count() >= rows and not rebuild:
        print(f"  {rows} rows of each kind already there (use --rebuild to start again)")
        return dealership, admin
    pools: dict = {}
    with connection.cursor() as c:
        c.execute(f"SET statement_timeout = {od.STATEMENT_TIMEOUT_MS}")
        for label in ("core.Customer", "core.Vehicle", "parts.Part", "orders.CustomerOrder"):
            table = apps.get_model(label)._meta.db_table
            c.execute(f"SELECT min(id), count(*) FROM {table} WHERE dealership_id = %s", [d])
            pools[label] = c.fetchone()
        for table in (
            "claims_quarantinedpart",
            "claims_warrantyclaim",
            "claims_goodwillclaim",
            "claims_complaint",
            "parts_returnrequest",
            "parts_salesorder",
            "parts_stockbalance",
            "service_workorder",
            "service_appointment",
        ):
            c.execute(f"TRUNCATE {table} CASCADE")
    model = apps.get_model
    more = rows - pools["core.Customer"][1]
    if more > 0:
        od.timed(
            f"customers +{more}",
            lambda: fill(
                model("core.Customer"),
                more,
                d,
                staff_ids,
                {},
                {
                    "name": "'Клиент ' || (i + 20000)",
                    "phone": "'+7926' || lpad(i::text, 7, '0')",
                    "preferred_channel": "'sms'",
                    "assigned_manager": "NULL",
                },
            ),
        )
        od.timed(
            f"vehicles +{more}",
            lambda: fill(
                model("core.Vehicle"),
                more,
                d,
                staff_ids,
                {"core.Customer": _pool("core_customer", d, offset=20000)},
                {"vin": "'BEN' || lpad(upper(to_hex(i)), 14, '0')", "make": "'Kia'", "model": "'Rio'", "year": "2021"},
            ),
        )
    with connection.cursor() as c:
        for label, table in (("core.Customer", "core_customer"), ("core.Vehicle", "core_vehicle")):
            c.execute(f"SELECT min(id), count(*) FROM {table} WHERE dealership_id = %s", [d])
            pools[label] = c.fetchone()
    more = rows - pools["parts.Part"][1]
    if more > 0:
        od.timed(
            f"parts +{more}",
            lambda: fill(
                model("parts.Part"),
                more,
                d,
                staff_ids,
                {},
                {
                    "name": "'Деталь ' || (i + 2000)",
                    "number": "'Q' || lpad(i::text, 7, '0')",
                    "barcode": "NULL" if model("parts.Part")._meta.get_field("barcode").null else "'B' || i",
                    "price": "1000",
                    "unit": "'pcs'",
                    "is_active": "true",
                    "default_supplier": "NULL",
                },
            ),
        )
    with connection.cursor() as c:
        c.execute("SELECT min(id), count(*) FROM parts_part WHERE dealership_id = %s", [d])
        pools["parts.Part"] = c.fetchone()
    from parts.models import Warehouse

    warehouse = Warehouse.objects.filter(dealership=dealership).first() or Warehouse.objects.create(
        dealership=dealership, code="MAIN", name="Основной склад", is_default=True
    )
    pools["parts.Warehouse"] = (warehouse.pk, 1)
    steps = [
        ("parts.StockBalance", {"location": "NULL", "reserved": "0"}),
        ("parts.SalesOrder", {}),
        ("parts.ReturnRequest", {"sales_order": "NULL", "quantity": "1"}),
        ("service.Appointment", {"repeat_of": "NULL", "customer_order": "NULL"}),
        ("service.WorkOrder", {"appointment": "NULL", "customer_order": "NULL"}),
        ("claims.Complaint", {"satisfaction": "NULL"}),
        ("claims.WarrantyClaim", {}),
        ("claims.GoodwillClaim", {"complaint": "NULL"}),
    ]
    for label, overrides in steps:
        try:
            od.timed(
                label, lambda label=label, overrides=overrides: fill(model(label), rows, d, staff_ids, pools, overrides)
            )
        except Exception as error:  # a constraint the generic filler does not know: say so, measure the rest
            print(f"NOTE: {label} could not be generated ({error.__class__.__name__}: {str(error)[:300]})")
    with connection.cursor() as c:
        od.timed("vacuum analyze", lambda: c.execute("VACUUM ANALYZE"))
    return dealership, admin


def _pool(table: str, dealership_id: int, offset: int) -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(f"SELECT min(id), count(*) FROM {table} WHERE dealership_id = %s", [dealership_id])
        first, count = c.fetchone()
    return first + offset, count - offset


def raw_sql(model, limit: int, where: str = "") -> str:
    """The list's rows as one query: the table's columns and those of every row it points to, same order, LIMIT."""
    from django.db import models

    opts = model._meta
    joins, selects = [], ["t.*"]
    for n, field in enumerate(f for f in opts.concrete_fields if isinstance(f, models.ForeignKey)):
        alias = f"j{n}"
        joins.append(f"LEFT JOIN {field.related_model._meta.db_table} {alias} ON {alias}.id = t.{field.column}")
        selects.append(f"{alias}.*")
    order = []
    for name in opts.ordering or ["-id"]:
        desc = name.startswith("-")
        name = name.lstrip("-")
        if "__" in name:  # e.g. part__number: order by the joined column
            rel, col = name.split("__", 1)
            index = [f.name for f in opts.concrete_fields if isinstance(f, models.ForeignKey)].index(rel)
            order.append(f"j{index}.{col}{' DESC' if desc else ''}")
        else:
            order.append(f"t.{opts.get_field(name).column}{' DESC' if desc else ''}")
    return (
        f"SELECT {', '.join(selects)} FROM {opts.db_table} t {' '.join(joins)} "
        f"WHERE t.dealership_id = %s {where} ORDER BY {', '.join(order)} LIMIT {limit}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--only", default="", help="comma-separated kinds (default: all)")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--database", default="", help="benchmark database (default: DATABASE_URL name + _bench)")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database at the end")
    args = parser.parse_args()
    url = od.bench_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms"))
    if args.database:
        from urllib.parse import urlsplit, urlunsplit

        url = urlunsplit(urlsplit(url)._replace(path="/" + args.database))
    if not url.startswith("postgres"):
        print("The benchmark needs PostgreSQL (DATABASE_URL=postgres://…).")
        return 1
    od.ensure_database(url)
    od.setup_django(url)
    from django.apps import apps
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test import Client

    from dms.core.prepared import _fetch_all_plain
    from orders import selectors as order_selectors

    request_started.disconnect(reset_queries)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    started = time.perf_counter()
    dealership, admin = build(args.rows, args.rebuild)
    print(f"data ready in {time.perf_counter() - started:.1f} s")
    client = Client()
    client.force_login(admin)
    session = client.session
    session["active_dealership_id"] = dealership.pk
    session.save()

    def raw(sql):
        def run():
            with connection.cursor() as c:
                c.execute(sql, [dealership.pk])
                return c.fetchall()

        return run

    def get(path):
        def run():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return run

    only = {k.strip() for k in args.only.split(",") if k.strip()}
    lines = []
    for kind, (label, page, size, api) in KINDS.items():
        if only and kind not in only:
            continue
        model = apps.get_model(label)
        with connection.cursor() as c:
            c.execute(f"SELECT count(*) FROM {model._meta.db_table} WHERE dealership_id = %s", [dealership.pk])
            count = c.fetchone()[0]
        funcs = [("raw", raw(raw_sql(model, size))), ("raw50", raw(raw_sql(model, 50)))]
        if page:
            funcs.append(("page", get(page)))
        funcs.append(("api", get(api)))
        results = {row["label"]: row for row in od.measure_all(funcs, runs=args.runs)}
        for what, base in (("page", "raw"), ("api", "raw50")):
            if what in results:
                ratio = results[what]["median"] / results[base]["median"]
                lines.append(
                    (
                        f"{kind} {what}",
                        count,
                        results[what]["queries"],
                        results[base]["median"],
                        results[what]["median"],
                        ratio,
                        GOAL,
                    )
                )
                print(_line(lines[-1]), flush=True)
    if not args.no_search and (not only or "search" in only):
        for label, path, _ in SEARCHES:
            # the raw query of the same filtered page: the SQL the list's own page query ran, timed alone
            get(path)()
            connection.queries_log.clear()
            from django.test.utils import CaptureQueriesContext

            # The order list runs its page query as a prepared statement (dms.core.prepared): the log would show
            # only "EXECUTE orders_page_…(…)". Captured once as a plain query, its SQL is the raw query to time.
            with (
                CaptureQueriesContext(connection) as captured,
                mock.patch.object(
                    order_selectors,
                    "fetch_all_prepared",
                    lambda sql, params, label, using: _fetch_all_plain(sql, params, using=using),
                ),
            ):
                get(path)()
            # the query that reads the page's rows: not the count, nor the search's probe of matching ids (a UNION of
            # each column's first ids, dms.core.search / orders' sources) — that one is part of the search's cost
            page_sql = max(
                (q["sql"] for q in captured.captured_queries if "LIMIT" in q["sql"] and not _count_or_probe(q["sql"])),
                key=len,
                default=None,
            )

            def raw_page(sql=page_sql):
                with connection.cursor() as c:
                    c.execute(sql)
                    return c.fetchall()

            results = od.measure_all([("raw", raw_page), ("page", get(path))], runs=args.runs)
            ratio = results[1]["median"] / results[0]["median"]
            lines.append(
                (
                    f"search {label}",
                    None,
                    results[1]["queries"],
                    results[0]["median"],
                    results[1]["median"],
                    ratio,
                    SEARCH_GOAL,
                )
            )
            print(_line(lines[-1]), flush=True)
    print()
    print(f"{'list':55} {'rows':>8} {'queries':>7} {'raw ms':>8} {'list ms':>8} {'× raw':>6} goal")
    for line in lines:
        print(_line(line))
    failed = [line for line in lines if line[5] > line[6]]
    print(
        f"\n{len(lines) - len(failed)} of {len(lines)} within their goal; total {time.perf_counter() - started:.0f} s"
    )
    if args.drop:
        connection.close()
        from urllib.parse import urlsplit, urlunsplit

        import psycopg2

        parts = urlsplit(url)
        admin_conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
        admin_conn.autocommit = True
        with admin_conn.cursor() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}"')
        print("benchmark database dropped")
    return 0


def _count_or_probe(sql: str) -> bool:
    return "COUNT(" in sql or "UNION ALL" in sql


def _line(line) -> str:
    name, count, queries, raw_median, median, ratio, goal = line
    mark = "ok" if ratio <= goal else "OVER"
    rows = f"{count:,}" if count is not None else "—"
    return (
        f"{name:55} {rows:>8} {queries:>7} {raw_median * 1000:>8.2f} {median * 1000:>8.2f} {ratio:>6.1f} "
        f"≤{goal:.0f} {mark}"
    )


if __name__ == "__main__":
    sys.exit(main())
