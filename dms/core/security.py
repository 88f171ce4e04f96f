"""Who is asking (the client address as the trusted proxy reports it) and how often they may fail to log in.

Issue 12 item 4: every per-address limit — DRF throttles, hand-written limits, django-axes' lockout — keys on
``client_address``; X-Forwarded-For counts only as far as ``settings.TRUSTED_PROXIES`` proxies wrote it.
"""

from __future__ import annotations

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.throttling import ScopedRateThrottle


def _valid_address(value: str | None) -> str | None:
    """The address in its canonical text form, or None for anything that is not an IP address."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as the deployment's trusted proxies report it (None if unknown).

    With 0 trusted proxies (make run, tests, a server without a proxy) X-Forwarded-For is ignored: anyone can send
    it. With N, each proxy appends the address it received the request from, so the N-th address from the right is
    the one the outermost trusted proxy saw; everything left of it is the client's own claim. The same rule as DRF's
    SimpleRateThrottle.get_ident with NUM_PROXIES = N (settings keep the two equal).
    """
    remote = _valid_address(request.META.get("REMOTE_ADDR"))
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = forwarded.split(",")
    return _valid_address(hops[-min(proxies, len(hops))]) or remote


def rate_limited(request: HttpRequest, *, scope: str, limit: int, window: int, count: bool = True) -> bool:
    """A fixed-window limit per client address for plain Django views (issue 17: the customer link pages).

    ``count=True`` counts this request and answers whether the address is now over ``limit`` within ``window``
    seconds; ``count=False`` only asks whether it already is (e.g. the refused-links counter before resolving).
    A cache outage counts nothing (the cache is resilient): the pages stay open rather than locked.
    """
    key = f"rate:{scope}:{client_address(request) or 'unknown'}"
    if not count:
        return (cache.get(key) or 0) >= limit
    if cache.add(key, 1, timeout=window):
        return 1 > limit
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1 > limit


class ClientAddressThrottle(ScopedRateThrottle):
    """DRF's scoped throttle keyed on ``client_address`` for anonymous requests (signed-in users: their id)."""

    def get_ident(self, request) -> str:
        return client_address(request) or "unknown"


class LoginLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler plus a limit on failed logins per client address across usernames.

    Axes counts failures per username + address (AXES_FAILURE_LIMIT); spraying one password over many usernames
    stays under that, so the failures of all usernames from one address are summed as well and the address is
    locked at LOGIN_FAILURE_LIMIT_PER_ADDRESS (issue 12 item 4). A successful login resets only its own username's
    count, so an attacker's one valid account cannot clear the address's count.
    """

    def address_failures(self, request) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def address_locked(self, request) -> bool:
        return self.address_failures(request) >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or (
            settings.AXES_LOCK_OUT_AT_FAILURE and self.address_locked(request)
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_whitelisted(request, credentials) or not settings.AXES_LOCK_OUT_AT_FAILURE:
            return
        if self.address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def lockout_response(request, credentials=None, *args, **kwargs):
    """django-axes lockout: JSON for API clients, a page for people (HTTP 429 either way)."""
    message = _("Too many failed login attempts. Try again in 15 minutes or ask an administrator to unlock you.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
