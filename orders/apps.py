from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Customer orders")

    def ready(self) -> None:
        from dms.core.references import provide_reference_target

        from .models import CustomerOrder

        # Issue 12 item 6: lower apps (a parts receipt reserving for a customer order) name orders by id; they
        # resolve here, inside the acting dealership (dms.core.references), without parts importing orders.
        provide_reference_target("orders.CustomerOrder", CustomerOrder.objects.all)
