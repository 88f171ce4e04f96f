"""What the parts app adds to core pages (issue 14 item 5): the storekeeper's day starts at the stock page (receipts,
issues, transfers and counts start there); the stock value and job cost reports are among the director's reports."""

from django.utils.translation import gettext_lazy as _

from dms.core import roles
from dms.core.history import HistoryItem, HistorySection

from .selectors import return_history, sales_order_history

ROLE_LANDINGS = {roles.STOREKEEPER: "parts:stock_list"}

REPORTS = [
    ("parts:stock_value", _("Stock value"), "parts.view_stock_value_report"),
    ("parts:job_cost", _("Parts cost per job"), "parts.view_job_cost_report"),
]


# Issue 14 item 3: the customer's card lists their sales orders and returns (neither names a vehicle).
def _sales_item(order) -> HistoryItem:
    return HistoryItem.of(order, "sales_order", title=str(order), date=order.created_at, detail=order.need_description)


def _return_item(request) -> HistoryItem:
    detail = f"{request.part.number} · {request.get_reason_display()}"
    return HistoryItem.of(request, "return", title=str(request), date=request.created_at, detail=detail)


def customer_history(user, customer) -> list[HistorySection]:
    sections = []
    if user.has_perm("parts.view_salesorder"):
        sections.append(
            HistorySection("sales_order", _("Sales orders"), sales_order_history(customer=customer), _sales_item)
        )
    if user.has_perm("parts.view_returnrequest"):
        sections.append(HistorySection("return", _("Returns"), return_history(customer=customer), _return_item))
    return sections
