"""Signals other apps listen to (sent after commit), so orders never imports them.

- ``parts_received(order_id, receipt_id)``: parts arrived for an order (R5, R10).
- ``status_changed(order_id, source, target)``: any transition (received/cancelled/issued close call events).
"""

from django.dispatch import Signal

parts_received = Signal()
status_changed = Signal()
