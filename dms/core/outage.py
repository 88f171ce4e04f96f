"""Outages (issue 12, item 10): a request that cannot reach PostgreSQL or Redis answers 503 with Retry-After.

While PostgreSQL restarts (a couple of seconds) or a connection drops, the request is not wrong and nothing about it
is broken: the client should simply try again. So the answer is 503 Service Unavailable with ``Retry-After``, as JSON
``{"detail": ...}`` for /api/ and as a page in the site's layout and language for people — never a 500.

Only CONNECTION failures count. Other database errors that Django also reports as ``OperationalError`` are not
outages and keep their own handling (a 500 that gets investigated, or a 409 where a service maps it):
a lock timeout (55P03), a statement timeout / cancelled query (57014), a deadlock (40P01) or a serialization failure
(40001) — psycopg2 makes the last two ``TransactionRollbackError``, a subclass of ``OperationalError`` — mean the
server is up and answered; retrying them blindly would hide a real contention problem.

One place decides (``is_outage``) and one place answers (``outage_response``); they are used by
``dms.core.middleware.ErrorMappingMiddleware`` (view exceptions), by the DRF exception handler (API views catch
their exceptions before any middleware sees them) and by ``handler500`` (an exception raised outside the view, e.g.
while a middleware loads the session).
"""

from __future__ import annotations

import html
import logging
import sqlite3
import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

try:  # the driver's own classes, for an error raised outside Django's wrapper (e.g. by a raw cursor)
    import psycopg2
    import psycopg2.errors

    _DRIVER_OPERATIONAL_ERRORS: tuple[type[BaseException], ...] = (psycopg2.OperationalError,)
    _DRIVER_INTERFACE_ERRORS: tuple[type[BaseException], ...] = (psycopg2.InterfaceError,)
    # psycopg2 raises one class per SQLSTATE (psycopg2.errors); the class names the state even when ``pgcode`` is
    # empty (an error made by hand, as in tests).
    _SQLSTATE_OF_CLASS: dict[type, str] = {
        cls: code for code, cls in getattr(psycopg2._psycopg, "sqlstate_errors", {}).items()
    }
except ImportError:  # pragma: no cover - the local SQLite mode may run without psycopg2
    _DRIVER_OPERATIONAL_ERRORS = ()
    _DRIVER_INTERFACE_ERRORS = ()
    _SQLSTATE_OF_CLASS = {}

logger = logging.getLogger(__name__)

# Long enough for PostgreSQL to come back from a restart (the bench measured 2.5 s), short enough to feel live.
RETRY_AFTER_SECONDS = 5

# SQLSTATEs that mean "the server cannot talk to us now": class 08 (connection exception), 57P01 admin shutdown,
# 57P02 crash shutdown, 57P03 cannot connect now (starting up / shutting down), 53300 too many connections.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def _database_cause(error: BaseException) -> BaseException:
    """Django wraps the driver's exception (``raise ... from driver_error``): the driver's carries the SQLSTATE."""
    cause = error.__cause__
    return cause if cause is not None else error


def is_database_outage(error: BaseException) -> bool:
    if isinstance(error, InterfaceError):
        # "connection already closed": the connection died under us (psycopg2 raises nothing else as InterfaceError)
        return True
    if isinstance(error, _DRIVER_INTERFACE_ERRORS):
        return True
    if not isinstance(error, (OperationalError, *_DRIVER_OPERATIONAL_ERRORS)):
        return False
    cause = _database_cause(error)
    if isinstance(cause, sqlite3.OperationalError):
        # The local SQLite mode: only a file that cannot be opened is an outage ("database is locked" is a lock
        # timeout, "no such table" a missing migration — neither is cured by waiting).
        return "unable to open database file" in str(cause)
    if isinstance(cause, _DRIVER_INTERFACE_ERRORS):
        return True
    pgcode = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None) or _SQLSTATE_OF_CLASS.get(type(cause))
    if pgcode is None:
        # psycopg reports client-side connection failures without a SQLSTATE: "could not connect" / "connection
        # refused" / "server closed the connection unexpectedly" / "SSL SYSCALL error: EOF detected".
        return True
    return pgcode.startswith("08") or pgcode in _UNAVAILABLE_SQLSTATES


def is_cache_outage(error: BaseException) -> bool:
    # dms.core.cache.ResilientRedisCache already turns these into cache misses; this catches any other Redis client
    # (a development setting with Django's plain RedisCache, a direct client) that meets a dead or hung Redis.
    return isinstance(error, (RedisConnectionError, RedisTimeoutError))


def is_outage(error: BaseException | None) -> bool:
    return error is not None and (is_database_outage(error) or is_cache_outage(error))


def log_outage(request: HttpRequest, error: BaseException | None) -> None:
    # A warning, not an error: the outage itself is alerted on by the database's / Redis's own monitoring.
    logger.warning("%s %s: service unavailable (%s: %s)", request.method, request.path, type(error).__name__, error)


def outage_message() -> str:
    return _("The service is temporarily unavailable. Please try again in a few seconds.")


def _plain_page(message: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>503</title></head>'
        f"<body><p>{html.escape(message)}</p></body></html>"
    )


def outage_response(request: HttpRequest, error: BaseException | None = None) -> HttpResponse:
    """503 + Retry-After: JSON for the API, the 503 page for browsers. Touches neither the database nor the cache."""
    log_outage(request, error)
    message = outage_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        try:
            # Rendered WITHOUT the request: no context processors (the menu, the user's dealerships and roles all
            # read the database); base.html shows its signed-out layout.
            page = get_template("503.html").render({"message": message, "retry_after": RETRY_AFTER_SECONDS})
        except Exception:  # noqa: BLE001 - an error page must not fail: fall back to plain HTML
            logger.exception("the 503 page could not be rendered")
            page = _plain_page(message)
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an outage met OUTSIDE the view (a middleware loading the session, the session's save) is a 503
    too. Django calls this inside its ``except`` block, so the exception is still in ``sys.exc_info()``."""
    error = sys.exc_info()[1]
    if is_outage(error):
        return outage_response(request, error)
    if request.path.startswith("/api/"):  # an API client gets JSON for an unexpected error too
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)  # templates/500.html needs no database
