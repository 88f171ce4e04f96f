from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from dms.core import roles
from dms.core.formatting import plain_quantity
from dms.core.forms import BootstrapFormMixin, DealershipScopedFormMixin
from dms.core.inputs import parse_id
from dms.core.models import Customer, Vehicle
from dms.core.names import user_name
from dms.core.selectors import dealership_staff
from dms.core.widgets import SearchSelect
from parts.models import Part, Supplier

from .models import CUSTOMER_PURPOSES, CustomerOrder, OrderKind, OrderPurpose

User = get_user_model()

DATE_WIDGET = {"type": "date"}


STAFF_CHOICES_TTL = 300


def staff_choices(dealership) -> list[tuple[int, str]]:
    """(id, full name) of the dealership's staff for the dashboard's author/manager filters.

    Cached for a few minutes: the list changes rarely and the dashboard keeps its query count low.
    """
    key = f"orders:staff-choices:{dealership.pk}"
    choices = cache.get(key)
    if choices is None:
        choices = [(user.pk, user_name(user)) for user in dealership_staff(dealership=dealership)]
        cache.set(key, choices, STAFF_CHOICES_TTL)
    return choices


class CustomerOrderForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.none(), label=_("Customer"), widget=SearchSelect(url="core:pick_customers")
    )
    vehicle = forms.ModelChoiceField(
        queryset=Vehicle.objects.none(),
        label=_("Vehicle"),
        required=False,
        widget=SearchSelect(url="core:pick_vehicles", depends_on={"customer": "customer"}),
        help_text=_("Only the chosen customer's vehicles. Leave empty for a counter sale."),
    )
    kind = forms.ChoiceField(choices=OrderKind.choices, label=_("Kind"))
    purpose = forms.ChoiceField(choices=CUSTOMER_PURPOSES, label=_("Purpose"), initial=OrderPurpose.REPAIR)
    parts_manager = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=_("Parts manager"),
        required=False,
        widget=SearchSelect(url="core:pick_employees", params={"role": "parts_manager"}),
    )
    long_term_agreed = forms.BooleanField(label=_("The customer agreed to a long delivery term"), required=False)  # R4
    on_waiting_lot = forms.BooleanField(label=_("The car waits on the lot for these parts"), required=False)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership).order_by("name")
        vehicles = Vehicle.objects.filter(dealership=dealership).select_related("customer")
        customer_id = self.data.get("customer") or self.initial.get("customer")
        customer_id = parse_id(customer_id)
        if customer_id is not None:
            vehicles = vehicles.filter(customer_id=customer_id)
        self.fields["vehicle"].queryset = vehicles.order_by("make", "model", "vin")
        self.fields["parts_manager"].queryset = dealership_staff(dealership=dealership, role=roles.PARTS_MANAGER)
        self.fields["parts_manager"].label_from_instance = user_name


class OrderLineForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    part = forms.ModelChoiceField(
        queryset=Part.objects.none(), label=_("Part"), widget=SearchSelect(url="parts:pick_parts")
    )
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=10, decimal_places=2, initial=1)

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["part"].queryset = Part.objects.filter(dealership=dealership, is_active=True).order_by("number")
        self.fields["quantity"].widget.attrs.update({"step": "0.01"})

    def has_changed(self) -> bool:
        # A blank line keeps its default quantity (or has it cleared): it is skipped, not "the part is required".
        if "quantity" in self.changed_data and self["quantity"].data in (None, ""):
            return any(name != "quantity" for name in self.changed_data)
        return super().has_changed()


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not filled:
            raise forms.ValidationError(_("An order needs at least one line."))

    @property
    def lines(self):
        return [
            {"part": f.cleaned_data["part"], "quantity": f.cleaned_data["quantity"]}
            for f in self.forms
            if f.cleaned_data and f.cleaned_data.get("part")
        ]


OrderLineFormSet = forms.formset_factory(OrderLineForm, formset=BaseLineFormSet, extra=3, min_num=0, max_num=50)


def _long_term_field(help_text) -> forms.BooleanField:
    # R4: the customer's agreement to a long delivery term, recorded when placing.
    return forms.BooleanField(
        label=_("The customer agreed to a long delivery term"), required=False, help_text=help_text
    )


class SupplierOrderForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    """The supplier order an order — or several (issue 15 item 6) — is placed under (R1)."""

    supplier = forms.ModelChoiceField(queryset=Supplier.objects.none(), label=_("Supplier"))
    supplier_order_number = forms.CharField(label=_("Supplier order number"), max_length=60)
    expected_at = forms.DateField(label=_("ETA"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(dealership=dealership, is_active=True)


class PlaceForm(SupplierOrderForm):
    long_term_agreed = _long_term_field(_("Needed when the ETA is more than 7 days away."))

    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.order_lines = list(instance.lines.select_related("part").order_by("id")) if instance is not None else []
        if instance is not None:
            self.initial.setdefault("long_term_agreed", instance.long_term_agreed)
        # Issue 15 item 5: an optional purchase price per line; empty takes the supplier's price list.
        for line in self.order_lines:
            field = forms.DecimalField(
                label=_("Purchase price: %(part)s") % {"part": f"{line.part.number} {line.part.name}"},
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=2,
                help_text=_("Empty: from the supplier's price list on the placing date."),
            )
            field.widget.attrs.update({"class": "form-control", "step": "0.01", "min": "0"})
            self.fields[f"purchase_price_{line.pk}"] = field

    def purchase_prices(self) -> dict[int, object]:
        """Line id → the purchase price entered for it (lines left empty are not named)."""
        prices = {}
        for line in self.order_lines:
            value = self.cleaned_data.get(f"purchase_price_{line.pk}")
            if value is not None:
                prices[line.pk] = value
        return prices


class ReceiveForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    """One quantity field per outstanding line (R2); empty or zero means nothing arrived for that line."""

    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)

    def __init__(self, *args, dealership, instance, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.order_lines = list(instance.lines.select_related("part").order_by("id"))
        for line in self.order_lines:
            field = forms.DecimalField(
                label=f"{line.part.number} {line.part.name}",
                required=False,
                max_digits=10,
                decimal_places=2,
                help_text=_("ordered %(ordered)s, received %(received)s")
                % {"ordered": plain_quantity(line.quantity), "received": plain_quantity(line.quantity_received)},
            )
            field.widget.attrs.update({"class": "form-control", "step": "0.01"})
            # Issue 15 item 7: static/js/scan.js finds the line by the scanned part number or barcode.
            field.widget.attrs.update(
                {
                    "data-scan-part": line.part.number,
                    "data-scan-barcode": line.part.barcode or "",
                    "max": plain_quantity(line.quantity_outstanding),
                }
            )
            self.fields[f"line_{line.pk}"] = field
        self.order_fields([*(f"line_{line.pk}" for line in self.order_lines), "comment"])

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.received_lines():
            raise forms.ValidationError(_("Enter the quantity that arrived for at least one line."))
        return cleaned

    def received_lines(self):
        result = []
        for line in self.order_lines:
            quantity = self.cleaned_data.get(f"line_{line.pk}")
            if quantity not in (None, 0):
                result.append({"line": line.pk, "quantity": quantity})
        return result


class CancelForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)


class IssueForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)


class PlaceBatchForm(SupplierOrderForm):
    """Issue 15 item 6: the supplier order that several «Неразмещён» orders are placed under."""

    field_order = ["orders"]
    orders = forms.ModelMultipleChoiceField(
        queryset=CustomerOrder.objects.none(),
        label=_("Orders"),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Choose at least one order.")},
    )
    long_term_agreed = _long_term_field(
        _("Leave unticked to keep each order's own record; needed when the ETA is more than 7 days away.")
    )

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        # Any order of the dealership: one placed meanwhile is named by the service, not "not a valid choice".
        self.fields["orders"].queryset = CustomerOrder.objects.filter(dealership=dealership)
