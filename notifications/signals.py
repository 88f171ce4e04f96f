"""Signals of the notifications app.

- ``deliveries_queued(delivery_ids)``: messages were written and committed; ``notifications.tasks`` publishes their
  sending tasks (connected in ``NotificationsConfig.ready``), so the services never import the tasks module.
"""

from django.dispatch import Signal

deliveries_queued = Signal()
