"""``make run`` on SQLite: the web process, two Celery workers and beat write to one file (issue 14 item 9).

Before the fix the worker logged "database is locked" within the first minute: a transaction that reads and then
writes (``delivery_claim``, ``generate_call_events``) could not take the write lock while another process held it,
and SQLite failed at once instead of waiting. These tests run real processes on a SQLite file under the local
settings, as ``make run`` does.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys, time
import django
django.setup()
from django.db import connection, transaction

role = sys.argv[1]
if role == "setup":
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (id integer primary key, n integer not null)")
        cursor.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
    sys.exit(0)
if role == "settings":
    import json
    with connection.cursor() as cursor:
        journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        busy_timeout = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
    print(json.dumps({"journal_mode": journal_mode, "busy_timeout_ms": busy_timeout,
                      "transaction_mode": connection.transaction_mode}))
    sys.exit(0)
errors = []
for _ in range(int(sys.argv[2])):
    try:
        # Read, then write in one transaction: the shape of delivery_claim (select_for_update is a no-op on SQLite).
        with transaction.atomic():
            with connection.cursor() as cursor:
                n = cursor.execute("SELECT n FROM counter WHERE id = 1").fetchone()[0]
                time.sleep(0.002)
                cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
    except Exception as error:  # noqa: BLE001 - every failure is reported to the test
        errors.append(f"{type(error).__name__}: {error}")
print("\n".join(errors))
"""


def _env(database: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "dms.settings.local"
    env["DATABASE_URL"] = f"sqlite:///{database}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def _run(script: Path, database: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=ROOT, env=_env(database), capture_output=True, text=True, timeout=120
    )


def test_local_sqlite_connections_wait_for_the_write_lock(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    database = tmp_path / "db.sqlite3"
    result = _run(script, database, "settings")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "journal_mode": "wal",
        "busy_timeout_ms": 30000,
        "transaction_mode": "IMMEDIATE",
    }


def test_concurrent_writers_on_local_sqlite_lose_nothing(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    database = tmp_path / "db.sqlite3"
    setup = _run(script, database, "setup")
    assert setup.returncode == 0, setup.stderr
    per_writer, writers = 150, 3
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), "write", str(per_writer)],
            cwd=ROOT,
            env=_env(database),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(writers)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert stdout.strip() == "", f"a writer failed: {stdout.strip().splitlines()[:3]}"
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; print(sqlite3.connect({str(database)!r}).execute('SELECT n FROM counter').fetchone()[0])",
        ],
        capture_output=True,
        text=True,
    )
    assert int(check.stdout) == per_writer * writers


def test_make_run_shows_the_sites_error_pages_and_serves_static_files(tmp_path):
    """Issue 14 item 8: make run is the newcomer's first look, so no Django debug page (it lists every URL); static
    files are still served by whitenoise from the apps' folders without collectstatic."""
    env = _env(tmp_path / "db.sqlite3")
    env.pop("DEBUG", None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.WHITENOISE_USE_FINDERS, settings.WHITENOISE_AUTOREFRESH)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]
