"""Issue 19 items 4 and 6: docker-compose.yml stays valid (``docker compose config`` cannot run here, so its keys are
checked against the Compose specification's), the «scale» profile runs several web and worker replicas behind one
entry point and one beat, and gunicorn's settings are the measured ones."""

import runpy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# The Compose specification's service keys this file may use (a typo such as «depend_on» fails here).
SERVICE_KEYS = {
    "build",
    "command",
    "depends_on",
    "deploy",
    "environment",
    "expose",
    "healthcheck",
    "image",
    "ports",
    "profiles",
    "volumes",
    "restart",
    "entrypoint",
    "env_file",
    "networks",
    "container_name",
    "working_dir",
    "user",
}
TOP_LEVEL_KEYS = {"services", "volumes", "networks", "configs", "secrets", "name"}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_file_has_only_known_keys():
    compose = _compose()
    assert {k for k in compose if not k.startswith("x-")} <= TOP_LEVEL_KEYS
    services = compose["services"]
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            assert condition["condition"] in DEPENDS_CONDITIONS, (name, condition)
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in declared_volumes, (name, source)
        for port in service.get("ports", []):
            host, container = str(port).split(":")
            assert host.isdigit() and container.isdigit(), (name, port)
        if "profiles" in service:
            assert all(isinstance(p, str) for p in service["profiles"]), name
        if "deploy" in service:
            assert set(service["deploy"]) <= {"replicas", "resources", "restart_policy"}, name
            assert int(service["deploy"]["replicas"]) >= 1


def test_scale_profile_runs_several_web_and_worker_replicas_behind_one_entry_point():
    services = _compose()["services"]
    scaled = {name: s for name, s in services.items() if "scale" in s.get("profiles", [])}
    webs = [s for s in scaled.values() if "gunicorn" in _command(s)]
    workers = [s for s in scaled.values() if "celery" in _command(s) and " worker" in _command(s)]
    assert sum(s["deploy"]["replicas"] for s in webs) >= 2
    assert sum(s["deploy"]["replicas"] for s in workers) >= 2
    # no fixed host port on a replicated service (two replicas cannot bind it): the proxy is the entry point
    assert all("ports" not in s for s in webs + workers)
    proxy = scaled["proxy"]
    config = (ROOT / "deploy" / "nginx-scale.conf").read_text()
    assert "server web-scale:8000" in config and "proxy_pass http://dms_web;" in config
    assert "X-Forwarded-Proto" in config and "$proxy_add_x_forwarded_for" in config
    assert proxy["ports"] == ["8080:80"]


def test_one_beat_for_every_host_with_the_database_scheduler():
    services = _compose()["services"]
    beats = [name for name, s in services.items() if "beat" in _command(s).split()]
    assert beats == ["beat"], beats
    assert "django_celery_beat.schedulers:DatabaseScheduler" in _command(services["beat"])
    assert "profiles" not in services["beat"]
    for name, service in services.items():
        assert "--beat" not in _command(service), name  # a worker with an embedded beat would double every tick


def test_gunicorn_settings_are_sized_to_the_cores(monkeypatch):
    for variable in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_BIND", "GUNICORN_ACCESS_LOG"):
        monkeypatch.delenv(variable, raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # measured best with the database on the same host (README «Load, issue 19»): cores + 1 sync workers
    assert config["worker_class"] == "sync"
    assert config["workers"] == config["_cores"]() + 1
    assert config["bind"] == "0.0.0.0:8000"
    monkeypatch.setenv("GUNICORN_THREADS", "4")  # a database across the network: threads overlap the waits
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_class"] == "gthread"
    monkeypatch.setenv("GUNICORN_WORKERS", "7")
    monkeypatch.setenv("GUNICORN_ACCESS_LOG", "")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["workers"] == 7 and config["accesslog"] is None
    # the image and compose rely on the file (no flags that would override it)
    assert "--workers" not in (ROOT / "Dockerfile").read_text()
    assert "--workers" not in _command(_compose()["services"]["web"])
