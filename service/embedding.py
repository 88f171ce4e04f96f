"""Issue 17 item 4: which sites may show the public booking page in a frame.

The page's own Content-Security-Policy names them in ``frame-ancestors`` (every other page keeps ``'none'``, see
``dms/core/headers.py``); a dealership lists them in its service settings, one origin per line.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# scheme://host[:port] — no path, no wildcard, no quotes (the value goes into a header as it is).
_ORIGIN_RE = re.compile(r"^https?://[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::\d{1,5})?$")
MAX_ORIGINS = 10


def parse_embed_origins(text: str) -> list[str]:
    """The origins of the setting's text, lower-cased, without blank lines and repeats."""
    origins: list[str] = []
    for line in (text or "").splitlines():
        origin = line.strip().rstrip("/").lower()
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def validate_embed_origins(text: str) -> None:
    origins = parse_embed_origins(text)
    wrong = [origin for origin in origins if not _ORIGIN_RE.match(origin)]
    if wrong:
        raise ValidationError(
            _("Give each site as its origin, e.g. https://dealer.example.ru (no path): %(wrong)s")
            % {"wrong": ", ".join(wrong[:3])}
        )
    if len(origins) > MAX_ORIGINS:
        raise ValidationError(_("At most %(n)s sites.") % {"n": MAX_ORIGINS})
