from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Call-backs and notifications")

    def ready(self) -> None:
        from orders import signals as order_signals
        from parts import signals as parts_signals

        from . import receivers

        # The orders app sends these after its transaction commits; it never imports us.
        order_signals.parts_received.connect(receivers.on_parts_received, dispatch_uid="notifications.parts_received")
        order_signals.status_changed.connect(receivers.on_status_changed, dispatch_uid="notifications.status_changed")
        parts_signals.goods_dispatched.connect(receivers.on_goods_dispatched, dispatch_uid="notifications.dispatched")
