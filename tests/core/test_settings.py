import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_without_warnings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "dms.settings.production",
        "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "dms.example.com",
        "PUBLIC_BASE_URL": "https://dms.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_local_settings_need_neither_postgres_nor_redis():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "dms.settings.local"
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, settings.LANGUAGE_CODE, "
        "settings.TIME_ZONE)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "ru", "Europe/Moscow"]


def test_customer_links_in_messages_are_absolute_with_the_public_address_from_the_environment():
    """Issue 17 item 1: the link in an SMS must open on a phone — PUBLIC_BASE_URL comes from the environment."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="dms.settings.local", PUBLIC_BASE_URL="https://dms.example.ru/")
    code = "import django; django.setup(); from dms.core import links; print(links.link_url('1.abc.def', 'status'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://dms.example.ru/c/1.abc.def/"


def test_check_deploy_warns_when_customer_links_would_be_bare_paths(settings):
    from dms.core.checks import check_public_base_url

    for value in ("", "dms.example.ru", "/c/", "ftp://dms.example.ru"):
        settings.PUBLIC_BASE_URL = value
        assert [w.id for w in check_public_base_url()] == ["dms.W017"], value
    settings.PUBLIC_BASE_URL = "https://dms.example.ru"
    assert check_public_base_url() == []
