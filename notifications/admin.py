from django.contrib import admin

from dms.core.admin import DealershipScopedAdmin

from .models import CallEvent, Delivery, OptOut


@admin.register(CallEvent)
class CallEventAdmin(DealershipScopedAdmin):
    list_display = ["id", "order", "kind", "status", "due_date", "assignee", "completed_by", "completed_at", "outcome"]
    list_filter = ["status", "kind", "outcome", "dealership"]
    search_fields = ["order__number", "comment"]
    raw_id_fields = ["order", "assignee", "completed_by", "source_event"]
    date_hierarchy = "due_date"
    # Results are recorded through the service (My calls, API): the admin only reads.
    readonly_fields = [f.name for f in CallEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(DealershipScopedAdmin):
    list_display = ["id", "channel", "recipient", "status", "attempts", "provider_id", "sent_at", "created_at"]
    list_filter = ["status", "channel", "dealership"]
    search_fields = ["recipient", "provider_id", "reference"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(OptOut)
class OptOutAdmin(DealershipScopedAdmin):
    list_display = ["customer", "channel", "reason", "created_by", "created_at"]
    list_filter = ["channel"]
    raw_id_fields = ["customer"]
