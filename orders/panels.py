"""What the orders app adds to core pages (issue 14 item 5): the parts manager's day starts at the order dashboard."""

from django.utils.translation import gettext_lazy as _

from dms.core import roles

ROLE_LANDINGS = {roles.PARTS_MANAGER: "orders:dashboard"}

# Issue 15 item 8: the directors' parts KPIs on the reports page.
REPORTS = [("orders:kpis", _("Parts KPIs"), "parts.view_stock_value_report")]
