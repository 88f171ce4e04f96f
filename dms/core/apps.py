import json
import re

import orjson
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "dms.core"
    label = "core"
    verbose_name = _("Dealerships and customers")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the project's system checks)
        from .roles import sync_roles_after_migrate

        # Apps added later bring new permissions; keep every role's permissions in step with roles.py.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="core.sync_roles")

        from django.db.backends.signals import connection_created

        connection_created.connect(_unicode_like_on_sqlite, dispatch_uid="core.sqlite_like")

        from .validators import install_text_validators

        # Issue 12 item 2: one control-character validator on every text input (model, form and serializer fields).
        install_text_validators()
        from .inputs import install_input_bounds

        # Issue 12 item 5: a sane range for every date, bounds for every plain integer field.
        install_input_bounds()
        # Issue 19 item 4: the list pages read their rows' call logs and lines as PostgreSQL ``json`` (one query per
        # page); the driver parses them with orjson, 3–5× faster than the standard library.
        import psycopg2.extras

        psycopg2.extras.register_default_json(globally=True, loads=json_loads)


_LONG_DIGIT_RUN = re.compile(r"\d{19}")


def json_loads(text: str):
    """A ``json`` column's value as the standard library reads it: orjson, except where a run of 19 digits may be
    an integer beyond 64 bits (orjson would read it as a float) or orjson refuses the text."""
    if _LONG_DIGIT_RUN.search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _unicode_like_on_sqlite(sender, connection, **kwargs) -> None:
    """SQLite's LIKE folds only ASCII case: «петров» would not find «Петров» in the local (SQLite) run mode."""
    if connection.vendor != "sqlite":
        return
    import re
    from functools import lru_cache

    @lru_cache(maxsize=256)
    def compile_pattern(pattern: str, escape: str | None):
        out, i = [], 0
        while i < len(pattern):
            ch = pattern[i]
            if escape and ch == escape and i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
            i += 1
        return re.compile("".join(out), re.DOTALL | re.IGNORECASE)

    def like(pattern, value, escape=None):
        if pattern is None or value is None:
            return None
        return compile_pattern(pattern, escape).fullmatch(str(value)) is not None

    connection.connection.create_function("like", 2, like, deterministic=True)
    connection.connection.create_function("like", 3, like, deterministic=True)
