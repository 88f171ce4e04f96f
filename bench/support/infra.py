"""Throwaway PostgreSQL and Redis for the load and fault scripts, gunicorn and Celery processes — loopback only.

The shared PostgreSQL (5432) and Redis (6379) are never touched: by default the scripts run on their own PostgreSQL
cluster ``15/benchfaults`` on port 5440 and their own ``redis-server`` on port 6390, created and started here if
missing (idempotently). Everything started here is stopped again by ``Stack.close()``; nothing else is ever stopped.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent
PG_CLUSTER = os.environ.get("BENCH_PG_CLUSTER", "benchfaults")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5440"))
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6390"))
LOG_DIR = ROOT / "var" / "bench"


def log(message: str) -> None:
    print(message, flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - keep polling until the deadline
            pass
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


# -- PostgreSQL ----------------------------------------------------------------------------------------------------
def pg_version() -> str:
    versions = (
        sorted(Path("/etc/postgresql").iterdir(), key=lambda p: int(p.name)) if Path("/etc/postgresql").exists() else []
    )
    if not versions:
        raise RuntimeError("no PostgreSQL server installed (apt-get install postgresql)")
    return os.environ.get("BENCH_PG_VERSION", versions[-1].name)


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), PG_CLUSTER, action],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )


def pg_running() -> bool:
    result = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), PG_CLUSTER, "status"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
    )
    return result.returncode == 0


def pg_ready() -> bool:
    import psycopg2

    psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="postgres", dbname="postgres", connect_timeout=2).close()
    return True


def ensure_pg_cluster() -> bool:
    """Create (once) and start our own cluster on 127.0.0.1:PG_PORT with trust auth. True if we started it."""
    version = pg_version()
    if not Path(f"/etc/postgresql/{version}/{PG_CLUSTER}").exists():
        log(f"creating PostgreSQL cluster {version}/{PG_CLUSTER} on 127.0.0.1:{PG_PORT}")
        subprocess.run(
            [
                "pg_createcluster",
                version,
                PG_CLUSTER,
                "--port",
                str(PG_PORT),
                "-o",
                # a bare word: pg_createcluster writes the value unquoted (and escapes quotes given to it)
                "listen_addresses=localhost",
                "-o",
                "max_connections=100",
                "--",
                "--auth-host=trust",
                "--auth-local=trust",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
    started = False
    if not pg_running():
        pg_ctl("start")
        started = True
    wait_for(pg_ready, timeout=30, what=f"PostgreSQL on port {PG_PORT}")
    return started


def ensure_database(url: str) -> None:
    import psycopg2

    base, name = url.rsplit("/", 1)
    admin = psycopg2.connect(base + "/postgres", connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


# -- Redis ---------------------------------------------------------------------------------------------------------
def redis_ping(port: int = REDIS_PORT) -> bool:
    import redis

    return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1).ping())


def redis_pidfile(port: int = REDIS_PORT) -> Path:
    return Path(f"/tmp/dms-bench-redis-{port}.pid")


def redis_start(port: int = REDIS_PORT) -> bool:
    """Start our own redis-server on 127.0.0.1:port unless one answers there. True if we started it."""
    try:
        if redis_ping(port):
            return False
    except Exception:  # noqa: BLE001 - not running
        pass
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    subprocess.run(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--pidfile",
            str(redis_pidfile(port)),
            "--logfile",
            f"/tmp/dms-bench-redis-{port}.log",
        ],
        check=True,
        timeout=30,
    )
    wait_for(lambda: redis_ping(port), timeout=20, what=f"Redis on port {port}")
    return True


def redis_stop(port: int = REDIS_PORT) -> None:
    """Stop OUR redis-server (by the pid in its pidfile; never a broad kill)."""
    pidfile = redis_pidfile(port)
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().strip() or 0)
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and port_open(port):
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)


# -- the app's environment and processes ---------------------------------------------------------------------------
def app_env(*, database_url: str, redis_url: str, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "dms.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("TWILIO_ACCOUNT_SID", None)  # console SMS backend: nothing leaves the machine
    env.pop("TWILIO_AUTH_TOKEN", None)
    env.update(extra or {})
    return env


class Stack:
    """Processes started by a script; ``close()`` stops exactly these (process groups we created)."""

    def __init__(self, env: dict):
        self.env = env
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.pg_started = False
        self.redis_started = False
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        logfile = open(LOG_DIR / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env or self.env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process))
        return process

    def gunicorn(
        self, port: int, workers: int | None = None, threads: int | None = None, worker_class: str | None = None
    ) -> subprocess.Popen:
        """gunicorn with the project's gunicorn.conf.py (read from ROOT); a value given here overrides the file's."""
        overrides = []
        for flag, value in (("--workers", workers), ("--threads", threads), ("--worker-class", worker_class)):
            if value is not None:
                overrides += [flag, str(value)]
        process = self.spawn(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "dms.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                *overrides,
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--backlog",
                "256",
                "--access-logfile",
                "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
            ],
        )
        import requests

        wait_for(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz/", timeout=2).status_code == 200,
            timeout=60,
            what="gunicorn",
            interval=0.3,
        )
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 15) -> None:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def close(self) -> None:
        for _name, process in reversed(self.processes):
            self.stop(process)
        self.processes.clear()
        if self.redis_started:
            redis_stop()
        if self.pg_started and not os.environ.get("BENCH_KEEP_PG"):
            pg_ctl("stop")


def collectstatic_needed() -> bool:
    return not glob.glob(str(ROOT / "var" / "static" / "staticfiles.json"))
