"""Production: PostgreSQL, Redis, HTTPS behind a proxy. Passes `manage.py check --deploy` cleanly."""

from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import REDIS_URL, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Issue 19 item 4: persistent connections (a new PostgreSQL connection costs a few ms of every request); checked
# before reuse, so a restarted database costs one failed check, not an error page. (This used to be a bare
# CONN_MAX_AGE setting, which Django ignores: every request opened its own connection.)
for _alias in DATABASES:  # noqa: F405
    DATABASES[_alias]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)  # noqa: F405
    DATABASES[_alias]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
# One cache for every web process: cached sessions and the dashboard's staff list must agree between workers.
CACHES = {
    "default": {
        # a Redis outage is a cache miss (sessions come from the database), never an error page
        "BACKEND": "dms.core.cache.ResilientRedisCache",
        "LOCATION": env("CACHE_URL", default=urlunsplit(urlsplit(REDIS_URL)._replace(path="/1"))),
        "KEY_PREFIX": "dms",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
# Issue 12, item 8: the API's schema and docs are for signed-in users only.
API_DOCS_LOGIN_REQUIRED = True
