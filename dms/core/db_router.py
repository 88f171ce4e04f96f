"""Reports read from a replica (issue 19 item 6): a database router for ``DATABASE_REPLICA_URL``.

Only reads that may lag behind by a few seconds go there: report and KPI pages, their APIs and exports, the weekly
report e-mail — each marked with ``reads_from_replica`` (a view decorator) or ``with replica_reads():``. Everything
else, and every write, stays on the primary. Inside a transaction of the primary the primary answers too (a read
must see the transaction's own writes), and so do the tables of sign-in (sessions, users, tokens, lockouts): a
user created a second ago can sign in at once.

Without ``DATABASE_REPLICA_URL`` (``make run``, one database) the router answers None everywhere: Django's default.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)
# Sign-in and permissions: never from a replica that may not have them yet.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "authtoken", "axes", "contenttypes", "django_celery_beat"})


def replica_enabled() -> bool:
    return bool(getattr(settings, "REPORTS_FROM_REPLICA", False)) and REPLICA in settings.DATABASES


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block may come from the replica (a report's reads: a few seconds' lag is fine)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica(view):
    """A view (function, or ``dispatch`` through ``method_decorator``) whose reads may come from the replica."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with replica_reads():
            response = view(*args, **kwargs)
            # A template response renders after the view returns: render it here, still on the replica.
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                response = render()
            return response

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_reads.get() or not replica_enabled():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica follows the primary's schema by replication
