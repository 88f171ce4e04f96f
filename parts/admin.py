from django.contrib import admin

from dms.core.admin import ServiceBackedAdmin

from . import services
from .models import Part, Supplier


@admin.register(Supplier)
class SupplierAdmin(ServiceBackedAdmin):
    list_display = ["name", "code", "delivery_days", "is_active", "dealership"]
    search_fields = ["name", "code"]
    create_service = services.supplier_create
    update_service = services.supplier_update
    update_kwarg = "supplier"
    service_fields = services.SUPPLIER_FIELDS


@admin.register(Part)
class PartAdmin(ServiceBackedAdmin):
    list_display = ["number", "name", "price", "unit", "default_supplier", "dealership"]
    search_fields = ["number", "name"]
    list_filter = ["unit", "is_active"]
    create_service = services.part_create
    update_service = services.part_update
    update_kwarg = "part"
    service_fields = services.PART_FIELDS
