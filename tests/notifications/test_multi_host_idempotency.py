"""Issue 19 item 6: two web processes and two Celery workers together keep every idempotency rule — one call event
per order, kind and day; one message per event and channel, sent once — real processes on PostgreSQL and Redis,
as on several hosts (bounded in time).

The web processes (gunicorn) receive the parts of different orders at the same moment (each receipt runs the
generator for its order and queues the arrival SMS), while both workers run generator ticks over every order that
the test sends through Redis, as beat does. Each process prints the messages it sends (the console SMS backend):
every message appears once across all four logs.
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework.authtoken.models import Token

from dms.celery import app
from notifications.models import CallEvent, Delivery
from notifications.tasks import generate_call_events
from tests.factories import CustomerFactory, VehicleFactory

from .conftest import at

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 10
TICKS = 6


def wait_for(predicate, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def hosts(tmp_path):
    """Two gunicorn web processes and two Celery workers on the test database and Redis; stopped at the end."""
    import redis
    import requests

    url = os.environ["TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()  # our own DB number only
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dms.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": url,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }
    processes, logs = [], []

    def start(name: str, argv: list[str]) -> None:
        log = tmp_path / f"{name}.log"
        logs.append(log)
        with open(log, "wb") as out:
            processes.append(
                subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            )

    ports = [_free_port(), _free_port()]
    try:
        for n, port in enumerate(ports):
            start(
                f"web{n}",
                [
                    sys.executable, "-m", "gunicorn", "dms.wsgi", "--bind", f"127.0.0.1:{port}",
                    "--workers", "1", "--threads", "4", "--timeout", "60", "--access-logfile", "/dev/null",
                ],
            )  # fmt: skip
        for n in range(2):
            start(
                f"worker{n}",
                [
                    sys.executable, "-m", "celery", "-A", "dms", "worker", "-P", "solo", "-c", "1", "-n",
                    f"host{n}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
                ],
            )  # fmt: skip

        def web_up(port: int) -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_for(lambda: all(web_up(p) for p in ports), timeout=120), _logs(logs)
        assert wait_for(lambda: all("ready" in log.read_text(errors="replace") for log in logs[2:]), 120), _logs(logs)
        yield {"ports": ports, "redis": url, "logs": logs}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _logs(logs) -> str:
    return "\n".join(f"== {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in logs)


def test_two_web_processes_and_two_workers_keep_every_idempotency_rule(make_order, parts_manager, dealership, hosts):
    import requests

    vehicles = [VehicleFactory(customer=CustomerFactory(dealership=dealership)) for _ in range(ORDERS)]
    orders = [
        make_order(kind="warranty", placed_at=at("2026-11-20"), customer=v.customer, vehicle_=v) for v in vehicles
    ]
    token = Token.objects.create(user=parts_manager).key
    lines = {order.pk: order.lines.get().pk for order in orders}

    def receive(index_order):
        index, order = index_order
        port = hosts["ports"][index % 2]  # half the orders through each web process
        response = requests.post(
            f"http://127.0.0.1:{port}/api/orders/{order.pk}/receive/",
            json={"lines": [{"line": lines[order.pk], "quantity": "2"}], "comment": ""},
            headers={"Authorization": f"Token {token}"},
            timeout=60,
        )
        return response.status_code, "" if response.status_code == 200 else response.text[:500]

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with ThreadPoolExecutor(max_workers=ORDERS) as pool:
            answers = pool.map(receive, enumerate(orders))
            # Meanwhile beat's ticks, through Redis, for whichever worker takes them.
            with app.connection_for_write(hosts["redis"]) as conn:
                for _ in range(TICKS):
                    generate_call_events.apply_async(connection=conn)
            answers = list(answers)
    finally:
        app.conf.task_always_eager = eager
    assert [code for code, _body in answers] == [200] * ORDERS, (answers, _logs(hosts["logs"]))

    import redis

    queue = redis.Redis.from_url(hosts["redis"])
    arrivals = CallEvent.objects.filter(order__in=orders, kind="arrival")

    def settled() -> bool:
        return (
            queue.llen("celery") == 0
            and arrivals.count() == ORDERS
            and Delivery.objects.filter(event__in=arrivals, status="sent").count() == ORDERS
        )

    assert wait_for(settled), _logs(hosts["logs"])
    # One call event per order, kind and day.
    per_key = CallEvent.objects.values("order", "kind", "due_date").annotate(n=Count("id"))
    assert {row["n"] for row in per_key} == {1}
    assert sorted(arrivals.values_list("order", flat=True)) == sorted(o.pk for o in orders)
    # One message per event and channel, each sent exactly once (attempts and the four processes' output).
    per_event = Delivery.objects.filter(event__isnull=False).values("event", "channel").annotate(n=Count("id"))
    assert {row["n"] for row in per_event} == {1}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    sent = Counter()
    for log in hosts["logs"]:
        for recipient in re.findall(r"\[SMS [^\]]*\] to (\+\d+):", log.read_text(errors="replace")):
            sent[recipient] += 1
    recipients = list(Delivery.objects.filter(channel="sms").values_list("recipient", flat=True))
    assert len(recipients) == ORDERS
    assert {r: sent[r] for r in recipients} == dict.fromkeys(recipients, 1), _logs(hosts["logs"])
