from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dms.core.forms import BootstrapFormMixin, DealershipScopedFormMixin
from dms.core.models import Customer
from dms.core.names import user_name
from dms.core.selectors import dealership_staff
from dms.core.widgets import SearchSelect

from .models import (
    AbcClass,
    Location,
    MovementKind,
    OldPartReturn,
    Part,
    ReturnRequest,
    SalesOrder,
    StockBalance,
    StockCount,
    Warehouse,
)

User = get_user_model()


class PartNumberField(forms.ModelChoiceField):
    """A part named by its number (catalogues are too big for a drop-down): picked by number or name as the user
    types (issue 14 item 4, with the stock on hand); the value posted is still the number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Part number"))
        kwargs.setdefault("error_messages", {"invalid_choice": _("No part with this number in the catalogue.")})
        widget = SearchSelect(url="parts:pick_parts", value_field="number")
        super().__init__(queryset=Part.objects.none(), to_field_name="number", widget=widget, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python((value or "").strip().upper().replace(" ", ""))
        except ValidationError:
            # Issue 15 item 7: a scanner types the label's barcode where the number is asked for.
            code = "".join((value or "").split())
            part = self.queryset.filter(barcode=code).first() if code else None
            if part is None:
                raise
            return part

    def prepare_value(self, value):
        if isinstance(value, Part):
            return value.number
        return super().prepare_value(value)


class DealershipForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.dealership = dealership
        for field in self.fields.values():
            if isinstance(field, PartNumberField):
                field.queryset = Part.objects.filter(dealership=dealership)
            elif isinstance(field, forms.ModelChoiceField) and field.queryset.model is Warehouse:
                field.queryset = Warehouse.objects.filter(dealership=dealership, is_active=True)


# Issue 14 item 4: a line's quantity defaults to 1 (most lines are one piece).
QTY = {"max_digits": 12, "decimal_places": 3, "min_value": Decimal("0.001"), "initial": 1}


class ReceiveForm(DealershipForm):
    part = PartNumberField()
    warehouse = forms.ModelChoiceField(Warehouse.objects.none(), label=_("Warehouse"), required=False)
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    unit_cost = forms.DecimalField(label=_("Unit cost"), max_digits=14, decimal_places=4, min_value=0)
    reference = forms.CharField(label=_("Supplier document"), max_length=100, required=False)


class IssueForm(DealershipForm):
    REASONS = [
        ("work_order", MovementKind.ISSUE.label),
        ("counter_sale", MovementKind.COUNTER_SALE.label),
        ("write_off", MovementKind.WRITE_OFF.label),
        ("return_to_supplier", MovementKind.RETURN_OUT.label),
    ]
    part = PartNumberField()
    warehouse = forms.ModelChoiceField(Warehouse.objects.none(), label=_("Warehouse"), required=False)
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS)
    reference = forms.CharField(label=_("Document (work order, receipt...)"), max_length=100)
    note = forms.CharField(label=_("Comment"), max_length=300, required=False)


class TransferForm(DealershipForm):
    part = PartNumberField()
    from_warehouse = forms.ModelChoiceField(Warehouse.objects.none(), label=_("From warehouse"))
    to_warehouse = forms.ModelChoiceField(Warehouse.objects.none(), label=_("To warehouse"))
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    reference = forms.CharField(label=_("Document"), max_length=100, required=False)


class BalanceForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = StockBalance
        fields = ["location", "alert_level"]

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(warehouse_id=self.instance.warehouse_id)
        self.fields["alert_level"].help_text = _("Leave empty to use the default level of the part's class.")


class WarehouseForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    """Issue 15 item 9: the warehouse page's form; saved by ``warehouse_create``/``warehouse_update``, which check the
    code (upper-cased) against the dealership's warehouses."""

    class Meta:
        model = Warehouse
        fields = ["code", "name", "is_default", "is_active"]


class LocationForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    """Issue 15 item 9: a bin of the warehouse the page names; saved by ``location_create``/``location_update``, which
    check the code (upper-cased) against the warehouse's bins."""

    class Meta:
        model = Location
        fields = ["code", "description", "is_active"]


class StockFilterForm(DealershipScopedFormMixin, forms.Form):
    q = forms.CharField(required=False, label=_("Search"))
    warehouse = forms.ModelChoiceField(
        Warehouse.objects.none(), required=False, label=_("Warehouse"), empty_label=_("All warehouses")
    )
    abc = forms.ChoiceField(choices=[("", _("All classes")), *AbcClass.choices], required=False, label=_("Class"))
    below = forms.BooleanField(required=False, label=_("Below alert level"))

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(dealership=dealership)
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-select"
            )
        self.fields["q"].widget.attrs.update(
            {"class": "form-control", "placeholder": _("Part number or name"), "aria-label": _("Search")}
        )


class CountStartForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.Form):
    warehouse = forms.ModelChoiceField(Warehouse.objects.none(), label=_("Warehouse"))
    kind = forms.ChoiceField(label=_("Kind"), choices=StockCount.Kind.choices)
    scope = forms.ChoiceField(label=_("What to count"), choices=StockCount.Scope.choices)
    location = forms.ModelChoiceField(Location.objects.none(), label=_("Bin"), required=False)
    abc_class = forms.ChoiceField(label=_("Class"), choices=[("", "—"), *AbcClass.choices], required=False)
    committee = forms.ModelMultipleChoiceField(
        User.objects.none(),
        label=_("Count committee"),
        required=False,
        help_text=_("For the annual count: at least two people."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(dealership=dealership, is_active=True)
        self.fields["location"].queryset = Location.objects.filter(dealership=dealership, is_active=True)
        self.fields["committee"].queryset = dealership_staff(dealership=dealership)
        self.fields["committee"].label_from_instance = user_name
        self.fields["committee"].widget.attrs["size"] = 5


class SalesOrderForm(DealershipScopedFormMixin, BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = SalesOrder
        fields = ["customer", "channel", "payment_method", "need_description", "delivery_method", "delivery_address"]
        widgets = {
            "need_description": forms.Textarea(attrs={"rows": 3}),
            "customer": SearchSelect(url="core:pick_customers"),
        }

    def __init__(self, *args, dealership, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership)


class SalesLineForm(DealershipForm):
    part = PartNumberField()
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    unit_price = forms.DecimalField(
        label=_("Price"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty: the catalogue price."),
    )


class QuoteForm(BootstrapFormMixin, forms.Form):
    delivery_days = forms.IntegerField(
        label=_("Delivery term, days"),
        min_value=0,
        required=False,
        help_text=_("Empty: 1 day from stock, otherwise the supplier's term."),
    )


class PaymentForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=0)
    reference = forms.CharField(label=_("Payment document"), max_length=100, required=False)


class ShipForm(BootstrapFormMixin, forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ReturnRequestForm(DealershipForm):
    customer = forms.ModelChoiceField(
        Customer.objects.none(), label=_("Customer"), widget=SearchSelect(url="core:pick_customers")
    )
    # searched as the user types (the chosen customer's shipped orders): a dealership has too many for a list
    sales_order = forms.ModelChoiceField(
        SalesOrder.objects.none(),
        label=_("Order"),
        required=False,
        widget=SearchSelect(url="parts:pick_sales_orders", depends_on={"customer": "customer"}),
    )
    part = PartNumberField()
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    received_on = forms.DateField(
        label=_("Received by the customer on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=ReturnRequest.Reason.choices)
    resolution = forms.ChoiceField(label=_("Customer wants"), choices=ReturnRequest.Resolution.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("Photo or document"), required=False)

    def __init__(self, *args, dealership, instance=None, **kwargs):
        super().__init__(*args, dealership=dealership, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(dealership=dealership)
        self.fields["sales_order"].queryset = SalesOrder.objects.filter(
            dealership=dealership, status=SalesOrder.Status.SHIPPED
        )


class DecisionForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, required=False)
    customer_at_fault = forms.BooleanField(label=_("The customer is at fault (customer pays freight)"), required=False)
    freight_cost = forms.DecimalField(
        label=_("Freight cost"), max_digits=12, decimal_places=2, min_value=0, required=False
    )


class InspectionForm(BootstrapFormMixin, forms.Form):
    defect_confirmed = forms.BooleanField(label=_("Defect confirmed"), required=False)
    result = forms.CharField(label=_("Inspection result"), widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("Photo or document"))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class _JobChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.work_order} — {obj}"


class RequisitionForm(DealershipForm):
    """Issue 15 item 2 (R32): the work order is chosen among the dealership's open work orders (and the job among
    their jobs), not typed; the service still refuses a job that is not on the chosen work order."""

    # The querysets come from the reference targets the service app provides (parts does not import service); the
    # placeholders are replaced in __init__ and scoped to the dealership by DealershipScopedFormMixin.
    # Searched as the user types among the open work orders (service's picker, named by its URL only).
    work_order_id = forms.ModelChoiceField(
        label=_("Work order"), queryset=Part.objects.none(), widget=SearchSelect(url="service:pick_work_orders")
    )
    job_id = _JobChoiceField(
        label=_("Job"),
        queryset=Part.objects.none(),
        required=False,
        widget=SearchSelect(url="service:pick_jobs", depends_on={"work_order": "work_order_id"}),
    )
    work_order_line = forms.CharField(label=_("Work order line"), max_length=200, required=False)
    technician = forms.CharField(label=_("Technician"), max_length=200, required=False)
    part = PartNumberField()
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        from dms.core.references import reference_target

        from .selectors import OPEN_WORK_ORDER, OPEN_WORK_ORDER_JOB

        super().__init__(*args, **kwargs)
        work_orders = reference_target(OPEN_WORK_ORDER)
        jobs = reference_target(OPEN_WORK_ORDER_JOB)
        if work_orders is not None:
            self.fields["work_order_id"].queryset = work_orders
        if jobs is not None:
            self.fields["job_id"].queryset = jobs
        self.scope_model_choices()

    def clean(self):
        cleaned = super().clean()
        # The service takes ids; it resolves them again inside the dealership (and checks the job is on the order).
        for name in ("work_order_id", "job_id"):
            if cleaned.get(name) is not None:
                cleaned[name] = cleaned[name].pk
        return cleaned


class OldPartForm(DealershipForm):
    part = PartNumberField()
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    condition = forms.ChoiceField(label=_("Condition"), choices=OldPartReturn.Condition.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
