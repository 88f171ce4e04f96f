"""What the orders app adds to core pages (issue 14 item 5): the parts manager's day starts at the order dashboard."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dms.core import roles
from dms.core.history import HistoryItem, HistorySection, QuickAction

from .selectors import customer_order_history

ROLE_LANDINGS = {roles.PARTS_MANAGER: "orders:dashboard"}


# Issue 14 item 3: the customer's and the vehicle's card list their orders and offer a new one, prefilled.
def _order_item(order) -> HistoryItem:
    vehicle = f"{order.vehicle.make} {order.vehicle.model}" if order.vehicle_id else ""
    detail = " · ".join(part for part in (str(order.get_kind_display()), vehicle) if part)
    return HistoryItem.of(order, "customer_order", title=order.number, date=order.created_at, detail=detail)


def _order_sections(user, **subject) -> list[HistorySection]:
    if not user.has_perm("orders.view_customerorder"):
        return []
    return [HistorySection("customer_order", _("Customer orders"), customer_order_history(**subject), _order_item)]


def customer_history(user, customer) -> list[HistorySection]:
    return _order_sections(user, customer=customer)


def vehicle_history(user, vehicle) -> list[HistorySection]:
    return _order_sections(user, vehicle=vehicle)


def customer_actions(user, customer) -> list[QuickAction]:
    if not user.has_perm("orders.add_customerorder"):
        return []
    url = f"{reverse('orders:create')}?{urlencode({'customer': customer.pk})}"
    return [QuickAction(_("New customer order"), url, "customer_order")]


def vehicle_actions(user, vehicle) -> list[QuickAction]:
    if not user.has_perm("orders.add_customerorder"):
        return []
    query = urlencode({"customer": vehicle.customer_id, "vehicle": vehicle.pk})
    return [QuickAction(_("New customer order"), f"{reverse('orders:create')}?{query}", "customer_order")]


# Issue 15 item 8: the directors' parts KPIs on the reports page.
REPORTS = [("orders:kpis", _("Parts KPIs"), "parts.view_stock_value_report")]
