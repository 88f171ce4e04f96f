from django.contrib import admin

from dms.core.admin import ReadOnlyAdmin, ServiceBackedAdmin

from . import services
from .models import (
    Location,
    LowStockAlert,
    Part,
    Reservation,
    StockBalance,
    StockMovement,
    Supplier,
    SupplierPrice,
    Warehouse,
)


@admin.register(Supplier)
class SupplierAdmin(ServiceBackedAdmin):
    list_display = ["name", "code", "delivery_days", "is_active", "dealership"]
    search_fields = ["name", "code"]
    service_module = services
    service_entity = "supplier"


@admin.register(Part)
class PartAdmin(ServiceBackedAdmin):
    list_display = ["number", "barcode", "name", "price", "unit", "default_supplier", "dealership"]
    search_fields = ["number", "barcode", "name"]
    list_filter = ["unit", "is_active"]
    service_module = services
    service_entity = "part"


@admin.register(SupplierPrice)
class SupplierPriceAdmin(ServiceBackedAdmin):
    """Purchase prices per supplier and part from a date (issue 15 item 5); saved through the services."""

    list_display = ["part", "supplier", "price", "valid_from", "dealership"]
    list_filter = ["supplier"]
    search_fields = ["part__number", "part__name", "supplier__name"]
    list_select_related = ["part", "supplier", "dealership"]
    date_hierarchy = "valid_from"
    service_module = services
    service_entity = "supplier_price"


@admin.register(Warehouse)
class WarehouseAdmin(ServiceBackedAdmin):
    list_display = ["code", "name", "is_default", "is_active", "dealership"]
    search_fields = ["code", "name"]
    service_module = services
    service_entity = "warehouse"


@admin.register(Location)
class LocationAdmin(ServiceBackedAdmin):
    list_display = ["code", "warehouse", "description", "is_active"]
    search_fields = ["code", "description"]
    service_module = services
    service_entity = "location"

    def get_readonly_fields(self, request, obj=None):
        # A bin stays in its warehouse (its stock balances belong there).
        return ["warehouse"] if obj is not None else []


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ["part", "warehouse", "location", "on_hand", "reserved", "average_cost", "alert_level"]
    list_filter = ["warehouse", "part__abc_class"]
    search_fields = ["part__number", "part__name"]
    list_select_related = ["part", "warehouse", "location"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "part", "warehouse", "quantity", "unit_cost", "reference", "actor"]
    list_filter = ["kind", "warehouse"]
    search_fields = ["part__number", "reference", "work_order_ref"]
    list_select_related = ["part", "warehouse", "actor"]
    date_hierarchy = "occurred_at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["part", "warehouse", "quantity", "issued_quantity", "status", "reference", "customer_order_id"]
    list_filter = ["status"]
    search_fields = ["part__number", "reference"]


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ReadOnlyAdmin):
    list_display = ["part", "warehouse", "status", "alert_level", "available", "suggested_quantity", "opened_at"]
    list_filter = ["status", "warehouse"]
