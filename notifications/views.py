"""Pages: My calls (R13, R10 tasks first), the call-compliance report (R14), Twilio's status callback."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from dms.core.db_router import reads_from_replica
from dms.core.downloads import set_download_name
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.models import Customer, Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.views import DealershipPageMixin

from . import reports, selectors, services
from .forms import CallResultForm
from .models import CallEvent, OptOut


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
        return super().get_context_data(sections=sections, today=today, can_complete=can_complete, **kwargs)


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
        dealership_ids = {wanted} & set(allowed) if wanted is not None else None
        errors = {}
        try:
            date_from, date_to = reports.parse_range(request.GET.get("from"), request.GET.get("to"), today=today)
        except ValidationError as error:
            errors = error.message_dict
            date_from, date_to = reports.parse_range(None, None, today=today)
        report = reports.compliance_for_user(
            user=request.user, date_from=date_from, date_to=date_to, dealership_ids=dealership_ids
        )
        export = request.GET.get("export")
        if export == "csv" and not errors:
            response = HttpResponse(reports.export_csv(report), content_type="text/csv; charset=utf-8")
            set_download_name(response, f"call-compliance-{date_from}-{date_to}.csv")
            return response
        if export == "xlsx" and not errors:
            response = HttpResponse(
                reports.export_xlsx(report),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            set_download_name(response, f"call-compliance-{date_from}-{date_to}.xlsx")
            return response
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


@method_decorator(csrf_exempt, name="dispatch")
class TwilioStatusCallbackView(View):
    """Twilio's delivery status callback: only correctly signed requests are heard (403 otherwise)."""

    def post(self, request):
        from twilio.request_validator import RequestValidator

        token = settings.TWILIO_AUTH_TOKEN
        signature = request.headers.get("X-Twilio-Signature", "")
        url = settings.TWILIO_STATUS_CALLBACK_URL or request.build_absolute_uri()
        params = {key: request.POST.get(key) for key in request.POST}
        if not token or not signature or not RequestValidator(token).validate(url, params, signature):
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
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except ConflictError as error:
            messages.error(request, error.message)
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
