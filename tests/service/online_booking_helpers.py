"""Shared by the online booking tests (issue 17 item 4): texts captured from Twilio's real client, the setting."""

import datetime
import json
import logging
import re
import time

from django.core import signing
from django.urls import reverse
from twilio.http import HttpClient
from twilio.http.response import Response

from notifications import sms
from service.forms import OnlineBookingForm
from service.models import ServiceSettings

NEW_VIN = "XW8ZZZ61ZJG012345"
SID = "AC" + "0" * 32
TOKEN = "test-auth-token-123"


class CapturedSms(HttpClient):
    """Twilio's REST API answering every message with "queued"; keeps what was sent (as in tests/notifications)."""

    def __init__(self):
        super().__init__(logger=logging.getLogger("fake-twilio"), is_async=False)
        self.messages: list[dict] = []

    def request(
        self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False
    ):
        data = dict(data or {})
        self.messages.append({"to": data.get("To"), "body": data.get("Body", "")})
        sid = f"SM{len(self.messages):032d}"
        return Response(201, json.dumps({"sid": sid, "status": "queued", "to": data.get("To"), "body": "x"}))

    def bodies_to(self, phone: str) -> list[str]:
        return [m["body"] for m in self.messages if m["to"] == phone]

    def last_code(self, phone: str) -> str:
        for body in reversed(self.bodies_to(phone)):
            found = re.match(r"^(\d{6}) ", body)
            if found:
                return found.group(1)
        raise AssertionError(f"no code texted to {phone}: {self.messages}")


def install_captured_sms(settings) -> CapturedSms:
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    captured = CapturedSms()
    sms.set_twilio_http_client(captured)
    return captured


def enable_online_booking(dealership, origins: str = "") -> ServiceSettings:
    obj, _created = ServiceSettings.objects.get_or_create(dealership=dealership)
    obj.online_booking = True
    obj.booking_embed_origins = origins
    obj.save()
    return obj


def page(dealership, *, embed=False, **params) -> str:
    """The booking page's address (``embed``: the one framed on the dealership's site), with query parameters."""
    name = "service:online_booking_embed" if embed else "service:online_booking"
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(name, args=[dealership.code]) + (f"?{query}" if query else "")


def booking_form(day: datetime.date, **overrides) -> dict:
    """A request for a visit at 10:00 on ``day``, filled in by a person (the signed start 30 s ago)."""
    data = {
        "step": "request",
        "slot": f"{day.isoformat()}T10:00",
        "date": day.isoformat(),
        "name": "Анна Петрова",
        "phone": "+7 916 123-45-67",
        "vin": NEW_VIN,
        "plate": "",
        "make": "Skoda",
        "model": "Octavia",
        "area": "mechanical",
        "reason": "ТО-30000",
        "website": "",
        "started": signing.dumps(time.time() - 30, salt=OnlineBookingForm.SALT),
    }
    data.update(overrides)
    return data
