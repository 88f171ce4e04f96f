"""Local "run" mode: SQLite and kombu's filesystem broker, so neither PostgreSQL nor Redis is needed."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

# Issue 14 item 8: make run is how a newcomer meets the product, so it shows the site's own 404 and 500 pages, not
# Django's debug pages (those list every URL and setting). `DEBUG=true make run` brings them back for development.
DEBUG = env.bool("DEBUG", default=False)
# Static files straight from the apps' folders, no collectstatic step (whitenoise reads them while DEBUG is off too).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

_broker_dir = BASE_DIR / "var" / "broker"
for _folder in ("queue", "processed", "control"):
    (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
(BASE_DIR / "var" / "media").mkdir(parents=True, exist_ok=True)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# The links in the demo's SMS and e-mail (console backends) open the local server `make run` starts.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
