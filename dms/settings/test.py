"""Test settings: PostgreSQL by default (DATABASE_URL); the test runner may fall back to SQLite."""

from .base import *  # noqa: F403
from .base import SQLITE_OPTIONS, STATIC_ROOT, env

STATIC_ROOT.mkdir(parents=True, exist_ok=True)

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/dms")}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # make test without PostgreSQL (issue 14 item 9)
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
# Issue 19 item 6: the read replica's alias, in tests a mirror of the default database (the same rows). The router
# sends nothing there unless a test switches REPORTS_FROM_REPLICA on (tests/core/test_db_router.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
REPORTS_FROM_REPLICA = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
TWILIO_ACCOUNT_SID = ""
TWILIO_AUTH_TOKEN = ""
TWILIO_WHATSAPP_FROM = ""
TWILIO_INBOUND_URL = ""
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
LANGUAGE_CODE = "ru"
