from django.contrib import admin

from dms.core.admin import ReadOnlyAdmin, ServiceBackedAdmin

from . import services
from .models import (
    Appointment,
    DayOff,
    JobClock,
    JobKind,
    Loaner,
    LoanerReservation,
    OdometerRollbackReport,
    OnlineBooking,
    QualityChecklistItem,
    RecallCampaign,
    ServiceReminder,
    ServiceSettings,
    TechnicianAbsence,
    TechnicianHours,
    TechnicianProfile,
    WorkingHours,
    WorkOrder,
)


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "advisor", "customer", "vehicle", "area", "status", "dealership"]
    list_filter = ["status", "area"]
    search_fields = ["customer__name", "vehicle__vin", "reason"]


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "vehicle", "advisor", "status", "created_at", "dealership"]
    list_filter = ["status", "odometer_rollback"]
    search_fields = ["number", "customer__name", "vehicle__vin"]


@admin.register(OdometerRollbackReport)
class OdometerRollbackReportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "vehicle", "recorded_mileage", "previous_mileage", "notified_at", "dealership"]


@admin.register(LoanerReservation)
class LoanerReservationAdmin(ReadOnlyAdmin):
    list_display = ["loaner", "customer", "starts_on", "ends_on", "status", "dealership"]


@admin.register(Loaner)
class LoanerAdmin(ServiceBackedAdmin):
    list_display = ["plate", "make", "model", "is_active", "dealership"]
    search_fields = ["plate", "make", "model"]
    service_module = services
    service_entity = "loaner"


@admin.register(RecallCampaign)
class RecallCampaignAdmin(ReadOnlyAdmin):
    list_display = ["code", "title", "is_open", "vin_from", "vin_to", "dealership"]
    search_fields = ["code", "title"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(ReadOnlyAdmin):
    list_display = ["advisor", "weekday", "starts_at", "ends_at", "dealership"]


@admin.register(DayOff)
class DayOffAdmin(ReadOnlyAdmin):
    list_display = ["advisor", "date", "reason", "dealership"]


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(ReadOnlyAdmin):
    list_display = [
        "dealership", "repeat_visit_days", "labour_rate", "warranty_ending_days", "workshop_overload",
        "online_booking",
        "reminder_months", "reminder_km", "declined_follow_up_days",
    ]  # fmt: skip


@admin.register(ServiceReminder)
class ServiceReminderAdmin(ReadOnlyAdmin):
    list_display = [
        "vehicle", "customer", "reason", "due_on", "estimated_mileage", "status", "assignee", "called_at", "outcome",
        "satisfaction",
    ]  # fmt: skip
    list_filter = ["status", "reason"]


@admin.register(OnlineBooking)
class OnlineBookingAdmin(ReadOnlyAdmin):
    """Issue 17 item 4: the requests of the public booking page (the code's hash is never shown)."""

    list_display = ["created_at", "phone", "starts_at", "status", "attempts", "appointment", "dealership"]
    list_filter = ["status"]
    exclude = ["code_hash"]


class QualityChecklistItemInline(admin.TabularInline):
    model = QualityChecklistItem
    extra = 1


@admin.register(JobKind)
class JobKindAdmin(admin.ModelAdmin):
    """R31 / issue 14 item 6: the checklist per kind of job is configured here (kind → items)."""

    list_display = ["name"]
    search_fields = ["name"]
    inlines = [QualityChecklistItemInline]

    # The checklists are shared by every dealership: only a superuser changes them, never one dealership's
    # administrator (the access matrix's admin isolation).
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# Issue 18: technicians are kept on the staff pages (service/workshop_views.py, through the services); the admin lists.
@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "certification_level", "is_active", "dealership"]
    list_filter = ["certification_level", "is_active"]
    search_fields = ["user__last_name", "user__username"]


@admin.register(TechnicianHours)
class TechnicianHoursAdmin(ReadOnlyAdmin):
    list_display = ["technician", "weekday", "starts_at", "ends_at", "break_minutes", "dealership"]


@admin.register(TechnicianAbsence)
class TechnicianAbsenceAdmin(ReadOnlyAdmin):
    list_display = ["technician", "kind", "starts_on", "ends_on", "reason", "dealership"]


@admin.register(JobClock)
class JobClockAdmin(ReadOnlyAdmin):
    list_display = ["technician", "job", "started_at", "ended_at", "dealership"]
