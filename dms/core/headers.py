"""Response headers that limit exposure (issue 12, item 8).

* ``ContentSecurityPolicyMiddleware``: every response carries the policy of ``settings.CONTENT_SECURITY_POLICY``
  (Django 5.2 has no built-in CSP; 6.0 will). Scripts come from our own origin only — templates hold no inline
  ``<script>`` and no ``on*=`` handlers (they live in static/js/). A script that must stay inline takes the request's
  nonce: ``<script nonce="{{ request.csp_nonce }}">``; the nonce enters the header only when a template used it.
  A view that sets its own policy (the sandboxed attachment download) keeps it.
* ``PrivateNoStoreMiddleware``: answers with personal data must not be kept by browsers or proxies
  (``Cache-Control: no-store``): every /api/ answer and every answer to a signed-in request (a session cookie, an
  ``Authorization`` header, or a user already known to be authenticated). Static files are served by WhiteNoise
  before this middleware and keep their long-lived caching.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import empty


class CspNonce:
    """A per-request nonce, made on first use; ``used`` tells the middleware to put it into the policy."""

    def __init__(self) -> None:
        self._value: str | None = None

    @property
    def used(self) -> bool:
        return self._value is not None

    def __str__(self) -> str:
        if self._value is None:
            self._value = secrets.token_urlsafe(18)
        return self._value


def build_policy(directives: dict[str, list[str]], nonce: CspNonce | None = None) -> str:
    parts = []
    for name, sources in directives.items():
        sources = list(sources)
        if nonce is not None and nonce.used and name == "script-src":
            sources.append(f"'nonce-{nonce}'")
        parts.append(" ".join([name, *sources]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = CspNonce()
        request.csp_nonce = nonce
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if settings.DEBUG and response.status_code >= 500:
            return response  # Django's technical error page relies on inline scripts (DEBUG only)
        response["Content-Security-Policy"] = build_policy(settings.CONTENT_SECURITY_POLICY, nonce)
        return response


def _signed_in(request: HttpRequest) -> bool:
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return True
    # Only a user already loaded: loading it here would read the session (and the database) once more — and must
    # not fail while the database is down (the 503 page of item 10 passes through here).
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)
    return wrapped is not empty and wrapped is not None and bool(getattr(wrapped, "is_authenticated", False))


class PrivateNoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(settings.STATIC_URL):
            return response
        if request.path.startswith("/api/") or _signed_in(request):
            if "no-store" not in response.get("Cache-Control", ""):
                add_never_cache_headers(response)
        return response
