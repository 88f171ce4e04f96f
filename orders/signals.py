"""Signals other apps listen to (sent after commit), so orders never imports them.

- ``status_changed(order_id, source, target, at)``: any transition, ``at`` its moment. The one signal the
  notifications app listens to: a receipt (R5, R10) or a closing status (R3) reaches it once per request.
- ``parts_received(order_id, receipt_id)``: parts arrived for an order, for listeners that need the receipt.
"""

from django.dispatch import Signal

parts_received = Signal()
status_changed = Signal()
