"""Orders in the admin: read-mostly. The working details may be edited (through the service, audited); the status,
lines, receipts and dates follow the procedure and are never editable here."""

from django.contrib import admin

from dms.core.admin import DealershipScopedAdmin, ReadOnlyAdmin, ReadOnlyInline

from . import services
from .models import CustomerOrder, CustomerOrderLine, Receipt, ReceiptLine, SupplierOrder

EDITABLE = ("parts_manager", "on_waiting_lot", "long_term_agreed", "comment")


class LineInline(ReadOnlyInline):
    model = CustomerOrderLine
    fields = ["part", "quantity", "quantity_received", "unit_price", "purchase_price"]
    readonly_fields = fields


class SupplierOrderInline(ReadOnlyInline):
    model = SupplierOrder
    fields = ["supplier", "supplier_order_number", "expected_at", "placed_by", "placed_at"]
    readonly_fields = fields


class ReceiptInline(ReadOnlyInline):
    model = Receipt
    fields = ["received_at", "received_by", "comment"]
    readonly_fields = fields


@admin.register(CustomerOrder)
class CustomerOrderAdmin(DealershipScopedAdmin):
    list_display = ["number", "status", "kind", "customer", "vehicle", "author", "expected_at", "dealership"]
    list_filter = ["status", "kind", "on_waiting_lot", "dealership"]
    search_fields = ["number", "customer__name", "vehicle__vin"]
    list_select_related = ["customer", "vehicle", "author", "dealership"]
    date_hierarchy = "created_at"
    fields = [
        "number",
        "dealership",
        "status",
        "kind",
        "purpose",
        "customer",
        "vehicle",
        "author",
        *EDITABLE,
        "placed_at",
        "expected_at",
        "first_received_at",
        "received_at",
        "issued_at",
        "cancelled_at",
        "cancel_reason",
    ]
    readonly_fields = [name for name in fields if name not in EDITABLE]
    inlines = [LineInline, SupplierOrderInline, ReceiptInline]

    def has_add_permission(self, request):
        # Orders are created on the order page or over the API (lines, numbering and checks live in the service).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in EDITABLE if name in form.changed_data}
        if data:
            services.customer_order_update(actor=request.user, order=obj, data=data)


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["order", "received_at", "received_by", "dealership"]
    list_select_related = ["order", "received_by", "dealership"]
    search_fields = ["order__number"]

    class LinesInline(ReadOnlyInline):
        model = ReceiptLine
        fields = ["line", "quantity"]
        readonly_fields = fields

    inlines = [LinesInline]
    readonly_fields = ["order", "received_by", "received_at", "comment", "dealership"]
