"""Adapter to customer notifications (notifications app) with an e-mail fallback.

``notifications.services.customer_notify`` picks SMS or e-mail by the customer's preference (and opt-outs) and
returns None when the customer's channel is the phone. Until it is installed, e-mail customers get a plain e-mail
and SMS customers without it fall back to e-mail when they have an address, otherwise a call.
Call this only from ``transaction.on_commit`` callbacks or Celery tasks.
"""

from importlib import import_module

from django.conf import settings
from django.core.mail import send_mail

from dms.core.models import ContactChannel

SENT = "sent"
CALL = "call"


def _notify_function():
    try:
        return import_module("notifications.services").customer_notify
    except (ImportError, AttributeError):
        return None


def channel_for(customer) -> str:
    """The channel a message will go by: 'sms', 'email' or 'phone' (a call task)."""
    if customer.preferred_channel == ContactChannel.PHONE:
        return ContactChannel.PHONE
    if _notify_function() is not None:
        return customer.preferred_channel
    return ContactChannel.EMAIL if customer.email else ContactChannel.PHONE


def notify_customer(*, actor, customer, subject: str, body: str, reference: str) -> str:
    """Send; returns SENT, or CALL when the customer has to be phoned instead."""
    customer_notify = _notify_function()
    if customer_notify is not None:
        result = customer_notify(actor=actor, customer=customer, subject=subject, body=body, reference=reference)
        return CALL if result is None else SENT
    if customer.preferred_channel != ContactChannel.PHONE and customer.email:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [customer.email])
        return SENT
    return CALL
