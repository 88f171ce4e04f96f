"""A Celery worker whose call-event tick and SMS sending are slowed down, so a fault script can SIGKILL it mid-task.

    python bench/support/slow_worker.py <node name>

Env: BENCH_SLOW_TICK (seconds slept inside the tick's transaction, after its INSERT), BENCH_SLOW_SMS (seconds slept
right AFTER the provider accepted a message and before the result is recorded — the moment where a naive retry would
send the message twice), BENCH_TRACE (a file: one line per tick start/end and per message handed to the provider).
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from notifications import generator, sms  # noqa: E402

TRACE = os.environ.get("BENCH_TRACE", "/dev/null")
SLOW_TICK = float(os.environ.get("BENCH_SLOW_TICK", "0"))
SLOW_SMS = float(os.environ.get("BENCH_SLOW_SMS", "0"))


def trace(line: str) -> None:
    with open(TRACE, "a") as handle:
        handle.write(f"{line} pid={os.getpid()}\n")


_tick = generator.tick


def slow_tick(**kwargs):
    result = _tick(**kwargs)
    if kwargs.get("order_ids") is None:  # the periodic tick, not a receipt's
        trace(f"tick-in-transaction created={result.created}")
        time.sleep(SLOW_TICK)
        trace("tick-end")
    return result


_send = sms.ConsoleSmsBackend.send


def slow_send(self, *, to, body, status_callback=""):
    result = _send(self, to=to, body=body, status_callback=status_callback)
    trace(f"sms-sent to={to} body={body[:60]!r}")
    time.sleep(SLOW_SMS)
    return result


generator.tick = slow_tick
sms.ConsoleSmsBackend.send = slow_send

from dms.celery import app  # noqa: E402

app.worker_main(
    ["worker", "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", sys.argv[1]]
)
