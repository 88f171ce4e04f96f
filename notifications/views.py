"""Pages: My calls (R13, R10 tasks first), the call-compliance report (R14), Twilio's status callback."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from dms.core.db_router import reads_from_replica
from dms.core.downloads import EXPORT_TYPES, export_response
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.models import Customer, Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.views import (
    ACTION_ERRORS,
    DealershipPageMixin,
    action_error_message,
    app_panels,
    parsed_or_default,
    report_dealership_scope,
)

from . import conversations, reports, selectors, services
from .forms import CallResultForm, MessageForm
from .models import CallEvent, CallStatus, InboundMessage, InboundStatus, OptOut


def order_url(order_id: int) -> str | None:
    try:
        return reverse("orders:detail", args=[order_id])
    except NoReverseMatch:  # the orders pages live on another branch until merged
        return None


class MyCallsView(DealershipPageMixin, TemplateView):
    permission_required = "notifications.view_callevent"
    template_name = "notifications/my_calls.html"

    def get_context_data(self, *, bound_form=None, **kwargs):
        dealership = self.request.dealership
        today = services.local_today(dealership)
        calls = selectors.my_calls(user=self.request.user, dealership=dealership, today=today)
        can_complete = self.request.user.has_perm("notifications.complete_callevent")
        sections = []
        for key, title, items in (
            ("overdue", _("Overdue"), calls.overdue),
            ("today", _("Today"), calls.today),
            ("upcoming", _("Upcoming"), calls.upcoming),
        ):
            rows = []
            for event in items:
                form = None
                if can_complete:
                    form = bound_form if bound_form is not None and bound_form.event_id == event.pk else None
                    form = form or CallResultForm(event=event)
                rows.append({"event": event, "form": form, "order_url": order_url(event.order_id)})
            sections.append({"key": key, "title": title, "rows": rows})
        # Issue 17 item 3: customers' replies nobody's words understood are tasks here too.
        message_tasks = selectors.my_message_tasks(user=self.request.user, dealership=dealership)
        return super().get_context_data(
            sections=sections,
            today=today,
            can_complete=can_complete,
            message_tasks=message_tasks[:100],
            can_handle=self.request.user.has_perm("notifications.handle_inboundmessage"),
            # Issue 17 item 5: calls other apps give the employee (service follow-ups), through their panels hook.
            app_call_panels=app_panels(self.request, "my_calls_panels"),
            **kwargs,
        )


class CompleteCallView(DealershipPageMixin, View):
    permission_required = "notifications.complete_callevent"

    def post(self, request, pk):
        event = self.get_scoped_object(CallEvent, pk)
        form = CallResultForm(request.POST, event=event)
        form.event_id = event.pk
        if form.is_valid():
            try:
                services.call_event_complete(actor=request.user, event=event, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_errors(error)
            except ConflictError as error:
                messages.error(request, error.message)
                return redirect("notifications:my_calls")
            else:
                messages.success(
                    request,
                    _("Result recorded for order %(number)s: %(outcome)s.")
                    % {
                        "number": event.order.number,
                        "outcome": CallEvent(outcome=form.cleaned_data["outcome"]).get_outcome_display(),
                    },
                )
                return redirect("notifications:my_calls")
        view = MyCallsView(request=request, kwargs={}, args=())
        context = view.get_context_data(bound_form=form)
        messages.error(request, _("The result was not saved: check the highlighted call."))
        return view.render_to_response(context, status=400)


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class CallComplianceView(DealershipPageMixin, TemplateView):
    permission_required = "notifications.view_call_compliance_report"
    template_name = "notifications/call_compliance.html"

    def get(self, request, *args, **kwargs):
        today = services.local_today(request.dealership)
        allowed = allowed_dealership_ids(request.user)
        dealerships = Dealership.objects.filter(pk__in=allowed)
        wanted = parse_id(request.GET.get("dealership", ""))
        errors = {}
        raw = request.GET.get("from"), request.GET.get("to")
        date_from, date_to = parsed_or_default(reports.parse_range, *raw, errors=errors, today=today)
        # A dealership that is not one of the user's is named as such (a 400, no file), never an empty report.
        dealership_ids, dealership_errors = report_dealership_scope(request)
        errors.update(dealership_errors)
        report = reports.compliance_for_user(
            user=request.user, date_from=date_from, date_to=date_to, dealership_ids=dealership_ids
        )
        export = request.GET.get("export")
        if export in EXPORT_TYPES and not errors:
            content = reports.export_csv(report) if export == "csv" else reports.export_xlsx(report)
            return export_response(content, export=export, filename=f"call-compliance-{date_from}-{date_to}")
        charts = [{"row": row, "svg": reports.employee_chart(report, row.key)} for row in report.employees]
        context = self.get_context_data(
            report=report,
            charts=charts,
            errors=errors,
            dealerships=dealerships if len(allowed) > 1 else [],
            selected_dealership=wanted,
            legend=reports.legend_html(),
            team=request.user.has_perm(reports.TEAM_PERMISSION),
            raw_from=request.GET.get("from", date_from.isoformat()),
            raw_to=request.GET.get("to", date_to.isoformat()),
        )
        return self.render_to_response(context, status=400 if errors else 200)


def twilio_signed(request, public_url: str) -> bool:
    """The request carries Twilio's valid signature of ``public_url`` (or the request's own URL) and its form."""
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    url = public_url or request.build_absolute_uri()
    params = {key: request.POST.get(key) for key in request.POST}
    return bool(token and signature and RequestValidator(token).validate(url, params, signature))


@method_decorator(csrf_exempt, name="dispatch")
class TwilioStatusCallbackView(View):
    """Twilio's delivery status callback: only correctly signed requests are heard (403 otherwise)."""

    def post(self, request):
        if not twilio_signed(request, settings.TWILIO_STATUS_CALLBACK_URL):
            return HttpResponseForbidden("invalid signature")
        sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
        services.delivery_status_callback(
            provider_id=sid,
            provider_status=request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or "",
            error_code=request.POST.get("ErrorCode", ""),
        )
        return HttpResponse(status=204)


class OptOutCreateView(DealershipPageMixin, View):
    """Record a customer's opt-out of one channel from the customer page (every notification honours it)."""

    permission_required = "notifications.add_optout"

    def post(self, request, customer_pk: int):
        customer = self.get_scoped_object(Customer, customer_pk)
        try:
            services.opt_out_create(
                actor=request.user,
                customer=customer,
                channel=request.POST.get("channel", ""),
                reason=request.POST.get("reason", ""),
            )
        except (ValidationError, ConflictError) as error:
            messages.error(request, action_error_message(error))
        else:
            messages.success(request, _("The opt-out is recorded."))
        return redirect("core:customer_detail", pk=customer.pk)


class OptOutDeleteView(DealershipPageMixin, View):
    permission_required = "notifications.delete_optout"

    def post(self, request, pk: int):
        opt_out = self.get_scoped_object(OptOut, pk)
        customer_pk = opt_out.customer_id
        services.opt_out_delete(actor=request.user, opt_out=opt_out)
        messages.success(request, _("The customer will be notified on this channel again."))
        return redirect("core:customer_detail", pk=customer_pk)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@method_decorator(csrf_exempt, name="dispatch")
class TwilioInboundView(View):
    """Twilio's inbound-message webhook (SMS and WhatsApp, issue 17 item 3): signed requests only (403 otherwise);
    a retried MessageSid changes nothing; the answer is an empty TwiML (no automatic reply)."""

    def post(self, request):
        if not twilio_signed(request, settings.TWILIO_INBOUND_URL):
            return HttpResponseForbidden("invalid signature")
        try:
            conversations.inbound_message_receive(
                provider_id=request.POST.get("MessageSid") or request.POST.get("SmsSid") or "",
                sender=request.POST.get("From", ""),
                recipient=request.POST.get("To", ""),
                body=request.POST.get("Body", ""),
            )
        except ValidationError as error:
            return HttpResponseBadRequest(" ".join(error.messages))
        return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


class CallEventDetailView(DealershipPageMixin, TemplateView):
    """One call event: its order and customer, its result, and the messages about it (issue 17 item 3)."""

    permission_required = "notifications.view_callevent"
    template_name = "notifications/call_detail.html"

    def get_context_data(self, **kwargs):
        event = self.get_scoped_object(CallEvent, self.kwargs["pk"])
        event = CallEvent.objects.select_related("order__customer", "order__vehicle", "assignee", "completed_by").get(
            pk=event.pk
        )
        user = self.request.user
        can_complete = user.has_perm("notifications.complete_callevent") and event.status == CallStatus.OPEN
        can_send = user.has_perm("notifications.add_delivery")
        return super().get_context_data(
            event=event,
            order_url=order_url(event.order_id),
            thread=selectors.event_thread(event=event),
            result_form=CallResultForm(event=event) if can_complete else None,
            message_form=(
                MessageForm(initial={"event": event.pk}, whatsapp=conversations.whatsapp_enabled())
                if can_send
                else None
            ),
            **kwargs,
        )


class MessageSendView(DealershipPageMixin, View):
    """An employee's message from the customer's card or a call event's page; back to where it was written."""

    permission_required = "notifications.add_delivery"

    def post(self, request, customer_pk: int):
        customer = self.get_scoped_object(Customer, customer_pk)
        form = MessageForm(request.POST, whatsapp=conversations.whatsapp_enabled())
        event = None
        if form.is_valid():
            event_id = form.cleaned_data.get("event")
            event = CallEvent.objects.filter(pk=event_id, dealership=request.dealership).first() if event_id else None
            try:
                conversations.message_send(
                    actor=request.user,
                    customer=customer,
                    body=form.cleaned_data["body"],
                    channel=form.cleaned_data.get("channel") or "",
                    event=event,
                )
            except ACTION_ERRORS as error:
                messages.error(request, action_error_message(error))
            else:
                messages.success(request, _("The message is on its way."))
        else:
            messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        if event is not None:
            return redirect("notifications:call_detail", pk=event.pk)
        return redirect(reverse("core:customer_detail", args=[customer.pk]) + "#customer-messages")


def _inbound_for(request, pk: int) -> InboundMessage:
    """A message of the user's dealerships, or an unmatched one (no dealership); else 404."""
    message = (
        InboundMessage.objects.filter(pk=pk)
        .filter(Q(dealership_id__in=allowed_dealership_ids(request.user)) | Q(dealership__isnull=True))
        .first()
    )
    if message is None:
        raise Http404
    return message


class InboundHandleView(DealershipPageMixin, View):
    permission_required = "notifications.handle_inboundmessage"

    def post(self, request, pk: int):
        message = _inbound_for(request, pk)
        try:
            conversations.inbound_message_handle(actor=request.user, message=message)
        except ACTION_ERRORS as error:
            messages.error(request, action_error_message(error))
        else:
            messages.success(request, _("The message is marked as handled."))
        back = request.POST.get("back", "")
        return redirect("notifications:inbox" if back == "inbox" else "notifications:my_calls")


class InboxView(DealershipPageMixin, TemplateView):
    """The staff list of customers' messages (issue 17 item 3): all, waiting for an answer, or from unknown numbers."""

    permission_required = "notifications.view_inboundmessage"
    template_name = "notifications/inbox.html"
    FILTERS = ("all", "open", "unmatched")

    def get_context_data(self, **kwargs):
        show = self.request.GET.get("show", "all")
        show = show if show in self.FILTERS else "all"
        ids = allowed_dealership_ids(self.request.user)
        qs = selectors.inbound_list(dealership_ids=ids, unmatched=show == "unmatched")
        if show == "open":
            qs = qs.filter(status=InboundStatus.OPEN)
        page = Paginator(qs, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page=page,
            show=show,
            filters=[("all", _("All")), ("open", _("Waiting for an answer")), ("unmatched", _("Unknown numbers"))],
            can_handle=self.request.user.has_perm("notifications.handle_inboundmessage"),
            # Issue 17 item 5: calls other apps give the employee (service follow-ups), through their panels hook.
            app_call_panels=app_panels(self.request, "my_calls_panels"),
            **kwargs,
        )
