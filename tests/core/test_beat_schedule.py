"""Issue 19 item 6: one beat for every host (django-celery-beat's DatabaseScheduler, in every environment): the
schedule of the settings is written into the database when beat starts, once, whichever host starts it."""

from pathlib import Path

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from dms.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_uses_the_database_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.beat_scheduler == settings.CELERY_BEAT_SCHEDULER
    # make run (SQLite, embedded broker) starts beat inside its worker with the same scheduler
    run = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "--beat" in run and "--scheduler django_celery_beat.schedulers:DatabaseScheduler" in run


@pytest.mark.django_db
def test_beat_seeds_the_schedule_from_the_settings_once(monkeypatch):
    # beat closes stale connections between syncs; inside the test's transaction that would close the test's own
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)
    DatabaseScheduler(app=app)
    DatabaseScheduler(app=app)  # a second start (another host, a restart) adds nothing
    tasks = {task.name: task for task in PeriodicTask.objects.exclude(name__startswith="celery.")}
    assert set(tasks) == set(settings.CELERY_BEAT_SCHEDULE)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert tasks[name].task == entry["task"]
        assert tasks[name].enabled
    generator = tasks["generate call events every 15 minutes"]
    assert generator.interval.every == 15 * 60 and generator.interval.period == "seconds"
    monday = tasks["e-mail the weekly call-compliance report on Monday morning"]
    assert (monday.crontab.hour, monday.crontab.minute, monday.crontab.day_of_week) == ("8", "0", "mon")
