"""System checks of the project's own settings."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_public_base_url(app_configs=None, **kwargs):
    """Issue 17 item 1: every SMS and e-mail to a customer carries a link to their status page; without the app's
    public address the link is a bare path that no phone can open."""
    value = getattr(settings, "PUBLIC_BASE_URL", "")
    parts = urlsplit(value or "")
    if parts.scheme in ("http", "https") and parts.netloc and not parts.query and not parts.fragment:
        return []
    return [
        Warning(
            "PUBLIC_BASE_URL is not an absolute http(s) address: the links in customers' messages "
            "(status page, approvals, replies) cannot be opened.",
            hint='Set PUBLIC_BASE_URL to the address customers reach the app at, e.g. "https://dms.example.ru".',
            id="dms.W017",
        )
    ]
