"""Customer links (issue 17): signed, expiring, revocable, rate-limited links a customer opens without a login.

One building block for every customer-facing surface — the status page and remote approval (service), replies,
online booking:

- ``link_issue(customer=…, purpose="status", channel="sms", sent_with="delivery:12")`` → ``IssuedLink`` with the
  row, its ``token`` and its ``url`` (the page the app that owns the purpose registered with
  ``provide_link_page(purpose, url_name)`` in its ``AppConfig.ready()``; the URL takes one argument, the token).
- ``link_resolve(token, purposes=("status",))`` → the ``CustomerLink``, or ``LinkRefused`` with ``reason``
  ``invalid`` (tampered, unknown, another purpose: 403), ``expired`` or ``revoked`` (410).
- ``links_revoke(actor=…, customer=…)`` ends all of a customer's live links at once (audited).
- Pages: ``CustomerLinkMixin`` on a plain Django view (CSRF as usual) refuses bad links with a clear page, limits
  requests per client address (``dms.core.security.rate_limited``) and speaks the customer's language
  (``Customer.language``, else the browser's Accept-Language).

The token is ``<id>.<nonce>.<mac>``: the HMAC of id and nonce under SECRET_KEY (and its fallbacks) refuses an edited
token before the database is asked; the nonce, random per row, means a leaked SECRET_KEY alone does not open rows.
It is short on purpose: it goes into SMS.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_noop

from . import events
from .models import Customer, CustomerLink
from .security import rate_limited

SALT = "dms.core.links.CustomerLink"
# How long a link opens its page (days); a purpose may ask for less (``days=``).
DEFAULT_DAYS: int = getattr(settings, "CUSTOMER_LINK_DAYS", 30)
MAX_DAYS = 366
# Per client address: requests to link pages, and refused links (a guesser is stopped long before any luck).
REQUESTS_PER_WINDOW: int = getattr(settings, "CUSTOMER_LINK_REQUESTS_PER_10_MIN", 120)
REFUSALS_PER_HOUR: int = getattr(settings, "CUSTOMER_LINK_REFUSALS_PER_HOUR", 20)

_pages: dict[str, str] = {}


def provide_link_page(purpose: str, url_name: str) -> None:
    """The page (URL name taking ``token``) a link of ``purpose`` opens; called by the owning app's ``ready()``."""
    _pages[purpose] = url_name


def has_link_page(purpose: str) -> bool:
    return purpose in _pages


class LinkRefused(Exception):
    """A link that opens nothing: ``reason`` is ``invalid`` (403), ``expired`` or ``revoked`` (410)."""

    STATUS = {"invalid": 403, "expired": 410, "revoked": 410}

    def __init__(self, reason: str, link: CustomerLink | None = None):
        super().__init__(reason)
        self.reason = reason
        self.link = link

    @property
    def status(self) -> int:
        return self.STATUS[self.reason]


@dataclass(frozen=True)
class IssuedLink:
    link: CustomerLink
    token: str
    url: str


def _mac(value: str, secret: str) -> str:
    digest = salted_hmac(SALT, value, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:22]


def sign(link: CustomerLink) -> str:
    value = f"{link.pk}.{link.nonce}"
    return f"{value}.{_mac(value, settings.SECRET_KEY)}"


def _unsign(token: str) -> tuple[int, str]:
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 18 or len(token) > 80:
        raise LinkRefused("invalid")
    value = f"{parts[0]}.{parts[1]}"
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(parts[2], _mac(value, secret)):
            return int(parts[0]), parts[1]
    raise LinkRefused("invalid")


def link_url(token: str, purpose: str) -> str:
    """The absolute URL (``PUBLIC_BASE_URL`` + the purpose's page) of a token."""
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse(_pages[purpose], kwargs={"token": token})


@transaction.atomic
def link_issue(
    *,
    customer: Customer,
    purpose: str = "status",
    channel: str = "",
    sent_with: str = "",
    subject_id: int | None = None,
    days: int | None = None,
    by=None,
    now: datetime.datetime | None = None,
) -> IssuedLink:
    """A new link of ``purpose`` for the customer, valid ``days`` (default ``CUSTOMER_LINK_DAYS``). Audited."""
    if purpose not in _pages:
        raise LookupError(f"no page is provided for customer links of purpose {purpose!r}")
    now = now or timezone.now()
    days = max(1, min(days or DEFAULT_DAYS, MAX_DAYS))
    link = CustomerLink.objects.create(
        dealership_id=customer.dealership_id,
        customer=customer,
        purpose=purpose,
        subject_id=subject_id,
        nonce=secrets.token_urlsafe(6),
        channel=(channel or "")[:10],
        sent_with=(sent_with or "")[:100],
        expires_at=now + datetime.timedelta(days=days),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    events.record_created(actor=by, instance=link, fields=["customer", "purpose", "channel", "expires_at"])
    token = sign(link)
    return IssuedLink(link=link, token=token, url=link_url(token, purpose))


def link_resolve(
    token: str, *, purposes: tuple[str, ...] | list[str], now: datetime.datetime | None = None, touch: bool = True
) -> CustomerLink:
    """The live link a token names, with its customer and dealership; ``LinkRefused`` otherwise."""
    pk, nonce = _unsign(token)
    link = CustomerLink.objects.select_related("customer", "dealership").filter(pk=pk).first()
    if link is None or not constant_time_compare(link.nonce, nonce) or link.purpose not in purposes:
        raise LinkRefused("invalid")
    now = now or timezone.now()
    if link.revoked_at is not None:
        raise LinkRefused("revoked", link)
    if link.expires_at <= now:
        raise LinkRefused("expired", link)
    if touch:
        CustomerLink.objects.filter(pk=link.pk).update(last_opened_at=now, open_count=F("open_count") + 1)
    return link


def live_links(customer: Customer):
    return CustomerLink.objects.filter(customer=customer, revoked_at__isnull=True, expires_at__gt=timezone.now())


@transaction.atomic
def links_revoke(*, actor, customer: Customer, now: datetime.datetime | None = None) -> int:
    """Staff end every live link of the customer (a lost phone, a forwarded message). Audited on the customer."""
    now = now or timezone.now()
    count = (
        CustomerLink.objects.select_for_update()
        .filter(customer=customer, revoked_at__isnull=True, expires_at__gt=now)
        .update(revoked_at=now, revoked_by=actor if getattr(actor, "is_authenticated", False) else None)
    )
    events.record(
        actor=actor,
        instance=customer,
        action="action",
        changes={"revoked": count},
        message=events.text(gettext_noop("customer's links revoked: %(count)s"), count=count),
    )
    return count


# -- pages ---------------------------------------------------------------------------------------------------------
def customer_language(request: HttpRequest, customer: Customer | None) -> str:
    """The customer's own language if stored, else what their browser asks for (Accept-Language), else Russian."""
    supported = {code for code, _name in settings.LANGUAGES}
    if customer is not None and customer.language in supported:
        return customer.language
    header = getattr(request, "accept_language", "") or request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()
        if not code:
            continue
        try:
            found = translation.get_supported_language_variant(code)
        except LookupError:
            found = "zh-hans" if code.startswith("zh") else None
        if found:
            return found
    return settings.LANGUAGE_CODE


def _use_language(request: HttpRequest, code: str) -> None:
    translation.activate(code)
    request.LANGUAGE_CODE = translation.get_language()


def refused_response(request: HttpRequest, error: LinkRefused) -> HttpResponse:
    customer = error.link.customer if error.link is not None else None
    _use_language(request, customer_language(request, customer))
    response = render(
        request,
        "core/link_refused.html",
        {"reason": error.reason, "dealership": error.link.dealership if error.link else None},
        status=error.status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def too_many_response(request: HttpRequest) -> HttpResponse:
    _use_language(request, customer_language(request, None))
    response = render(request, "core/link_refused.html", {"reason": "limited"}, status=429)
    response["Retry-After"] = "600"
    return response


class CustomerLinkMixin:
    """For a plain Django view whose URL carries ``token``: ``self.link`` / ``self.customer`` for the customer the
    link was issued to, or a clear refusal page (403 tampered, 410 expired or revoked, 429 too many requests)."""

    link_purposes: tuple[str, ...] = ("status",)

    def dispatch(self, request, *args, **kwargs):
        if rate_limited(request, scope="customer-link", limit=REQUESTS_PER_WINDOW, window=600) or rate_limited(
            request, scope="customer-link-refused", limit=REFUSALS_PER_HOUR, window=3600, count=False
        ):
            return too_many_response(request)
        try:
            self.link = link_resolve(
                kwargs.get("token", ""), purposes=self.link_purposes, touch=request.method == "GET"
            )
        except LinkRefused as error:
            rate_limited(request, scope="customer-link-refused", limit=REFUSALS_PER_HOUR, window=3600)
            return refused_response(request, error)
        self.customer = self.link.customer
        _use_language(request, customer_language(request, self.customer))
        response = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response
