"""Load test (issue 8, part 4): gunicorn with the production settings on PostgreSQL and Redis, 50 clients.

    /work/main/.venv/bin/python bench/load.py [--seconds 60] [--clients 50] [--workers 3] [--orders 2000]

Loopback only. By default it runs on its OWN PostgreSQL cluster (15/benchfaults, 127.0.0.1:5440, created and
started if missing) and its OWN redis-server (127.0.0.1:6390); ``BENCH_DATABASE_URL`` / ``BENCH_REDIS_URL``
point it elsewhere (``DATABASE_URL`` is deliberately ignored, so ``make bench`` cannot aim it at a shared database).

Steps: migrate, ``manage.py load_demo``, then (once; reused later) ``--orders`` background orders in every status
made through the services, plus a fresh pool of placed orders per client for the receipts; start gunicorn
(``dms.wsgi``, production settings, SECURE_SSL_REDIRECT=false, generated SECRET_KEY, ALLOWED_HOSTS=127.0.0.1) and a
Celery worker (it sends the arrival SMS through the console backend); log every client in through the login page
(session) and give it the API token of the same user; then each client loops for ``--seconds`` over a mix of
dashboard pages, order pages, API reads and API receipts, as fast as it gets answers (closed loop, no think time
unless ``--think``). Prints throughput, p50/p95/p99 per request type and overall, errors, and whether the goal
(0 errors, p95 within 4 × p50) is met. Every process it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import random
import re
import secrets
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import infra  # noqa: E402

DEFAULT_DB = f"postgres://postgres@127.0.0.1:{infra.PG_PORT}/dms_bench_load"
DEFAULT_REDIS = f"redis://127.0.0.1:{infra.REDIS_PORT}/0"
USER, PASSWORD = "parts", "demo12345"  # the demo parts manager: dashboard, API reads, receipts
POOL_MARK = "[bench pool]"
BACKGROUND_MARK = "[bench bg]"
LINE_QTY = 10  # each pool order: 2 lines × 10 units, received one unit at a time → 20 receipts per order

# Request mix (weights): what a parts department does all day.
MIX = [
    ("page_dashboard", 25),
    ("page_dashboard_filtered", 10),
    ("page_order", 10),
    ("api_list", 20),
    ("api_detail", 15),
    ("api_receive", 20),
]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


# -- data ----------------------------------------------------------------------------------------------------------
def prepare_data(*, clients: int, orders_per_client: int, background: int) -> dict:
    """In this process (Django set up on the same database): background orders once, a fresh receipt pool."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from dms.core.models import Customer, Dealership, Vehicle
    from orders import services
    from orders.models import CustomerOrder
    from parts.models import Part, Supplier

    User = get_user_model()
    manager = User.objects.get(username=USER)
    advisor = User.objects.get(username="advisor")
    dealership = Dealership.objects.get(pk=manager.staff_profile.default_dealership_id)
    customers = list(Customer.objects.filter(dealership=dealership).order_by("id"))
    vehicles = {v.customer_id: v for v in Vehicle.objects.filter(dealership=dealership).order_by("id")}
    customers = [c for c in customers if c.pk in vehicles]
    parts = list(Part.objects.filter(dealership=dealership).order_by("id")[:12])
    supplier = Supplier.objects.filter(dealership=dealership).order_by("id").first()
    today = timezone.localdate()
    rng = random.Random(8)

    def new_order(mark: str, n: int, *, lines: int, qty: int) -> CustomerOrder:
        customer = customers[n % len(customers)]
        picked = rng.sample(parts, lines)
        return services.customer_order_create(
            actor=advisor,
            dealership=dealership,
            customer=customer,
            vehicle=vehicles[customer.pk],
            kind="warranty" if n % 2 else "commercial",
            lines=[{"part": part, "quantity": qty} for part in picked],
            parts_manager=manager,
            comment=f"{mark} {n}",
        )

    def place(order: CustomerOrder, n: int) -> None:
        services.customer_order_place(
            actor=manager,
            order=order,
            supplier=supplier,
            supplier_order_number=f"BENCH-{order.number[-6:]}",
            expected_at=today + datetime.timedelta(days=3 + n % 20),
            long_term_agreed=True,
        )

    existing = CustomerOrder.objects.filter(dealership=dealership, comment__startswith=BACKGROUND_MARK).count()
    started = time.monotonic()
    if existing < background:
        infra.log(f"creating {background - existing} background orders through the services…")
    for n in range(existing, background):
        order = new_order(BACKGROUND_MARK, n, lines=1 + n % 3, qty=2)
        stage = n % 10  # 20 % not placed, 30 % ordered, 20 % partly received, 20 % received, 10 % issued
        if stage >= 2:
            place(order, n)
        if stage >= 5:
            first = order.lines.order_by("id").first()
            services.customer_order_receive(actor=manager, order=order, lines=[{"line": first.pk, "quantity": 1}])
        if stage >= 7:
            services.customer_order_receive(
                actor=manager,
                order=order,
                lines=[
                    {"line": line.pk, "quantity": line.quantity_outstanding}
                    for line in order.lines.all()
                    if line.quantity_outstanding > 0
                ],
            )
        if stage == 9:
            services.customer_order_issue(actor=manager, order=order)
    if existing < background:
        infra.log(f"  … {background - existing} orders in {time.monotonic() - started:.0f} s")

    started = time.monotonic()
    run = secrets.token_hex(3)
    pools: list[list[dict]] = []
    for client in range(clients):
        pool = []
        for k in range(orders_per_client):
            order = new_order(f"{POOL_MARK} {run}", client * 100 + k, lines=2, qty=LINE_QTY)
            place(order, k)
            pool.append({"id": order.pk, "lines": list(order.lines.order_by("id").values_list("id", flat=True))})
        pools.append(pool)
    infra.log(f"receipt pool: {clients * orders_per_client} placed orders in {time.monotonic() - started:.0f} s")
    token, _created = Token.objects.get_or_create(user=manager)
    read_ids = list(
        CustomerOrder.objects.filter(dealership=dealership).order_by("-id").values_list("id", flat=True)[:500]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts = {
        "orders": CustomerOrder.objects.filter(dealership=dealership).count(),
        "receipts_before": _receipts(),
    }
    connection.close()
    return {"pools": pools, "token": token.key, "read_ids": read_ids, "counts": counts}


def _receipts() -> int:
    from orders.models import Receipt

    return Receipt.objects.count()


# -- clients -------------------------------------------------------------------------------------------------------
class Client:
    """One user: a browser session (dashboard pages) and the API token; its own orders to receive."""

    def __init__(self, base: str, token: str, pool: list[dict], read_ids: list[int], seed: int):
        import requests

        self.base = base
        self.session = requests.Session()
        # gunicorn sits behind an HTTPS proxy in production: say so, as the proxy would (SECURE_PROXY_SSL_HEADER).
        self.session.headers["X-Forwarded-Proto"] = "https"
        self.api = requests.Session()
        self.api.headers.update({"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"})
        self.pool = [{"id": o["id"], "todo": [line for line in o["lines"] for _ in range(LINE_QTY)]} for o in pool]
        self.read_ids = read_ids
        self.rng = random.Random(seed)
        self.logged_in = False
        self.opts = {"timeout": 60, "allow_redirects": False}

    def login(self) -> None:
        page = self.session.get(f"{self.base}/accounts/login/", timeout=60)
        self._insecure_cookies()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.session.post(
            f"{self.base}/accounts/login/",
            data={"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"https://127.0.0.1:{self.base.rsplit(':', 1)[1]}/accounts/login/"},
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login failed: {response.status_code}")
        self._insecure_cookies()
        self.logged_in = True

    def _insecure_cookies(self) -> None:
        # Production cookies are Secure; the proxy would speak HTTPS to the browser. Here we are the browser on
        # loopback HTTP, so keep sending them.
        for cookie in self.session.cookies:
            cookie.secure = False

    def receipts_left(self) -> bool:
        return any(order["todo"] for order in self.pool)

    def one(self, kind: str) -> tuple[bool, int]:
        rng, base = self.rng, self.base
        if kind == "api_receive":
            orders = [o for o in self.pool if o["todo"]]
            if not orders:
                return self.one("api_detail")
            order = rng.choice(orders)
            line = order["todo"].pop(rng.randrange(len(order["todo"])))
            response = self.api.post(
                f"{base}/api/orders/{order['id']}/receive/",
                json={"lines": [{"line": line, "quantity": "1"}], "comment": "bench"},
                timeout=60,
                allow_redirects=False,
            )
        elif kind == "page_dashboard":
            response = self.session.get(
                f"{base}/orders/", params={"page": rng.choice([1, 1, 1, 2, 3])}, timeout=60, allow_redirects=False
            )
        elif kind == "page_dashboard_filtered":
            params = rng.choice(
                [
                    {"status": "ordered"},
                    {"overdue": "true"},
                    {"search": "Иван"},
                    {"sort": "-created"},
                    {"status": ["ordered", "partially_received"], "kind": "warranty"},
                ]
            )
            response = self.session.get(f"{base}/orders/", params=params, **self.opts)
        elif kind == "page_order":
            response = self.session.get(
                f"{base}/orders/{rng.choice(self.read_ids)}/", timeout=60, allow_redirects=False
            )
        elif kind == "api_list":
            params = rng.choice([{}, {"status": "ordered"}, {"status": "received", "page": 2}, {"overdue": "true"}])
            response = self.api.get(f"{base}/api/orders/", params=params, **self.opts)
        elif kind == "api_detail":
            response = self.api.get(
                f"{base}/api/orders/{rng.choice(self.read_ids)}/", timeout=60, allow_redirects=False
            )
        else:
            raise ValueError(kind)
        return response.status_code == 200, response.status_code


def baseline(client: Client, *, workers: int, repeat: int = 15) -> None:
    """One client alone: the service time of each request type, in-process's steady state to compare with (issue 19
    item 4). Every worker answers each request type a few times first: a worker's first request of a kind compiles
    its templates and fills its caches, and with 5 timed requests over 3 workers the median was such a cold one."""
    for kind, _weight in MIX:
        for _ in range(3 * workers):
            ok, code = client.one(kind)
            if not ok:
                raise RuntimeError(f"{kind} answered {code} before the load even started")
    figures = []
    for kind, _weight in MIX:
        took = []
        for _ in range(repeat):
            began = time.perf_counter()
            ok, code = client.one(kind)
            took.append(time.perf_counter() - began)
            if not ok:
                raise RuntimeError(f"{kind} answered {code} before the load even started")
        figures.append(f"{kind} {statistics.median(took) * 1000:.0f}")
    infra.log("one client alone, median ms: " + ", ".join(figures))


def run_clients(clients: list[Client], seconds: float, think: float) -> tuple[dict, float, list[str]]:
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    samples: list[str] = []
    lock = threading.Lock()
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    start_gate = threading.Barrier(len(clients) + 1)
    deadline_box = {}

    def worker(client: Client) -> None:
        start_gate.wait()
        deadline = deadline_box["deadline"]
        local: list[tuple[str, float, bool, str]] = []
        max_requests = 100_000  # a bound even if the clock misbehaves
        while time.monotonic() < deadline and len(local) < max_requests:
            kind = client.rng.choices(kinds, weights)[0]
            if kind == "api_receive" and not client.receipts_left():
                # its pool is used up (the one-client baseline receives from the first client's): what it asks
                # instead is an order's detail, counted as one — not as a receipt nobody saved
                kind = "api_detail"
            began = time.perf_counter()
            try:
                ok, code = client.one(kind)
                detail = str(code)
            except Exception as error:  # noqa: BLE001 - a failed request is an error to count
                ok, detail = False, type(error).__name__
            local.append((kind, time.perf_counter() - began, ok, detail))
            if think:
                time.sleep(client.rng.uniform(0, 2 * think))
        with lock:
            for kind, took, ok, detail in local:
                results[kind].append(took)
                if not ok:
                    errors[kind] += 1
                    if len(samples) < 10:
                        samples.append(f"{kind}: {detail}")

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    deadline_box["deadline"] = time.monotonic() + seconds
    began = time.monotonic()
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - began
    return {"latency": results, "errors": errors}, elapsed, samples


def report(stats: dict, elapsed: float, samples: list[str]) -> bool:
    latency, errors = stats["latency"], stats["errors"]
    everything = [t for values in latency.values() for t in values]
    total, total_errors = len(everything), sum(errors.values())
    ms = 1000
    print(f"\n{'request':<26}{'count':>7}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, _weight in MIX:
        values = latency.get(kind, [])
        if not values:
            continue
        print(
            f"{kind:<26}{len(values):>7}{errors.get(kind, 0):>8}{len(values) / elapsed:>8.1f}"
            f"{percentile(values, 50) * ms:>9.0f}{percentile(values, 95) * ms:>9.0f}"
            f"{percentile(values, 99) * ms:>9.0f}{max(values) * ms:>9.0f}"
        )
    p50, p95, p99 = (percentile(everything, q) for q in (50, 95, 99))
    print(
        f"{'ALL':<26}{total:>7}{total_errors:>8}{total / elapsed:>8.1f}{p50 * ms:>9.0f}{p95 * ms:>9.0f}"
        f"{p99 * ms:>9.0f}{max(everything) * ms:>9.0f}"
    )
    print(
        f"\nthroughput: {total / elapsed:.1f} requests/s over {elapsed:.1f} s; "
        f"mean {statistics.mean(everything) * ms:.0f} ms"
    )
    if samples:
        print("first errors: " + "; ".join(samples))
    ratio = p95 / p50 if p50 else float("inf")
    met = total_errors == 0 and ratio <= 4
    print(
        f"goal (0 errors, p95 ≤ 4 × p50): errors {total_errors}, p95/p50 = {ratio:.2f} → "
        + ("MET" if met else "NOT MET")
    )
    return met


def _gunicorn_shape(args) -> tuple[int, int, str]:
    """(workers, threads, worker class) as gunicorn runs them: the flags, else gunicorn.conf.py's values."""
    import runpy

    config = runpy.run_path(str(infra.ROOT / "gunicorn.conf.py"))
    workers = args.workers or config["workers"]
    threads = args.threads or config["threads"]
    worker_class = args.worker_class or config["worker_class"]
    if worker_class == "sync" and threads > 1:
        worker_class = "gthread"  # gunicorn switches to threads by itself
    return workers, (threads if worker_class == "gthread" else 1), worker_class


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    # Issue 19 item 4: by default gunicorn.conf.py decides (cores + 1 sync workers); these override.
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: gunicorn.conf.py)")
    parser.add_argument("--worker-class", default=None, help="sync or gthread (default: gunicorn.conf.py)")
    parser.add_argument("--orders", type=int, default=2000, help="background orders in the dealership (made once)")
    parser.add_argument("--think", type=float, default=0.0, help="mean think time between a client's requests (s)")
    parser.add_argument("--no-celery", action="store_true", help="do not start a Celery worker")
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 0 < args.clients <= 200:
        parser.error("--seconds must be in (0, 600] and --clients in (0, 200]")

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    env = infra.app_env(database_url=database_url, redis_url=redis_url)
    stack = infra.Stack(env)
    try:
        if database_url == DEFAULT_DB:
            stack.pg_started = infra.ensure_pg_cluster()
        if redis_url == DEFAULT_REDIS:
            stack.redis_started = infra.redis_start()
        infra.ensure_database(database_url)
        started = time.monotonic()
        stack.manage("migrate", "--noinput", "-v0")
        stack.manage("load_demo")
        infra.log(
            f"database {database_url.rsplit('@', 1)[-1]} migrated, demo loaded ({time.monotonic() - started:.0f} s)"
        )
        os.environ.update(env)
        orders_per_client = max(1, math.ceil(args.seconds / 20))
        data = prepare_data(clients=args.clients, orders_per_client=orders_per_client, background=args.orders)

        port = infra.free_port()
        stack.gunicorn(port, workers=args.workers, threads=args.threads, worker_class=args.worker_class)
        shape = _gunicorn_shape(args)
        if not args.no_celery:
            stack.spawn(
                "celery-load",
                [
                    str(infra.VENV_BIN / "celery"),
                    "-A",
                    "dms",
                    "worker",
                    "--concurrency=1",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"bench-load-{port}@%h",
                ],
            )
        base = f"http://127.0.0.1:{port}"
        clients = [Client(base, data["token"], data["pools"][i], data["read_ids"], seed=i) for i in range(args.clients)]
        started = time.monotonic()
        # Logins hash the password (PBKDF2, ~0.3–0.5 s of CPU each): a few at a time, like people arriving.
        gate = threading.Semaphore(shape[0])

        def login(client: Client) -> None:
            with gate:
                try:
                    client.login()
                except Exception as error:  # noqa: BLE001 - reported below
                    infra.log(f"login failed: {type(error).__name__}: {error}")

        login_threads = [threading.Thread(target=login, args=(c,)) for c in clients]
        for thread in login_threads:
            thread.start()
        for thread in login_threads:
            thread.join(timeout=300)
        if not all(c.logged_in for c in clients):
            raise RuntimeError("some clients could not log in")
        infra.log(f"{len(clients)} clients logged in ({time.monotonic() - started:.1f} s)")
        baseline(clients[0], workers=shape[0] * shape[1])
        infra.log(
            f"load: {args.clients} clients × {args.seconds:.0f} s against gunicorn ({shape[0]} {shape[2]} workers × "
            f"{shape[1]} threads, production settings) on {data['counts']['orders']} orders; "
            f"mix {', '.join(f'{k} {w}%' for k, w in MIX)}"
        )
        os.environ.update(env)
        from django.db import connection

        before = _receipts()
        connection.close()
        load_before = os.getloadavg()[0]
        stats, elapsed, samples = run_clients(clients, args.seconds, args.think)
        met = report(stats, elapsed, samples)
        receipts_ok = len(stats["latency"].get("api_receive", [])) - stats["errors"].get("api_receive", 0)
        saved = _receipts() - before
        connection.close()
        print(f"receipts answered 200: {receipts_ok}; receipts saved in the database: {saved}")
        print(
            f"run on {datetime.date.today().isoformat()}, {os.cpu_count()} CPUs, load average before/after "
            f"{load_before:.1f}/{os.getloadavg()[0]:.1f} (other processes share the CPUs)"
        )
        return 0 if met and saved == receipts_ok else 1
    finally:
        stack.close()


if __name__ == "__main__":
    sys.exit(main())
