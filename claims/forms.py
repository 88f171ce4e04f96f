from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dms.core.forms import BootstrapFormMixin, DealershipScopedFormMixin, PublicFormGuardMixin
from dms.core.models import Customer, Vehicle
from dms.core.names import user_name
from dms.core.selectors import dealership_staff
from dms.core.widgets import SearchSelect
from parts.models import Part

from . import workorders
from .models import (
    SCORE_MAX,
    SCORE_MIN,
    AttachmentKind,
    ClaimsSettings,
    Complaint,
    ComplaintCategory,
    ComplaintNote,
    Department,
    GoodwillClaim,
    PartInstruction,
    QuarantinedPart,
    ScoreSource,
    WarrantyClaim,
    WarrantyClaimKind,
)
from .services import ATTACHMENT_KINDS, COMPLAINT_INTAKE_FIELDS, MAX_UPLOAD_BYTES, SETTINGS_FIELDS

User = get_user_model()

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DealershipForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    """A plain form that knows the dealership it acts in (for ServiceFormView)."""

    def __init__(self, *args, dealership=None, instance=None, **kwargs):
        self.dealership = dealership
        self.instance = instance
        super().__init__(*args, dealership=dealership, **kwargs)


class ServiceValidatedModelForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    """A model form whose record-level rules (constraints, cross-field checks) are the service's job: the form
    checks field formats only, and the service's messages land on the fields."""

    def _get_validation_exclusions(self):
        return {field.name for field in self.instance._meta.get_fields()}


class ComplaintForm(ServiceValidatedModelForm):
    class Meta:
        model = Complaint
        fields = list(COMPLAINT_INTAKE_FIELDS)
        widgets = {
            "received_at": DATETIME,
            "description": forms.Textarea(attrs={"rows": 4}),
            "customer": SearchSelect(url="core:pick_customers"),
            "vehicle": SearchSelect(url="core:pick_vehicles", depends_on={"customer": "customer"}),
        }

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership)
        self.fields["vehicle"].queryset = Vehicle.objects.filter(dealership=dealership).select_related("customer")
        self.fields["received_at"].required = False
        self.fields["received_at"].help_text = _("Leave empty for now.")
        self.fields["customer"].help_text = _("Or fill in the contact below for someone not in the customer list.")

    def clean(self):
        data = super().clean()
        if not data.get("received_at"):
            data["received_at"] = timezone.now()
        return data


class ComplaintAssignForm(DealershipForm):
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *ComplaintCategory.choices])
    department = forms.ChoiceField(label=_("Department"), choices=[("", "—"), *Department.choices])
    assignee = forms.ModelChoiceField(
        label=_("Responsible employee"), queryset=User.objects.none(), widget=SearchSelect(url="core:pick_employees")
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = dealership_staff(dealership=self.dealership)
        self.fields["assignee"].label_from_instance = user_name


class ComplaintNoteForm(DealershipForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ComplaintNote.Kind.choices)
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


class ComplaintSolutionForm(DealershipForm):
    cause = forms.CharField(label=_("Cause found"), widget=forms.Textarea(attrs={"rows": 3}))
    responsibility = forms.CharField(label=_("Responsibility"), required=False)
    solution = forms.CharField(label=_("Solution agreed with the customer"), widget=forms.Textarea(attrs={"rows": 3}))


class ComplaintCloseForm(DealershipForm):
    closing_report = forms.CharField(label=_("Closing report"), widget=forms.Textarea(attrs={"rows": 4}))
    satisfaction = forms.TypedChoiceField(
        label=_("Customer satisfaction (1–5)"),
        coerce=int,
        choices=[("", "—")] + [(n, str(n)) for n in range(5, 0, -1)],
    )
    improvement = forms.CharField(
        label=_("Improvement measures"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AttachmentForm(DealershipForm):
    kind = forms.ChoiceField(label=_("Kind"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("Images (JPEG, PNG, WebP, GIF) or PDF, up to %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 1048576},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp,.gif"}),
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=300)

    def __init__(self, *args, owner_field: str, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = ATTACHMENT_KINDS[owner_field]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]


class PublicComplaintForm(PublicFormGuardMixin, BootstrapFormMixin, forms.Form):
    """No login: spam-protected by a honeypot field and a minimum fill time (a signed timestamp)."""

    SALT = "claims.public_complaint"

    name = forms.CharField(label=_("Your name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    vin = forms.CharField(label=_("VIN or plate (optional)"), max_length=40, required=False)
    description = forms.CharField(label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    # Honeypot: hidden from people by CSS; bots fill it in.
    website = forms.CharField(label=_("Website"), required=False)
    started = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Leave a phone number or an e-mail so that we can reply."))
        return data


# -- goodwill and warranty claims ----------------------------------------------------------------------------------


class GoodwillClaimForm(ServiceValidatedModelForm):
    class Meta:
        model = GoodwillClaim
        fields = [
            "customer",
            "vehicle",
            "complaint",
            "work_order_number",
            "description",
            "fmc_terms",
            "fmc_max_amount",
            "agreement_signed_on",
            "requested_amount",
        ]
        widgets = {
            "agreement_signed_on": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
            "fmc_terms": forms.Textarea(attrs={"rows": 3}),
            "customer": SearchSelect(url="core:pick_customers"),
            "vehicle": SearchSelect(url="core:pick_vehicles", depends_on={"customer": "customer"}),
            # searched as the user types (the chosen customer's first): a dealership has too many for a list
            "complaint": SearchSelect(url="claims:pick_complaints", depends_on={"customer": "customer"}),
        }

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership)
        self.fields["vehicle"].queryset = Vehicle.objects.filter(dealership=dealership)
        self.fields["complaint"].queryset = Complaint.objects.filter(dealership=dealership)


class _ClaimWorkOrderField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return workorders.work_order_label(obj)


class WarrantyClaimForm(ServiceValidatedModelForm):
    # Searched as the user types (claims:pick_claim_work_orders), validated against the dealership's work orders: the
    # page never lists them all. The placeholder queryset is replaced in __init__.
    work_order_id = _ClaimWorkOrderField(
        label=_("Work order"),
        queryset=Part.objects.none(),
        widget=SearchSelect(url="claims:pick_claim_work_orders"),
    )
    # Issue 14 item 4: the job is picked among the chosen work order's jobs only (the service checks it again).
    job_id = forms.IntegerField(
        label=_("Job"), widget=SearchSelect(url="claims:pick_claim_jobs", depends_on={"work_order": "work_order_id"})
    )
    quarantine_location = forms.CharField(
        label=_("Quarantine location of the failed part"),
        required=False,
        max_length=QuarantinedPart._meta.get_field("location").max_length,
    )

    class Meta:
        model = WarrantyClaim
        fields = [
            "kind",
            "mileage",
            "failure_date",
            "failure_code",
            "causal_part",
            "description",
            "failed_part_serial",
            "replacement_part_serial",
            "labour_hours",
            "tac_authorisation",
            "tac_authorised_by",
            "odometer_explanation",
        ]
        widgets = {
            "failure_date": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
            "odometer_explanation": forms.Textarea(attrs={"rows": 2}),
            "causal_part": SearchSelect(url="parts:pick_parts"),
        }

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["causal_part"].queryset = Part.objects.filter(dealership=dealership)
        self.fields["causal_part"].required = True
        self.fields["mileage"].required = False
        self.fields["labour_hours"].required = False
        if not self.instance.pk:
            self.fields["mileage"].help_text = _("Empty: the mileage recorded on the work order.")
            self.fields["labour_hours"].initial = None
            self.fields["labour_hours"].help_text = _("Empty: the job's standard hours.")
        if self.instance.pk:
            # The work order and job of an existing claim do not change.
            del self.fields["work_order_id"]
            del self.fields["job_id"]
        else:
            dealership_id = dealership.pk if dealership is not None else None
            self.fields["work_order_id"].queryset = workorders.claimable_work_orders(dealership_id=dealership_id)
            self.scope_model_choices()
            # Labels for re-showing the chosen work order's jobs; the picker itself never lists them all.
            wo = workorders.work_order_for_claim(dealership_id=dealership_id, work_order_id=self._work_order_value())
            self.fields["job_id"].widget.choices = [
                (job.id, f"{wo.number}: {job.description}") for job in (wo.jobs if wo else ())
            ]
            self.fields["work_order_id"].help_text = _("* not delivered yet")

    def _work_order_value(self):
        if self.is_bound:
            return self.data.get(self.add_prefix("work_order_id"))
        return self.initial.get("work_order_id")

    def clean_work_order_id(self):
        # The service takes the id; it resolves it again inside the dealership.
        work_order = self.cleaned_data.get("work_order_id")
        return work_order.pk if work_order is not None else None


class WarrantyPartLineForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    part = forms.ModelChoiceField(
        label=_("Part"), queryset=Part.objects.none(), required=False, widget=SearchSelect(url="parts:pick_parts")
    )
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2, required=False
    )
    is_special = forms.BooleanField(label=_("Special or assembly part"), required=False)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["part"].queryset = Part.objects.filter(dealership=dealership)


class ReasonForm(DealershipForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class RejectForm(ReasonForm):
    part_instruction = forms.ChoiceField(
        label=_("Instruction for the failed part"), choices=[("", "—"), *PartInstruction.choices]
    )


class ClaimsConfirmForm(DealershipForm):
    approved_amount = forms.DecimalField(
        label=_("Amount approved"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    part_instruction = forms.ChoiceField(
        label=_("Instruction for the failed part"), choices=[("", "—"), *PartInstruction.choices]
    )


class PaymentForm(DealershipForm):
    amount = forms.DecimalField(label=_("Amount paid"), max_digits=12, decimal_places=2, min_value=0)
    reference = forms.CharField(label=_("Payment reference"), max_length=100)


class DisposeForm(DealershipForm):
    action = forms.ChoiceField(label=_("Action"), choices=PartInstruction.choices)
    reference = forms.CharField(label=_("Shipment / scrap act reference"), max_length=100, required=False)


class ClaimsSettingsForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = ClaimsSettings
        fields = list(SETTINGS_FIELDS)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)


KIND_CHOICES = WarrantyClaimKind.choices
ATTACHMENT_KIND_CHOICES = AttachmentKind.choices


# -- issue 18 item 6: staff appraisal (seed 004) ----------------------------------------------------------------------
class AppraisalScoreForm(BootstrapFormMixin, forms.Form):
    source = forms.ChoiceField(label=_("whose score"), choices=ScoreSource.choices)
    score = forms.TypedChoiceField(
        label=_("score (1–5)"), coerce=int, choices=[(n, str(n)) for n in range(SCORE_MIN, SCORE_MAX + 1)]
    )
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AppraisalFinaliseForm(BootstrapFormMixin, forms.Form):
    summary = forms.CharField(
        label=_("supervisor's conclusion"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
