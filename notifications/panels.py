"""The customer page's «notifications» card: opt-outs per channel, recorded by staff with the customer's reason."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from dms.core.history import HistoryItem, HistorySection
from dms.core.models import ContactChannel

from .conversations import whatsapp_enabled
from .forms import MessageForm
from .models import CallStatus, InboundStatus, OptOut
from .selectors import call_history, customer_thread, message_history, my_calls
from .services import local_today


def customer_panel(request, customer) -> str | None:
    parts = [_messages_card(request, customer), _opt_outs_card(request, customer)]
    # each part is a rendered (escaped) template: their concatenation stays safe
    return mark_safe("".join(part for part in parts if part)) or None  # noqa: S308


def _messages_card(request, customer) -> str | None:
    """Issue 17 item 3: the thread of messages with the customer, both ways, and the employee's reply form."""
    user = request.user
    if not (user.has_perm("notifications.view_delivery") or user.has_perm("notifications.view_inboundmessage")):
        return None
    thread = customer_thread(customer=customer)
    return render_to_string(
        "notifications/customer_messages.html",
        {
            "customer": customer,
            "thread": thread,
            "open_count": sum(1 for m in thread if m.incoming and m.status == InboundStatus.OPEN),
            "form": MessageForm(whatsapp=whatsapp_enabled()) if user.has_perm("notifications.add_delivery") else None,
        },
        request=request,
    )


def _opt_outs_card(request, customer) -> str | None:
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
            # ``perms``: the auth context processor's (``has_perm``); a set of every permission read them all anew
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


# Issue 14 item 3: the calls about the customer's orders (the call log) and the messages sent to them, on the cards.
def _call_item(call) -> HistoryItem:
    done = call.status == CallStatus.DONE
    outcome = call.get_outcome_display() if call.outcome else ""
    detail = " · ".join(str(part) for part in (call.order.number, outcome, call.comment) if part)
    return HistoryItem.of(
        call,
        "call",
        title=str(call.get_kind_display()),
        date=call.completed_at if done and call.completed_at else call.due_date,
        url=reverse("orders:detail", args=[call.order_id]),
        detail=detail,
    )


def _message_item(message) -> HistoryItem:
    return HistoryItem.of(
        message,
        "message",
        title=message.subject or str(message.get_channel_display()),
        date=message.sent_at or message.created_at,
        # A message has no page of its own: the order it is about, when there is one.
        url=reverse("orders:detail", args=[message.event.order_id]) if message.event_id else None,
        detail=f"{message.get_channel_display()}: {message.body}",
    )


def _sections(user, **subject) -> list[HistorySection]:
    sections = []
    if user.has_perm("notifications.view_callevent"):
        sections.append(HistorySection("call", _("Call log"), call_history(**subject), _call_item))
    if user.has_perm("notifications.view_delivery"):
        sections.append(HistorySection("message", _("Messages"), message_history(**subject), _message_item))
    return sections


def customer_history(user, customer) -> list[HistorySection]:
    return _sections(user, customer=customer)


def vehicle_history(user, vehicle) -> list[HistorySection]:
    return _sections(user, vehicle=vehicle)
