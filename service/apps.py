from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from dms.core.references import provide_reference_target
        from notifications import signals as notification_signals

        from . import receivers, selectors
        from .models import WorkOrder, WorkOrderJob, WorkOrderStatus

        # Issue 17 item 3: a customer's «да» / «перенести» answering the appointment confirmation (R19).
        notification_signals.customer_replied.connect(
            receivers.on_customer_replied, dispatch_uid="service.customer_replied"
        )

        # Issue 15 item 2 (R32): parts requisitions name work orders and jobs by id; they resolve here, inside the
        # acting dealership (dms.core.references), without parts importing service. "Open" work orders are the ones
        # a new requisition may be made for (the car has not left).
        provide_reference_target("service.WorkOrder", WorkOrder.objects.all)
        provide_reference_target("service.OpenWorkOrder", selectors.open_work_orders)  # the picker's set too
        provide_reference_target("service.WorkOrderJob", WorkOrderJob.objects.all)
        provide_reference_target(
            "service.OpenWorkOrderJob",
            lambda: WorkOrderJob.objects.exclude(work_order__status=WorkOrderStatus.DELIVERED).select_related(
                "work_order"
            ),
        )

        from dms.core.links import provide_link_page

        # Issue 17: the pages customer links open (dms.core.links): the status page, and the R19 reply page.
        provide_link_page("status", "service:customer_status")
        provide_link_page("appointment_reply", "service:public_reply")
