import time

from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.translation import gettext_lazy as _

from .models import Customer, Vehicle, normalize_vin
from .names import user_name
from .references import scope_to_dealerships
from .selectors import dealership_staff
from .widgets import SearchSelect

User = get_user_model()


class BootstrapFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def add_service_errors(self, error) -> None:
        """Show a service's ValidationError on the form's fields (or on top of the form)."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class DealershipScopedFormMixin:
    """Issue 12 item 6: every model choice of a page form resolves in the dealership the page acts in.

    Whatever queryset a form (or a ModelForm's automatic field) gives a ``ModelChoiceField`` or
    ``ModelMultipleChoiceField``, it is narrowed with the shared ``scope_to_dealerships`` before the form renders a
    field and before it validates — so a posted id of another dealership's record is "not one of the choices". A form
    built without a dealership offers and accepts no record. Put it first in the bases and pass ``dealership=``.
    """

    def __init__(self, *args, dealership=None, **kwargs):
        self.dealership = dealership
        super().__init__(*args, **kwargs)
        self.scope_model_choices()

    def scope_model_choices(self) -> None:
        ids = [self.dealership.pk] if self.dealership is not None else []
        for field in self.fields.values():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            if getattr(field, "_scoped_queryset", None) is field.queryset:
                continue  # already narrowed (the form may replace a queryset after __init__: then scope again)
            field.queryset = scope_to_dealerships(field.queryset, ids)
            field._scoped_queryset = field.queryset

    def __getitem__(self, name):
        self.scope_model_choices()
        return super().__getitem__(name)

    def full_clean(self) -> None:
        self.scope_model_choices()
        super().full_clean()


class SatisfactionField(forms.ChoiceField):
    """Issue 18 item 6: the customer's satisfaction heard on a follow-up call — 1–5 (the complaint closing's scale,
    R33) or not asked; the services check the value (``dms.core.validation.satisfaction_score``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Customer satisfaction (1–5)"))
        choices = [("", _("Satisfaction: not asked"))] + [(str(score), str(score)) for score in range(1, 6)]
        super().__init__(choices=choices, required=False, **kwargs)


class PublicFormGuardMixin:
    """A public form (no login, no session): a honeypot field ``website`` (hidden by CSS; bots fill it in) and a
    minimum fill time, the hidden ``started`` field's signed timestamp. ``is_spam`` tells the page to answer as if
    all went well and keep nothing; a stale or forged timestamp is a form error. The form declares both fields and
    names its ``SALT``; ``now=`` (seconds) is for tests."""

    MIN_FILL_SECONDS = 3
    MAX_AGE_SECONDS = 2 * 3600
    SALT = ""

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        self.is_spam = False
        if not self.is_bound:
            self.initial["started"] = signing.dumps(time.time(), salt=self.SALT)
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean(self):
        data = super().clean()
        self.is_spam = bool(data.get("website"))
        try:
            started = signing.loads(data.get("started") or "", salt=self.SALT, max_age=self.MAX_AGE_SECONDS)
        except signing.BadSignature:
            raise forms.ValidationError(_("The form has expired. Please reload the page and try again.")) from None
        now = self.now if self.now is not None else time.time()
        if not isinstance(started, (int, float)) or now - float(started) < self.MIN_FILL_SECONDS:
            self.is_spam = True
        return data


class CustomerForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "phone",
            "phone_alt",
            "email",
            "preferred_channel",
            "first_contact_channel",
            "lead_source",
            "assigned_manager",
            "is_vip",
            "notes",
            "language",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "assigned_manager": SearchSelect(url="core:pick_employees"),
        }

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["assigned_manager"].queryset = dealership_staff(dealership=dealership)
        self.fields["assigned_manager"].label_from_instance = user_name
        self.fields["phone"].widget.attrs["placeholder"] = "+7 916 123-45-67"


class VehicleForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Vehicle
        fields = [
            "customer",
            "vin",
            "make",
            "model",
            "year",
            "plate",
            "mileage",
            "warranty_start",
            "warranty_end",
            "warranty_mileage_limit",
        ]
        widgets = {
            "warranty_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "warranty_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "customer": SearchSelect(url="core:pick_customers"),
        }

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership)
        self.fields["vin"].widget.attrs.update({"maxlength": 17, "style": "text-transform: uppercase"})
        self.fields["vin"].help_text = _("17 characters, no I, O or Q.")

    def clean_vin(self) -> str:
        return normalize_vin(self.cleaned_data["vin"])


class SearchForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
