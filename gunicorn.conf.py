"""gunicorn's settings (read from the working directory by ``gunicorn dms.wsgi``; command-line flags override).

Issue 19 item 4, measured with bench/load.py and bench/request_overhead.py (README «Load»): a request spends most
of its time in Python, some in PostgreSQL and Redis round trips. Threaded workers (gthread) keep the CPUs busy while
a thread waits on the database, and keep HTTP connections alive (the sync worker closes each one); one process per
core plus one, a few threads each. Every thread holds one persistent database connection (CONN_MAX_AGE), so the
connections are workers × threads per web host: size PostgreSQL's max_connections for all hosts.
"""

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", _cores() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 20
# Longer than a proxy's idle upstream timeout: gunicorn never closes a connection the proxy is about to reuse.
keepalive = 65
backlog = 512
# A worker is replaced after this many requests (jittered, so they do not restart together): bounds any slow leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 10000))
max_requests_jitter = max_requests // 10
# The access log costs a write per request; "-" sends it to stdout (the container's log), an empty value turns it off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
