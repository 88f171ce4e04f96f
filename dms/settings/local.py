"""Local "run" mode: SQLite and kombu's filesystem broker, so neither PostgreSQL nor Redis is needed."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)

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
