"""SMS backends: Twilio's real client when credentials are set, a console backend otherwise.

Tests (and anyone without network) inject a ``twilio.http.HttpClient`` through ``set_twilio_http_client``; the
real ``twilio.rest.Client`` then builds and parses every request exactly as in production.
"""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

_http_client = None


def set_twilio_http_client(http_client) -> None:
    """Use this ``twilio.http.HttpClient`` for Twilio requests (None: twilio's own requests-based client)."""
    global _http_client
    _http_client = http_client


class SmsRateLimited(Exception):
    """The provider said 429: retry later with backoff."""


class SmsTimeout(Exception):
    """No answer in time: the message may or may not have gone out; never re-send it blindly."""


class SmsTemporaryError(Exception):
    """Nothing was sent (connection refused, 5xx): safe to retry."""


class SmsRejected(Exception):
    """The provider refused the message for good (bad number, blocked…)."""


@dataclass
class SmsResult:
    provider_id: str
    status: str


def twilio_addresses(channel: str, recipient: str) -> tuple[str, str]:
    """(to, from) of a text message: WhatsApp goes through the same Twilio API with ``whatsapp:`` addresses (issue 17
    item 3); an empty sender means the backend's SMS number."""
    if channel == "whatsapp":
        sender = settings.TWILIO_WHATSAPP_FROM
        prefix = "whatsapp:"
        return prefix + recipient, sender if sender.startswith(prefix) else prefix + sender
    return recipient, ""


class ConsoleSmsBackend:
    def send(self, *, to: str, body: str, status_callback: str = "", from_: str = "") -> SmsResult:
        # Unique across processes and restarts (a per-process counter repeated ids between web and worker, so a
        # status callback could update another delivery's row).
        sid = f"CONSOLE{uuid.uuid4().hex}"
        logger.info("SMS to %s: %s", to, body)
        print(f"[SMS {sid}] to {to}: {body}")  # noqa: T201 - the console backend's whole point
        return SmsResult(provider_id=sid, status="sent")


class TwilioSmsBackend:
    def __init__(self, *, account_sid: str, auth_token: str, from_number: str, http_client=None):
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.from_number = from_number

    def send(self, *, to: str, body: str, status_callback: str = "", from_: str = "") -> SmsResult:
        import requests
        from twilio.base.exceptions import TwilioRestException

        kwargs = {"to": to, "from_": from_ or self.from_number, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as error:
            if error.status == 429:
                raise SmsRateLimited(str(error.msg)) from error
            if error.status >= 500:
                raise SmsTemporaryError(f"{error.status}: {error.msg}") from error
            raise SmsRejected(f"{error.code or error.status}: {error.msg}") from error
        except (requests.Timeout, TimeoutError) as error:
            raise SmsTimeout(str(error) or "timeout") from error
        except requests.ConnectionError as error:
            raise SmsTemporaryError(str(error)) from error
        return SmsResult(provider_id=message.sid, status=message.status or "queued")


def get_sms_backend():
    if settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN:
        return TwilioSmsBackend(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=settings.TWILIO_FROM_NUMBER,
            http_client=_http_client,
        )
    return ConsoleSmsBackend()
