"""The customer page's «notifications» card: opt-outs per channel, recorded by staff with the customer's reason."""

from django.template.loader import render_to_string

from dms.core.models import ContactChannel

from .models import OptOut


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
