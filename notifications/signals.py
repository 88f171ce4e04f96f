"""Signals of the notifications app.

- ``deliveries_queued(delivery_ids)``: messages were written and committed; ``notifications.tasks`` publishes their
  sending tasks (connected in ``NotificationsConfig.ready``), so the services never import the tasks module.
- ``customer_replied(customer_id, reference, intent, message_id)``: below.
"""

from dataclasses import dataclass

from django.dispatch import Signal

deliveries_queued = Signal()

# Issue 17 item 3: a customer answered a message. Sent inside the receiving transaction with ``customer_id``,
# ``reference`` (the reference of the message answered, e.g. "appointment:12"), ``intent`` (ReplyIntent) and
# ``message_id``. A higher app that owns the reference (service: appointment confirmations, R19) acts on it and
# returns a ``ReplyHandled``; nobody answering means the reply becomes an employee's task.
customer_replied = Signal()


@dataclass(frozen=True)
class ReplyHandled:
    handled: bool
    # Who is responsible for what the reference is about (an appointment's advisor), for a reply left to a person.
    responsible_id: int | None = None
