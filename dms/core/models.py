import re
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from . import requisites
from .formatting import format_money

VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def validate_vin(value: str) -> None:
    if not VIN_RE.match(value or ""):
        raise ValidationError(
            _("A VIN has exactly 17 characters: Latin letters except I, O, Q, and digits."), code="invalid_vin"
        )


def normalize_vin(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone."), code="invalid_time_zone")


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


def random_stored_name(folder: str, filename: str) -> str:
    """Where an uploaded file is stored: ``folder/YYYY/MM/<random>.<ext>``. The stored name is random — the
    original name is kept in a field and never used on disk (no path tricks, no guessing another file's name)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class StoredFile(models.Model):
    """What every uploaded file keeps beside its ``file`` field (each model names its own folder): served only
    through a permission-checked view, under its original name and type."""

    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size, bytes"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name

    def store_upload(self, upload, *, content_type: str) -> None:
        """Keep an upload already checked by ``dms.core.validation.validate_upload`` (which gives its type): the
        original name, type and size in the row, the bytes on disk under the model's random name; saves the row."""
        self.original_name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:200]
        self.content_type = content_type
        self.size = upload.size
        self.file.save(self.original_name, upload, save=False)
        self.save()


class DealerGroup(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("dealer group")
        verbose_name_plural = _("dealer groups")

    def __str__(self) -> str:
        return self.name


class Dealership(models.Model):
    group = models.ForeignKey(
        DealerGroup, on_delete=models.PROTECT, related_name="dealerships", verbose_name=_("dealer group")
    )
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=20, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    order_prefix = models.CharField(_("order number prefix"), max_length=4, default="Ф")
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Requisites (реквизиты), entered once and printed in the header of every customer document (issue 16, item 4).
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    legal_address = models.CharField(_("legal address"), max_length=300, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[requisites.validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[requisites.validate_kpp])
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True, validators=[requisites.validate_ogrn])
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bik = models.CharField(_("BIK"), max_length=9, blank=True, validators=[requisites.validate_bik])
    settlement_account = models.CharField(
        _("settlement account"), max_length=20, blank=True, validators=[requisites.validate_account]
    )
    correspondent_account = models.CharField(
        _("correspondent account"), max_length=20, blank=True, validators=[requisites.validate_account]
    )
    logo = models.ImageField(_("logo"), upload_to="dealership-logos/", blank=True)
    # Issue 14 item 8: every page, export and document shows amounts with this currency.
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="RUB",
        choices=[
            ("RUB", _("Russian rouble")),
            ("CNY", _("Chinese yuan")),
            ("KZT", _("Kazakh tenge")),
            ("BYN", _("Belarusian rouble")),
            ("USD", _("US dollar")),
            ("EUR", _("Euro")),
        ],
    )
    # Russian prices include VAT; documents print the VAT inside the total at this rate (0 = not a VAT payer).
    vat_rate = models.DecimalField(
        _("VAT rate, %"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("99.99"))],
    )

    class Meta:
        verbose_name = _("dealership")
        verbose_name_plural = _("dealerships")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.kpp and len(self.inn) != 10:
            # Only organisations (10-digit INN) have a KPP.
            errors["kpp"] = _("A KPP goes with a 10-digit INN of an organisation.")
        accounts = {"settlement_account": False, "correspondent_account": True}
        for name, correspondent in accounts.items():
            account = getattr(self, name)
            if not account:
                continue
            if not (self.bik.isascii() and self.bik.isdigit() and len(self.bik) == 9):
                errors[name] = _("Enter the bank's BIK to check the account number.")
            elif (
                account.isascii()
                and account.isdigit()
                and len(account) == 20
                and not requisites.account_key_matches(self.bik, account, correspondent=correspondent)
            ):
                errors[name] = _("The account number does not match the BIK: check the digits.")
        if errors:
            raise ValidationError(errors)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class StaffProfile(models.Model):
    """Which dealerships a user works in. Most staff have one; directors may be given several."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    dealerships = models.ManyToManyField(Dealership, related_name="staff", verbose_name=_("dealerships"))
    default_dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, related_name="+", verbose_name=_("default dealership")
    )
    phone = PhoneNumberField(_("phone"), blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} @ {self.default_dealership}"


class DealershipOwned(TimeStamped):
    """Every business record belongs to exactly one dealership (tenant)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="+", verbose_name=_("dealership"))

    class Meta:
        abstract = True


class ContactChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone call")
    # Issue 17 item 3: through the same Twilio API, where a WhatsApp sender is configured (TWILIO_WHATSAPP_FROM).
    WHATSAPP = "whatsapp", _("WhatsApp")


class FirstContactChannel(models.TextChoices):
    # R20: the channel of a new customer's first contact.
    PHONE = "phone", _("Phone")
    OFFICE = "office", _("Office visit")
    EMAIL = "email", _("E-mail")
    WEBSITE = "website", _("Website")


class LeadSource(models.TextChoices):
    # R20: where the customer heard of the company.
    RECOMMENDATION = "recommendation", _("Recommendation")
    ADVERTISING = "advertising", _("Advertising")
    INTERNET = "internet", _("Internet search")
    SOCIAL = "social", _("Social networks")
    REPEAT = "repeat", _("Existing customer")
    OTHER = "other", _("Other")


class Customer(DealershipOwned):
    name = models.CharField(_("name"), max_length=200)
    phone = PhoneNumberField(_("phone"))
    phone_alt = PhoneNumberField(_("second phone"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_channel = models.CharField(
        _("preferred contact channel"), max_length=10, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    first_contact_channel = models.CharField(
        _("first contact channel"), max_length=10, choices=FirstContactChannel.choices, blank=True
    )
    lead_source = models.CharField(_("lead source"), max_length=20, choices=LeadSource.choices, blank=True)
    assigned_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned manager"),
    )
    is_vip = models.BooleanField(_("VIP"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    # Issue 17: the language of the customer's status page and messages; blank = not known (the browser's
    # Accept-Language decides on the page).
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=[(code, name) for code, name in settings.LANGUAGES]
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["dealership", "name"]),
            models.Index(fields=["dealership", "phone"]),
        ]

    def message_language(self) -> str:
        """Issue 17: the language messages to the customer are written in — theirs when stored, else the default
        (Russian); the same as their status page, never the language of the employee who sends them."""
        return (
            self.language if self.language in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE
        )

    def __str__(self) -> str:
        return self.name


class Vehicle(DealershipOwned):
    vin = models.CharField(_("VIN"), max_length=17, validators=[validate_vin])
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=80)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    plate = models.CharField(_("plate"), max_length=20, blank=True)
    mileage = models.PositiveIntegerField(_("mileage, km"), default=0)
    warranty_start = models.DateField(_("warranty start"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    warranty_mileage_limit = models.PositiveIntegerField(_("warranty mileage limit, km"), null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("owner"))

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["make", "model", "vin"]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "vin"], name="vehicle_vin_unique_per_dealership"),
            models.CheckConstraint(condition=models.Q(vin=Upper("vin")), name="vehicle_vin_upper_case"),
        ]
        indexes = [
            models.Index(fields=["dealership", "plate"]),
            # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
            models.Index(fields=["dealership", "make", "model", "vin"], name="vehicle_list_order_idx"),
        ]

    def __str__(self) -> str:
        label = f"{self.make} {self.model}".strip()
        return f"{label} {self.vin}" + (f" ({self.plate})" if self.plate else "")

    def clean(self) -> None:
        self.vin = normalize_vin(self.vin)
        self.plate = (self.plate or "").strip().upper()
        if self.warranty_start and self.warranty_end and self.warranty_end < self.warranty_start:
            raise ValidationError({"warranty_end": _("Warranty end is before warranty start.")})


class CustomerLink(DealershipOwned):
    """A signed link that lets a customer open one of their pages without a login (issue 17).

    The shared building block of every customer-facing surface (status page, remote approval, booking, replies):
    ``dms.core.links`` issues it (``link_issue`` → the token for the URL), resolves a token from a URL
    (``link_resolve``: tampered → refused, past ``expires_at`` → expired, ``revoked_at`` set → revoked) and revokes a
    customer's links (``links_revoke``). The token is ``<id>.<nonce>.<hmac>``: the HMAC (SECRET_KEY) refuses any
    edited token before the database is asked; the nonce ties it to this row. ``purpose`` says which surface accepts
    it (each surface names the purposes it takes); ``subject_id`` is the record it is about when the purpose needs
    one (an appointment for ``appointment_reply``).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="links", verbose_name=_("customer"))
    purpose = models.CharField(_("purpose"), max_length=30, default="status")
    subject_id = models.PositiveBigIntegerField(_("about record"), null=True, blank=True)
    nonce = models.CharField(max_length=16, editable=False)
    # How the link reached the customer (sms, email, web …) and in what (a message's reference): the consent the
    # customer gives through it is recorded with both (R30).
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    sent_with = models.CharField(_("sent with"), max_length=100, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("times opened"), default=0)

    class Meta:
        verbose_name = _("customer link")
        verbose_name_plural = _("customer links")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer"], condition=models.Q(revoked_at__isnull=True), name="customerlink_live_idx")
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.purpose} · {self.expires_at:%Y-%m-%d}"


class AuditAction(models.TextChoices):
    CREATED = "created", _("created")
    UPDATED = "updated", _("updated")
    TRANSITION = "transition", _("status changed")
    DELETED = "deleted", _("deleted")
    ACTION = "action", _("action")


class AuditEntryQuerySet(models.QuerySet):
    """Bulk UPDATE/DELETE would bypass ``AuditEntry.save``/``delete``: refused too."""

    def update(self, **kwargs):
        raise ValidationError(_("Audit entries cannot be changed."))

    def delete(self):
        raise ValidationError(_("Audit entries cannot be deleted."))


class AuditEntry(models.Model):
    """Append-only audit trail: who changed which business record, when and how."""

    objects = AuditEntryQuerySet.as_manager()

    dealership = models.ForeignKey(
        Dealership, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("dealership")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("who")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    object_repr = models.CharField(_("record"), max_length=200)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    # Issue 14 item 8: an entry written by the system stores its text untranslated (the msgid) with the parameters
    # here, and is translated when read — a Chinese reader sees Chinese history of a change made on a Russian screen.
    # Null: ``message`` is a person's own words (a reason, a comment) and is shown as written.
    message_params = models.JSONField(_("message parameters"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"

    @property
    def shown_message(self) -> str:
        """The message in the reader's language (see ``message_params``)."""
        if self.message_params is None or not self.message:
            return self.message
        params = {name: _shown_param(value) for name, value in self.message_params.items()}
        try:
            return gettext(self.message) % params
        except (KeyError, TypeError, ValueError):  # a catalogue whose placeholders differ: the English text
            return self.message % params if params else self.message

    def readable_changes(self) -> list[dict]:
        """Changes with the fields' own labels and choice labels, for people rather than programmers."""
        model = self.content_type.model_class()
        rows = []
        for name, value in (self.changes or {}).items():
            try:
                field = model._meta.get_field(name) if model else None
            except Exception:  # noqa: BLE001 - a field removed since the entry was written
                field = None
            label = (
                str(getattr(field, "verbose_name", name)) if field is not None else str(HISTORY_LABELS.get(name, name))
            )
            choices = dict(field.flatchoices) if field is not None and getattr(field, "choices", None) else {}

            def shown(v, choices=choices, field=field):
                if isinstance(v, bool):
                    return _("yes") if v else _("no")
                if v in (None, ""):
                    return "—"
                return choices.get(v, v) if choices else shown_value(field, v)

            is_pair = isinstance(value, list) and (
                self.action in (AuditAction.UPDATED, AuditAction.TRANSITION)
                # An action changing one of the model's own fields stores [before, after] too (a job given to
                # another technician, issue 18): shown as a change, not as a list.
                or (
                    self.action == AuditAction.ACTION
                    and len(value) == 2
                    and field is not None
                    and not isinstance(field, models.JSONField)
                )
            )
            rows.append(
                {
                    "label": label[:1].upper() + label[1:],
                    "old": shown(value[0]) if is_pair else None,
                    "new": shown(value[1]) if is_pair else shown(value),
                    "is_change": is_pair,
                }
            )
        return rows

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit entries cannot be deleted."))


# Issue 14 item 8: names in an entry's ``changes`` that are not fields of the model (a job added, its hours …) are
# shown with these labels in the reader's language, not as the raw key.
HISTORY_LABELS = {
    "job": pgettext_lazy("history field", "job"),
    "hours": pgettext_lazy("history field", "hours"),
    "extra": pgettext_lazy("history field", "extra"),
    "part": pgettext_lazy("history field", "part"),
    "quantity": pgettext_lazy("history field", "quantity"),
    "consent": pgettext_lazy("history field", "consent"),
    "by": pgettext_lazy("history field", "by"),
    "revision": pgettext_lazy("history field", "revision"),
    "channel": pgettext_lazy("history field", "channel"),
    "reserved": pgettext_lazy("history field", "reserved"),
    "ordered": pgettext_lazy("history field", "ordered"),
    "customer_order": pgettext_lazy("history field", "customer order"),
    "thresholds": pgettext_lazy("history field", "thresholds"),
    "abc": pgettext_lazy("history field", "abc"),
    "event_types": pgettext_lazy("history field", "event types"),
    "target_url": pgettext_lazy("history field", "target url"),
    # Issue 18: a job's clock started or stopped (recorded on its work order).
    "started_at": pgettext_lazy("history field", "started"),
    "ended_at": pgettext_lazy("history field", "stopped"),
}


def _shown_param(value: Any) -> Any:
    """A stored parameter as the reader sees it: dates and times in their format and time zone, labels in their
    language, money with its currency (see ``events.text``)."""
    if isinstance(value, dict) and "msgid" in value:
        context = value.get("context")
        return pgettext(context, value["msgid"]) if context else gettext(value["msgid"])
    if isinstance(value, dict) and "money" in value:
        return format_money(value["money"])
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        return shown_value(None, value)
    return value


_MONEY_FIELD = re.compile(r"(price|cost|amount|total|_value|(^|_)rate)$")
_NOT_MONEY_FIELDS = {"vat_rate"}


def is_money_field(field: models.Field) -> bool:
    """A DecimalField holding money (its name says so: price, cost, amount, total, value, an hourly rate)."""
    return field.name not in _NOT_MONEY_FIELDS and bool(_MONEY_FIELD.search(field.name))


def shown_value(field: models.Field | None, value: Any) -> Any:
    """An audited value (stored as JSON: dates and Decimals as text) in the reader's language and time zone."""
    if isinstance(value, str) and not isinstance(field, models.CharField | models.TextField):
        moment = parse_datetime(value.replace(" ", "T", 1)) if len(value) > 10 else None
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return date_format(moment, "SHORT_DATETIME_FORMAT")
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return date_format(day, "SHORT_DATE_FORMAT")
        if isinstance(field, models.DecimalField) and is_money_field(field):
            return format_money(value)
        if isinstance(field, models.DecimalField):
            try:
                return number_format(Decimal(value), field.decimal_places, force_grouping=True)
            except (ArithmeticError, ValueError):
                return value
    return value


# -- outbound webhooks (issue 16 item 5) ---------------------------------------------------------------------------
class WebhookEventType(models.TextChoices):
    ORDER_STATUS_CHANGED = "order.status_changed", _("Customer order: status changed")
    ORDER_PARTS_RECEIVED = "order.parts_received", _("Customer order: parts received")
    CALL_EVENT_CREATED = "call_event.created", _("Call event created")
    CALL_EVENT_COMPLETED = "call_event.completed", _("Call event completed")
    APPOINTMENT_CREATED = "appointment.created", _("Appointment created")
    APPOINTMENT_CONFIRMED = "appointment.confirmed", _("Appointment confirmed")
    APPOINTMENT_CANCELLED = "appointment.cancelled", _("Appointment cancelled")
    WORK_ORDER_STATUS_CHANGED = "work_order.status_changed", _("Work order: status changed")
    CLAIM_STATUS_CHANGED = "claim.status_changed", _("Warranty or goodwill claim: status changed")
    COMPLAINT_STATUS_CHANGED = "complaint.status_changed", _("Complaint: status changed")


class WebhookSubscription(DealershipOwned):
    """An integrator's endpoint: which events of the dealership are POSTed there, signed with ``secret``."""

    target_url = models.URLField(_("target URL"), max_length=500)
    # Kept readable: the HMAC needs it. Shown once when generated (created or rotated), never listed.
    secret = models.CharField(_("secret"), max_length=100, editable=False)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("enabled"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0, editable=False)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("reason disabled"), max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["dealership", "id"]

    def __str__(self) -> str:
        return self.description or self.target_url

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in (self.event_types or [])


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    DELIVERED = "delivered", pgettext_lazy("webhook delivery", "delivered")
    FAILED = "failed", pgettext_lazy("webhook delivery", "failed")


class WebhookDelivery(DealershipOwned):
    """The outbox: one row per event and subscription, written in the transaction of the change it reports."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    delivery_id = models.UUIDField(_("delivery id"), unique=True, editable=False)
    event_id = models.UUIDField(_("event id"), editable=False)
    event_type = models.CharField(_("event type"), max_length=50, choices=WebhookEventType.choices)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=20, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(pgettext_lazy("webhook delivery", "attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # When its task was last handed to the broker: the minute tick re-publishes only rows not handed over lately,
    # so a backlog behind a slow endpoint does not pile up duplicate tasks.
    published_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: its response code (none on a network error), how long it took, and when."""

    DEALERSHIP_PATH = "delivery__dealership"

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    manual = models.BooleanField(_("redelivered by hand"), default=False)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
