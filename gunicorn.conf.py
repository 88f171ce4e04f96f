"""gunicorn's settings (read from the working directory by ``gunicorn dms.wsgi``; command-line flags override).

Issue 19 item 4, measured with bench/load.py and bench/request_overhead.py (README «Load, issue 19»): a request is
CPU in Python plus a few PostgreSQL/Redis round trips. On 2 cores with the database on the same host, cores + 1 sync
workers did at least as well as threaded workers (threads of one process share the GIL: 8.5 vs 6.6 requests/s and a
tighter p95 in back-to-back runs). When the database is across a network, waiting dominates: set GUNICORN_THREADS
(e.g. 4) and the workers become gthread (threads overlap the waits, HTTP keep-alive behind the proxy). Every thread
holds one persistent database connection (CONN_MAX_AGE): hosts × workers × threads must fit PostgreSQL's
max_connections.
"""

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", _cores() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
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
