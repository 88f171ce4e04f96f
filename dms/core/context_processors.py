from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .roles import ROLE_LABELS
from .tenancy import user_dealerships

# (url name, label, permission needed); links whose URL does not exist yet are skipped.
NAV_ITEMS = [
    ("orders:dashboard", _("Orders"), "orders.view_customerorder"),
    ("notifications:my_calls", _("My calls"), "notifications.view_callevent"),
    ("notifications:call_compliance", _("Call compliance"), "notifications.view_call_compliance_report"),
    ("parts:part_list", _("Parts"), "parts.view_part"),
    ("service:appointment_calendar", _("Appointments"), "service.view_appointment"),
    ("service:workorder_list", _("Work orders"), "service.view_workorder"),
    ("claims:claim_list", _("Claims"), "claims.view_warrantyclaim"),
    ("claims:complaint_list", _("Complaints"), "claims.view_complaint"),
    ("core:customer_list", _("Customers"), "core.view_customer"),
    ("core:vehicle_list", _("Vehicles"), "core.view_vehicle"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for url_name, label, perm in NAV_ITEMS:
        if not user.has_perm(perm):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "active": request.path.startswith(url)})
    dealerships = user_dealerships(user)
    roles = [ROLE_LABELS.get(name, name) for name in user.groups.values_list("name", flat=True)]
    return {
        "nav_items": items,
        "switchable_dealerships": sorted(dealerships.values(), key=lambda d: d.name) if len(dealerships) > 1 else [],
        "user_roles": roles,
    }
