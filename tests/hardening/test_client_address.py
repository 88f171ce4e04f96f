"""Issue 12 item 4: every per-address limit keys on the client address as the trusted proxy reports it.

X-Forwarded-For is the client's own claim unless a trusted proxy wrote it (settings.TRUSTED_PROXIES): rotating it
must not reset the token endpoint's throttle, the public complaint limits or the login lockout; spraying one password
over many usernames from one address is locked out as well, without locking out anybody at another address.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from axes.helpers import get_client_ip_address
from django.core import signing
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from claims.forms import PublicComplaintForm
from claims.models import Complaint
from dms.core import roles
from dms.core.security import ClientAddressThrottle, client_address

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/api/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    settings.TRUSTED_PROXIES = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def configured_rates(monkeypatch):
    """The settings' rates (another test may have swapped the class-level copy DRF read at import)."""
    from django.conf import settings as django_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = dict(django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    return rates


def _meta(remote: str | None, forwarded: str | None) -> dict:
    meta = {"REMOTE_ADDR": remote} if remote is not None else {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return meta


# --------------------------------------------------------------------------------------------------------------
# The one function
# --------------------------------------------------------------------------------------------------------------

CASES = [
    # (trusted proxies, REMOTE_ADDR, X-Forwarded-For, expected client address)
    (0, "203.0.113.9", None, "203.0.113.9"),
    (0, "203.0.113.9", "198.51.100.1", "203.0.113.9"),  # nobody vouches for the header: ignored
    (0, "203.0.113.9", "198.51.100.1, 198.51.100.2", "203.0.113.9"),
    (1, "10.0.0.2", "198.51.100.7", "198.51.100.7"),
    (1, "10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own claim (left) is not believed
    (1, "10.0.0.2", "6.6.6.6,198.51.100.7", "198.51.100.7"),
    (1, "10.0.0.2", None, "10.0.0.2"),  # no header: the peer itself
    (1, "10.0.0.2", "not-an-address", "10.0.0.2"),  # garbage never becomes an identity
    (1, "10.0.0.2", "", "10.0.0.2"),
    (2, "10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3", "198.51.100.7"),
    (2, "10.0.0.2", "198.51.100.7", "198.51.100.7"),  # fewer hops than proxies: the left-most, as DRF does
    (1, "10.0.0.2", "6.6.6.6, 2001:DB8::1", "2001:db8::1"),
    (0, "garbage", None, None),
    (0, None, None, None),
]


@pytest.mark.parametrize("proxies, remote, forwarded, expected", CASES)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", **_meta(remote, forwarded))
    if remote is None:
        request.META.pop("REMOTE_ADDR", None)
    assert client_address(request) == expected


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected", [c for c in CASES if c[3] and c[2] != "not-an-address" and c[2] != ""]
)
def test_drf_num_proxies_follows_the_same_rule(settings, proxies, remote, forwarded, expected):
    """A DRF throttle keeping DRF's get_ident agrees with client_address (NUM_PROXIES = TRUSTED_PROXIES)."""
    settings.TRUSTED_PROXIES = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    request = RequestFactory().get("/", **_meta(remote, forwarded))
    ident = SimpleRateThrottle.get_ident(SimpleRateThrottle.__new__(SimpleRateThrottle), request)
    assert str(__import__("ipaddress").ip_address(ident)) == expected


def test_settings_keep_drf_and_the_function_on_one_number():
    from dms.settings import base

    assert base.REST_FRAMEWORK["NUM_PROXIES"] == base.TRUSTED_PROXIES
    assert base.AXES_CLIENT_IP_CALLABLE == "dms.core.security.client_address"
    assert base.AXES_HANDLER == "dms.core.security.LoginLockoutHandler"
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "TRUSTED_PROXIES: ${TRUSTED_PROXIES:-1}" in compose


def test_axes_asks_the_same_function(settings):
    settings.TRUSTED_PROXIES = 1
    request = RequestFactory().post("/", **_meta("10.0.0.2", "6.6.6.6, 198.51.100.7"))
    assert get_client_ip_address(request) == "198.51.100.7"


# --------------------------------------------------------------------------------------------------------------
# Sweeps: every throttle of every API view, every hand-written read of the address
# --------------------------------------------------------------------------------------------------------------


def _api_views():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
                if isinstance(view, type) and issubclass(view, APIView):
                    yield str(pattern.pattern), view

    return list(walk(get_resolver().url_patterns))


def test_every_api_throttle_keys_on_the_client_address():
    views = _api_views()
    assert len(views) > 50
    wrong = []
    for route, view in views:
        for throttle_class in view.throttle_classes:
            if throttle_class.get_ident is not ClientAddressThrottle.get_ident:
                wrong.append(f"{route}: {view.__name__} uses {throttle_class.__name__}")
    assert not wrong, "throttles not keyed on dms.core.security.client_address:\n" + "\n".join(wrong)
    throttled = {view.__name__ for _, view in views if view.throttle_classes and getattr(view, "throttle_scope", None)}
    assert {"TokenObtainApi", "PublicComplaintApi"} <= throttled


def test_nothing_else_reads_the_address_headers():
    """Hand-written per-address limits must ask client_address: no other module reads REMOTE_ADDR or X-Forwarded-For."""
    allowed = {ROOT / "dms" / "core" / "security.py"}
    needles = ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "x-forwarded-for", "X-Forwarded-For", "X_FORWARDED_FOR")
    found = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "bench", "var"} or path in allowed:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(needle.lower() in node.value.lower() for needle in needles):
                    found.append(f"{relative}:{node.lineno}")
    assert not found, "reads of the client address outside dms.core.security.client_address: " + ", ".join(found)


# --------------------------------------------------------------------------------------------------------------
# The token endpoint's throttle and the public complaint limits
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_reset_the_token_throttle(settings, configured_rates):
    settings.AXES_ENABLED = False  # the throttle, not the lockout, is under test
    limit = int(configured_rates["auth"].split("/")[0])
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.post(
            TOKEN_URL, {"username": f"u{i}", "password": "x"}, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(limit + 2)
    ]
    assert statuses == [400] * limit + [429, 429]
    # Another address has its own allowance.
    assert APIClient(REMOTE_ADDR="203.0.113.10").post(TOKEN_URL, {}, format="json").status_code == 400


@pytest.mark.django_db
def test_behind_one_proxy_the_right_most_address_is_the_client(settings, configured_rates):
    settings.AXES_ENABLED = False
    settings.TRUSTED_PROXIES = 1
    limit = int(configured_rates["auth"].split("/")[0])
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")

    def post(forwarded: str) -> int:
        return proxy.post(TOKEN_URL, {"username": "u", "password": "x"}, format="json", HTTP_X_FORWARDED_FOR=forwarded)

    # One client rotating what it claims left of the proxy's entry: one counter.
    statuses = [post(f"6.6.6.{i}, 198.51.100.7").status_code for i in range(limit + 1)]
    assert statuses == [400] * limit + [429]
    # Another client behind the same proxy is counted apart (before the fix: everyone shared the proxy's count).
    assert post("198.51.100.8").status_code == 400


def _public_page_post(client: Client, dealership, **extra):
    data = {
        "name": "Ольга",
        "phone": "+7 916 000-11-22",
        "email": "",
        "vin": "",
        "description": "Долго ждала машину",
        "website": "",
        "started": signing.dumps(time.time() - 30, salt=PublicComplaintForm.SALT),
    }
    return client.post(reverse("claims:public_complaint", args=[dealership.code]), data, **extra)


@pytest.mark.django_db
def test_public_complaint_page_limit_follows_the_client_address(settings, dealership):
    settings.CLAIMS_PUBLIC_COMPLAINTS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [
        _public_page_post(client, dealership, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert set(Complaint.objects.values_list("source_ip", flat=True)) == {"203.0.113.9"}
    # Behind one trusted proxy: two clients, two allowances, each complaint keeps its sender's address.
    settings.TRUSTED_PROXIES = 1
    cache.clear()
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    first = [_public_page_post(proxy, dealership, HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 198.51.100.7") for i in range(3)]
    assert [r.status_code for r in first] == [200, 200, 429]
    assert _public_page_post(proxy, dealership, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200
    assert Complaint.objects.filter(source_ip="198.51.100.7").count() == 2
    assert Complaint.objects.filter(source_ip="198.51.100.8").count() == 1


@pytest.mark.django_db
def test_public_complaint_api_throttle_follows_the_client_address(settings, dealership, configured_rates):
    configured_rates["public"] = "2/hour"
    body = {"dealership": dealership.code, "name": "Анна", "phone": "+79160001122", "description": "Жалоба"}
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.post("/api/public/complaints/", body, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    settings.TRUSTED_PROXIES = 1
    cache.clear()
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    statuses = [
        proxy.post(
            "/api/public/complaints/", body, format="json", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 198.51.100.7"
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert (
        proxy.post("/api/public/complaints/", body, format="json", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code
        == 201
    )
    assert Complaint.objects.filter(source_ip="198.51.100.7").count() == 2


# --------------------------------------------------------------------------------------------------------------
# Password spraying: failures across usernames from one address
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def spraying(settings, make_user, configured_rates):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    configured_rates["auth"] = "1000/min"  # the lockout, not the throttle, is under test
    for i in range(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        make_user(roles.SERVICE_ADVISOR, username=f"user{i}")
    return make_user(roles.SERVICE_ADVISOR, username="anna")  # password pass12345


@pytest.mark.django_db
def test_spraying_usernames_through_the_login_page_locks_the_address(settings, spraying):
    limit = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    assert limit < settings.AXES_FAILURE_LIMIT * limit  # each username stays far below its own limit
    sprayer = Client(REMOTE_ADDR="203.0.113.66")
    statuses = [
        sprayer.post(reverse("login"), {"username": f"user{i}", "password": "Spring2026!"}).status_code
        for i in range(limit)
    ]
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the login form again, with its error
    assert statuses[-1] == 429
    # The address stays locked, even for a right password and for the token endpoint.
    assert sprayer.post(reverse("login"), {"username": "anna", "password": "pass12345"}).status_code == 429
    token = APIClient(REMOTE_ADDR="203.0.113.66").post(TOKEN_URL, {"username": "anna", "password": "pass12345"})
    assert token.status_code == 429 and "detail" in token.json()
    # Anna at her own address is not affected.
    response = Client(REMOTE_ADDR="198.51.100.20").post(reverse("login"), {"username": "anna", "password": "pass12345"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_spraying_usernames_through_the_token_endpoint_locks_the_address(settings, spraying):
    limit = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    sprayer = APIClient(REMOTE_ADDR="203.0.113.66")
    statuses = [
        sprayer.post(
            TOKEN_URL,
            {"username": f"user{i}", "password": "Spring2026!"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",  # rotating the header changes nothing
        ).status_code
        for i in range(limit)
    ]
    assert statuses == [400] * (limit - 1) + [429]
    assert sprayer.post(TOKEN_URL, {"username": "anna", "password": "pass12345"}, format="json").status_code == 429
    assert (
        Client(REMOTE_ADDR="203.0.113.66").post(reverse("login"), {"username": "anna", "password": "x"}).status_code
        == 429
    )
    ok = APIClient(REMOTE_ADDR="198.51.100.20").post(
        TOKEN_URL, {"username": "anna", "password": "pass12345"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["token"]


@pytest.mark.django_db
def test_a_valid_login_from_the_sprayer_does_not_clear_the_address_count(settings, spraying):
    """A successful login resets its own username's count only: an attacker's one real account is no reset button."""
    limit = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
    sprayer = Client(REMOTE_ADDR="203.0.113.66")
    for i in range(limit - 1):
        assert sprayer.post(reverse("login"), {"username": f"user{i}", "password": "x"}).status_code == 200
    assert sprayer.post(reverse("login"), {"username": "anna", "password": "pass12345"}).status_code == 302
    sprayer.logout()
    assert sprayer.post(reverse("login"), {"username": f"user{limit - 1}", "password": "x"}).status_code == 429
