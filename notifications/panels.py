"""The customer page's «notifications» card: opt-outs per channel, recorded by staff with the customer's reason."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from dms.core.models import ContactChannel

from .models import OptOut
from .selectors import my_calls
from .services import local_today


def customer_panel(request, customer) -> str | None:
    if not request.user.has_perm("notifications.view_optout"):
        return None
    opt_outs = OptOut.objects.filter(customer=customer).select_related("created_by").order_by("channel")
    taken = {o.channel for o in opt_outs}
    return render_to_string(
        "notifications/customer_optouts.html",
        {
            "customer": customer,
            "opt_outs": opt_outs,
            "free_channels": [(value, label) for value, label in ContactChannel.choices if value not in taken],
            "perms": request.user.get_all_permissions(),
        },
        request=request,
    )


# Issue 14 item 5: the advisor's home shows the calls due; the director's reports page lists the call compliance.
REPORTS = [("notifications:call_compliance", _("Call compliance"), "notifications.view_call_compliance_report")]

CALL_PANEL_ROWS = 10


def home_panels(request) -> list[str]:
    if not request.user.has_perm("notifications.view_callevent"):
        return []
    dealership = request.dealership
    today = local_today(dealership)
    calls = my_calls(user=request.user, dealership=dealership, today=today)
    due = [*calls.overdue, *calls.today]
    return [
        render_to_string(
            "notifications/home_calls.html",
            {"calls": due[:CALL_PANEL_ROWS], "total": len(due), "overdue": len(calls.overdue), "today": today},
            request=request,
        )
    ]
