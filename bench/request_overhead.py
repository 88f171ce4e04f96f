"""Where a request's time goes outside the view (issue 19 item 4): in-process, production settings, one request at
a time. Every middleware is wrapped by a timer (its own time, without the layers inside it, ``process_view`` /
``process_exception`` included); the session load, the authentication (``get_user``), the template rendering and
the database round trips are timed where they happen. Prints one table per request kind, in milliseconds (median of
``--repeat`` requests), and the sum outside the view.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/dms_bench_load CACHE_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/request_overhead.py [--repeat 40]

Run it on the database bench/load.py prepared (the demo + its background orders; it never writes except the
session of its own login). ``--settings`` compares another settings module (e.g. the state before a change).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USER = "parts"
TIMINGS: dict[str, float] = defaultdict(float)
WRAPPERS: dict[str, type] = {}


def _timed_wrapper(index: int, path: str) -> type:
    from django.utils.module_loading import import_string

    cls = import_string(path)
    label = path.rsplit(".", 1)[-1]

    class Timed:
        def __init__(self, get_response):
            def inner(request):
                began = time.perf_counter()
                try:
                    return get_response(request)
                finally:
                    TIMINGS[f"_inner{index}"] += time.perf_counter() - began

            self.middleware = cls(inner)
            for hook in ("process_view", "process_exception", "process_template_response"):
                if hasattr(self.middleware, hook):
                    setattr(self, hook, self._timed_hook(getattr(self.middleware, hook)))

        def _timed_hook(self, method):
            def hook(*args, **kwargs):
                began = time.perf_counter()
                try:
                    return method(*args, **kwargs)
                finally:
                    spent = time.perf_counter() - began
                    TIMINGS[f"mw {label}"] += spent
                    TIMINGS["_hooks"] += spent

            return hook

        def __call__(self, request):
            TIMINGS[f"_inner{index}"] = 0.0
            began = time.perf_counter()
            response = self.middleware(request)
            TIMINGS[f"mw {label}"] += time.perf_counter() - began - TIMINGS[f"_inner{index}"]
            return response

    Timed.__name__ = f"Timed{index}"
    return Timed


def _patch_hotspots() -> None:
    """Time the lazy work wherever it happens: session load, get_user, template rendering, SQL round trips."""
    import django.contrib.auth
    from django.contrib.auth import middleware as auth_middleware
    from django.template.backends.django import Template

    def timed(name, func):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                TIMINGS[name] += time.perf_counter() - began

        return wrapper

    from importlib import import_module

    from django.conf import settings

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.load = timed("session load", engine.SessionStore.load)
    engine.SessionStore.save = timed("session save", engine.SessionStore.save)
    auth_middleware.auth.get_user = timed("auth get_user", django.contrib.auth.get_user)
    Template.render = timed("templates render", Template.render)
    from rest_framework.authentication import TokenAuthentication

    TokenAuthentication.authenticate = timed("auth token (API)", TokenAuthentication.authenticate)
    from rest_framework.renderers import JSONRenderer

    JSONRenderer.render = timed("json render (API)", JSONRenderer.render)


def _sql_timer(execute, sql, params, many, context):
    began = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        TIMINGS["sql round trips"] += time.perf_counter() - began
        TIMINGS["_queries"] += 1


def setup(settings_module: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5440/dms_bench_load"
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    settings.MIDDLEWARE  # noqa: B018 - load the settings before changing them
    original = list(settings.MIDDLEWARE)
    wrapped = []
    for index, path in enumerate(original):
        WRAPPERS[f"Timed{index}"] = _timed_wrapper_lazy(index, path)
        wrapped.append(f"{__name__}.Timed{index}")
    settings.MIDDLEWARE = wrapped
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    django.setup()
    _patch_hotspots()


def _timed_wrapper_lazy(index: int, path: str):
    # The wrapped class is imported when the handler loads the middleware (after django.setup()).
    box: dict = {}

    def factory(get_response):
        if "cls" not in box:
            box["cls"] = _timed_wrapper(index, path)
        return box["cls"](get_response)

    return factory


def __getattr__(name: str):  # module attributes Timed0… for import_string
    if name in WRAPPERS:
        return WRAPPERS[name]
    raise AttributeError(name)


REQUESTS = [
    ("page_dashboard", "session", "/orders/"),
    ("page_dashboard_filtered", "session", "/orders/?status=ordered"),
    ("page_order", "session", None),
    ("api_list", "token", "/api/orders/"),
    ("api_detail", "token", None),
]


def measure(repeat: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from orders.models import CustomerOrder

    user = get_user_model().objects.get(username=USER)
    token, _ = Token.objects.get_or_create(user=user)
    order_id = (
        CustomerOrder.objects.filter(dealership_id=user.staff_profile.default_dealership_id).order_by("-id").first().pk
    )
    browser = Client(HTTP_X_FORWARDED_PROTO="https")
    browser.force_login(user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_X_FORWARDED_PROTO="https")
    summary = []
    with connection.execute_wrapper(_sql_timer):
        for kind, auth, url in REQUESTS:
            url = url or (f"/orders/{order_id}/" if kind == "page_order" else f"/api/orders/{order_id}/")
            client = browser if auth == "session" else api
            rows: dict[str, list[float]] = defaultdict(list)
            for attempt in range(repeat + 3):
                TIMINGS.clear()
                began = time.perf_counter()
                response = client.get(url, secure=True)
                total = time.perf_counter() - began
                if response.status_code != 200:
                    raise RuntimeError(f"{kind}: {url} answered {response.status_code}")
                if attempt < 3:  # warm-up: the first requests compile templates and fill caches
                    continue
                rows["TOTAL (test client)"].append(total)
                inner = TIMINGS.get(f"_inner{len(WRAPPERS) - 1}", 0.0) - TIMINGS.get("_hooks", 0.0)
                rows["view (url resolve + view + templates)"].append(inner)
                for key, value in TIMINGS.items():
                    if not key.startswith("_"):
                        rows[key].append(value)
                rows["queries (count)"].append(TIMINGS.get("_queries", 0))
            print(f"\n{kind}  {url}   median of {repeat}")
            for key in sorted(rows, key=lambda k: (not k.startswith("TOTAL"), not k.startswith("view"), k)):
                value = statistics.median(rows[key])
                shown = f"{value:.0f}" if key.endswith("(count)") else f"{value * 1000:.2f} ms"
                print(f"  {key:<42}{shown:>12}")
            middleware = sum(statistics.median(v) for k, v in rows.items() if k.startswith("mw "))
            total = statistics.median(rows["TOTAL (test client)"])
            view = statistics.median(rows["view (url resolve + view + templates)"])
            print(
                f"  → middleware own time {middleware * 1000:.2f} ms ({middleware / total:.0%} of the request), "
                f"view {view * 1000:.2f} ms"
            )
            summary.append((kind, total, view, middleware))
    print("\nsummary (ms): kind, in-process total, view, middleware")
    for kind, total, view, middleware in summary:
        print(f"  {kind:<26}{total * 1000:>8.2f}{view * 1000:>8.2f}{middleware * 1000:>8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--settings", default="dms.settings.production")
    args = parser.parse_args()
    setup(args.settings)
    measure(max(1, min(args.repeat, 1000)))
    print(f"\nload average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
