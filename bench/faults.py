"""Fault scenarios (issue 8, part 4): Redis stopped, a Celery worker killed mid-task, PostgreSQL restarted.

    /work/main/.venv/bin/python bench/faults.py [--only redis,worker,postgres]

Runs ONLY on its own throwaway services, which it creates/starts if missing and may stop and restart freely: the
PostgreSQL cluster 15/benchfaults on 127.0.0.1:5440 and a redis-server on 127.0.0.1:6390 (never the shared 5432/6379).
gunicorn (2 workers, production settings) and Celery workers are started and stopped here. Each scenario prints what
it checked and PASS/FAIL; every wait is bounded. Exit status 0 only if all pass.

(a) redis:    Redis stopped while parts are received → receipts answer 200, orders, receipts, arrival call events and
              SMS rows are saved; Redis back + one beat tick → every SMS sent exactly once, every event exists once.
(b) worker:   the pool process running a task is SIGKILLed (acks_late + reject_on_worker_lost) — once inside the
              tick's transaction, once right after the SMS provider accepted a message → the task runs again; no
              call event doubled, no message handed to the provider twice.
(c) postgres: ``pg_ctlcluster restart`` while gunicorn serves 4 clients → requests that met the restart answer 503
              with Retry-After and JSON (issue 12, item 10), counted apart; no 500 and no other failure; every request
              after it succeeds without restarting gunicorn (CONN_HEALTH_CHECKS); the worker recovers too.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import infra  # noqa: E402

DATABASE_URL = f"postgres://postgres@127.0.0.1:{infra.PG_PORT}/dms_bench_faults"
REDIS_URL = f"redis://127.0.0.1:{infra.REDIS_PORT}/1"
TRACE = infra.LOG_DIR / "faults-trace.log"
RESULTS: list[tuple[str, bool]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"  [{'ok' if ok else 'FAILED'}] {name}" + (f" — {detail}" if detail else ""), flush=True)
    return ok


def verdict(scenario: str, checks: list[bool]) -> None:
    passed = all(checks)
    RESULTS.append((scenario, passed))
    print(f"{scenario}: {'PASS' if passed else 'FAIL'}\n", flush=True)


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - the database may be restarting: keep trying until the deadline
            from django.db import connection

            connection.close()
        time.sleep(interval)
    return False


def trace_lines(prefix: str) -> list[str]:
    if not TRACE.exists():
        return []
    return [line for line in TRACE.read_text().splitlines() if line.startswith(prefix)]


# -- data (this process runs Django on the same database, with the production settings) ------------------------------
class Data:
    def __init__(self):
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from dms.core.models import Customer, Dealership, Vehicle
        from parts.models import Part, Supplier

        User = get_user_model()
        self.manager = User.objects.get(username="parts")
        self.advisor = User.objects.get(username="advisor")
        self.dealership = Dealership.objects.get(pk=self.manager.staff_profile.default_dealership_id)
        self.customer, _ = Customer.objects.get_or_create(
            dealership=self.dealership,
            name="Фаулт Тест",
            defaults={"phone": "+79160000808", "preferred_channel": "sms"},
        )
        self.vehicle = Vehicle.objects.filter(customer=self.customer).first() or Vehicle.objects.create(
            dealership=self.dealership, customer=self.customer, vin="XW8ZZZ61ZHG000808", make="Skoda", model="Rapid"
        )
        self.part = Part.objects.filter(dealership=self.dealership).order_by("id").first()
        self.supplier = Supplier.objects.filter(dealership=self.dealership).order_by("id").first()
        self.token = Token.objects.get_or_create(user=self.manager)[0].key

    def placed_orders(self, count: int, *, placed_days_ago: int = 0, eta_days: int = 5) -> list:
        from django.utils import timezone

        from orders import services

        now = timezone.now() - datetime.timedelta(days=placed_days_ago)
        orders = []
        for _ in range(count):
            order = services.customer_order_create(
                actor=self.advisor,
                dealership=self.dealership,
                customer=self.customer,
                vehicle=self.vehicle,
                kind="commercial",
                lines=[{"part": self.part, "quantity": 1}],
                parts_manager=self.manager,
                comment="[bench faults]",
            )
            services.customer_order_place(
                actor=self.manager,
                order=order,
                supplier=self.supplier,
                supplier_order_number=f"F-{order.number[-6:]}",
                expected_at=timezone.localtime(now).date() + datetime.timedelta(days=eta_days),
                long_term_agreed=True,
                now=now,
            )
            orders.append(order)
        return orders


def receive(base: str, token: str, order, timeout: float = 30) -> tuple[int, float]:
    import requests

    line = order.lines.get()
    began = time.perf_counter()
    response = requests.post(
        f"{base}/api/orders/{order.pk}/receive/",
        json={"lines": [{"line": line.pk, "quantity": "1"}]},
        headers={"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"},
        timeout=timeout,
    )
    return response.status_code, time.perf_counter() - began


def start_worker(stack: infra.Stack, name: str, **slow) -> subprocess.Popen:
    env = dict(stack.env, BENCH_TRACE=str(TRACE), **{k: str(v) for k, v in slow.items()})
    process = stack.spawn(f"worker-{name}", [infra.PYTHON, "bench/support/slow_worker.py", f"{name}@bench"], env=env)
    # The worker runs a catch-up tick at start (worker_ready): wait for it, so the scenario starts from a quiet state.
    if not wait_until(lambda: len(trace_lines("tick-end")) > stack.ticks_seen, timeout=90):
        raise RuntimeError(f"worker {name} did not run its startup tick (see var/bench/worker-{name}.log)")
    stack.ticks_seen = len(trace_lines("tick-end"))
    return process


def pool_children(process: subprocess.Popen) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(process.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


# -- (a) Redis stopped during receipts ------------------------------------------------------------------------------
def scenario_redis(stack: infra.Stack, data: Data, base: str) -> None:
    from django.db import connection
    from django.utils import timezone

    from notifications.models import CallEvent, Delivery
    from notifications.tasks import generate_call_events
    from orders.models import Receipt

    print("(a) Redis stopped during receipts", flush=True)
    worker = start_worker(stack, "redis")
    orders = data.placed_orders(10)
    ids = [o.pk for o in orders]
    infra.redis_stop()
    checks = [check("Redis is down", not infra.port_open(infra.REDIS_PORT))]
    answers = [receive(base, data.token, order) for order in orders]
    codes = [code for code, _took in answers]
    slowest = max(took for _code, took in answers)
    checks.append(
        check("10 receipts with Redis down answer 200", codes == [200] * 10, f"codes {codes}, slowest {slowest:.2f} s")
    )
    connection.close()
    received = sum(1 for o in orders if type(o).objects.get(pk=o.pk).status == "received")
    checks.append(check("the 10 orders are saved as received", received == 10, f"{received}/10"))
    checks.append(check("10 receipts saved", Receipt.objects.filter(order_id__in=ids).count() == 10))
    events = CallEvent.objects.filter(order_id__in=ids, kind="arrival").count()
    checks.append(check("10 arrival call events saved (R5, made at receipt)", events == 10, f"{events}"))
    queued = Delivery.objects.filter(event__order_id__in=ids, status="queued", attempts=0).count()
    checks.append(check("10 arrival SMS recorded, waiting for the broker", queued == 10, f"{queued} queued"))

    stack.redis_started = infra.redis_start() or stack.redis_started
    # One beat tick once Redis is back; as of 15 minutes later, when the unpublished SMS count as lost.
    later = timezone.now() + datetime.timedelta(minutes=15)
    published_at = time.monotonic()
    generate_call_events.apply_async(kwargs={"now": later.isoformat()})
    sent_all = wait_until(
        lambda: Delivery.objects.filter(event__order_id__in=ids, status="sent").count() == 10, timeout=90
    )
    checks.append(
        check(
            "Redis back, one tick: the worker reconnected and sent the 10 SMS",
            sent_all,
            f"{time.monotonic() - published_at:.1f} s after the tick was published",
        )
    )
    attempts = sorted(Delivery.objects.filter(event__order_id__in=ids).values_list("attempts", flat=True))
    checks.append(check("each SMS handed over once (attempts)", attempts == [1] * 10, f"{attempts}"))
    numbers = [o.number for o in orders]
    handed = [sum(1 for line in trace_lines("sms-sent") if n in line) for n in numbers]
    checks.append(check("each order's SMS reached the provider exactly once", handed == [1] * 10, f"{handed}"))
    events = CallEvent.objects.filter(order_id__in=ids).values_list("order_id", "kind")
    checks.append(
        check(
            "call events exactly once: one arrival per order, none lost",
            sorted(events) == sorted((i, "arrival") for i in ids),
            f"{len(events)} events",
        )
    )
    stack.stop(worker)
    verdict("(a) Redis stopped during receipts", checks)


# -- (b) a worker killed mid-task ----------------------------------------------------------------------------------
def scenario_worker(stack: infra.Stack, data: Data, base: str) -> None:
    from django.db import connection

    from notifications.models import CallEvent, Delivery
    from notifications.tasks import generate_call_events

    print("(b) Celery worker process SIGKILLed mid-task (acks_late + reject_on_worker_lost)", flush=True)
    checks = []
    worker = start_worker(stack, "kill", BENCH_SLOW_TICK=6, BENCH_SLOW_SMS=6)
    # Orders placed 7 days ago with a 20-day agreed ETA: the tick owes them interim-ETA calls (R3).
    orders = data.placed_orders(5, placed_days_ago=7, eta_days=20)
    ids = [o.pk for o in orders]
    marks = len(trace_lines("tick-in-transaction"))
    generate_call_events.apply_async()
    wait_until(lambda: len(trace_lines("tick-in-transaction")) > marks, timeout=60)
    children = pool_children(worker)
    in_tx = trace_lines("tick-in-transaction")[-1] if len(trace_lines("tick-in-transaction")) > marks else ""
    killed = in_tx.rsplit("pid=", 1)[-1] if in_tx else ""
    if killed and int(killed) in children:
        os.kill(int(killed), 9)
    checks.append(check("tick SIGKILLed inside its transaction", bool(killed), f"pool process {killed}, {in_tx[:40]}"))
    connection.close()
    checks.append(check("its rows were rolled back", not CallEvent.objects.filter(order_id__in=ids).exists()))
    rerun = wait_until(
        lambda: any(f"pid={killed}" not in line for line in trace_lines("tick-end")[stack.ticks_seen :]), timeout=60
    )
    stack.ticks_seen = len(trace_lines("tick-end"))
    checks.append(check("the tick ran again in a new pool process", rerun))
    wait_until(lambda: CallEvent.objects.filter(order_id__in=ids).exists(), timeout=20)
    first = sorted(CallEvent.objects.filter(order_id__in=ids).values_list("order_id", "kind", "due_date"))
    checks.append(
        check(
            "interim-ETA calls created by the re-run",
            len(first) >= 5 and {k for _o, k, _d in first} == {"interim_eta"},
            f"{len(first)} events for 5 orders",
        )
    )
    checks.append(check("no call event twice", len(first) == len(set(first))))

    # The SMS: killed right after the provider accepted it, before the result was recorded.
    order = data.placed_orders(1)[0]
    sent_before = len(trace_lines("sms-sent"))
    code, _took = receive(base, data.token, order)
    checks.append(check("receipt answered 200", code == 200, str(code)))
    wait_until(lambda: len(trace_lines("sms-sent")) > sent_before, timeout=60)
    line = trace_lines("sms-sent")[-1] if len(trace_lines("sms-sent")) > sent_before else ""
    killed = line.rsplit("pid=", 1)[-1] if line else ""
    if killed and int(killed) in pool_children(worker):
        os.kill(int(killed), 9)
    checks.append(check("worker SIGKILLed after the provider accepted the SMS", bool(killed), f"pool process {killed}"))
    connection.close()
    settled = wait_until(
        lambda: Delivery.objects.filter(event__order=order).exclude(status__in=["queued", "sending"]).exists(),
        timeout=60,
    )
    delivery = Delivery.objects.filter(event__order=order).first()
    checks.append(
        check(
            "the task ran again and saw the interrupted attempt",
            settled and delivery.status == "unknown",
            f"status {delivery.status if delivery else None!r}, attempts {delivery.attempts if delivery else None}"
            " (unknown = may have gone out; shown to an operator, never re-sent blindly)",
        )
    )
    handed = sum(1 for line in trace_lines("sms-sent") if order.number in line)
    checks.append(check("the SMS reached the provider exactly once (no duplicate)", handed == 1, f"{handed}"))
    deliveries = Delivery.objects.filter(event__order=order).count()
    events = CallEvent.objects.filter(order=order).count()
    checks.append(check("one SMS row and one arrival event", (deliveries, events) == (1, 1), f"{deliveries}, {events}"))
    stack.stop(worker)
    verdict("(b) worker killed mid-task", checks)


# -- (c) PostgreSQL restarted while gunicorn serves ------------------------------------------------------------------
def well_formed_503(response) -> bool:
    """Issue 12, item 10: the API's outage answer says when to retry and why, as JSON."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        return False
    return response.headers.get("Retry-After", "").isdigit() and bool(detail)


def scenario_postgres(stack: infra.Stack, data: Data, base: str) -> None:
    import requests
    from django.db import connection

    from notifications.tasks import generate_call_events

    print("(c) PostgreSQL restarted while gunicorn serves", flush=True)
    worker = start_worker(stack, "pg")
    checks = []
    # (time, status or the exception's name); a 503 counts as such only with Retry-After and the JSON detail
    log: list[tuple[float, int | str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    headers = {"Authorization": f"Token {data.token}", "X-Forwarded-Proto": "https"}

    def client(n: int) -> None:
        session = requests.Session()
        for _ in range(20_000):  # bounded; stops at the flag
            if stop.is_set():
                return
            url = f"{base}/api/orders/" if n % 2 else f"{base}/api/orders/?status=ordered"
            try:
                response = session.get(url, headers=headers, timeout=15)
                status = response.status_code
                if status == 503 and not well_formed_503(response):
                    status = "503 without Retry-After/JSON"
            except requests.RequestException as error:
                status = type(error).__name__
            with lock:
                log.append((time.monotonic(), status))
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    before = [s for _t, s in log]
    restart_began = time.monotonic()
    infra.pg_ctl("restart")
    restart_ended = time.monotonic()
    time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    during = [s for t, s in log if restart_began - 0.5 <= t <= restart_ended + 2]
    after = [s for t, s in log if t > restart_ended + 2]
    unavailable = [s for s in during if s == 503]
    failed_during = [s for s in during if s not in (200, 503)]
    checks.append(
        check("before the restart: all 200", bool(before) and set(before) == {200}, f"{len(before)} requests")
    )
    print(
        f"  restart took {restart_ended - restart_began:.1f} s; requests around it: {len(during)}, "
        f"503 (Retry-After) {len(unavailable)}, failed otherwise {len(failed_during)} "
        f"({', '.join(sorted({str(s) for s in failed_during})) or 'none'})",
        flush=True,
    )
    errors = [s for _t, s in log if s not in (200, 503)]
    checks.append(
        check(
            "no 500 (nor any other failure) at any time: the restart answers 503 + Retry-After",
            not errors,
            f"{len(unavailable)} × 503, {sum(1 for s in errors if s == 500)} × 500, "
            f"{len(errors)} failures in all ({', '.join(sorted({str(s) for s in errors})) or 'none'})",
        )
    )
    first_ok = next((t for t, s in log if t > restart_ended and s == 200), None)
    checks.append(
        check(
            "after the restart: every request succeeds, gunicorn not restarted",
            bool(after) and set(after) == {200},
            f"{len(after)} requests, {sum(1 for s in after if s != 200)} failed; first 200 "
            + (f"{first_ok - restart_ended:.2f} s after the restart returned" if first_ok else "never"),
        )
    )
    page = requests.get(f"{base}/healthz/", timeout=10).status_code
    checks.append(check("gunicorn master is the same process", stack.processes[0][1].poll() is None and page == 200))
    connection.close()
    marks = len(trace_lines("tick-end"))
    generate_call_events.apply_async()
    checks.append(
        check(
            "the Celery worker recovered too: a tick after the restart completed",
            wait_until(lambda: len(trace_lines("tick-end")) > marks, timeout=60),
        )
    )
    stack.stop(worker)
    verdict("(c) PostgreSQL restarted", checks)


SCENARIOS = {"redis": scenario_redis, "worker": scenario_worker, "postgres": scenario_postgres}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="redis,worker,postgres", help="comma-separated: redis, worker, postgres")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    env = infra.app_env(database_url=DATABASE_URL, redis_url=REDIS_URL, extra={"LOG_LEVEL": "WARNING"})
    stack = infra.Stack(env)
    stack.ticks_seen = 0
    TRACE.parent.mkdir(parents=True, exist_ok=True)
    TRACE.write_text("")
    began = time.monotonic()
    try:
        stack.pg_started = infra.ensure_pg_cluster()
        stack.redis_started = infra.redis_start()
        infra.ensure_database(DATABASE_URL)
        stack.manage("migrate", "--noinput", "-v0")
        stack.manage("load_demo")
        os.environ.update(env)
        data = Data()
        port = infra.free_port()
        stack.gunicorn(port, workers=2)
        base = f"http://127.0.0.1:{port}"
        print(f"services: PostgreSQL 127.0.0.1:{infra.PG_PORT}, Redis 127.0.0.1:{infra.REDIS_PORT}, gunicorn {base}\n")
        for name in chosen:
            try:
                SCENARIOS[name](stack, data, base)
            except Exception as error:  # noqa: BLE001 - a scenario that blew up is a FAIL, the next one still runs
                print(f"  scenario crashed: {type(error).__name__}: {error}")
                RESULTS.append((name, False))
                infra.redis_start()
                infra.wait_for(infra.pg_ready, timeout=60, what="PostgreSQL")
    finally:
        stack.close()
    print("summary: " + ", ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in RESULTS))
    print(f"run on {datetime.date.today().isoformat()} in {time.monotonic() - began:.0f} s")
    return 0 if RESULTS and all(ok for _name, ok in RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
