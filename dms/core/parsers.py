"""The API's JSON parser: a body nested deeper than any of our payloads is refused before it is parsed.

Issue 12 item 5: JSON nested thousands of levels deep made Python's parser raise RecursionError (a 500). Our
deepest payload (an order with lines) is three levels; 32 leaves room for any client. No view parses JSON by hand;
one that must should check :func:`json_depth_exceeds` first.
"""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if the body opens more than ``limit`` arrays/objects inside each other (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:  # cheap answer for almost every body
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', body)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser with a depth limit (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): too deep is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if json_depth_exceeds(body):
            raise ParseError(_("The JSON is nested too deeply (at most %(limit)d levels).") % {"limit": MAX_JSON_DEPTH})
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as exc:  # belt and braces: the scan above should have stopped it
            raise ParseError(_("The JSON is nested too deeply.")) from exc
