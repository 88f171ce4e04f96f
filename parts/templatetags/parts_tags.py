from django import template
from django.utils.translation import gettext_lazy as _

from dms.core.context_processors import menu_url, permission_check

register = template.Library()

# (url name, label, permission, url names that mark the tab active)
TABS = [
    ("parts:part_list", _("Catalogue"), "parts.view_part", ("part_list", "part_detail", "balance_update")),
    ("parts:stock_list", _("Stock"), "parts.view_stockbalance", ("stock_list", "receive", "issue", "transfer")),
    ("parts:movement_list", _("Movements"), "parts.view_stockmovement", ("movement_list",)),
    ("parts:dashboard", _("Low-stock alerts"), "parts.view_lowstockalert", ("dashboard",)),
    ("parts:count_list", _("Stock counts"), "parts.view_stockcount", ("count_",)),
    ("parts:sales_list", _("Sales orders"), "parts.view_salesorder", ("sales_",)),
    ("parts:return_list", _("Returns"), "parts.view_returnrequest", ("return_",)),
    ("parts:requisition_list", _("Requisitions"), "parts.view_requisition", ("requisition_", "oldpart_")),
    ("parts:stock_value", _("Stock value"), "parts.view_stock_value_report", ("stock_value",)),
    ("parts:job_cost", _("Cost per job"), "parts.view_job_cost_report", ("job_cost",)),
]


@register.inclusion_tag("parts/_subnav.html", takes_context=True)
def parts_tabs(context):
    request = context["request"]
    current = getattr(request.resolver_match, "url_name", "") or ""
    has_perm = permission_check(request.user)  # the user's permissions read once, the URLs reversed once (issue 19)
    tabs = []
    for url_name, label, perm, prefixes in TABS:
        url = menu_url(url_name) if has_perm(perm) else None
        if url is None:
            continue
        tabs.append({"url": url, "label": label, "active": any(current.startswith(p) for p in prefixes)})
    return {"tabs": tabs}
