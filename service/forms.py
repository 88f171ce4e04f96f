import datetime

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField as PhoneNumberFormField

from dms.core.forms import BootstrapFormMixin, DealershipScopedFormMixin, PublicFormGuardMixin, SatisfactionField
from dms.core.models import Customer, Vehicle, normalize_vin
from dms.core.names import user_name
from dms.core.validators import vehicle_of_another_customer_error
from dms.core.widgets import SearchSelect
from parts.models import Part

from . import selectors
from .models import (
    ArrivalArea,
    FindingColour,
    FollowUpOutcome,
    FuelLevel,
    JobKind,
    Loaner,
    ServiceSettings,
    WorkingHours,
)

_minutes = lazy(lambda m: gettext("%(m)s min") % {"m": m}, str)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time", "step": 900}, format="%H:%M")


def _advisor_field(dealership, **kwargs):
    field = forms.ModelChoiceField(queryset=selectors.advisors(dealership=dealership), label=_("Advisor"), **kwargs)
    field.label_from_instance = user_name
    return field


class VehicleByVinField(forms.ModelChoiceField):
    """A vehicle of the dealership named by its VIN (typed in any case, with spaces): the value posted is the VIN."""

    default_error_messages = {
        "invalid_choice": _("No vehicle with this VIN in the dealership: register the vehicle first."),
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=Vehicle.objects.none(), to_field_name="vin", **kwargs)

    def to_python(self, value):
        return super().to_python(normalize_vin(value) if isinstance(value, str) else value)


class AppointmentForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("Leave empty to book for the vehicle's owner."),
        widget=SearchSelect(url="core:pick_customers"),
    )
    # R15: the vehicle is identified by its VIN — picked by VIN, plate or model (issue 14 item 4), narrowed to the
    # chosen customer's cars; the posted value is the VIN itself.
    vin = VehicleByVinField(
        label=_("VIN"),
        help_text=_("The vehicle is identified by its VIN."),
        widget=SearchSelect(url="core:pick_vehicles", depends_on={"customer": "customer"}, value_field="vin"),
    )
    reason = forms.CharField(label=_("Reason for the visit"), widget=forms.Textarea(attrs={"rows": 2}))
    area = forms.ChoiceField(label=_("Area of arrival"), choices=ArrivalArea.choices)
    date = forms.DateField(label=_("Date"), widget=DATE)
    time = forms.TimeField(label=_("Arrival time"), widget=TIME, help_text=_("On the 15-minute grid."))
    duration_minutes = forms.TypedChoiceField(
        label=_("Reception takes"),
        coerce=int,
        # Lazy: "%(m)s min" % ... on a lazy string is evaluated at import, i.e. frozen in the default language.
        choices=[(m, _minutes(m)) for m in (15, 30, 45, 60, 90, 120)],
        initial=15,
    )
    handover_date = forms.DateField(label=_("Hand-over date"), widget=DATE)
    handover_time = forms.TimeField(label=_("Hand-over time"), widget=TIME)
    needs_loaner = forms.BooleanField(label=_("Needs a loaner car"), required=False)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Issue 18 item 3: the workshop hours the visit needs, counted against the technicians present that day.
    planned_hours = forms.DecimalField(
        label=_("Planned labour, hours"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        initial=1,
        help_text=_("Counted against the workshop's hours on the day."),
    )
    planned_kind = forms.ModelChoiceField(
        label=_("Kind of job"), queryset=JobKind.objects.all(), required=False, empty_label=_("— any —")
    )

    def __init__(self, *args, dealership, instance=None, **kwargs):
        self.dealership = dealership
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields = {"advisor": _advisor_field(dealership), **self.fields}
        self.fields["advisor"].widget.attrs["class"] = "form-select"
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership).order_by("name")
        self.fields["vin"].queryset = Vehicle.objects.filter(dealership=dealership).select_related("customer")

    def clean_vin(self):
        self.vehicle = self.cleaned_data["vin"]
        return self.vehicle.vin

    def clean(self):
        cleaned = super().clean()
        # R15 (issue 14 item 2): a booking started from a customer's card names the customer; the VIN must be theirs.
        customer, vehicle = cleaned.get("customer"), getattr(self, "vehicle", None)
        if customer is None and vehicle is not None:
            cleaned["customer"] = vehicle.customer
        elif owner_error := vehicle_of_another_customer_error(customer=customer, vehicle=vehicle):
            self.add_error("vin", owner_error)
        return cleaned

    def combined(self, date_field: str, time_field: str):
        day, time = self.cleaned_data.get(date_field), self.cleaned_data.get(time_field)
        if day is None or time is None:
            return None
        return datetime.datetime.combine(day, time, tzinfo=self.dealership.tz)


class RescheduleForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    time = forms.TimeField(label=_("Arrival time"), widget=TIME)
    handover_date = forms.DateField(label=_("Hand-over date"), widget=DATE)
    handover_time = forms.TimeField(label=_("Hand-over time"), widget=TIME)

    def __init__(self, *args, dealership, instance=None, **kwargs):
        self.dealership = dealership
        super().__init__(*args, dealership=dealership, **kwargs)

    combined = AppointmentForm.combined


class ReceptionForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    mileage = forms.IntegerField(label=_("Mileage, km"), min_value=0)
    fuel_level = forms.ChoiceField(label=_("Fuel level"), choices=[("", "—"), *FuelLevel.choices])
    damage_notes = forms.CharField(label=_("Visible damage"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    customer_words = forms.CharField(
        label=_("Customer's complaint in their words"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, dealership=None, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)


class JobForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    description = forms.CharField(label=_("Job"), max_length=300)
    standard_hours = forms.DecimalField(label=_("Standard hours"), min_value=0, max_digits=6, decimal_places=2)
    rate = forms.DecimalField(label=_("Rate per hour"), required=False, min_value=0, max_digits=10, decimal_places=2)
    is_important = forms.BooleanField(label=_("Important job (full inspection)"), required=False)
    kind = forms.ModelChoiceField(
        label=_("Kind of job (quality checklist)"), queryset=JobKind.objects.all(), required=False
    )


class PartLineForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    part = forms.ModelChoiceField(
        queryset=Part.objects.none(), label=_("Part"), widget=SearchSelect(url="parts:pick_parts")
    )
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=10, decimal_places=2, initial=1)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["part"].queryset = Part.objects.filter(dealership=dealership, is_active=True)


class ConsentForm(BootstrapFormMixin, forms.Form):
    agreed = forms.TypedChoiceField(
        label=_("Customer's answer"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("agrees")), ("no", _("declines"))],
    )
    given_by = forms.CharField(label=_("Who answered"), max_length=200)
    channel = forms.CharField(label=_("How"), max_length=40, initial=_("by phone"))


class FindingForm(BootstrapFormMixin, forms.Form):
    """Issue 17: one inspection item as the technician records it (photos come from the tablet's camera)."""

    item = forms.CharField(label=_("Inspection item"), max_length=200)
    colour = forms.ChoiceField(label=_("Colour"), choices=FindingColour.choices)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    price = forms.DecimalField(
        label=_("Price of the fix"), required=False, min_value=0, max_digits=12, decimal_places=2
    )


class SelfCheckForm(BootstrapFormMixin, forms.Form):
    technician = forms.CharField(label=_("Technician"), max_length=120)
    notes = forms.CharField(label=_("Self-check notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DeliveryForm(BootstrapFormMixin, forms.Form):
    signed_by = forms.CharField(label=_("Customer's name as signed"), max_length=200)


class InterviewForm(BootstrapFormMixin, forms.Form):
    notes = forms.CharField(label=_("Interview notes"), widget=forms.Textarea(attrs={"rows": 3}))


class LoanerForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Loaner
        fields = ["plate", "make", "model", "vin", "is_active", "notes"]

    def __init__(self, *args, dealership=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)


class LoanerReserveForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    loaner = forms.ModelChoiceField(queryset=Loaner.objects.none(), label=_("Loaner car"))
    starts_on = forms.DateField(label=_("From"), widget=DATE)
    ends_on = forms.DateField(label=_("Until"), widget=DATE)
    driver_licence = forms.CharField(label=_("Driver's licence"), required=False, max_length=40)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["loaner"].queryset = Loaner.objects.filter(dealership=dealership, is_active=True)


class WorkingHoursForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    weekday = forms.TypedChoiceField(label=_("Weekday"), coerce=int, choices=WorkingHours.Weekday.choices)
    starts_at = forms.TimeField(label=_("From"), widget=TIME)
    ends_at = forms.TimeField(label=_("Until"), widget=TIME)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields = {"advisor": _advisor_field(dealership), **self.fields}
        self.fields["advisor"].widget.attrs["class"] = "form-select"


class DayOffForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields = {"advisor": _advisor_field(dealership), **self.fields}
        self.fields["advisor"].widget.attrs["class"] = "form-select"


class RecallCampaignForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    title = forms.CharField(label=_("Title"), max_length=200)
    vin_from = forms.CharField(label=_("VIN range from"), max_length=17, required=False)
    vin_to = forms.CharField(label=_("VIN range to"), max_length=17, required=False)
    vins = forms.CharField(label=_("VINs (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)

    def clean_vins(self):
        return [line.strip() for line in self.cleaned_data["vins"].splitlines() if line.strip()]


class RecallImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("Columns: code, title, vin or vin_from and vin_to."))


class WalkInWorkOrderForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    """A work order for a customer who came without an appointment: who, which car, the complaint in their words."""

    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.none(), widget=SearchSelect(url="core:pick_customers")
    )
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"),
        queryset=Vehicle.objects.none(),
        widget=SearchSelect(url="core:pick_vehicles", depends_on={"customer": "customer"}),
    )
    complaint = forms.CharField(
        label=_("Complaint in the customer's words"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, dealership=None, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership).order_by("name")
        self.fields["vehicle"].queryset = (
            Vehicle.objects.filter(dealership=dealership).select_related("customer").order_by("vin")
        )
        self.fields["vehicle"].label_from_instance = lambda v: f"{v.vin} · {v.make} {v.model} · {v.customer.name}"


class HandoverSlotQueryForm(DealershipScopedFormMixin, forms.Form):
    """The booking form asks for the first free hand-over slot of an arrival (issue 14 item 4)."""

    date = forms.DateField()
    time = forms.TimeField()
    duration = forms.TypedChoiceField(coerce=int, choices=[(m, m) for m in (15, 30, 45, 60, 90, 120)])

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["advisor"] = _advisor_field(dealership)


class ReminderCallForm(forms.Form):
    """Issue 17 item 5: the result of a follow-up call (service due, declined work) — the outcome, a note and the
    customer's satisfaction if asked (issue 18 item 6: 1–5, the complaint closing's scale)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUpOutcome.choices)
    note = forms.CharField(label=_("Call result"), required=False, max_length=300)
    satisfaction = SatisfactionField()


# -- issue 17 item 4: the public booking page ----------------------------------------------------------------------
class OnlineBookingForm(DealershipScopedFormMixin, PublicFormGuardMixin, BootstrapFormMixin, forms.Form):
    """No login and no session (the page works inside a dealership's site): a honeypot field and a minimum fill time
    (a signed timestamp) keep bots out; the slot is the local "YYYY-MM-DDTHH:MM" of a cell the page offered."""

    SALT = "service.online_booking.form"

    slot = forms.CharField(label=_("Time"), max_length=16, required=False)
    name = forms.CharField(label=_("Your name"), max_length=200)
    phone = PhoneNumberFormField(
        label=_("Mobile phone"), help_text=_("We send a code to this number."), widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel"}
        )
    )  # fmt: skip
    vin = forms.CharField(label=_("VIN"), max_length=30, required=False)
    plate = forms.CharField(label=_("Plate"), max_length=20, required=False)
    make = forms.CharField(label=_("Make"), max_length=60, required=False)
    model = forms.CharField(label=_("Model"), max_length=80, required=False)
    area = forms.ChoiceField(label=_("Area of arrival"), choices=ArrivalArea.choices, initial=ArrivalArea.MECHANICAL)
    reason = forms.CharField(label=_("Reason for the visit"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    # Honeypot: hidden from people by CSS; bots fill it in.
    website = forms.CharField(label=_("Website"), required=False)
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.dealership = dealership
        self.fields["vin"].widget.attrs.update({"autocapitalize": "characters", "spellcheck": "false"})
        self.fields["plate"].widget.attrs.update({"autocapitalize": "characters"})

    def clean_slot(self):
        value = self.cleaned_data.get("slot") or ""
        if not value:
            raise forms.ValidationError(_("Choose a time."))
        try:
            local = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M")
        except ValueError:
            raise forms.ValidationError(_("Choose a time.")) from None
        if not 1900 <= local.year <= 2199:  # the project's sane dates (dms.core.inputs); no overflow in time zones
            raise forms.ValidationError(_("Choose a time."))
        return local.replace(tzinfo=self.dealership.tz)


class OnlineBookingCodeForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class OnlineBookingDetailsForm(BootstrapFormMixin, forms.Form):
    vin = forms.CharField(label=_("VIN"), max_length=30, required=False)
    make = forms.CharField(label=_("Make"), max_length=60, required=False)
    model = forms.CharField(label=_("Model"), max_length=80, required=False)


class FollowUpSettingsForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    """Issue 17 item 5: the service interval of the reminders and the days before a call about declined work."""

    class Meta:
        model = ServiceSettings
        fields = ["reminder_months", "reminder_km", "declined_follow_up_days"]


class OnlineBookingSettingsForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    """Issue 17 item 4: the public booking page on or off, and the sites that may show it in a frame."""

    class Meta:
        model = ServiceSettings
        fields = ["online_booking", "online_booking_hours", "booking_embed_origins"]
        widgets = {"booking_embed_origins": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)


class WorkshopLoadSettingsForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    """Issue 18 item 3: whether a booking beyond the workshop's load is only warned of or refused."""

    class Meta:
        model = ServiceSettings
        fields = ["workshop_overload"]
