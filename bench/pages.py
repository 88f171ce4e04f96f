"""Every page at scale (issue 19): each page a signed-in administrator can open without a record id — lists, boards,
forms, reports — plus the newest record's card of every kind, timed on the data of ``bench/lists.py`` (100,000 rows
of every kind in one dealership). Prints each page's median time and query count, slowest first, with every query
of 4 ms or more, and exits 1 when a page takes longer than ``--limit`` milliseconds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms .venv/bin/python bench/pages.py [--limit 1000] [--runs 3]

Run ``bench/lists.py`` first (it builds ``<DATABASE_URL's name>_bench``; ``--database NAME`` for another). A page
whose time grows with the tables — a form's <select> of every complaint, a board of every open work order — shows
here first: on 2026-12-02 the workshop board took 22 s, the goodwill claim form 11 s, the parts requisition form 7 s.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orders_dashboard as od  # noqa: E402

SLOW_QUERY_S = 0.004
# GET routes that are not pages to time: actions, exports, feeds, webhooks, files.
SKIPPED = ("logout", "setlang", "switch", "twilio", "export", "print", "renew", ".ics", ".csv", ".xlsx", ".pdf",
           "favicon", "healthz", "accounts/login")  # fmt: skip
# The card of the newest record of each kind: (path with %d, table).
CARDS = {
    "/orders/%d/": "orders_customerorder",
    "/customers/%d/": "core_customer",
    "/vehicles/%d/": "core_vehicle",
    "/parts/%d/": "parts_part",
    "/workorders/%d/": "service_workorder",
    "/appointments/%d/": "service_appointment",
    "/claims/%d/": "claims_warrantyclaim",
    "/goodwill/%d/": "claims_goodwillclaim",
    "/complaints/%d/": "claims_complaint",
    "/parts/sales/%d/": "parts_salesorder",
    "/parts/returns/%d/": "parts_returnrequest",
}


def page_paths(dealership_id: int) -> list[str]:
    """Every page URL without a parameter (from the URL resolver: a new page is timed without a change here), then
    the cards."""
    from django.db import connection
    from django.urls import URLResolver, get_resolver

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    paths = [
        "/" + path
        for path in walk(get_resolver())
        if "<" not in path and "(?P" not in path and not path.startswith(("api/", "admin/", "^"))
        and not any(word in path for word in SKIPPED)
    ]  # fmt: skip
    with connection.cursor() as cursor:
        for path, table in CARDS.items():
            cursor.execute(f"SELECT max(id) FROM {table} WHERE dealership_id = %s", [dealership_id])
            newest = cursor.fetchone()[0]
            if newest is not None:
                paths.append(path % newest)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=1000.0, help="a page slower than this (ms) fails the run")
    parser.add_argument("--database", default="", help="benchmark database (default: DATABASE_URL name + _bench)")
    args = parser.parse_args()
    url = od.bench_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dms"))
    if args.database:
        from urllib.parse import urlsplit, urlunsplit

        url = urlunsplit(urlsplit(url)._replace(path="/" + args.database))
    od.setup_django(url)
    from django.contrib.auth import get_user_model
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    request_started.disconnect(reset_queries)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    admin = get_user_model().objects.filter(username="bench_lists_admin").first()
    if admin is None:
        print("No benchmark data: run bench/lists.py first.")
        return 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT dealership_id FROM core_customer GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        dealership_id = cursor.fetchone()[0]
    client = Client()
    client.force_login(admin)
    session = client.session
    session["active_dealership_id"] = dealership_id
    session.save()
    results, skipped = [], []
    for path in page_paths(dealership_id):
        if client.get(path).status_code != 200:  # a page that needs a parameter, or a POST-only route
            skipped.append(path)
            continue
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - began)
        slow = [
            (float(q["time"]), q["sql"][:150]) for q in captured.captured_queries if float(q["time"]) >= SLOW_QUERY_S
        ]
        results.append((statistics.median(times) * 1000, path, len(captured.captured_queries), slow))
        print(f"{results[-1][0]:9.1f} ms {path}", flush=True)
    print(f"\n{'ms':>9} {'queries':>7}  page (queries of {SLOW_QUERY_S * 1000:.0f} ms or more below it)")
    for ms, path, queries, slow in sorted(results, key=lambda row: -row[0]):
        print(f"{ms:9.1f} {queries:>7}  {path}")
        for seconds, sql in slow:
            print(f"{'':>19}{seconds * 1000:5.0f} ms {sql}")
    over = [path for ms, path, *_ in results if ms > args.limit]
    print(
        f"\n{len(results)} pages timed, {len(skipped)} not pages without parameters;"
        f" {len(over)} over {args.limit:.0f} ms"
    )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
