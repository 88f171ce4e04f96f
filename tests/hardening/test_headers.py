"""Issue 12, item 8: headers and exposure, swept over every page, the admin, the API and the docs.

* Every answer carries a Content-Security-Policy whose scripts come from our origin only (no 'unsafe-inline', no
  'unsafe-eval', no outside host); every HTML page has no inline ``<script>`` without the request's nonce, no
  ``on*=`` handler and no ``javascript:`` URL (parsed, not grepped).
* Answers to signed-in requests and every /api/ answer send ``Cache-Control: no-store``.
* With the production setting the API schema and docs need a login; the docs page loads Swagger UI from our own
  static files (drf-spectacular-sidecar), never from a CDN.

The pages come from the access matrix (``PAGES`` has a row for every named page, enforced there), filled with the
matrix's demo world; the API operations from its ``API_ROWS`` (one per operation of the OpenAPI schema).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import reverse

from dms.core import roles
from tests.factories import UserFactory
from tests.hardening import test_access_matrix as matrix
from tests.hardening.test_access_matrix import ANON, API_ROWS, PAGES, api_url, page_url

pytestmark = pytest.mark.postgres

# The access matrix's demo world (module-scoped, rolled back at the end) as fixtures of this module too.
world = matrix.world
w = matrix.w

DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template", "text/x-template"}


class InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts (unless they carry the nonce),
    event-handler attributes and javascript: URLs."""

    def __init__(self, nonce: str | None):
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.offences: list[str] = []
        self._in_script: dict | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.offences.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.offences.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self._in_script = attributes
            self._script_text = []

    def handle_data(self, data):
        if self._in_script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag):
        if tag != "script" or self._in_script is None:
            return
        attributes, text = self._in_script, "".join(self._script_text).strip()
        self._in_script = None
        if attributes.get("src") or (attributes.get("type") or "").lower() in DATA_SCRIPT_TYPES or not text:
            return
        if self.nonce is None or attributes.get("nonce") != self.nonce:
            self.offences.append(f"inline <script> without the nonce: {text[:80]!r}")


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {getattr(response, 'wsgi_request', None)}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_strict_policy(response) -> str | None:
    """The policy forbids inline and foreign scripts; returns the nonce it allows (if any)."""
    directives = policy(response)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, "no script-src / default-src"
    where = getattr(response, "wsgi_request", None) and response.wsgi_request.path
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, f"{where}: {scripts}"
    foreign = [s for s in scripts if s not in ("'self'", "'none'") and not s.startswith("'nonce-")]
    assert not foreign, f"{where}: scripts allowed from {foreign}"
    assert directives.get("object-src", directives.get("default-src")) == ["'none'"], where
    if "sandbox" not in directives:  # a sandboxed download (no scripts at all) needs no more
        assert directives.get("base-uri") == ["'self'"], where
        frames = directives.get("frame-ancestors")
        if where and where.startswith("/book/") and where.endswith("/embed/"):
            # Issue 17 item 4: the booking page's frame variant names the dealership's own sites, nothing wider.
            assert frames and all(re.fullmatch(r"https?://[a-z0-9.-]+(:\d+)?", f) for f in frames), (where, frames)
        else:
            assert frames == ["'none'"], where
    nonces = [s[len("'nonce-") : -1] for s in scripts if s.startswith("'nonce-")]
    return nonces[0] if nonces else None


def content(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def html_offences(response) -> list[str]:
    nonce = assert_strict_policy(response)
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    finder = InlineCodeFinder(nonce)
    finder.feed(content(response))
    finder.close()
    return finder.offences


def assert_no_store(response) -> None:
    cache_control = response.get("Cache-Control", "")
    assert "no-store" in cache_control, f"{response.wsgi_request.path}: Cache-Control {cache_control!r}"


# ------------------------------------------------------------------------------------------------------------------
# The sweeps
# ------------------------------------------------------------------------------------------------------------------

GET_PAGES = sorted(name for name, row in PAGES.items() if row.get)


def test_the_sweep_covers_the_pages():
    assert len(GET_PAGES) > 80  # the matrix enforces a row for every named page


@pytest.mark.parametrize("name", GET_PAGES)
def test_every_page_has_the_policy_no_inline_code_and_no_store(w, name):
    row = PAGES[name]
    url = page_url(w, name, row)
    response = w.clients[roles.ADMINISTRATOR].get(url)
    declared = row.ok if isinstance(row.ok, tuple) else (row.ok,)  # e.g. the scanner lookup's 400 without a code
    assert response.status_code in (200, 404, *declared), f"{url}: {response.status_code}"
    offences = html_offences(response)
    assert not offences, f"{url}: {offences[:5]}"
    assert_no_store(response)


def _public_urls(w) -> list[str]:
    from service.models import Appointment
    from service.services import reply_token

    appointment = Appointment.objects.filter(dealership=w.main).order_by("pk").first()
    return [
        reverse("login"),
        reverse("claims:public_complaint", kwargs={"code": w.main.code}),
        reverse("service:public_reply", kwargs={"token": reply_token(appointment)}),
        reverse("service:advisor_feed", kwargs={"token": "not-a-valid-token"}),
        # Issue 17 item 4: the demo dealership's public booking page and its frame variant.
        reverse("service:online_booking", kwargs={"code": w.main.code}),
        reverse("service:online_booking_embed", kwargs={"code": w.main.code}),
        reverse("admin:login"),
        reverse("api_docs"),
        "/no-such-page/",
    ]


def test_public_pages_have_the_policy_and_no_inline_code(w):
    failures = []
    for url in _public_urls(w):
        response = w.clients[ANON].get(url)
        if response.status_code not in (200, 404):
            failures.append(f"{url}: {response.status_code}")
            continue
        offences = html_offences(response)
        if offences:
            failures.append(f"{url}: {offences[:3]}")
    assert not failures, "\n".join(failures)


def test_signed_out_pages_may_be_cached_signed_in_ones_not(w):
    # (the login page itself is never_cache in Django: the public complaint form stands for signed-out pages)
    public = Client().get(reverse("claims:public_complaint", kwargs={"code": w.main.code}))
    assert public.status_code == 200
    assert "no-store" not in public.get("Cache-Control", "")
    home = w.clients[roles.SERVICE_ADVISOR].get(reverse("home"), follow=True)
    assert_no_store(home)


@pytest.mark.parametrize("label", sorted(m._meta.label for m in admin.site._registry))
def test_admin_pages_have_the_policy_and_no_inline_code(w, label, admin_client):
    model = apps.get_model(label)
    info = (model._meta.app_label, model._meta.model_name)
    urls = [reverse("admin:index"), reverse("admin:{}_{}_changelist".format(*info))]
    record = model._default_manager.order_by("pk").first()
    if record is not None:
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[record.pk]))
    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(admin_client.get(urls[0]).wsgi_request):
        urls.append(reverse("admin:{}_{}_add".format(*info)))
    failures = []
    for url in urls:
        response = admin_client.get(url)
        if response.status_code != 200:
            failures.append(f"{url}: {response.status_code}")
            continue
        offences = html_offences(response)
        if offences:
            failures.append(f"{url}: {offences[:3]}")
        assert_no_store(response)
    assert not failures, "\n".join(failures)


def test_every_api_answer_is_no_store_with_the_policy(w):
    failures = []
    for (path, method), (_perm, model) in sorted(API_ROWS.items()):
        if method != "get":
            continue
        url = api_url(w, path, model)
        for user in (roles.ADMINISTRATOR, ANON):
            response = w.clients[user].get(url, HTTP_ACCEPT="application/json")
            cache_control = response.get("Cache-Control", "")
            if "no-store" not in cache_control:
                failures.append(f"GET {url} as {user} ({response.status_code}): Cache-Control {cache_control!r}")
            if not response.get("Content-Security-Policy"):
                failures.append(f"GET {url} as {user}: no Content-Security-Policy")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.django_db
def test_token_authenticated_api_answers_are_no_store(make_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user(roles.SERVICE_ADVISOR))
    response = Client().get("/api/customers/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert_no_store(response)
    # a failed sign-in is an API answer too
    response = Client().post("/api/auth/token/", {"username": "x", "password": "y"})
    assert response.status_code == 400
    assert_no_store(response)


@pytest.mark.django_db
def test_a_download_keeps_its_own_stricter_headers(client):
    """A view with its own CSP (the sandboxed attachment download) keeps it; a private Cache-Control stays as is."""
    from django.http import HttpResponse

    from dms.core.headers import ContentSecurityPolicyMiddleware, PrivateNoStoreMiddleware

    def view(request):
        response = HttpResponse(b"%PDF")
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response

    request = client.get("/").wsgi_request
    response = PrivateNoStoreMiddleware(ContentSecurityPolicyMiddleware(view))(request)
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_a_template_nonce_enters_the_policy_only_when_used(rf):
    from django.http import HttpResponse
    from django.template import engines

    from dms.core.headers import ContentSecurityPolicyMiddleware

    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">go()</script>')

    def with_inline_script(request):
        return HttpResponse(template.render({}, request))

    response = ContentSecurityPolicyMiddleware(with_inline_script)(rf.get("/"))
    nonce = assert_strict_policy(response)
    assert nonce and len(nonce) >= 16
    assert f'nonce="{nonce}"' in response.content.decode()
    finder = InlineCodeFinder(nonce)
    finder.feed(response.content.decode())
    assert finder.offences == []

    response = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("x"))(rf.get("/"))
    assert assert_strict_policy(response) is None


def test_the_inline_code_finder_finds_what_the_policy_blocks():
    finder = InlineCodeFinder("abc")
    finder.feed(
        '<select onchange="this.form.submit()"></select><script>alert(1)</script><a href="javascript:x()">x</a>'
        '<script nonce="abc">ok()</script><script src="/static/a.js"></script>'
        '<script type="application/json">{"a": 1}</script><script nonce="zzz">bad()</script>'
    )
    assert len(finder.offences) == 4, finder.offences


# ------------------------------------------------------------------------------------------------------------------
# The API's schema and docs
# ------------------------------------------------------------------------------------------------------------------


def test_production_settings_require_a_login_for_the_schema_and_docs(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("ALLOWED_HOSTS", "dms.example")
    sys.modules.pop("dms.settings.production", None)
    production = importlib.import_module("dms.settings.production")
    try:
        assert production.API_DOCS_LOGIN_REQUIRED is True
        assert "dms.core.headers.ContentSecurityPolicyMiddleware" in production.MIDDLEWARE
        assert "dms.core.headers.PrivateNoStoreMiddleware" in production.MIDDLEWARE
    finally:
        sys.modules.pop("dms.settings.production", None)


@pytest.mark.django_db
@override_settings(API_DOCS_LOGIN_REQUIRED=True)
def test_with_the_production_setting_schema_and_docs_need_a_login(client):
    schema = client.get(reverse("api_schema"))
    assert schema.status_code in (401, 403)
    assert "openapi" not in schema.content.decode()
    for url in (reverse("api_docs"), reverse("api_docs") + "?script"):
        docs = client.get(url)
        assert docs.status_code == 302, url
        assert docs["Location"].startswith(reverse("login") + "?next=")
    client.force_login(UserFactory(role=roles.SERVICE_ADVISOR))
    assert client.get(reverse("api_schema")).status_code == 200
    assert client.get(reverse("api_docs")).status_code == 200
    assert client.get(reverse("api_docs") + "?script").status_code == 200


@pytest.mark.django_db
@override_settings(API_DOCS_LOGIN_REQUIRED=False)
def test_without_it_schema_and_docs_stay_open_for_the_fuzzing(client):
    assert client.get(reverse("api_schema")).status_code == 200
    assert client.get(reverse("api_docs")).status_code == 200


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_static_files(client):
    response = client.get(reverse("api_docs"))
    html = content(response)
    assert not html_offences(response)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in s for s in sources), sources
    for source in sources:
        if source.startswith("/static/"):
            assert finders.find(source[len("/static/") :]), f"{source} is not one of our static files"
        else:
            assert source.startswith(reverse("api_docs")), f"{source} is not served by us"
    assert "cdn." not in html and "//" not in "".join(sources)
    script = client.get(reverse("api_docs") + "?script")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()  # no badge from validator.swagger.io
