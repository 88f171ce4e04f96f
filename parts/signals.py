"""Signals other apps listen to, so parts never imports them (parts sits below orders and notifications).

- ``goods_dispatched(customer, actor, subject, body, reference)``: a sales order left the warehouse (R21). Sent inside
  the shipping transaction: what a receiver records (the customer's message) commits or rolls back with the shipment.
  Receivers return what they recorded (or None), so the sender knows whether the customer will be told.
"""

from django.dispatch import Signal

goods_dispatched = Signal()
