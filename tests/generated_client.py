"""A client generated from the code's schema by openapi-python-client (issue 16 item 1), shared by the tests that
drive the API through it: generated once per test module into a temporary directory, called through an httpx WSGI
transport inside the test's transaction."""

import importlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

PACKAGE = "dms_client"
BIN = Path(sys.executable).parent
needs_generator = pytest.mark.skipif(
    shutil.which("openapi-python-client", path=str(BIN)) is None, reason="openapi-python-client is not installed"
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The client generated from the code's schema (as `make schema` writes it) into a temporary directory."""
    root = tmp_path_factory.mktemp("client")
    schema = root / "openapi.yaml"
    out = io.StringIO()
    call_command("spectacular", "--lang", "en", stdout=out)
    schema.write_text(out.getvalue(), encoding="utf-8")
    # No post hooks: the generator's own code as it writes it (its default hooks run ruff --fix, which rewrites the
    # `Any` of its client template into types that mypy --strict then refuses against httpx's stubs).
    config = root / "generator.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")
    result = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(schema), "--output-path",
         str(root / PACKAGE), "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=120, env={"PATH": str(BIN)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def _client(user, generated):
    client_module = importlib.import_module(f"{PACKAGE}.client")
    token = Token.objects.create(user=user)
    return client_module.AuthenticatedClient(
        base_url="http://testserver",
        token=token.key,
        prefix="Token",
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=WSGIHandler())},
    )


def _api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _models():
    return importlib.import_module(f"{PACKAGE}.models")


@pytest.fixture
def keep_connection():
    """Django's handler closes the database connection after each request; the test's transaction lives on it
    (django.test.Client disconnects the same signals)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


