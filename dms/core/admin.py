from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q

from . import roles, services
from .models import AuditEntry, Customer, DealerGroup, Dealership, StaffProfile, Vehicle
from .references import is_dealership_record, scope_to_dealerships
from .tenancy import allowed_dealership_ids, default_dealership_id

User = get_user_model()


class DealershipScopedAdmin(admin.ModelAdmin):
    """Admin lists and forms show only the user's dealerships (superusers see all)."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(dealership_id__in=allowed_dealership_ids(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return self._scoped_choices(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return self._scoped_choices(super().formfield_for_manytomany(db_field, request, **kwargs), request)

    def _scoped_choices(self, field, request):
        # Issue 12 item 6: the shared scope (staff users and lines too), for references and many-to-many choices.
        if field is not None and not request.user.is_superuser and is_dealership_record(field.queryset.model):
            field.queryset = scope_to_dealerships(field.queryset, allowed_dealership_ids(request.user))
        return field


class ServiceBackedAdmin(DealershipScopedAdmin):
    """Saves go through the app's services so admin edits are validated and audited like any other."""

    create_service = None
    update_service = None
    update_kwarg = ""
    service_fields: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.service_fields if name in form.cleaned_data}
        if change:
            saved = type(self).update_service(actor=request.user, **{self.update_kwarg: obj}, data=data)
        else:
            dealership = form.cleaned_data.get("dealership") or Dealership.objects.get(
                pk=default_dealership_id(request.user)
            )
            saved = type(self).create_service(actor=request.user, dealership=dealership, **data)
        obj.pk = saved.pk


def _scope_users(qs, request):
    return qs.filter(staff_profile__dealerships__in=allowed_dealership_ids(request.user)).distinct()


class ScopedUserAdmin(UserAdmin):
    """A non-superuser administrator sees and edits only staff of their dealerships and cannot grant superuser
    status or individual permissions (roles are groups)."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else _scope_users(qs, request)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "user_permissions", "last_login", "date_joined")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and not request.user.is_superuser and field is not None:
            field.queryset = field.queryset.filter(name__in=roles.ALL_ROLES)
        return field


admin.site.unregister(User)
admin.site.register(User, ScopedUserAdmin)


@admin.register(DealerGroup)
class DealerGroupAdmin(admin.ModelAdmin):
    list_display = ["name"]


@admin.register(Dealership)
class DealershipAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "group", "time_zone", "order_prefix"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk__in=allowed_dealership_ids(request.user))

    list_filter = ["group"]
    search_fields = ["name", "code"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "default_dealership"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(dealerships__in=allowed_dealership_ids(request.user)).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if not request.user.is_superuser and field is not None:
            if db_field.name == "user":
                ids = allowed_dealership_ids(request.user)
                field.queryset = field.queryset.filter(
                    Q(staff_profile__dealerships__in=ids) | Q(staff_profile=None)
                ).distinct()
            else:
                field.queryset = field.queryset.filter(pk__in=allowed_dealership_ids(request.user))
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if not request.user.is_superuser and field is not None:
            field.queryset = field.queryset.filter(pk__in=allowed_dealership_ids(request.user))
        return field

    filter_horizontal = ["dealerships"]
    search_fields = ["user__username", "user__last_name"]


@admin.register(Customer)
class CustomerAdmin(ServiceBackedAdmin):
    list_display = ["name", "phone", "email", "preferred_channel", "assigned_manager", "dealership"]
    list_filter = ["preferred_channel", "lead_source", "is_vip"]
    search_fields = ["name", "phone", "email"]
    raw_id_fields = ["assigned_manager"]
    create_service = services.customer_create
    update_service = services.customer_update
    update_kwarg = "customer"
    service_fields = services.CUSTOMER_FIELDS


@admin.register(Vehicle)
class VehicleAdmin(ServiceBackedAdmin):
    list_display = ["vin", "make", "model", "year", "plate", "customer", "dealership"]
    search_fields = ["vin", "plate", "customer__name"]
    raw_id_fields = ["customer"]
    create_service = services.vehicle_create
    update_service = services.vehicle_update
    update_kwarg = "vehicle"
    service_fields = services.VEHICLE_FIELDS


@admin.register(AuditEntry)
class AuditEntryAdmin(DealershipScopedAdmin):
    """Read-only: the audit trail cannot be edited or deleted through any interface."""

    list_display = ["created_at", "actor", "action", "content_type", "object_repr", "dealership"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
