"""Settings shared by every environment; values come from environment variables (12-factor)."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files served from our static files: no CDN at run time (issue 12, 8)
    "django_celery_beat",
    "phonenumber_field",
    "axes",
    "dms.core",
    "parts",
    "orders",
    "notifications",
    "service",
    "claims",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Issue 12, item 8 (after WhiteNoise: static files keep their caching): the CSP and no-store for private answers.
    "dms.core.headers.ContentSecurityPolicyMiddleware",
    "dms.core.headers.PrivateNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dms.core.locale_middleware.RussianFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dms.core.middleware.ActiveDealershipMiddleware",
    # Issue 12 items 2, 5: a control character (NUL included) in the path or a query string is a 400, before any
    # view or filter reads it (PostgreSQL refuses NUL in text: a search with one used to be a 500).
    "dms.core.middleware.ControlCharacterQueryMiddleware",
    # A view's exception that is no bug (process_exception only): database/cache unreachable → 503 + Retry-After
    # (issue 12 item 10); a value the database cannot store → 400 on pages too (issue 12 item 5).
    "dms.core.middleware.ErrorMappingMiddleware",
    # Axes must be last: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dms.urls"
WSGI_APPLICATION = "dms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # The money filter is used by every app's templates (issue 14 item 8): available without a {% load %}.
            "builtins": ["dms.core.templatetags.core_tags"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dms.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Issue 14 item 9: on SQLite (make run) the web process, two Celery workers and beat write to one file. SQLite's
# defaults make that fail at once with "database is locked": a deferred transaction that read first cannot take the
# write lock while another connection holds it, and the busy handler is not even tried. So every transaction asks
# for the write lock when it begins (IMMEDIATE) and waits up to SQLITE_BUSY_TIMEOUT seconds for it; WAL lets readers
# go on while one connection writes.
SQLITE_OPTIONS = {
    "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
# Issue 19 item 6: report and KPI reads may come from a read replica (dms.core.db_router; only the views marked
# reads_from_replica). Without DATABASE_REPLICA_URL there is one database and the router does nothing.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
    }
REPORTS_FROM_REPLICA = "replica" in DATABASES
DATABASE_ROUTERS = ["dms.core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dms.core.auth_backends.IdentityModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
# Sessions are read on every request: from the cache, written through to the database (nothing lost on a restart).
# The cache must be shared by all web processes — Redis in production (production.py); one process locally.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Issue 12 item 4: how many reverse proxies in front of the app append to X-Forwarded-For. 0 (make run, tests, a
# server reached directly): the header is ignored, the client is REMOTE_ADDR. N: the N-th address from the right.
# Every per-address limit (throttles, the complaint form, the login lockout) asks dms.core.security.client_address.
TRUSTED_PROXIES = max(0, env.int("TRUSTED_PROXIES", default=0))

# Failed logins: 5 attempts per username+address, then locked for 15 minutes; and 20 failures from one address
# across usernames (password spraying) lock the address (dms.core.security.LoginLockoutHandler).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "dms.core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "dms.core.security.client_address"
AXES_HANDLER = "dms.core.security.LoginLockoutHandler"
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)

# Issue 12 item 7: an advisor's iCalendar feed link (read without a login) expires after this many days.
CALENDAR_FEED_DAYS = env.int("CALENDAR_FEED_DAYS", default=180)

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default="RU")
PHONENUMBER_DEFAULT_FORMAT = "E164"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dms.core.authentication.IdentityTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dms.core.permissions.RoleModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "dms.core.pagination.CappedCountPagination",  # issue 19: counts stop at 10,000
    # Issue 19 item 4: DRF's renderers; the JSON written by orjson, the same bytes (dms.core.renderers).
    "DEFAULT_RENDERER_CLASSES": [
        "dms.core.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON nested deeper than any payload is a 400, not a RecursionError (issue 12 item 5).
    "DEFAULT_PARSER_CLASSES": [
        "dms.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "dms.core.filters.CachedFilterBackend",  # issue 19 item 4: the FilterSet class built once per view
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "dms.core.schema.AutoSchema",
    # Issue 16 item 2: integrators pin the contract with `Accept: application/json; version=1`; no version means 1,
    # an unknown one is a 406. Paths stay as they are (nothing to migrate); a breaking change ships as version 2
    # next to 1 and is listed in docs/API_CHANGELOG.md.
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.AcceptHeaderVersioning",
    "DEFAULT_VERSION": "1",
    "ALLOWED_VERSIONS": ["1"],
    "EXCEPTION_HANDLER": "dms.core.exceptions.api_exception_handler",
    # Keyed on the client address as the trusted proxy reports it (issue 12 item 4); NUM_PROXIES keeps any other
    # DRF throttle on the same rule.
    "DEFAULT_THROTTLE_CLASSES": ["dms.core.security.ClientAddressThrottle"],
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("THROTTLE_AUTH", default="10/min"),
        "public": env("THROTTLE_PUBLIC", default="20/hour"),
        # Issue 17 item 4: the public booking page's POSTs (a booking takes two or three) and its times API.
        "booking": env("THROTTLE_BOOKING", default="20/hour"),
        "booking_slots": env("THROTTLE_BOOKING_SLOTS", default="120/hour"),
    },
}
# Issue 12, item 8: the policy every response carries (dms.core.headers). Scripts only from our origin (plus the
# request's nonce when a template uses one); style attributes stay allowed: templates set data-driven widths and
# status colours inline, and HTML escaping already keeps user text out of attributes. Bootstrap's icons are data:
# SVGs. No CDN anywhere: Swagger UI comes from drf-spectacular-sidecar.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Issue 12, item 8: the API schema and its docs page need a signed-in user (production.py turns it on; tests and the
# schemathesis run read the schema anonymously).
API_DOCS_LOGIN_REQUIRED = env.bool("API_DOCS_LOGIN_REQUIRED", default=False)

SPECTACULAR_SETTINGS = {
    "TITLE": "DMS after-sales API",
    "DESCRIPTION": "Customer orders, call-backs, parts, service and claims of a car dealership.",
    # The API version of `Accept: application/json; version=1` (REST_FRAMEWORK's ALLOWED_VERSIONS), issue 16 item 2.
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # no badge fetched from validator.swagger.io (an outside call, refused by the CSP anyway)
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "GET_MOCK_REQUEST": "dms.core.schema.build_mock_request",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dms.core.schema.add_error_responses",
        "dms.core.schema.add_links",
    ],
    # Choice sets shared by several fields get one name (claims: attachment kinds, the failed part's instruction;
    # parts: sales orders reuse the customer's first-contact channels, R20).
    "ENUM_NAME_OVERRIDES": {
        "AttachmentKindEnum": "claims.models.AttachmentKind",
        "PartInstructionEnum": "claims.models.PartInstruction",
        "FirstContactChannelEnum": "dms.core.models.FirstContactChannel",
        "WebhookEventTypeEnum": "dms.core.models.WebhookEventType",
        "ReturnReasonEnum": "parts.models.ReturnRequest.Reason",
        # The name the customer fields gave it first (a renamed component breaks generated clients).
        "PreferredChannelEnum": "dms.core.models.ContactChannel",
        # Call events named it first; the service follow-ups' outcome has its own (issue 17 item 5).
        "OutcomeEnum": "notifications.models.CallOutcome",
        "FollowUpOutcomeEnum": "service.models.FollowUpOutcome",
    },
}

# Celery: Redis in production and CI; local "run" mode overrides with the filesystem transport.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Issue 19 item 6: one beat for every host keeps its schedule in the database (django-celery-beat): the entries below
# are written into it when beat starts (DatabaseScheduler.setup_schedule), and can be paused or changed in the admin.
# The same on SQLite (make run) as on PostgreSQL.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "generate call events every 15 minutes": {
        "task": "notifications.tasks.generate_call_events",
        "schedule": 15 * 60,
    },
    "e-mail the weekly call-compliance report on Monday morning": {
        "task": "notifications.tasks.send_weekly_call_compliance_report",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
    },
    "list service appointments for preparation 48 and 24 hours ahead every hour": {
        "task": "service.tasks.list_appointments_for_preparation",
        "schedule": crontab(minute=5),
    },
    "send service appointment confirmations 24 hours ahead every 15 minutes": {
        "task": "service.tasks.send_appointment_confirmations",
        "schedule": 15 * 60,
    },
    # Issue 17 item 5: service due by time or mileage raises its reminder (once per vehicle and period).
    "raise service reminders every morning": {
        "task": "service.tasks.raise_service_reminders",
        "schedule": crontab(hour=7, minute=15),
    },
    # R33: open complaints past their deadline are flagged and escalated to the dealership's directors.
    "flag overdue complaints and escalate them every hour": {
        "task": "claims.tasks.flag_overdue_complaints",
        "schedule": crontab(minute=35),
    },
    # Issue 16 item 5: webhook deliveries whose task was never published (broker down), retries that are due and
    # claims of workers that died are sent from the outbox by this tick.
    "send due webhook deliveries every minute": {
        "task": "dms.core.tasks.dispatch_webhooks",
        "schedule": 60,
    },
    "reclassify parts A/B/C on the 1st of each month": {
        "task": "parts.tasks.classify_abc_all",
        "schedule": crontab(hour=3, minute=30, day_of_month=1),
    },
}

# Outbound webhooks (issue 16 item 5): short timeouts, exponential backoff from WEBHOOK_BACKOFF_SECONDS, at most
# WEBHOOK_MAX_ATTEMPTS per delivery; a subscription is switched off after WEBHOOK_DISABLE_AFTER_FAILURES failed
# attempts in a row.
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOK_READ_TIMEOUT_SECONDS = env.float("WEBHOOK_READ_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_BACKOFF_SECONDS = env.int("WEBHOOK_BACKOFF_SECONDS", default=30)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=10)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="dms@localhost")

TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_STATUS_CALLBACK_URL = env("TWILIO_STATUS_CALLBACK_URL", default="")
# Issue 17 item 3: the public URL of the inbound-message webhook as Twilio calls it (the signature covers it; behind a
# proxy the request's own URL may differ), and the WhatsApp sender ("+7…" or "whatsapp:+7…"; empty: no WhatsApp).
TWILIO_INBOUND_URL = env("TWILIO_INBOUND_URL", default="")
TWILIO_WHATSAPP_FROM = env("TWILIO_WHATSAPP_FROM", default="")
# Issue 17 item 1: the public address of this app (e.g. "https://dms.example.ru") that customers' links in SMS and
# e-mail start with; empty, the links are paths only, which a phone cannot open (``check --deploy`` warns).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_error_without_traceback": {"()": "dms.core.log_filters.ClientErrorWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_error_without_traceback"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Replaces Django's own DEBUG console handler, which printed every django.* line a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
