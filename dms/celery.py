import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dms.settings.local")

app = Celery("dms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
