from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from .auth_backends import role_names
from .roles import ROLE_LABELS
from .tenancy import user_dealerships

# Menu groups of (url name, label, permission needed); links whose URL does not exist yet are skipped, a group with
# one visible link shows as that link.
NAV_GROUPS = [
    (_("Orders"), [("orders:dashboard", _("Orders"), "orders.view_customerorder")]),
    (
        _("Calls"),
        [
            ("notifications:my_calls", _("My calls"), "notifications.view_callevent"),
            ("notifications:inbox", _("Customers' messages"), "notifications.view_inboundmessage"),
            ("notifications:call_compliance", _("Call compliance"), "notifications.view_call_compliance_report"),
        ],
    ),
    (
        _("Warehouse"),
        [
            ("parts:part_list", _("Parts catalogue"), "parts.view_part"),
            ("parts:stock_list", _("Stock"), "parts.view_stockbalance"),
            ("parts:warehouse_list", _("Warehouses and bins"), "parts.view_warehouse"),
            ("parts:dashboard", _("Low-stock alerts"), "parts.view_lowstockalert"),
            ("parts:count_list", _("Stock counts"), "parts.view_stockcount"),
            ("parts:sales_list", _("Sales orders"), "parts.view_salesorder"),
            ("parts:return_list", _("Returns and exchanges"), "parts.view_returnrequest"),
            ("parts:requisition_list", _("Requisitions"), "parts.view_requisition"),
        ],
    ),
    (
        _("Service"),
        [
            ("service:appointment_calendar", _("Appointments"), "service.view_appointment"),
            ("service:workorder_list", _("Work orders"), "service.view_workorder"),
            # Issue 18: the technician's tablet page, the workshop's load, the board by technician, technicians.
            ("service:my_jobs", _("My jobs"), "service.clock_job"),
            ("service:workshop_load", _("Workshop load"), "service.view_appointment"),
            ("service:technician_board", _("Technicians' board"), "service.view_workshop_board"),
            ("service:technician_list", _("Technicians"), "service.view_technicianprofile"),
        ],
    ),
    (
        _("Warranty"),
        [
            ("claims:claim_list", _("Claims"), "claims.view_warrantyclaim"),
            ("claims:complaint_list", _("Complaints"), "claims.view_complaint"),
        ],
    ),
    # Issue 18 item 6: staff KPIs and appraisal (seed 004); every employee reads his own.
    (_("Staff"), [("claims:staff_kpis", _("Staff KPIs"), "claims.view_staff_kpi")]),
    (
        _("Customers"),
        [
            ("core:customer_list", _("Customers"), "core.view_customer"),
            ("core:vehicle_list", _("Vehicles"), "core.view_vehicle"),
        ],
    ),
]


@lru_cache(maxsize=256)
def _nav_url(url_name: str, script_prefix: str, urlconf) -> str | None:
    """Menu URLs are fixed for a process (per script prefix): reversed once, not on every page."""
    try:
        return reverse(url_name, urlconf=urlconf)
    except NoReverseMatch:
        return None


def menu_url(url_name: str) -> str | None:
    """The URL of a menu's or a tab bar's link without arguments (reversed once per process), None if it has none."""
    return _nav_url(url_name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


def permission_check(user):
    """``user.has_perm`` for the links of the menu and of a tab bar, the user's permissions read once: each
    ``has_perm`` loaded every authentication backend anew (a tenth of a millisecond a page, issue 19)."""
    if user.is_active and user.is_superuser:
        return lambda perm: True
    return user.get_all_permissions().__contains__  # every backend's; none for an inactive user, as has_perm


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    has_perm = permission_check(user)
    groups, items = [], []
    for group_label, links in NAV_GROUPS:
        visible = []
        for url_name, label, perm in links:
            if not has_perm(perm):
                continue
            url = menu_url(url_name)
            if url is None:
                continue
            visible.append({"url": url, "label": label, "active": False})
        if visible:
            items.extend(visible)
            groups.append({"label": group_label, "items": visible, "active": any(i["active"] for i in visible)})
    # The link whose URL is the longest prefix of the path is the current page (/parts/ vs /parts/stock/).
    current = max((i for i in items if request.path.startswith(i["url"])), key=lambda i: len(i["url"]), default=None)
    if current is not None:
        current["active"] = True
        for group in groups:
            group["active"] = any(i["active"] for i in group["items"])
    dealerships = user_dealerships(user)
    roles = [ROLE_LABELS.get(name, name) for name in role_names(user)]
    return {
        "nav_items": items,
        "nav_groups": groups,
        "switchable_dealerships": sorted(dealerships.values(), key=lambda d: d.name) if len(dealerships) > 1 else [],
        "user_roles": roles,
    }
