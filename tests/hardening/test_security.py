"""Security settings and invariants (issue 8, part 3).

``manage.py check --deploy`` on the production settings: tests/core/test_settings.py. Axes lockout of the login
page: tests/core/test_views.py. Twilio webhook signature: tests/notifications. Here: throttling of the token
endpoint and the public complaint form, no secret in the repository, and an audit trail nobody can edit.
"""

import re
import subprocess
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from dms.core import events
from dms.core.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]

# Documented demo/test passwords (README, load_demo, tests) are not secrets.
DOCUMENTED_PASSWORDS = {"demo12345", "pass12345"}
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Twilio account SID or API key": re.compile(r"\b(?:AC|SK)[0-9a-f]{32}\b"),
    "Slack/GitHub token": re.compile(r"\b(?:xox[abp]-[0-9A-Za-z-]{10,}|gh[pousr]_[0-9A-Za-z]{30,})\b"),
    "hard-coded password": re.compile(
        r"""(?i)(?:password|passwd|secret_key|auth_token|api_key)\b["']?\s*[:=]\s*["']([^"'\s]{6,})["']"""
    ),
}
ALLOWED_SECRET_VALUES = {
    *DOCUMENTED_PASSWORDS,
    "insecure-local-only-key-change-me",  # base settings' local default; production settings require SECRET_KEY
    "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",  # test of check --deploy
}


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_secret_is_committed():
    found = []
    for path in tracked_files():
        if (
            path.suffix in {".mo", ".png", ".jpg", ".pdf", ".ttf", ".woff", ".woff2", ".ico", ".xlsx"}
            or not path.is_file()
        ):
            continue
        if path.name in {".env"}:
            found.append(f"{path}: an .env file is tracked")
        text = path.read_text(encoding="utf-8", errors="ignore")
        for kind, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                value = match.group(1) if match.groups() else match.group(0)
                if value in ALLOWED_SECRET_VALUES or value.startswith(("{", "%", "$", "<", "test", "wrong", "bad")):
                    continue
                # Test fixtures use obviously fake values.
                if "/tests/" in str(path) and kind == "hard-coded password":
                    continue
                found.append(f"{path.relative_to(ROOT)}: {kind}: {value[:12]}…")
    assert not found, "secrets in tracked files:\n" + "\n".join(found)


def test_the_scanner_finds_what_it_looks_for():
    assert SECRET_PATTERNS["private key"].search("-----BEGIN RSA " + "PRIVATE KEY-----")
    assert SECRET_PATTERNS["Twilio account SID or API key"].search("AC" + "0123456789abcdef" * 2)
    assert SECRET_PATTERNS["hard-coded password"].search('EMAIL_HOST_PASSWORD = "hunter22"')
    assert ".env" not in {p.name for p in tracked_files()}


@pytest.fixture
def configured_rates(monkeypatch):
    """The rates of the settings (another test may have swapped the class-level copy DRF reads at import)."""
    from django.conf import settings as django_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = dict(django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    assert rates == {"auth": "10/min", "public": "20/hour", "booking": "20/hour", "booking_slots": "120/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield rates
    cache.clear()


@pytest.mark.django_db
def test_token_endpoint_is_throttled(api_client, settings, configured_rates):
    settings.AXES_ENABLED = False  # the throttle, not the lockout, is under test
    cache.clear()
    statuses = [
        api_client.post("/api/auth/token/", {"username": f"nobody{i}", "password": "x"}, format="json").status_code
        for i in range(12)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    cache.clear()


@pytest.mark.django_db
def test_public_complaint_api_is_throttled(api_client, configured_rates):
    cache.clear()
    statuses = [api_client.post("/api/public/complaints/", {}, format="json").status_code for _ in range(22)]
    assert statuses[:20] == [400] * 20
    assert statuses[20:] == [429, 429]
    cache.clear()


@pytest.fixture
def entry(customer, advisor):
    return events.record_created(actor=advisor, instance=customer, fields=["name"])


@pytest.mark.django_db
def test_audit_entry_refuses_save_and_delete(entry):
    entry.message = "rewritten"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(ValidationError):
        AuditEntry.objects.filter(pk=entry.pk).update(message="rewritten")
    with pytest.raises(ValidationError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.message != "rewritten"
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_audit_admin_is_read_only_even_for_superusers(entry, django_user_model, client):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pass12345")
    model_admin = admin.site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    client.force_login(superuser)
    before = AuditEntry.objects.count()
    response = client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"message": "rewritten"})
    assert response.status_code in (200, 403)  # the read-only view, never a save
    response = client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert client.post("/admin/core/auditentry/add/", {}).status_code == 403
    entry.refresh_from_db()
    assert entry.message != "rewritten"
    assert AuditEntry.objects.count() == before


def test_api_has_no_audit_write_endpoint():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    writes = [
        (path, method)
        for path, ops in schema["paths"].items()
        for method in ops
        if "audit" in path and method in {"post", "put", "patch", "delete"}
    ]
    assert writes == []
