from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services, user_policy, webhooks
from .exceptions import ConflictError
from .models import (
    AuditEntry,
    Customer,
    CustomerLink,
    DealerGroup,
    Dealership,
    StaffProfile,
    Vehicle,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)
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


class ReadOnlyAdmin(DealershipScopedAdmin):
    """Ledgers, audit and business records whose changes go only through the services (the pages and the API):
    the admin lists and shows them but adds, changes and deletes nothing (issue 13 item 1)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """The rows of a read-only record shown on its admin page: no adding, changing or deleting."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceBackedAdmin(DealershipScopedAdmin):
    """Saves go through the app's services so admin edits are validated and audited like any other.

    An admin names the app's services module and the entity (``service_module = services``, ``service_entity =
    "part"``); the services follow the layout's names: ``part_create(actor=, dealership=, **data)``,
    ``part_update(actor=, part=, data=)`` and the editable fields ``PART_FIELDS``. The explicit attributes below
    override the names for a service that does not follow them."""

    service_module = None
    service_entity = ""
    create_service = None
    update_service = None
    update_kwarg = ""
    service_fields: tuple[str, ...] = ()

    def _service(self, kind: str):
        return getattr(type(self), f"{kind}_service") or getattr(self.service_module, f"{self.service_entity}_{kind}")

    def save_model(self, request, obj, form, change):
        fields = self.service_fields or getattr(self.service_module, f"{self.service_entity.upper()}_FIELDS")
        data = {name: form.cleaned_data[name] for name in fields if name in form.cleaned_data}
        if change:
            saved = self._service("update")(
                actor=request.user, **{self.update_kwarg or self.service_entity: obj}, data=data
            )
        else:
            dealership = form.cleaned_data.get("dealership") or Dealership.objects.get(
                pk=default_dealership_id(request.user)
            )
            saved = self._service("create")(actor=request.user, dealership=dealership, **data)
        obj.pk = saved.pk


def _with_actor(form_class: type[forms.BaseForm], actor) -> type[forms.BaseForm]:
    """The form class with the acting user attached, for validation that depends on who grants (issue 12, item 1)."""
    return type(form_class.__name__, (form_class,), {"actor": actor})


def _add_refusals(form: forms.BaseForm, refusals: dict[str, str]) -> None:
    for name, message in refusals.items():
        form.add_error(name if name in form.fields else None, message)


class UserGrantsForm(UserChangeForm):
    """Refuses roles, permissions and flags the acting user does not hold — whatever the field's choices say."""

    actor = None
    GRANTS = ("groups", "user_permissions", "is_staff", "is_superuser")

    def _wanted(self, name: str, cleaned: dict):
        if name in self.fields:
            return cleaned.get(name)
        # A flag the actor may not edit (read-only for them) is not a form field, so Django would silently drop it
        # from the POST: a request that sets it anyway is answered with the refusal instead of saving the rest.
        if name in ("is_staff", "is_superuser") and self.add_prefix(name) in self.data:
            return forms.BooleanField(required=False).to_python(self.data.get(self.add_prefix(name)))
        return None

    def clean(self):
        cleaned = super().clean()
        wanted = {name: self._wanted(name, cleaned) for name in self.GRANTS}
        _add_refusals(
            self,
            user_policy.refused_grants(
                self.actor,
                groups=wanted["groups"],
                permissions=wanted["user_permissions"],
                is_staff=wanted["is_staff"],
                is_superuser=wanted["is_superuser"],
            ),
        )
        return cleaned


class StaffProfileForm(forms.ModelForm):
    """Dealership membership: only dealerships the acting user works in can be granted."""

    actor = None

    class Meta:
        model = StaffProfile
        fields = ["user", "dealerships", "default_dealership", "phone"]

    def clean(self):
        cleaned = super().clean()
        wanted = [*(cleaned.get("dealerships") or ()), *filter(None, [cleaned.get("default_dealership")])]
        _add_refusals(self, user_policy.refused_grants(self.actor, dealerships=wanted))
        return cleaned


def _dealership_formfield(field, db_field, request):
    if field is not None and db_field.related_model is Dealership:
        field.queryset = user_policy.grantable_dealerships(request.user)
    return field


class StaffProfileInline(admin.StackedInline):
    """Dealership membership edited with the user; a non-superuser must give every new user a dealership of theirs
    (a user without one would be outside everybody's reach but the superusers')."""

    model = StaffProfile
    form = StaffProfileForm
    fk_name = "user"
    max_num = 1
    filter_horizontal = ["dealerships"]
    verbose_name_plural = _("dealerships")

    def get_min_num(self, request, obj=None, **kwargs):
        return 0 if request.user.is_superuser else 1

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = _with_actor(self.form, request.user)
        kwargs.setdefault("validate_min", not request.user.is_superuser)
        return super().get_formset(request, obj, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return _dealership_formfield(super().formfield_for_foreignkey(db_field, request, **kwargs), db_field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _dealership_formfield(super().formfield_for_manytomany(db_field, request, **kwargs), db_field, request)


class ScopedUserAdmin(UserAdmin):
    """Issue 12, item 1: a non-superuser administrator reaches only the users ``user_policy.users_manageable_by``
    gives (never a superuser, never someone who also works elsewhere) and grants only what they hold; every view
    of a user (change, password, history, delete) goes through the scoped queryset and the object permission."""

    form = UserGrantsForm
    inlines = [StaffProfileInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=user_policy.users_manageable_by(request.user).values("pk"))

    def get_form(self, request, obj=None, **kwargs):
        return _with_actor(super().get_form(request, obj, **kwargs), request.user)

    def _may_manage(self, request, obj) -> bool:
        return obj is None or user_policy.may_manage_user(request.user, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "last_login", "date_joined")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name == "groups":
            field.queryset = user_policy.grantable_groups(request.user)
        elif field is not None and db_field.name == "user_permissions":
            field.queryset = user_policy.grantable_permissions(request.user)
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
    search_fields = ["name", "code", "legal_name", "inn"]
    # The requisites are entered once here and printed on every customer document (issue 16, item 4).
    fieldsets = [
        (
            None,
            {"fields": ["group", "name", "code", "time_zone", "currency", "order_prefix", "address", "phone", "email"]},
        ),
        (
            _("Requisites for documents"),
            {
                "fields": [
                    "legal_name",
                    "legal_address",
                    ("inn", "kpp"),
                    "ogrn",
                    "bank_name",
                    "bik",
                    "settlement_account",
                    "correspondent_account",
                    "logo",
                    "vat_rate",
                ]
            },
        ),
    ]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    """Dealership membership under the same rule as the user admin (issue 12, item 1)."""

    form = StaffProfileForm
    list_display = ["user", "default_dealership"]
    filter_horizontal = ["dealerships"]
    search_fields = ["user__username", "user__last_name"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(user__in=user_policy.users_manageable_by(request.user).values("pk"))

    def get_form(self, request, obj=None, **kwargs):
        return _with_actor(super().get_form(request, obj, **kwargs), request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser or obj is None else (*fields, "user")

    def has_add_permission(self, request):
        # A non-superuser gives a NEW user a profile in the user admin's inline; attaching one to an existing account
        # would pull an account outside their reach (a superuser without a profile, say) into it.
        return request.user.is_superuser and super().has_add_permission(request)

    def _may_manage(self, request, obj) -> bool:
        return obj is None or user_policy.may_manage_user(request.user, obj.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == "user":
            field.queryset = user_policy.users_manageable_by(request.user)
        return _dealership_formfield(field, db_field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _dealership_formfield(super().formfield_for_manytomany(db_field, request, **kwargs), db_field, request)


@admin.register(Customer)
class CustomerAdmin(ServiceBackedAdmin):
    list_display = ["name", "phone", "email", "preferred_channel", "assigned_manager", "dealership"]
    list_filter = ["preferred_channel", "lead_source", "is_vip"]
    search_fields = ["name", "phone", "email"]
    raw_id_fields = ["assigned_manager"]
    service_module = services
    service_entity = "customer"


@admin.register(Vehicle)
class VehicleAdmin(ServiceBackedAdmin):
    list_display = ["vin", "make", "model", "year", "plate", "customer", "dealership"]
    search_fields = ["vin", "plate", "customer__name"]
    raw_id_fields = ["customer"]
    service_module = services
    service_entity = "vehicle"


@admin.register(CustomerLink)
class CustomerLinkAdmin(ReadOnlyAdmin):
    """Issue 17: links are issued by messages and revoked from the customer's card (dms.core.links), never here."""

    list_display = ["created_at", "customer", "purpose", "channel", "expires_at", "revoked_at", "open_count"]
    list_filter = ["purpose", "channel"]
    search_fields = ["customer__name", "sent_with"]
    exclude = ["nonce"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail cannot be edited or deleted through any interface."""

    list_display = ["created_at", "actor", "action", "content_type", "object_repr", "dealership"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor__username"]


# -- outbound webhooks (issue 16 item 5) ---------------------------------------------------------------------------
class WebhookSubscriptionForm(forms.ModelForm):
    target_url = forms.URLField(label=_("target URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"), choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["dealership", "target_url", "event_types", "is_active", "description"]

    def clean_target_url(self):
        url = self.cleaned_data["target_url"]
        try:
            webhooks.validate_target_url(url)
        except ValidationError as error:
            raise ValidationError(error.message_dict["target_url"]) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(DealershipScopedAdmin):
    """Saved through the webhooks services; the secret is shown once, in a message, when created or rotated."""

    form = WebhookSubscriptionForm
    list_display = ["target_url", "description", "is_active", "consecutive_failures", "disabled_reason", "dealership"]
    list_filter = ["is_active"]
    readonly_fields = ["consecutive_failures", "disabled_at", "disabled_reason"]
    actions = ["rotate_secret"]
    FIELDS = ("target_url", "event_types", "is_active", "description")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.FIELDS if name in form.cleaned_data}
        if change:
            saved = webhooks.webhook_subscription_update(actor=request.user, subscription=obj, data=data)
        else:
            dealership = form.cleaned_data.get("dealership") or Dealership.objects.get(
                pk=default_dealership_id(request.user)
            )
            saved = webhooks.webhook_subscription_create(actor=request.user, dealership=dealership, **data)
            self._show_secret(request, saved)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        webhooks.webhook_subscription_delete(actor=request.user, subscription=obj)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            webhooks.webhook_subscription_delete(actor=request.user, subscription=subscription)

    def _show_secret(self, request, subscription: WebhookSubscription) -> None:
        self.message_user(
            request,
            _("Signing secret of «%(target)s» (shown only now, keep it safe): %(secret)s")
            % {"target": subscription, "secret": subscription.secret},
            messages.WARNING,
        )

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            self._show_secret(
                request, webhooks.webhook_subscription_rotate_secret(actor=request.user, subscription=subscription)
            )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(DealershipScopedAdmin):
    """The delivery log: read-only, with "redeliver" as its one action."""

    list_display = ["created_at", "event_type", "subscription", "status", "attempts", "last_status_code", "dealership"]
    list_filter = ["status", "event_type"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change page is the read-only detail; the "change" permission is what redelivering takes.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Redeliver"), permissions=["change"])
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset:
            try:
                webhooks.webhook_delivery_redeliver(actor=request.user, delivery=delivery)
            except ConflictError as error:
                self.message_user(request, f"{delivery}: {error.message}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(request, _("%(n)s deliveries queued again.") % {"n": sent})
