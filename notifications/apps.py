from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Call-backs and notifications")

    def ready(self) -> None:
        from orders import signals as order_signals
        from orders.selectors import provide_call_log
        from parts import signals as parts_signals

        from . import receivers, selectors, signals, tasks

        # The orders app sends this after its transaction commits; it never imports us.
        order_signals.status_changed.connect(receivers.on_status_changed, dispatch_uid="notifications.status_changed")
        parts_signals.goods_dispatched.connect(receivers.on_goods_dispatched, dispatch_uid="notifications.dispatched")
        signals.deliveries_queued.connect(tasks.on_deliveries_queued, dispatch_uid="notifications.deliveries_queued")
        # R13: the order list's «Обзвон» column reads our selector; orders, below us, never imports it.
        provide_call_log(
            for_orders=selectors.call_log_for_orders,
            sql=selectors.call_log_sql,
            from_json=selectors.call_logs_from_json,
        )
