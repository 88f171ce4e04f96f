"""Pages of complaints and claims. Every write goes through claims.services; records of other dealerships are 404."""

import datetime
import hashlib
from html import escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from dms.core.db_router import reads_from_replica
from dms.core.downloads import EXPORT_TYPES, private_file_response, set_download_name, table_export
from dms.core.exceptions import ConflictError
from dms.core.exports import CsvExportWriter
from dms.core.formatting import date_formatter, format_money
from dms.core.inputs import parse_id
from dms.core.links import customer_language
from dms.core.models import Dealership
from dms.core.rendering import CUSTOMER_PHONES, display_for, render_rows, show, url_for
from dms.core.security import client_address, rate_limited
from dms.core.selectors import dealership_staff
from dms.core.tenancy import allowed_dealership_ids
from dms.core.views import (
    ACTION_ERRORS,
    ActionView,
    DealershipPageMixin,
    PageAction,
    PaginatedListMixin,
    PickerSearchView,
    RecordDetailView,
    ServiceFormView,
    SettingsFormView,
    action_error_message,
    parsed_or_default,
    picker_param_id,
    report_dealership_scope,
)
from service import efficiency

from . import kpi, selectors, services, staff_kpi, workorders
from .forms import (
    AppraisalFinaliseForm,
    AppraisalScoreForm,
    AttachmentForm,
    ClaimsConfirmForm,
    ClaimsSettingsForm,
    ComplaintAssignForm,
    ComplaintCloseForm,
    ComplaintForm,
    ComplaintNoteForm,
    ComplaintSolutionForm,
    DisposeForm,
    GoodwillClaimForm,
    PaymentForm,
    PublicComplaintForm,
    ReasonForm,
    RejectForm,
    WarrantyClaimForm,
    WarrantyPartLineForm,
)
from .models import (
    AppraisalPeriod,
    AppraisalStatus,
    ClaimsSettings,
    Complaint,
    ComplaintCategory,
    ComplaintSeverity,
    ComplaintStatus,
    GoodwillClaim,
    GoodwillStatus,
    QuarantinedPart,
    QuarantineStatus,
    ScoreSource,
    StaffAppraisal,
    WarrantyClaim,
    WarrantyClaimKind,
    WarrantyStatus,
)

# ----------------------------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------------------------


class ClaimsFormView(ServiceFormView):
    """A form page acting on one record (or creating one); a refusal of the service lands on top of the form."""

    model = None
    # A refused role stays a 403 (the step's permission on the model, asked by the service).
    form_refusals = (ConflictError, TransitionNotAllowed, ConcurrentTransition)

    def get_object(self):
        return self.get_scoped_object(self.model, self.kwargs["pk"])

    def get_cancel_url(self):
        if "pk" in self.kwargs:
            return self.get_object().get_absolute_url()
        return reverse("home")

    success_message = gettext_lazy("%(object)s saved.")


def _status_changed(obj, result) -> str:
    return _("%(object)s: %(status)s.") % {"object": result, "status": result.get_status_display()}


class ComplaintActionView(ActionView):
    """The complaint page's buttons."""

    model = Complaint
    actions = {
        "start_investigation": PageAction(
            call=lambda actor, obj, data: services.complaint_start_investigation(actor=actor, complaint=obj),
            permission="claims.investigate_complaint",
            success=_status_changed,
            transition="start_investigation",
        ),
    }


def _claim_steps(model_name: str, **steps) -> dict[str, PageAction]:
    """One button per status step of a claim: the step's service, run by a holder of ``<step>_<model>``."""
    return {
        name: PageAction(
            call=lambda actor, obj, data, service=service: service(actor=actor, claim=obj),
            permission=f"claims.{name}_{model_name}",
            success=_status_changed,
            transition=name,
        )
        for name, service in steps.items()
    }


class GoodwillActionView(ActionView):
    """The goodwill claim page's buttons (R23)."""

    model = GoodwillClaim
    actions = _claim_steps(
        "goodwillclaim",
        submit=services.goodwill_claim_submit,
        fmc_confirm=services.goodwill_claim_fmc_confirm,
        cac_confirm=services.goodwill_claim_cac_confirm,
    )


class ClaimActionView(ActionView):
    """The warranty claim page's buttons (R22)."""

    model = WarrantyClaim
    actions = _claim_steps(
        "warrantyclaim", submit=services.warranty_claim_submit, fmc_confirm=services.warranty_claim_fmc_confirm
    )


class AttachmentUploadView(ClaimsFormView):
    form_class = AttachmentForm
    owner_field = ""

    @property
    def title(self):
        return _("Attach a file to %(object)s") % {"object": self.get_object()}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["owner_field"] = self.owner_field
        return kwargs

    success_message = gettext_lazy("File attached to %(object)s.")

    def save(self, form):
        owner = self.get_object()
        services.attachment_add(
            actor=self.request.user,
            owner=owner,
            kind=form.cleaned_data["kind"],
            file=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
        )
        return owner


class AttachmentDownloadView(LoginRequiredMixin, View):
    """Files are never served from a public media URL: only to users who may see the complaint or claim."""

    def get(self, request, pk):
        attachment = selectors.attachment_for_user(
            user=request.user, attachment_id=pk, dealership_ids=allowed_dealership_ids(request.user)
        )
        if attachment is None:
            raise Http404
        if not selectors.may_view_attachment(request.user, attachment):
            raise PermissionDenied
        return private_file_response(
            attachment.file, content_type=attachment.content_type, filename=attachment.original_name
        )


# ----------------------------------------------------------------------------------------------------------------
# Complaints (R33, R24)
# ----------------------------------------------------------------------------------------------------------------


class ComplaintListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "claims.view_complaint"
    template_name = "claims/complaint_list.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        assignee = params.get("assignee", "")
        qs = selectors.complaint_list(
            dealership_ids=[self.request.dealership.pk],
            search=params.get("q", ""),
            status=params.get("status", ""),
            category=params.get("category", ""),
            severity=params.get("severity", ""),
            assignee_id=parse_id(assignee),
            overdue=params.get("overdue") == "1",
        )
        # the rows' related rows only, and no customer's phones (dms.core.rendering.CUSTOMER_PHONES, issue 19)
        page = self.paginate(qs.select_related(None).select_related(*ROW_RELATIONS).defer(*CUSTOMER_PHONES))
        return super().get_context_data(
            page_obj=page,
            rows_html=_complaint_rows(page),
            q=params.get("q", ""),
            filters=params,
            statuses=ComplaintStatus.choices,
            categories=ComplaintCategory.choices,
            severities=ComplaintSeverity.choices,
            staff=dealership_staff(dealership=self.request.dealership),
            now=timezone.now(),
            **kwargs,
        )


# What the complaints' rows read of their related rows (the list's selector brings more, for the API).
ROW_RELATIONS = ("customer", "vehicle", "assignee")


def _complaint_rows(page) -> SafeString:
    """Issue 19: the complaints' rows in Python (dms.core.rendering), as the template drew them — the template's
    ``get_<field>_display`` rebuilt every choice with its lazy label three times a row (a third of the page)."""
    detail = url_for("claims:complaint_detail")
    with_time, day_only = date_formatter("SHORT_DATETIME_FORMAT"), date_formatter("SHORT_DATE_FORMAT")
    channel, category, status = (display_for(Complaint, name) for name in ("channel", "category", "status"))
    emergency = f' <span class="badge text-bg-danger">{escape(_("Emergency"))}</span>'
    media = f' <span class="badge text-bg-dark">{escape(_("Media"))}</span>'
    overdue = f' <span class="badge text-bg-danger">{escape(_("overdue"))}</span>'
    danger = ' class="table-danger"'

    def row(c) -> str:
        flagged = c.overdue_flagged_at and c.is_open
        vehicle = f"{show(c.vehicle.make)} {show(c.vehicle.model)}" if c.vehicle else show(c.vin_text, "—")
        assignee = c.assignee.get_full_name() if c.assignee_id else ""
        return (
            f"<tr{danger if flagged else ''}>"
            f'<td><a href="{detail(c.pk)}">{show(c.number)}</a>{emergency if c.is_emergency else ""}'
            f"{media if c.involves_media else ''}</td>"
            f"<td>{show(with_time(c.received_at))}</td><td>{show(channel(c.channel))}</td>"
            f"<td>{show(c.display_name)}</td><td>{vehicle}</td>"
            f"<td>{show(category(c.category), '—')}</td><td>{show(assignee, '—')}</td>"
            f"<td>{show(day_only(c.deadline), '—')}{overdue if flagged else ''}</td>"
            f'<td><span class="badge text-bg-{c.status_colour}">{show(status(c.status))}</span></td></tr>\n'
        )

    return render_rows(page, row, empty=_("No complaints found."), columns=9)


def _warranty_claim_rows(page) -> SafeString:
    """Issue 19: the warranty claims' rows in Python (dms.core.rendering), as ``claims/claim_list.html`` drew them;
    the total reads the prefetched ``part_lines`` (ClaimListView), no query a row."""
    detail = url_for("claims:claim_detail")
    kind, status = display_for(WarrantyClaim, "kind"), display_for(WarrantyClaim, "status")

    def row(c) -> str:
        vehicle = c.vehicle
        return (
            f'<tr><td><a href="{detail(c.pk)}">{show(c.number)}</a></td><td>{show(kind(c.kind))}</td>'
            f"<td>{show(c.work_order_number)}</td>"
            f'<td>{show(vehicle.make)} {show(vehicle.model)} <code class="small">{show(vehicle.vin)}</code></td>'
            f"<td>{show(c.failure_code)}</td><td>{show(c.causal_part_number)}</td>"
            f'<td class="text-end">{show(format_money(c.total))}</td>'
            f'<td><span class="badge text-bg-{escape(c.status_colour)}">{show(status(c.status))}</span></td></tr>\n'
        )

    return render_rows(page, row, empty=_("No claims found."), columns=8)


def _goodwill_rows(page) -> SafeString:
    """Issue 19: the goodwill claims' rows in Python (dms.core.rendering), as ``claims/goodwill_list.html`` drew
    them (``|money|default:"—"``: no amount shows «—»)."""
    detail = url_for("claims:goodwill_detail")
    status = display_for(GoodwillClaim, "status")

    def row(g) -> str:
        return (
            f'<tr><td><a href="{detail(g.pk)}">{show(g.number)}</a></td><td>{show(g.customer.name)}</td>'
            f"<td>{show(g.vehicle.make)} {show(g.vehicle.model)}</td><td>{show(g.work_order_number, '—')}</td>"
            f'<td class="text-end">{show(format_money(g.requested_amount), "—")}</td>'
            f'<td class="text-end">{show(format_money(g.paid_amount), "—")}</td>'
            f"<td>{show(status(g.status))}</td></tr>\n"
        )

    return render_rows(page, row, empty=_("No claims found."), columns=7)


class ClaimsRecordView(RecordDetailView):
    """A claims record's page: the record as ``claim``, its steps as ``steps``, the last 50 audit rows."""

    context_object_name, offered_name, audit_rows = "claim", "steps", 50


class ComplaintDetailView(ClaimsRecordView):
    model = Complaint
    context_object_name = "complaint"
    template_name = "claims/complaint_detail.html"

    def record_context(self, complaint):
        return {
            "notes": complaint.notes.select_related("author"),
            "attachments": complaint.attachments.all(),
            "notifications": complaint.notifications.all(),
            "goodwill_claims": complaint.goodwill_claims.all(),
            "overdue": complaint.is_overdue(),
        }


COMPLAINT_FORM_GROUPS = [
    (
        {"label": gettext_lazy("Intake"), "id": "intake"},
        ["channel", "received_at", "customer", "vehicle", "contact_name", "contact_phone", "contact_email", "vin_text",
         "description"],
    ),
    (
        {"label": gettext_lazy("Emergency: vehicle fire or major accident"), "id": "emergency"},  # R24
        ["severity", "emergency_kind", "insurance_info", "insurance_checked", "aftermarket_equipment",
         "aftermarket_checked", "police_report", "police_checked", "photos_taken"],
    ),
    (
        {"label": gettext_lazy("Media involved"), "id": "media"},  # R24
        ["involves_media", "media_outlet", "media_programme", "journalist", "journalist_contact"],
    ),
]  # fmt: skip


class ComplaintCreateView(ClaimsFormView):
    permission_required = "claims.add_complaint"
    form_class = ComplaintForm
    template_name = "claims/complaint_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["groups"] = [(title, [form[name] for name in names]) for title, names in COMPLAINT_FORM_GROUPS]
        return context

    title = gettext_lazy("New complaint")
    success_message = gettext_lazy("Complaint %(object)s registered.")

    def get_initial(self):
        # Issue 14 item 3: prefilled from the customer's or the vehicle's card (the form's choices are scoped).
        return {
            "channel": "phone",
            "customer": self.request.GET.get("customer"),
            "vehicle": self.request.GET.get("vehicle"),
        }

    def get_cancel_url(self):
        return reverse("claims:complaint_list")

    def save(self, form):
        data = dict(form.cleaned_data)
        return services.complaint_register(
            actor=self.request.user,
            dealership=self.request.dealership,
            channel=data.pop("channel"),
            description=data.pop("description"),
            **data,
        )


class ComplaintUpdateView(ComplaintCreateView):
    permission_required = "claims.change_complaint"
    model = Complaint

    @property
    def title(self):
        return _("Complaint %(number)s") % {"number": self.get_object().number}

    success_message = gettext_lazy("Complaint %(object)s saved.")

    def get_initial(self):
        return {}

    def get_cancel_url(self):
        return self.get_object().get_absolute_url()

    def get_instance(self):
        return self.get_object()

    def save(self, form):
        return services.complaint_update(
            actor=self.request.user, complaint=self.get_object(), data=dict(form.cleaned_data)
        )


class ComplaintAssignView(ClaimsFormView):
    permission_required = "claims.assign_complaint"
    form_class = ComplaintAssignForm
    model = Complaint

    @property
    def title(self):
        return _("Classify and assign %(number)s") % {"number": self.get_object().number}

    def get_initial(self):
        complaint = self.get_object()
        days = services.claims_settings(complaint.dealership)
        days = days.emergency_deadline_days if complaint.is_emergency else days.complaint_deadline_days
        import datetime

        return {
            "category": complaint.category,
            "department": complaint.department,
            "assignee": complaint.assignee_id,
            "deadline": complaint.deadline or complaint.local_today() + datetime.timedelta(days=days),
        }

    def save(self, form):
        return services.complaint_assign(actor=self.request.user, complaint=self.get_object(), **form.cleaned_data)


class ComplaintNoteView(ClaimsFormView):
    permission_required = "claims.investigate_complaint"
    form_class = ComplaintNoteForm
    model = Complaint

    @property
    def title(self):
        return _("Note on %(number)s") % {"number": self.get_object().number}

    def get_initial(self):
        complaint = self.get_object()
        return {"kind": "follow_up" if complaint.status == ComplaintStatus.SOLUTION_AGREED else "investigation"}

    success_message = gettext_lazy("Note added to %(object)s.")

    def save(self, form):
        complaint = self.get_object()
        services.complaint_add_note(actor=self.request.user, complaint=complaint, **form.cleaned_data)
        return complaint


class ComplaintSolutionView(ClaimsFormView):
    permission_required = "claims.investigate_complaint"
    form_class = ComplaintSolutionForm
    model = Complaint

    @property
    def title(self):
        return _("Solution agreed for %(number)s") % {"number": self.get_object().number}

    def save(self, form):
        return services.complaint_agree_solution(
            actor=self.request.user, complaint=self.get_object(), **form.cleaned_data
        )


class ComplaintCloseView(ClaimsFormView):
    permission_required = "claims.close_complaint"
    form_class = ComplaintCloseForm
    model = Complaint

    @property
    def title(self):
        return _("Close %(number)s with the report") % {"number": self.get_object().number}

    success_message = gettext_lazy("Complaint %(object)s closed.")

    def save(self, form):
        return services.complaint_close(actor=self.request.user, complaint=self.get_object(), **form.cleaned_data)


class ComplaintAttachmentView(AttachmentUploadView):
    permission_required = "claims.investigate_complaint"
    model = Complaint
    owner_field = "complaint"


def public_rate_limited(request) -> bool:
    """The per-address limit of public complaints an hour (the project's fixed-window limit, keyed on the address
    the trusted proxy reports, issue 12 item 4)."""
    limit = getattr(settings, "CLAIMS_PUBLIC_COMPLAINTS_PER_HOUR", 5)
    return rate_limited(request, scope="claims-public-complaint", limit=limit, window=3600)


PUBLIC_LANGUAGES = {"ru": "Русский", "en": "English", "zh-hans": "简体中文"}


class PublicComplaintView(FormView):
    """The public complaint form (no login): rate-limited per IP, honeypot + minimum fill time against spam."""

    form_class = PublicComplaintForm
    template_name = "claims/public_complaint.html"

    def dispatch(self, request, *args, **kwargs):
        self.dealership = get_object_or_404(Dealership, code=kwargs["code"])
        # The customer's language: the one picked on the page (``?lang=``, kept by the form's post), else the
        # browser's (staff pages stay Russian-first; a customer has no language cookie to pick another).
        wanted = (request.GET.get("lang") or "").lower()
        self.language = wanted if wanted in PUBLIC_LANGUAGES else customer_language(request, None)
        with translation.override(self.language):
            response = super().dispatch(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response["Content-Language"] = self.language
        return response

    def get_context_data(self, **kwargs):
        url = reverse("claims:public_complaint", args=[self.dealership.code])
        languages = [(code, name, f"{url}?lang={code}") for code, name in PUBLIC_LANGUAGES.items()]
        return super().get_context_data(dealership=self.dealership, languages=languages, **kwargs)

    def post(self, request, *args, **kwargs):
        if public_rate_limited(request):
            return render(
                request,
                "claims/public_complaint_done.html",
                {"dealership": self.dealership, "limited": True},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if form.is_spam:
            # Bots get the same answer as people, and nothing is stored.
            return render(self.request, "claims/public_complaint_done.html", {"dealership": self.dealership})
        data = form.cleaned_data
        # One form, one complaint: a double tap on «Send» or a reload of the thank-you page (the browser posts the
        # form again) answers with the complaint already registered. The form's signed start time names the form.
        form_id = hashlib.sha256(data["started"].encode()).hexdigest()
        sent_key = f"claims-public-complaint:{self.dealership.pk}:{form_id}"
        if not cache.add(sent_key, "", timeout=form.MAX_AGE_SECONDS):
            number = cache.get(sent_key) or None
            return render(
                self.request, "claims/public_complaint_done.html", {"dealership": self.dealership, "number": number}
            )
        try:
            complaint = services.complaint_register_public(
                dealership=self.dealership,
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                vin=data["vin"],
                description=data["description"],
                source_ip=client_address(self.request),
            )
        except ValidationError as error:
            cache.delete(sent_key)
            form.add_service_errors(error)
            return self.form_invalid(form)
        except Exception:
            cache.delete(sent_key)  # nothing was registered: the form may be sent again
            raise
        cache.set(sent_key, complaint.number, timeout=form.MAX_AGE_SECONDS)
        return render(
            self.request,
            "claims/public_complaint_done.html",
            {"dealership": self.dealership, "number": complaint.number},
        )


# ----------------------------------------------------------------------------------------------------------------
# Goodwill claims (R23)
# ----------------------------------------------------------------------------------------------------------------


class GoodwillListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "claims.view_goodwillclaim"
    template_name = "claims/goodwill_list.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        qs = selectors.goodwill_claim_list(
            dealership_ids=[self.request.dealership.pk], search=params.get("q", ""), status=params.get("status", "")
        )
        page = self.paginate(qs.select_related(None).select_related("customer", "vehicle").defer(*CUSTOMER_PHONES))
        return super().get_context_data(
            page_obj=page,
            rows_html=_goodwill_rows(page),
            q=params.get("q", ""),
            filters=params,
            statuses=GoodwillStatus.choices,
            **kwargs,
        )


class GoodwillDetailView(ClaimsRecordView):
    model = GoodwillClaim
    template_name = "claims/goodwill_detail.html"

    def record_context(self, claim):
        return {"attachments": claim.attachments.all()}


class GoodwillCreateView(ClaimsFormView):
    permission_required = "claims.add_goodwillclaim"
    form_class = GoodwillClaimForm
    create_service = services.goodwill_claim_create

    title = gettext_lazy("New goodwill claim")

    def get_initial(self):
        initial = {}
        complaint_id = parse_id(self.request.GET.get("complaint", ""))
        if complaint_id is not None:
            complaint = Complaint.objects.filter(pk=complaint_id, dealership=self.request.dealership).first()
            if complaint:
                initial = {
                    "complaint": complaint.pk,
                    "customer": complaint.customer_id,
                    "vehicle": complaint.vehicle_id,
                }
        return initial

    def get_cancel_url(self):
        return reverse("claims:goodwill_list")


class GoodwillUpdateView(ClaimsFormView):
    permission_required = "claims.change_goodwillclaim"
    form_class = GoodwillClaimForm
    model = GoodwillClaim

    @property
    def title(self):
        return _("Goodwill claim %(number)s") % {"number": self.get_object().number}

    def get_instance(self):
        return self.get_object()

    def save(self, form):
        return services.goodwill_claim_update(
            actor=self.request.user, claim=self.get_object(), data=dict(form.cleaned_data)
        )


class GoodwillPaymentView(ClaimsFormView):
    permission_required = "claims.record_payment_goodwillclaim"
    form_class = PaymentForm
    model = GoodwillClaim

    @property
    def title(self):
        return _("Payment of %(number)s") % {"number": self.get_object().number}

    def get_initial(self):
        return {"amount": self.get_object().requested_amount}

    def save(self, form):
        return services.goodwill_claim_record_payment(
            actor=self.request.user, claim=self.get_object(), **form.cleaned_data
        )


class _GoodwillDecisionView(ClaimsFormView):
    form_class = ReasonForm
    model = GoodwillClaim
    permission_required = "claims.view_goodwillclaim"  # the service checks the step's own permission


class GoodwillReturnView(_GoodwillDecisionView):
    @property
    def title(self):
        return _("Return %(number)s for correction") % {"number": self.get_object().number}

    def save(self, form):
        return services.goodwill_claim_return(actor=self.request.user, claim=self.get_object(), **form.cleaned_data)


class GoodwillRejectView(_GoodwillDecisionView):
    @property
    def title(self):
        return _("Reject %(number)s") % {"number": self.get_object().number}

    def save(self, form):
        return services.goodwill_claim_reject(actor=self.request.user, claim=self.get_object(), **form.cleaned_data)


class GoodwillAttachmentView(AttachmentUploadView):
    permission_required = "claims.change_goodwillclaim"
    model = GoodwillClaim
    owner_field = "goodwill_claim"


# ----------------------------------------------------------------------------------------------------------------
# Warranty claims (R22)
# ----------------------------------------------------------------------------------------------------------------


class ClaimListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "claims.view_warrantyclaim"
    template_name = "claims/claim_list.html"

    def get_context_data(self, **kwargs):
        params = self.request.GET
        qs = selectors.warranty_claim_list(
            dealership_ids=[self.request.dealership.pk],
            search=params.get("q", ""),
            status=params.get("status", ""),
            kind=params.get("kind", ""),
        ).prefetch_related("part_lines")
        page = self.paginate(qs.select_related(None).select_related("vehicle"))  # what the rows show (issue 19)
        return super().get_context_data(
            page_obj=page,
            rows_html=_warranty_claim_rows(page),
            q=params.get("q", ""),
            filters=params,
            statuses=WarrantyStatus.choices,
            kinds=WarrantyClaimKind.choices,
            **kwargs,
        )


class ClaimDetailView(ClaimsRecordView):
    model = WarrantyClaim
    template_name = "claims/claim_detail.html"

    def record_context(self, claim):
        return {
            "part_lines": claim.part_lines.select_related("part"),
            "attachments": claim.attachments.all(),
            "quarantined": QuarantinedPart.objects.filter(claim=claim).first(),
            "preconditions": selectors.warranty_claim_preconditions(claim) if claim.is_editable else {},
        }


class ClaimCreateView(ClaimsFormView):
    permission_required = "claims.add_warrantyclaim"
    form_class = WarrantyClaimForm
    template_name = "claims/claim_form.html"
    part_rows = 4

    title = gettext_lazy("New warranty claim")

    def get_cancel_url(self):
        return reverse("claims:claim_list")

    def get_initial(self):
        work_order_id = parse_id(self.request.GET.get("work_order", ""))
        return {"work_order_id": work_order_id} if work_order_id is not None else {}

    def part_forms(self):
        data = self.request.POST if self.request.method == "POST" else None
        existing = []
        instance = self.get_instance()
        if instance is not None and data is None:
            existing = [
                {"part": line.part_id, "quantity": line.quantity, "is_special": line.is_special}
                for line in instance.part_lines.all()
            ]
        rows = max(self.part_rows, len(existing) + 1)
        return [
            WarrantyPartLineForm(
                data,
                prefix=f"line{i}",
                dealership=self.request.dealership,
                initial=existing[i] if i < len(existing) else None,
            )
            for i in range(rows)
        ]

    def get_context_data(self, **kwargs):
        if "part_forms" not in kwargs:
            kwargs["part_forms"] = self.part_forms()
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        part_forms = self.part_forms()
        if form.is_valid() and all(f.is_valid() for f in part_forms):
            lines = [
                {
                    "part": f.cleaned_data["part"],
                    "quantity": f.cleaned_data["quantity"],
                    "is_special": f.cleaned_data["is_special"],
                }
                for f in part_forms
                if f.cleaned_data.get("part")
            ]
            self.lines = lines
            return self.form_valid(form)
        return self.render_to_response(self.get_context_data(form=form, part_forms=part_forms))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form))

    def save(self, form):
        data = dict(form.cleaned_data)
        return services.warranty_claim_create(
            actor=self.request.user,
            dealership=self.request.dealership,
            work_order_id=data.pop("work_order_id"),
            job_id=data.pop("job_id"),
            quarantine_location=data.pop("quarantine_location"),
            parts=self.lines,
            **data,
        )


class ClaimUpdateView(ClaimCreateView):
    permission_required = "claims.change_warrantyclaim"
    model = WarrantyClaim

    @property
    def title(self):
        return _("Warranty claim %(number)s") % {"number": self.get_object().number}

    def get_instance(self):
        return self.get_object()

    def get_cancel_url(self):
        return self.get_object().get_absolute_url()

    def get_initial(self):
        held = QuarantinedPart.objects.filter(claim_id=self.kwargs["pk"]).first()
        return {"quarantine_location": held.location if held else ""}

    def save(self, form):
        data = dict(form.cleaned_data)
        location = data.pop("quarantine_location")
        return services.warranty_claim_update(
            actor=self.request.user, claim=self.get_object(), data=data, parts=self.lines, quarantine_location=location
        )


class ClaimConfirmView(ClaimsFormView):
    permission_required = "claims.claims_confirm_warrantyclaim"
    form_class = ClaimsConfirmForm
    model = WarrantyClaim

    @property
    def title(self):
        return _("Confirm %(number)s (claims department)") % {"number": self.get_object().number}

    def get_initial(self):
        return {"approved_amount": self.get_object().total}

    def save(self, form):
        return services.warranty_claim_claims_confirm(
            actor=self.request.user, claim=self.get_object(), **form.cleaned_data
        )


class ClaimPaymentView(ClaimsFormView):
    permission_required = "claims.record_payment_warrantyclaim"
    form_class = PaymentForm
    model = WarrantyClaim

    @property
    def title(self):
        return _("Payment of %(number)s") % {"number": self.get_object().number}

    def get_initial(self):
        claim = self.get_object()
        return {"amount": claim.approved_amount if claim.approved_amount is not None else claim.total}

    def save(self, form):
        return services.warranty_claim_record_payment(
            actor=self.request.user, claim=self.get_object(), **form.cleaned_data
        )


class ClaimReturnView(ClaimsFormView):
    permission_required = "claims.view_warrantyclaim"  # the service checks the step's own permission
    form_class = ReasonForm
    model = WarrantyClaim

    @property
    def title(self):
        return _("Return %(number)s for correction") % {"number": self.get_object().number}

    def save(self, form):
        return services.warranty_claim_return(actor=self.request.user, claim=self.get_object(), **form.cleaned_data)


class ClaimRejectView(ClaimsFormView):
    permission_required = "claims.view_warrantyclaim"
    form_class = RejectForm
    model = WarrantyClaim

    @property
    def title(self):
        return _("Reject %(number)s") % {"number": self.get_object().number}

    def save(self, form):
        return services.warranty_claim_reject(actor=self.request.user, claim=self.get_object(), **form.cleaned_data)


class ClaimAttachmentView(AttachmentUploadView):
    permission_required = "claims.change_warrantyclaim"
    model = WarrantyClaim
    owner_field = "warranty_claim"


class QuarantineListView(DealershipPageMixin, PaginatedListMixin, TemplateView):
    permission_required = "claims.view_quarantinedpart"
    template_name = "claims/quarantine_list.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", QuarantineStatus.QUARANTINED)
        qs = selectors.quarantine_list(dealership_ids=[self.request.dealership.pk], status=status)
        return super().get_context_data(
            page_obj=self.paginate(qs), status=status, statuses=QuarantineStatus.choices, **kwargs
        )


class QuarantineDisposeView(ClaimsFormView):
    permission_required = "claims.dispose_quarantinedpart"
    form_class = DisposeForm
    model = QuarantinedPart

    @property
    def title(self):
        return _("Failed part %(part)s of claim %(claim)s") % {
            "part": self.get_object(),
            "claim": self.get_object().claim.number,
        }

    def get_initial(self):
        return {"action": self.get_object().claim.part_instruction}

    def get_cancel_url(self):
        return reverse("claims:quarantine_list")

    def save(self, form):
        part = services.quarantined_part_dispose(actor=self.request.user, part=self.get_object(), **form.cleaned_data)
        return part.claim


# ----------------------------------------------------------------------------------------------------------------
# KPIs and settings
# ----------------------------------------------------------------------------------------------------------------


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class KpiView(DealershipPageMixin, TemplateView):
    permission_required = "claims.view_claims_kpi"
    template_name = "claims/kpi.html"

    def get_context_data(self, **kwargs):
        period = kpi.Period.from_params(self.request.GET, self.request.dealership)
        return super().get_context_data(
            period=period, report=kpi.report(dealership=self.request.dealership, period=period), **kwargs
        )


@method_decorator(reads_from_replica, name="dispatch")  # issue 19 item 6: a report
class KpiExportView(DealershipPageMixin, View):
    permission_required = "claims.view_claims_kpi"

    def get(self, request):
        period = kpi.Period.from_params(request.GET, request.dealership)
        section = request.GET.get("section", "complaints_by_employee")
        rows = kpi.csv_rows(dealership=request.dealership, period=period, section=section)
        if rows is None:
            raise Http404
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        set_download_name(response, f"claims-kpi-{section}-{period.start}-{period.end}.csv")
        response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
        CsvExportWriter(response).writerows(rows)  # issue 12 item 3: text cells neutralised
        return response


class ClaimsSettingsView(SettingsFormView):
    # Directors read the settings (claims/roles.py grants them view_claimssettings); the warranty engineer edits them.
    permission_required = "claims.view_claimssettings"
    change_permission = "claims.change_claimssettings"
    form_class = ClaimsSettingsForm
    settings_service = services.claims_settings_update

    title = gettext_lazy("Claims contacts and deadlines")
    success_message = gettext_lazy("Settings saved.")

    def get_instance(self):
        return services.claims_settings(self.request.dealership)

    def get_cancel_url(self):
        return reverse("claims:complaint_list")


__all__ = ["ClaimsSettings"]


class ClaimJobPickerView(PickerSearchView):
    """Issue 14 item 4: the claim form's job picker lists the chosen work order's jobs only (``?work_order=``)."""

    permission_required = "claims.add_warrantyclaim"

    def search(self, *, dealership_id, query, params):
        work_order_id = picker_param_id(params, "work_order")
        if work_order_id is None:
            return []
        return [
            {"id": job.id, "text": f"{work_order.number}: {job.description}", "detail": ""}
            for work_order, job in selectors.claim_job_search(
                dealership_id=dealership_id, work_order_id=work_order_id, query=query
            )
        ]


class ComplaintPickerView(PickerSearchView):
    """The goodwill claim form's complaint picker: by number or customer name, the chosen customer's only
    (``?customer=``)."""

    permission_required = "claims.view_complaint"

    def search(self, *, dealership_id, query, params):
        customer_id = picker_param_id(params, "customer")
        return [
            {
                "id": complaint.pk,
                "text": complaint.number,
                "detail": complaint.customer.name if complaint.customer_id else complaint.contact_name,
                "customer": complaint.customer_id,
            }
            for complaint in selectors.complaint_search(
                dealership_id=dealership_id, query=query, customer_id=customer_id
            )
        ]


class ClaimWorkOrderPickerView(PickerSearchView):
    """The warranty claim form's work order picker: the dealership's work orders (a star: not delivered yet) by
    number, customer name, VIN or plate."""

    permission_required = "claims.add_warrantyclaim"

    def search(self, *, dealership_id, query, params):
        return [
            {
                "id": wo.pk,
                "text": workorders.work_order_label(wo),
                "detail": " · ".join(filter(None, [wo.customer.name, wo.vehicle.plate or wo.vehicle.vin])),
            }
            for wo in workorders.work_order_search(dealership_id=dealership_id, query=query)
        ]


# ----------------------------------------------------------------------------------------------------------------
# Issue 18 item 6: staff KPIs and appraisal (seed 004 «绩效考核»)
# ----------------------------------------------------------------------------------------------------------------


def _staff_scope(request) -> tuple[list[int], int | None, dict]:
    """(dealership ids, employee id or None for everyone, errors): a supervisor reads every employee of his
    dealerships (or the one asked for), anyone else his own row only."""
    ids, errors = report_dealership_scope(request)
    employee_id = None if request.user.has_perm("claims.appraise_staff") else request.user.pk
    return ids, employee_id, errors


class StaffKpiView(DealershipPageMixin, TemplateView):
    """Per employee, a month (?period=YYYY-MM) or a year (?period=YYYY): parts sales, repair volume, return rate,
    complaint timeliness, satisfaction and calls (claims.staff_kpi), with charts and ?export=csv|xlsx."""

    permission_required = "claims.view_staff_kpi"
    template_name = "claims/staff_kpis.html"

    def get(self, request, *args, **kwargs):
        now = timezone.now()
        today = timezone.localtime(now, request.dealership.tz).date()
        ids, employee_id, errors = _staff_scope(request)
        period = parsed_or_default(staff_kpi.StaffPeriod.parse, request.GET.get("period"), errors=errors, today=today)
        rows = staff_kpi.staff_kpis(dealership_ids=ids, period=period, now=now, employee_id=employee_id)
        export = request.GET.get("export")
        if export in EXPORT_TYPES and not errors:
            header, body = staff_kpi.export_header(), staff_kpi.export_rows(rows)
            return table_export(
                export, title=_("Staff KPIs"), header=header, rows=body, filename=f"staff-kpis-{period.code}"
            )
        appraisals = {
            (a.employee_id, a.dealership_id): a
            for a in selectors.staff_appraisals(user=request.user, dealership_ids=ids).filter(
                period_kind=period.kind, period_start=period.start
            )
        }
        charts = [
            staff_kpi.bar_chart(
                [(r.name, r.sales_amount, format_money(r.sales_amount)) for r in rows],
                title=_("Parts sales"),
                chart_id="chart-sales",
            ),
            staff_kpi.bar_chart(
                [(r.name, r.labour_hours, localize(r.labour_hours)) for r in rows],
                title=_("Labour hours sold"),
                chart_id="chart-hours",
            ),
            staff_kpi.bar_chart(
                [(r.name, r.complaint_on_time_rate, _percent(r.complaint_on_time_rate)) for r in rows],
                title=_("Complaints closed on time, %"),
                chart_id="chart-complaints",
            ),
        ]
        trend = None
        if period.kind == AppraisalPeriod.YEAR:
            months = staff_kpi.monthly_trend(
                dealership_ids=ids, year=period.start.year, now=now, employee_id=employee_id
            )
            trend = staff_kpi.bar_chart(
                [(month, amount, format_money(amount)) for month, amount, _hours in months],
                title=_("Parts sales by month"),
                chart_id="chart-trend",
            )
        context = self.get_context_data(
            rows=rows,
            period=period,
            raw_period=request.GET.get("period", period.code),
            errors=errors,
            charts=charts,
            trend=trend,
            appraisal_of={r.user_id: appraisals.get((r.user_id, request.dealership.pk)) for r in rows},
            can_appraise=request.user.has_perm("claims.appraise_staff"),
            # an appraisal is opened in the active dealership, for its own staff
            staff_here=set(
                get_user_model()
                .objects.filter(staff_profile__dealerships=request.dealership)
                .values_list("pk", flat=True)
            ),
            dealerships=Dealership.objects.filter(pk__in=allowed_dealership_ids(request.user))
            if len(allowed_dealership_ids(request.user)) > 1
            else [],
            selected_dealership=parse_id(request.GET.get("dealership", "")),
            my_appraisals=selectors.staff_appraisals(
                user=request.user, dealership_ids=allowed_dealership_ids(request.user)
            ).filter(employee=request.user)[:24],
            colleague_appraisals=[]
            if request.user.has_perm("claims.appraise_staff")
            else selectors.staff_appraisals(user=request.user, dealership_ids=[request.dealership.pk])
            .filter(status=AppraisalStatus.OPEN)
            .exclude(employee=request.user)[:50],
        )
        return self.render_to_response(context, status=400 if errors else 200)


def _percent(value) -> str:
    return "—" if value is None else f"{localize(value)}%"


class StaffAppraisalOpenView(DealershipPageMixin, View):
    """POST employee + period (YYYY-MM or YYYY): the supervisor opens the appraisal (figures frozen now)."""

    permission_required = "claims.appraise_staff"
    http_method_names = ["post"]

    def post(self, request):
        back = reverse("claims:staff_kpis")
        employee = get_user_model().objects.filter(pk=parse_id(request.POST.get("employee", "")) or 0).first()
        try:
            if employee is None:
                raise ValidationError({"employee": _("Unknown employee.")})
            today = timezone.localtime(timezone.now(), request.dealership.tz).date()
            period = staff_kpi.StaffPeriod.parse(request.POST.get("period") or "", today=today)
            appraisal = services.staff_appraisal_open(
                actor=request.user, dealership=request.dealership, employee=employee, period=period
            )
        except ACTION_ERRORS as error:
            messages.error(request, action_error_message(error))
            return redirect(back)
        messages.success(request, _("Appraisal opened; the figures are frozen as of now."))
        return redirect(appraisal.get_absolute_url())


class _AppraisalScoped:
    def get_appraisal(self, pk):
        appraisal = (
            selectors.staff_appraisals(user=self.request.user, dealership_ids=[self.request.dealership.pk])
            .filter(pk=pk)
            .first()
        )
        if appraisal is None:
            raise Http404
        return appraisal


class StaffAppraisalDetailView(_AppraisalScoped, DealershipPageMixin, TemplateView):
    permission_required = "claims.view_staff_kpi"
    template_name = "claims/staff_appraisal.html"

    def get_context_data(self, **kwargs):
        appraisal = self.get_appraisal(self.kwargs["pk"])
        user = self.request.user
        full = selectors.may_see_appraisal_figures(user, appraisal)
        scores = list(appraisal.scores.all())
        own = appraisal.employee_id == user.pk
        if own:
            sources = [ScoreSource.SELF]
        elif user.has_perm("claims.appraise_staff"):
            sources = [ScoreSource.SUPERVISOR, ScoreSource.CUSTOMER, ScoreSource.COLLEAGUE]
        else:
            sources = [ScoreSource.COLLEAGUE]
        form = AppraisalScoreForm()
        form.fields["source"].choices = [(s.value, s.label) for s in sources]
        return super().get_context_data(
            appraisal=appraisal,
            full=full,
            figures=appraisal.figures if full else {},
            scores=scores if full else [s for s in scores if s.entered_by_id == user.pk],
            averages=[(s.label, appraisal.average(s.value)) for s in ScoreSource] if full else [],
            score_form=form if appraisal.status == AppraisalStatus.OPEN else None,
            finalise_form=AppraisalFinaliseForm()
            if "finalise" in StaffAppraisalActionView.available_actions(appraisal, user) and not own
            else None,
            **kwargs,
        )


class StaffAppraisalActionView(_AppraisalScoped, ActionView):
    model = StaffAppraisal
    actions = {
        "score": PageAction(
            call=lambda user, obj, data: services.appraisal_score_record(actor=user, appraisal=obj, **data),
            permission="claims.view_staff_kpi",
            form=AppraisalScoreForm,
            success=gettext_lazy("Score saved."),
        ),
        "finalise": PageAction(
            call=lambda user, obj, data: services.staff_appraisal_finalise(actor=user, appraisal=obj, **data),
            permission="claims.appraise_staff",
            form=AppraisalFinaliseForm,
            success=gettext_lazy("Appraisal finalised; the figures are frozen."),
            transition="finalise",
        ),
    }

    def get_object(self):
        return self.get_appraisal(self.kwargs["pk"])


class TechnicianEfficiencyView(DealershipPageMixin, TemplateView):
    """Issue 18 item 5: efficiency (sold ÷ clocked) and productivity (clocked ÷ present) per technician for a week
    (?week=YYYY-Www, service.efficiency); a supervisor reads every technician, a technician himself; ?export=."""

    permission_required = "claims.view_staff_kpi"
    template_name = "claims/technician_efficiency.html"

    def get(self, request, *args, **kwargs):
        now = timezone.now()
        today = timezone.localtime(now, request.dealership.tz).date()
        ids, user_id, errors = _staff_scope(request)
        monday = parsed_or_default(staff_kpi.parse_week, request.GET.get("week"), errors=errors, today=today)
        rows = efficiency.technician_efficiency(dealership_ids=ids, week_start=monday, now=now, user_id=user_id)
        code = efficiency.week_code(monday)
        export = request.GET.get("export")
        if export in EXPORT_TYPES and not errors:
            header, body = staff_kpi.efficiency_export_header(), staff_kpi.efficiency_export_rows(rows)
            title, filename = _("Technician efficiency"), f"technician-efficiency-{code}"
            return table_export(export, title=title, header=header, rows=body, filename=filename)
        context = self.get_context_data(
            rows=rows,
            totals=efficiency.efficiency_totals(rows),
            week=code,
            monday=monday,
            sunday=monday + datetime.timedelta(days=6),
            previous=efficiency.week_code(monday - datetime.timedelta(days=7)),
            following=efficiency.week_code(monday + datetime.timedelta(days=7)),
            raw_week=request.GET.get("week", code),
            errors=errors,
            charts=[
                staff_kpi.bar_chart(
                    [(r.name, r.efficiency, _percent(r.efficiency)) for r in rows],
                    title=_("Efficiency, %"),
                    chart_id="chart-efficiency",
                ),
                staff_kpi.bar_chart(
                    [(r.name, r.productivity, _percent(r.productivity)) for r in rows],
                    title=_("Productivity, %"),
                    chart_id="chart-productivity",
                ),
            ],
        )
        return self.render_to_response(context, status=400 if errors else 200)
