"""Benchmark of the call-back engine (issue 4) on PostgreSQL. Prints figures; bounded in time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms_bench_notify \\
        /work/main/.venv/bin/python bench/callbacks_generator.py [--orders 100000] [--events 1000000]

Builds (once; reused on later runs) 100,000 open orders and 1,000,000 past call events with generate_series, then:
1. one generator tick (``call_events_generate``) vs a hand-written INSERT … SELECT creating the same events, each
   inside a transaction that is rolled back, so both start from the same state (median of 3);
2. the number of queries of a tick;
3. the weekly call-compliance report over the 1,000,000 events: the selector and the whole page (director).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dms.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms_bench_notify")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")


def ensure_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

HAND_WRITTEN = """
INSERT INTO notifications_callevent
       (dealership_id, order_id, kind, status, assignee_id, due_date, created_at, updated_at, outcome, comment,
        cancel_reason)
SELECT o.dealership_id, o.id, r.kind, 'open', r.assignee_id, r.due_date, now(), now(), '', '', ''
  FROM orders_customerorder o
  JOIN core_dealership d ON d.id = o.dealership_id
  CROSS JOIN LATERAL (
        SELECT (%(now)s::timestamptz AT TIME ZONE d.time_zone)::date AS today,
               (o.placed_at AT TIME ZONE d.time_zone)::date AS placed_on,
               (o.received_at AT TIME ZONE d.time_zone)::date AS received_on) AS t
  CROSS JOIN LATERAL (
        SELECT 'arrival'::varchar AS kind, o.author_id AS assignee_id,
               t.received_on + CASE WHEN o.kind = 'warranty' THEN 3 ELSE 7 END AS due_date
         WHERE o.status = 'received'
        UNION ALL
        SELECT 'lot_repair', o.author_id, t.received_on WHERE o.status = 'received' AND o.on_waiting_lot
        UNION ALL
        SELECT 'uncollected', o.author_id, t.today WHERE o.status = 'received' AND t.today >= t.received_on + 30
        UNION ALL
        SELECT 'interim_eta', coalesce(o.parts_manager_id, o.author_id), t.placed_on + 3 * n
          FROM (VALUES ((t.today - t.placed_on) / 3), ((t.today - t.placed_on) / 3 + 1)) AS k(n)
         WHERE o.status IN ('ordered', 'partially_received') AND o.expected_at - t.placed_on > 7 AND n >= 1
  ) AS r
 WHERE o.status IN ('ordered', 'partially_received', 'received')
ON CONFLICT DO NOTHING
"""


def build(orders: int, events: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from dms.core import roles
    from dms.core.models import Customer, DealerGroup, Dealership, StaffProfile, Vehicle

    User = get_user_model()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_customerorder")
        if cursor.fetchone()[0] >= orders:
            cursor.execute("SELECT count(*) FROM notifications_callevent")
            # Only the past follow-up calls stay; what a tick creates is created again by the runs below.
            cursor.execute(
                "DELETE FROM notifications_callevent "
                "WHERE kind IN ('arrival', 'lot_repair', 'interim_eta', 'uncollected')"
            )
            cursor.execute("SELECT count(*) FROM notifications_callevent")
            print(f"reusing data: {orders:,} orders, {cursor.fetchone()[0]:,} call events")
            cursor.execute("VACUUM ANALYZE notifications_callevent")
            return
    started = time.monotonic()
    group, _ = DealerGroup.objects.get_or_create(name="Bench")
    dealership, _ = Dealership.objects.get_or_create(
        code="bench", defaults={"group": group, "name": "Bench Motors", "time_zone": "Europe/Berlin"}
    )
    staff = []
    for username, role in (
        ("bench-advisor-1", roles.SERVICE_ADVISOR),
        ("bench-advisor-2", roles.SERVICE_ADVISOR),
        ("bench-parts", roles.PARTS_MANAGER),
        ("bench-director", roles.DIRECTOR),
    ):
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": username})
        if created:
            user.groups.add(Group.objects.get(name=role))
            profile = StaffProfile.objects.create(user=user, default_dealership=dealership)
            profile.dealerships.add(dealership)
        staff.append(user)
    customer = Customer.objects.filter(dealership=dealership).first() or Customer.objects.create(
        dealership=dealership, name="Bench customer", phone="+79160000001", preferred_channel="phone"
    )
    vehicle = Vehicle.objects.filter(dealership=dealership).first() or Vehicle.objects.create(
        dealership=dealership, customer=customer, vin="JTDBR32E720099999", make="Toyota", model="Corolla"
    )
    a1, a2, pm = staff[0].pk, staff[1].pk, staff[2].pk
    params = {"d": dealership.pk, "c": customer.pk, "v": vehicle.pk, "a1": a1, "a2": a2, "pm": pm, "n": orders}
    with connection.cursor() as cursor:
        # Orders: 40 % ordered (half with a long ETA), 10 % partially received, 50 % received (some 30+ days ago).
        cursor.execute(
            """
            INSERT INTO orders_customerorder
                (dealership_id, number, status, kind, purpose, customer_id, vehicle_id, author_id, parts_manager_id,
                 expected_at, placed_at, first_received_at, received_at, cancel_reason, long_term_agreed,
                 on_waiting_lot, comment, created_at, updated_at)
            SELECT %(d)s, 'B' || lpad(i::text, 9, '0'),
                   CASE WHEN i %% 10 < 4 THEN 'ordered' WHEN i %% 10 = 4 THEN 'partially_received' ELSE 'received' END,
                   CASE WHEN i %% 2 = 0 THEN 'warranty' ELSE 'commercial' END, 'repair', %(c)s, %(v)s,
                   CASE WHEN i %% 3 = 0 THEN %(a2)s ELSE %(a1)s END, %(pm)s,
                   (now() - (i %% 40) * interval '1 day')::date + CASE WHEN i %% 20 < 10 THEN 5 ELSE 25 END,
                   now() - (i %% 40) * interval '1 day' - interval '3 hours',
                   CASE WHEN i %% 10 >= 4 THEN now() - (i %% 37) * interval '1 day' END,
                   CASE WHEN i %% 10 >= 5 THEN now() - (i %% 37) * interval '1 day' END,
                   '', true, i %% 10 = 9, '', now() - (i %% 40) * interval '1 day', now()
              FROM generate_series(1, %(n)s) AS i
            """,
            params,
        )
        # Past events: follow-up calls (retry / agreed date / no-show) spread over the last 100 days.
        cursor.execute(
            """
            INSERT INTO notifications_callevent
                (dealership_id, order_id, kind, status, assignee_id, due_date, completed_at, completed_on,
                 completed_by_id, outcome, comment, agreed_date, cancel_reason, created_at, updated_at)
            SELECT %(d)s, o.id, (ARRAY['retry', 'agreed_date', 'no_show'])[1 + j %% 3], x.status,
                   o.author_id, x.due,
                   CASE WHEN x.status = 'done' THEN (x.due + x.shift)::timestamptz + interval '11 hours' END,
                   CASE WHEN x.status = 'done' THEN x.due + x.shift END,
                   CASE WHEN x.status = 'done' THEN o.author_id END,
                   CASE WHEN x.status = 'done' THEN 'reached' ELSE '' END,
                   '', NULL, CASE WHEN x.status = 'cancelled' THEN 'order_issued' ELSE '' END, now(), now()
              FROM orders_customerorder o
             CROSS JOIN generate_series(0, %(per)s - 1) AS j
             CROSS JOIN LATERAL (
                   SELECT current_date - 1 - ((o.id * 7 + j * 11) %% 100)::int AS due,
                          ((o.id + j) %% 3 - 1)::int AS shift,
                          CASE WHEN (o.id + j) %% 10 = 0 THEN 'open'
                               WHEN (o.id + j) %% 17 = 0 THEN 'cancelled' ELSE 'done' END AS status) AS x
             WHERE o.dealership_id = %(d)s
            ON CONFLICT DO NOTHING
            """,
            params | {"per": max(events // orders, 1)},
        )
    # As autovacuum would do on a live table (keeps index-only scans index-only).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE orders_customerorder")
        cursor.execute("VACUUM ANALYZE notifications_callevent")
        cursor.execute("SELECT count(*) FROM notifications_callevent")
        total = cursor.fetchone()[0]
    print(f"built {orders:,} orders and {total:,} past call events in {time.monotonic() - started:.1f} s")


class Rollback(Exception):
    pass


def timed_in_rollback(fn) -> tuple[float, object]:
    result = None
    started = 0.0
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("the benchmark needs PostgreSQL (DATABASE_URL)")
    build(args.orders, args.events)

    # The report first: the rolled-back ticks below leave dead rows that only a (auto)vacuum clears.
    from django.contrib.auth import get_user_model

    from notifications import reports

    director = get_user_model().objects.get(username="bench-director")
    today = timezone.localdate()
    date_from, date_to = today - timezone.timedelta(days=7), today - timezone.timedelta(days=1)
    started = time.perf_counter()
    report = reports.compliance_for_user(user=director, date_from=date_from, date_to=date_to)
    selector_ms = (time.perf_counter() - started) * 1000
    client = Client()
    client.force_login(director)
    page_times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        response = client.get("/reports/call-compliance/", {"from": date_from, "to": date_to})
        page_times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_callevent")
        total = cursor.fetchone()[0]
    print(
        f"weekly report over {total:,} events ({report.totals.due:,} due in the week): selector {selector_ms:.0f} ms, "
        f"page {statistics.median(page_times) * 1000:.0f} ms (median of {args.runs}; target < 1000 ms)"
    )

    from notifications import services

    now = timezone.now()

    def hand():
        with connection.cursor() as cursor:
            cursor.execute(HAND_WRITTEN, {"now": now})
            return cursor.rowcount

    def tick():
        return services.call_events_generate(now=now).created

    hand_times, tick_times = [], []
    for _ in range(args.runs):
        elapsed, hand_rows = timed_in_rollback(hand)
        hand_times.append(elapsed)
        elapsed, tick_rows = timed_in_rollback(tick)
        tick_times.append(elapsed)
    assert hand_rows == tick_rows, (hand_rows, tick_rows)
    with CaptureQueriesContext(connection) as queries:
        timed_in_rollback(tick)
    hand_m, tick_m = statistics.median(hand_times), statistics.median(tick_times)
    print(f"events created per tick: {tick_rows:,} (hand-written INSERT … SELECT: {hand_rows:,})")
    print(f"hand-written INSERT … SELECT: {hand_m * 1000:.0f} ms (median of {args.runs})")
    print(f"generator tick:               {tick_m * 1000:.0f} ms (median of {args.runs}), {len(queries)} queries")
    print(f"ratio tick / hand-written:    {tick_m / hand_m:.2f}  (target ≤ 2.00)")


if __name__ == "__main__":
    main()
