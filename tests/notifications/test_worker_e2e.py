"""End to end: a real Celery worker on Redis runs the generator at startup and on demand (bounded in time)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from dms.celery import app
from notifications.models import CallEvent, Delivery
from notifications.tasks import generate_call_events

from .conftest import at, d

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def worker():
    import redis

    url = os.environ["TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()  # our own DB number only
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dms.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dms",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield {"url": url, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_real_worker_generates_at_startup_and_on_a_task(make_order, worker):
    received = make_order(kind="warranty", placed_at=at("2025-06-01"), received_at=at("2025-06-05"))
    # The receipt's on-commit trigger already ran here; start from nothing to see the worker do it.
    Delivery.objects.all().delete()
    CallEvent.objects.all().delete()

    # 1. At startup the worker runs a tick of its own (worker_ready → generate_call_events).
    assert wait_for(lambda: CallEvent.objects.filter(order=received, kind="arrival").exists()), _log(worker)
    assert CallEvent.objects.get(order=received, kind="arrival").due_date == d("2025-06-08")

    # 2. A task sent through Redis (as beat does every 15 minutes) replays a tick as of a given moment.
    waiting = make_order(placed_at=at("2025-06-01"), eta_days=15)
    CallEvent.objects.filter(order=waiting).delete()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(worker["url"]) as conn:
            generate_call_events.apply_async(kwargs={"now": "2025-06-07T12:00:00+03:00"}, connection=conn)
    finally:
        app.conf.task_always_eager = eager
    assert wait_for(lambda: CallEvent.objects.filter(order=waiting).count() == 2), _log(worker)
    assert sorted(CallEvent.objects.filter(order=waiting).values_list("due_date", flat=True)) == [
        d("2025-06-07"),
        d("2025-06-10"),
    ]
    assert CallEvent.objects.filter(order=received, kind="arrival").count() == 1  # idempotent: nothing doubled


def _log(worker) -> str:
    worker["process"].terminate()
    out, _ = worker["process"].communicate(timeout=20)
    return out.decode(errors="replace")[-3000:]
