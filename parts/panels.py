"""What the parts app adds to core pages (issue 14 item 5): the storekeeper's day starts at the stock page (receipts,
issues, transfers and counts start there); the stock value and job cost reports are among the director's reports."""

from django.utils.translation import gettext_lazy as _

from dms.core import roles

ROLE_LANDINGS = {roles.STOREKEEPER: "parts:stock_list"}

REPORTS = [
    ("parts:stock_value", _("Stock value"), "parts.view_stock_value_report"),
    ("parts:job_cost", _("Parts cost per job"), "parts.view_job_cost_report"),
]
