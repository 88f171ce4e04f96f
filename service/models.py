"""Service: advisors' appointment book, preparation, loaners, reception and work orders (seeds 001, 003, 004).

Rules: R15-R19 (appointments, preparation, loaners, confirmations), R25 (reception interview), R30 (extra work
needs the customer's consent, the work order is revised), R31 (self-check, quality check, rework, signed delivery).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from phonenumber_field.modelfields import PhoneNumberField

from dms.core.models import DealershipOwned, StoredFile, random_stored_name

from .embedding import validate_embed_origins

SLOT_MINUTES = 15  # R16: the appointment book's grid
MAX_CUSTOMERS_PER_HOUR = 3  # R16: at most 3 customers per hour per advisor
SLOT = datetime.timedelta(minutes=SLOT_MINUTES)


class ServiceSettings(DealershipOwned):
    """Per-dealership settings of the service department."""

    repeat_visit_days = models.PositiveSmallIntegerField(
        _("repeat visit period, days"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("A visit for the same reason within this period is flagged as a repeat visit (R15)."),
    )
    labour_rate = models.DecimalField(
        _("labour rate per standard hour"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("2500.00"),
        validators=[MinValueValidator(0)],
    )
    warranty_ending_days = models.PositiveSmallIntegerField(
        _("'warranty ending soon' window, days"), default=90, help_text=_("R25 interview prompt.")
    )
    # Issue 17 item 5: service falls due this long after the last visit, or after this distance (estimated from the
    # mileage read at reception); 0 turns the rule off.
    reminder_months = models.PositiveSmallIntegerField(
        _("service interval, months"),
        default=12,
        validators=[MaxValueValidator(60)],
        help_text=_("A service reminder when this many months have passed since the last visit (0: never)."),
    )
    reminder_km = models.PositiveIntegerField(
        _("service interval, km"),
        default=15000,
        validators=[MaxValueValidator(100000)],
        help_text=_("A service reminder when the estimated mileage passes the last visit's by this much (0: never)."),
    )
    # Issue 17 item 5: work the customer declined (R30) becomes the advisor's call this many days after the answer.
    declined_follow_up_days = models.PositiveSmallIntegerField(
        _("call about declined work after, days"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("The advisor calls about recommended work the customer declined this many days later (0: never)."),
    )

    class OverloadPolicy(models.TextChoices):
        # Issue 18 item 3: what the appointment book does with a booking beyond the workshop's hours.
        WARN = "warn", _("warn and book")
        REFUSE = "refuse", _("refuse the booking")

    workshop_overload = models.CharField(
        _("booking beyond the workshop's load"),
        max_length=10,
        choices=OverloadPolicy.choices,
        default=OverloadPolicy.WARN,
        help_text=_("Seed 001: appointments are booked taking the workshop's load into account."),
    )
    # Issue 17 item 4: the public booking page of the dealership (off until the dealership turns it on).
    online_booking = models.BooleanField(
        _("online booking"), default=False, help_text=_("Customers may book visits on the public booking page.")
    )
    # Issues 17 item 4 and 18 item 3: an online booking's reason is the customer's words, not a costed job, so the
    # workshop load counts it at this many hours until the advisor plans the visit (0 books it without counting).
    online_booking_hours = models.DecimalField(
        _("labour counted for an online booking, hours"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(0), MaxValueValidator(24)],
        help_text=_("Counted in the workshop's load until the advisor plans the visit's jobs."),
    )
    booking_embed_origins = models.TextField(
        _("sites that may embed the booking page"),
        blank=True,
        validators=[validate_embed_origins],
        help_text=_("One origin per line, e.g. https://dealer.example.ru; empty: the page cannot be embedded."),
    )

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")
        constraints = [models.UniqueConstraint(fields=["dealership"], name="service_settings_one_per_dealership")]

    def __str__(self) -> str:
        return str(_("Service settings"))


class WorkingHours(DealershipOwned):
    """An advisor's working time on a weekday (0 = Monday), in the dealership's time zone."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("advisor")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["advisor_id", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["advisor", "weekday"], name="working_hours_one_per_weekday"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="working_hours_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


class DayOff(DealershipOwned):
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="days_off", verbose_name=_("advisor")
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["advisor", "date"], name="day_off_unique")]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.reason}".strip()


class RecallCampaign(DealershipOwned):
    """A manufacturer's recall (отзывная кампания); VINs covered by a range and/or a list (R15)."""

    code = models.CharField(_("code"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    vin_from = models.CharField(_("VIN range from"), max_length=17, blank=True)
    vin_to = models.CharField(_("VIN range to"), max_length=17, blank=True)

    class Meta:
        verbose_name = _("recall campaign")
        verbose_name_plural = _("recall campaigns")
        ordering = ["-is_open", "code"]
        constraints = [models.UniqueConstraint(fields=["dealership", "code"], name="recall_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class RecallCampaignVin(models.Model):
    campaign = models.ForeignKey(RecallCampaign, on_delete=models.CASCADE, related_name="vins")
    vin = models.CharField(_("VIN"), max_length=17, db_index=True)

    class Meta:
        verbose_name = _("recall campaign VIN")
        verbose_name_plural = _("recall campaign VINs")
        constraints = [models.UniqueConstraint(fields=["campaign", "vin"], name="recall_vin_unique")]

    def __str__(self) -> str:
        return self.vin


class ArrivalArea(models.TextChoices):
    # Seed 001 step 5C: участок прибытия
    MECHANICAL = "mechanical", _("Mechanical workshop")
    EXPRESS = "express", _("Express service")
    BODY = "body", _("Body shop")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Записан")
    CONFIRMED = "confirmed", _("Подтверждена")
    RESCHEDULE = "reschedule", _("Просит перенести")
    ARRIVED = "arrived", _("Прибыл")
    CANCELLED = "cancelled", _("Отменена")
    NO_SHOW = "no_show", _("Не приехал")


ACTIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.RESCHEDULE,
    AppointmentStatus.ARRIVED,
)


class PreparationStage(models.TextChoices):
    NONE = "", _("not due yet")
    DUE_48H = "48h", _("48 hours ahead")
    DUE_24H = "24h", _("24 hours ahead")


class Appointment(ConcurrentTransitionMixin, DealershipOwned):
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="service_appointments",
        verbose_name=_("advisor"),
    )
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="service_appointments", verbose_name=_("customer")
    )
    vehicle = models.ForeignKey(
        "core.Vehicle", on_delete=models.PROTECT, related_name="service_appointments", verbose_name=_("vehicle")
    )
    reason = models.TextField(_("reason for the visit"))
    area = models.CharField(_("area of arrival"), max_length=12, choices=ArrivalArea.choices)
    starts_at = models.DateTimeField(_("arrival"), db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(_("duration, minutes"), default=SLOT_MINUTES)
    ends_at = models.DateTimeField(_("reception ends"))
    handover_at = models.DateTimeField(_("hand-over"))
    status = FSMField(
        _("status"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED, protected=True
    )
    needs_loaner = models.BooleanField(_("needs a loaner car"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    # R15: repeat visit for the same problem; recalls open for the VIN at booking time.
    is_repeat_visit = models.BooleanField(_("repeat visit"), default=False)
    repeat_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("repeat of")
    )
    recall_campaigns = models.ManyToManyField(
        RecallCampaign, blank=True, related_name="appointments", verbose_name=_("open recall campaigns")
    )
    # R17: preparation 48/24 hours ahead.
    preparation_stage = models.CharField(
        _("preparation due"), max_length=3, choices=PreparationStage.choices, blank=True, default=""
    )
    prepared_at = models.DateTimeField(_("prepared"), null=True, blank=True)
    parts_warning_sent_at = models.DateTimeField(_("customer warned about missing parts"), null=True, blank=True)
    # R19: confirmation 24 hours ahead.
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # R17: missing parts ordered at preparation (status «Неразмещён» at first).
    customer_order = models.ForeignKey(
        "orders.CustomerOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="service_appointments",
        verbose_name=_("customer order"),
    )  # fmt: skip
    # Issue 18 item 3: the workshop hours the visit will take (until its work order carries the jobs) and the kind of
    # job they need; the load planner counts them against the technicians present that day.
    planned_hours = models.DecimalField(
        _("planned labour, hours"), max_digits=6, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    planned_kind = models.ForeignKey(
        "JobKind", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("planned kind of job"),
    )  # fmt: skip
    # Issue 17 item 4: booked by the customer on the public booking page (shown in the appointment book).
    booked_online = models.BooleanField(_("booked online"), default=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["dealership", "advisor", "starts_at"]),
            # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
            models.Index(fields=["dealership", "starts_at", "id"], name="appointment_list_order_idx"),
        ]
        permissions = [("prepare_appointment", _("Can prepare appointments (reserve and order parts)"))]

    def __str__(self) -> str:
        return f"{self.starts_at:%d.%m.%Y %H:%M} {self.customer}"

    def get_absolute_url(self) -> str:
        return reverse("service:appointment_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_APPOINTMENT_STATUSES

    @transition(field=status, source=[AppointmentStatus.BOOKED, AppointmentStatus.RESCHEDULE], target="confirmed")
    def confirm(self):
        pass

    @transition(field=status, source=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED], target="reschedule")
    def ask_reschedule(self):
        pass

    @transition(
        field=status,
        source=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE],
        target="booked",
    )
    def rebook(self):
        pass

    @transition(
        field=status,
        source=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE],
        target="arrived",
    )
    def arrive(self):
        pass

    @transition(
        field=status,
        source=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE],
        target="cancelled",
    )
    def cancel(self):
        pass

    @transition(
        field=status,
        source=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE],
        target="no_show",
    )
    def mark_no_show(self):
        pass


class AppointmentSlot(DealershipOwned):
    """One 15-minute cell of an advisor's book. The unique constraint makes double booking impossible (R16)."""

    class Kind(models.TextChoices):
        RECEPTION = "reception", _("reception")
        HANDOVER = "handover", _("hand-over")

    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("slot"))
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="slots")
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        verbose_name = _("appointment slot")
        verbose_name_plural = _("appointment slots")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["advisor", "starts_at"],
                name="appointment_slot_never_double_booked",
                violation_error_message=_("This slot is already booked."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%d.%m.%Y %H:%M} {self.kind}"


class ConfirmationStatus(models.TextChoices):
    SENT = "sent", pgettext_lazy("delivery status", "sent")
    CALL_DUE = "call_due", _("call due")
    CONFIRMED = "confirmed", _("confirmed")
    RESCHEDULE = "reschedule", _("reschedule requested")
    UNREACHABLE = "unreachable", _("not reached")
    FAILED = "failed", _("could not be sent")


class AppointmentConfirmation(DealershipOwned):
    """R19: the 24-hour confirmation and, for phone-channel customers, the advisor's call task."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="confirmations")
    channel = models.CharField(_("channel"), max_length=10)
    status = models.CharField(_("status"), max_length=12, choices=ConfirmationStatus.choices)
    sent_at = models.DateTimeField(_("sent / due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("call assigned to"),
    )  # fmt: skip
    result_note = models.CharField(_("call result"), max_length=300, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("appointment confirmation")
        verbose_name_plural = _("appointment confirmations")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["appointment"], name="one_confirmation_per_appointment"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment} {self.get_status_display()}"


class Loaner(DealershipOwned):
    """A car of the dealership's loaner fleet (подменный автомобиль, R18)."""

    plate = models.CharField(_("plate"), max_length=20)
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=80)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    is_active = models.BooleanField(_("in service"), default=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("loaner car")
        verbose_name_plural = _("loaner cars")
        ordering = ["make", "model", "plate"]
        constraints = [models.UniqueConstraint(fields=["dealership", "plate"], name="loaner_plate_unique")]

    def __str__(self) -> str:
        return f"{self.make} {self.model} {self.plate}"


class LoanerReservation(DealershipOwned):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("reserved")
        CANCELLED = "cancelled", pgettext_lazy("loaner reservation", "cancelled")

    loaner = models.ForeignKey(Loaner, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("loaner"))
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="loaner_reservations", verbose_name=_("appointment")
    )
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    driver_licence = models.CharField(_("driver's licence"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("loaner reservation")
        verbose_name_plural = _("loaner reservations")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="loaner_dates_order"),
            # R18 (issue 14 item 2): one appointment has at most one active loaner; the service says so first, this
            # partial unique index is the final word when two advisors reserve at the same moment.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=models.Q(status="reserved"),
                name="loaner_one_active_per_appointment",
                violation_error_message=_("This appointment already has a loaner car reserved."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loaner} {self.starts_on:%d.%m}-{self.ends_on:%d.%m}"


class LoanerDay(models.Model):
    """One loaner on one day; the unique constraint makes overlapping reservations impossible (R18)."""

    loaner = models.ForeignKey(Loaner, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reservation = models.ForeignKey(LoanerReservation, on_delete=models.CASCADE, related_name="days")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["loaner", "day"], name="loaner_never_double_booked")]

    def __str__(self) -> str:
        return f"{self.loaner_id} {self.day}"


class WorkOrderStatus(models.TextChoices):
    OPENED = "opened", _("Открыт")
    DIAGNOSIS = "diagnosis", _("Диагностика")
    AWAITING_APPROVAL = "awaiting_approval", _("Ожидает согласования")
    IN_REPAIR = "in_repair", _("В ремонте")
    QUALITY_CHECK = "quality_check", _("Контроль качества")
    READY = "ready", _("Готов к выдаче")
    DELIVERED = "delivered", pgettext_lazy("work order", "Выдан")


class FuelLevel(models.TextChoices):
    EMPTY = "0", _("reserve")
    QUARTER = "1/4", "1/4"
    HALF = "1/2", "1/2"
    THREE_QUARTERS = "3/4", "3/4"
    FULL = "1", _("full")


class WorkOrder(ConcurrentTransitionMixin, DealershipOwned):
    """Заказ-наряд."""

    number = models.CharField(_("number"), max_length=20, blank=True)
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="work_order",
        verbose_name=_("appointment"),
    )  # fmt: skip
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    vehicle = models.ForeignKey(
        "core.Vehicle", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("vehicle")
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("advisor")
    )
    status = FSMField(
        _("status"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.OPENED, protected=True
    )
    complaint = models.TextField(_("reason / request"), blank=True)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    # Reception (seed 004 "车辆接待", R25).
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    mileage_in = models.PositiveIntegerField(_("mileage at arrival, km"), null=True, blank=True)
    fuel_level = models.CharField(_("fuel level"), max_length=3, choices=FuelLevel.choices, blank=True)
    damage_notes = models.TextField(_("visible damage"), blank=True)
    customer_words = models.TextField(_("customer's complaint in their words"), blank=True)
    odometer_rollback = models.BooleanField(_("possible odometer rollback"), default=False)
    interview_reasons = models.JSONField(_("interview reasons"), default=list, blank=True)
    interview_done_at = models.DateTimeField(_("interviewed"), null=True, blank=True)
    interview_notes = models.TextField(_("interview notes"), blank=True)
    on_waiting_lot = models.BooleanField(_("on the lot of cars waiting for parts"), default=False)
    customer_order = models.ForeignKey(
        "orders.CustomerOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="work_orders",
        verbose_name=_("customer order"),
    )  # fmt: skip
    # R31: technician self-check; delivery signed by the customer.
    technician = models.CharField(_("technician"), max_length=120, blank=True)
    self_check_at = models.DateTimeField(_("self-check"), null=True, blank=True)
    self_check_notes = models.TextField(_("self-check notes"), blank=True)
    rework_count = models.PositiveSmallIntegerField(_("reworks"), default=0)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    signed_by = models.CharField(_("signed by (customer)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "number"], condition=~models.Q(number=""), name="workorder_number_unique"
            ),
            # Issue 15 item 2: the target of the (dealership, work order) foreign keys parts' requisitions and
            # ledger rows hold, so a requisition never names another dealership's work order.
            models.UniqueConstraint(fields=["dealership", "id"], name="workorder_dealership_id_unique"),
        ]
        indexes = [
            models.Index(fields=["dealership", "status"]),
            # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
            models.Index(fields=["dealership", "-created_at", "-id"], name="workorder_list_order_idx"),
        ]
        permissions = [
            ("qc_workorder", _("Can perform the quality check of work orders")),
            ("view_workshop_board", _("Can view the workshop board")),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("service:workorder_detail", args=[self.pk])

    # --- conditions (side-effect free) ---
    def has_pending_consent(self) -> bool:
        return self.jobs.filter(consent=WorkOrderJob.Consent.PENDING).exists()

    def has_unfinished_jobs(self) -> bool:
        return self.jobs.filter(consent__in=WorkOrderJob.DOABLE, done_at__isnull=True).exists()

    def has_jobs(self) -> bool:
        return self.jobs.filter(consent__in=WorkOrderJob.DOABLE).exists()

    def no_pending_consent(self) -> bool:
        return not self.has_pending_consent()

    def self_checked(self) -> bool:
        return self.self_check_at is not None and not self.has_unfinished_jobs()

    # --- transitions ---
    @transition(field=status, source=WorkOrderStatus.OPENED, target="diagnosis", permission="service.change_workorder")
    def start_diagnosis(self):
        pass

    @transition(
        field=status,
        source=[WorkOrderStatus.DIAGNOSIS, WorkOrderStatus.IN_REPAIR],
        target="awaiting_approval",
        permission="service.change_workorder",
    )
    def request_approval(self):
        pass

    @transition(
        field=status,
        source=[WorkOrderStatus.DIAGNOSIS, WorkOrderStatus.AWAITING_APPROVAL],
        target="in_repair",
        conditions=[no_pending_consent, has_jobs],
        permission="service.change_workorder",
    )
    def start_repair(self):
        pass

    @transition(
        field=status,
        source=WorkOrderStatus.IN_REPAIR,
        target="quality_check",
        conditions=[no_pending_consent, self_checked],
        permission="service.change_workorder",
    )
    def submit_for_quality_check(self):
        pass

    @transition(field=status, source=WorkOrderStatus.QUALITY_CHECK, target="ready", permission="service.qc_workorder")
    def pass_quality_check(self):
        pass

    @transition(
        field=status, source=WorkOrderStatus.QUALITY_CHECK, target="in_repair", permission="service.qc_workorder"
    )
    def fail_quality_check(self):
        pass

    @transition(field=status, source=WorkOrderStatus.READY, target="delivered", permission="service.change_workorder")
    def deliver(self):
        pass

    # --- money ---
    def doable_jobs(self):
        return [job for job in self.jobs.all() if job.consent in WorkOrderJob.DOABLE]

    @property
    def labour_total(self) -> Decimal:
        return sum((job.labour_amount for job in self.doable_jobs()), Decimal("0"))

    @property
    def parts_total(self) -> Decimal:
        return sum((job.parts_amount for job in self.doable_jobs()), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.labour_total + self.parts_total


class JobKind(models.Model):
    """A kind of job (brakes, engine, bodywork…): its quality-check checklist (R31, issue 14 item 6)."""

    name = models.CharField(_("name"), max_length=120, unique=True)

    # One catalogue for every dealership, edited by superusers only (dms.core.references scopes nothing here).
    SHARED_BY_ALL_DEALERSHIPS = True

    class Meta:
        verbose_name = _("kind of job")
        verbose_name_plural = _("kinds of job")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QualityChecklistItem(models.Model):
    """One point the inspector ticks when checking a job of its kind (R31)."""

    kind = models.ForeignKey(JobKind, on_delete=models.CASCADE, related_name="checklist", verbose_name=_("kind of job"))
    text = models.CharField(_("checklist item"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["kind", "position", "id"]

    def __str__(self) -> str:
        return self.text


class WorkOrderJob(models.Model):
    # Issue 12 item 6: ids of lines resolve in their parent's dealership (dms.core.references).
    DEALERSHIP_PATH = "work_order__dealership"

    class Consent(models.TextChoices):
        # Jobs agreed at reception need no separate consent; extra work found later does (R30).
        INCLUDED = "included", _("in the original order")
        PENDING = "pending", _("awaiting the customer's consent")
        AGREED = "agreed", _("agreed by the customer")
        DECLINED = "declined", _("declined by the customer")

    DOABLE = (Consent.INCLUDED, Consent.AGREED)

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="jobs")
    description = models.CharField(_("job"), max_length=300)
    standard_hours = models.DecimalField(
        _("standard hours"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    rate = models.DecimalField(_("rate per hour"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    is_important = models.BooleanField(
        _("important job"), default=False, help_text=_("Important jobs get a full quality inspection (R31).")
    )
    is_extra = models.BooleanField(_("extra work"), default=False)
    consent = models.CharField(_("consent"), max_length=10, choices=Consent.choices, default=Consent.INCLUDED)
    consent_by = models.CharField(_("consent given by"), max_length=200, blank=True)
    consent_channel = models.CharField(_("consent channel"), max_length=40, blank=True)
    consent_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    kind = models.ForeignKey(
        JobKind, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("kind of job")
    )
    # Issue 18 item 2: the technician who does the job (a technician of the work order's dealership with the job's
    # skill — service/services/technicians.py checks it) and when they were given it.
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_jobs",
        verbose_name=_("technician"),
    )  # fmt: skip
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)

    class QualityStatus(models.TextChoices):
        # R31 / issue 14 item 6: each job has its own quality result; a passed job stays passed through rework.
        WAITING = "", _("not checked yet")
        PASSED = "passed", _("passed the quality check")
        REWORK = "rework", _("sent back for rework")

    quality_status = models.CharField(
        _("quality check"), max_length=10, choices=QualityStatus.choices, default=QualityStatus.WAITING, blank=True
    )
    added_in_revision = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["id"]
        constraints = [
            # Issue 15 item 2: the target of the (work order, job) foreign keys of parts' requisitions and ledger
            # rows, so the job named is always one of the work order named.
            models.UniqueConstraint(fields=["work_order", "id"], name="workorderjob_work_order_id_unique"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def labour_amount(self) -> Decimal:
        return (self.standard_hours * self.rate).quantize(Decimal("0.01"))

    @property
    def parts_amount(self) -> Decimal:
        return sum((line.amount for line in self.parts.all()), Decimal("0"))

    @property
    def needs_full_inspection(self) -> bool:
        return self.is_important


class WorkOrderPart(models.Model):
    job = models.ForeignKey(WorkOrderJob, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey("parts.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    # R17: what preparation found: reserved from stock, ordered from the supplier (customer order).
    reserved_quantity = models.DecimalField(_("reserved"), max_digits=10, decimal_places=2, default=Decimal("0"))
    ordered_quantity = models.DecimalField(_("ordered"), max_digits=10, decimal_places=2, default=Decimal("0"))
    reservation_ref = models.CharField(_("reservation"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("part line")
        verbose_name_plural = _("part lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.price).quantize(Decimal("0.01"))


class WorkOrderRevision(models.Model):
    """R30: the work order as agreed with the customer, kept each time it is revised."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveSmallIntegerField(_("revision"))
    reason = models.CharField(_("reason"), max_length=300)
    content = models.JSONField(_("content"), default=dict)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("work order revision")
        verbose_name_plural = _("work order revisions")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["work_order", "number"], name="workorder_revision_unique")]

    def __str__(self) -> str:
        return f"{self.work_order} rev. {self.number}"


class QualityCheck(models.Model):
    """R31: the inspector's check; a failed one sends the work order back for rework."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="quality_checks")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField(_("passed"))
    full_inspection = models.BooleanField(_("full inspection"), default=False)
    checked_jobs = models.ManyToManyField(WorkOrderJob, blank=True, related_name="+")
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality check")
        verbose_name_plural = _("quality checks")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.work_order} {'OK' if self.passed else 'rework'}"


class QualityJobResult(models.Model):
    """R31 / issue 14 item 6: the inspector's result for ONE job: passed or failed, the comment, ticked items."""

    quality_check = models.ForeignKey(QualityCheck, on_delete=models.CASCADE, related_name="results")
    job = models.ForeignKey(WorkOrderJob, on_delete=models.CASCADE, related_name="quality_results")
    passed = models.BooleanField(_("passed"))
    comment = models.TextField(_("comment"), blank=True)
    ticked_items = models.ManyToManyField(QualityChecklistItem, blank=True, related_name="+")

    class Meta:
        verbose_name = _("job quality result")
        verbose_name_plural = _("job quality results")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["quality_check", "job"], name="quality_result_one_per_job")]

    def __str__(self) -> str:
        return f"{self.job} {'OK' if self.passed else 'rework'}"


def quality_photo_path(instance, filename: str) -> str:
    return random_stored_name("quality", filename)


class QualityPhoto(StoredFile):
    """A photo of a job's quality result; served only through a permission-checked view, never a public URL."""

    DEALERSHIP_PATH = "result__job__work_order__dealership"

    result = models.ForeignKey(QualityJobResult, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=quality_photo_path, max_length=200)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality check photo")
        verbose_name_plural = _("quality check photos")
        ordering = ["id"]

    def get_absolute_url(self) -> str:
        return reverse("service:quality_photo", args=[self.pk])


class OdometerRollbackReport(DealershipOwned):
    """A reading lower than the vehicle's last known mileage; the warranty engineer is notified (claims reads it)."""

    vehicle = models.ForeignKey("core.Vehicle", on_delete=models.PROTECT, related_name="+", verbose_name=_("vehicle"))
    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="rollback_reports")
    recorded_mileage = models.PositiveIntegerField(_("recorded mileage, km"))
    previous_mileage = models.PositiveIntegerField(_("last known mileage, km"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notified_at = models.DateTimeField(_("warranty engineer notified"), null=True, blank=True)

    class Meta:
        verbose_name = _("odometer rollback report")
        verbose_name_plural = _("odometer rollback reports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.vehicle.vin}: {self.recorded_mileage} < {self.previous_mileage}"


class CalendarFeedToken(models.Model):
    """The secret in an advisor's iCalendar feed URL (issue 12 item 7): it expires, and issuing a new one replaces
    it at once — the feed is read without a login, so a leaked link must be revocable."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed_token", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=64, unique=True)
    created_at = models.DateTimeField(pgettext_lazy("calendar feed link", "issued"))
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("calendar feed link")
        verbose_name_plural = _("calendar feed links")

    def __str__(self) -> str:
        return f"{self.user} → {self.expires_at:%Y-%m-%d}"


class CertificationLevel(models.IntegerChoices):
    # Issue 18 item 1: the technician's grade (ступень сертификации производителя).
    TRAINEE = 1, _("trainee")
    TECHNICIAN = 2, _("certified technician")
    SENIOR = 3, _("senior technician")
    MASTER = 4, _("master technician")


class TechnicianProfile(DealershipOwned):
    """A user who repairs cars in a dealership's workshop (issue 18 item 1): skills, grade; hours and absences below."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician_profiles", verbose_name=_("user")
    )
    skills = models.ManyToManyField(JobKind, blank=True, related_name="technicians", verbose_name=_("skills"))
    certification_level = models.PositiveSmallIntegerField(
        _("certification level"), choices=CertificationLevel.choices, default=CertificationLevel.TECHNICIAN
    )
    is_active = models.BooleanField(_("works in the workshop"), default=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["user__last_name", "user__first_name", "id"]
        constraints = [models.UniqueConstraint(fields=["dealership", "user"], name="technician_one_per_dealership")]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def get_absolute_url(self) -> str:
        return reverse("service:technician_detail", args=[self.pk])


class TechnicianHours(DealershipOwned):
    """A technician's working time on a weekday (0 = Monday), in the dealership's time zone; no row = day off."""

    technician = models.ForeignKey(
        TechnicianProfile, on_delete=models.CASCADE, related_name="hours", verbose_name=_("technician")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WorkingHours.Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    break_minutes = models.PositiveSmallIntegerField(
        _("break, minutes"), default=60, validators=[MaxValueValidator(240)]
    )

    class Meta:
        verbose_name = _("technician's working hours")
        verbose_name_plural = _("technicians' working hours")
        ordering = ["technician_id", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["technician", "weekday"], name="technician_hours_one_per_weekday"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="technician_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"

    @property
    def hours(self) -> Decimal:
        start = datetime.datetime.combine(datetime.date.min, self.starts_at)
        end = datetime.datetime.combine(datetime.date.min, self.ends_at)
        minutes = max(int((end - start).total_seconds() // 60) - self.break_minutes, 0)
        return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


class TechnicianAbsence(DealershipOwned):
    """Days a technician is not in the workshop (day off, vacation, sick leave, training), both ends included."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("day off")
        VACATION = "vacation", _("vacation")
        SICK = "sick", _("sick leave")
        TRAINING = "training", _("training")

    technician = models.ForeignKey(
        TechnicianProfile, on_delete=models.CASCADE, related_name="absences", verbose_name=_("technician")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DAY_OFF)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("technician's absence")
        verbose_name_plural = _("technicians' absences")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="technician_absence_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_on:%d.%m.%Y}-{self.ends_on:%d.%m.%Y}"


class JobClock(DealershipOwned):
    """One clocked interval of a technician on a job (issue 18 item 2). An open interval has no end; a technician
    has at most one open interval at a time (the partial unique index is the final word in a race)."""

    job = models.ForeignKey(WorkOrderJob, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("job"))
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="job_clocks", verbose_name=_("technician")
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("clocked interval")
        verbose_name_plural = _("clocked intervals")
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["technician", "started_at"])]
        permissions = [("clock_job", _("Can clock own jobs (start, pause, finish)"))]
        constraints = [
            models.UniqueConstraint(
                fields=["technician"],
                condition=models.Q(ended_at__isnull=True),
                name="job_clock_one_open_per_technician",
                violation_error_message=_("This technician is already clocked on a job."),
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="job_clock_order",
            ),
        ]

    def __str__(self) -> str:
        end = f"{self.ended_at:%H:%M}" if self.ended_at else "…"
        return f"{self.job} {self.started_at:%d.%m %H:%M}-{end}"

    @property
    def hours(self) -> Decimal | None:
        if self.ended_at is None:
            return None
        return (Decimal((self.ended_at - self.started_at).total_seconds()) / 3600).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------------------------------
# Issue 17: inspection findings sent to the customer for remote approval (R30)
# --------------------------------------------------------------------------------------------------------------
class FindingColour(models.TextChoices):
    GREEN = "green", _("Зелёный: в порядке")
    AMBER = "amber", _("Жёлтый: скоро потребуется")
    RED = "red", _("Красный: требуется сейчас")


class InspectionFinding(models.Model):
    """What the technician found on one inspection item: colour, comment, photos and the price of the fix.

    Amber and red findings with a price are sent to the customer (``finding_send``): each becomes an extra job of the
    work order awaiting consent (R30), answered on the status page; the answer revises the work order through
    ``workorder_consent_record``. Declined findings stay on the vehicle's card.
    """

    DEALERSHIP_PATH = "work_order__dealership"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="findings")
    item = models.CharField(_("inspection item"), max_length=200)
    colour = models.CharField(_("colour"), max_length=10, choices=FindingColour.choices)
    comment = models.TextField(_("comment"), blank=True)
    price = models.DecimalField(
        _("price of the fix"), max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    job = models.OneToOneField(
        WorkOrderJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="finding", verbose_name=_("job")
    )
    sent_at = models.DateTimeField(_("sent to the customer"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection finding")
        verbose_name_plural = _("inspection findings")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.item} ({self.get_colour_display()})"

    @property
    def needs_decision(self) -> bool:
        return self.colour != FindingColour.GREEN and self.price > 0

    @property
    def consent(self) -> str:
        return self.job.consent if self.job_id else ""


def finding_photo_path(instance, filename: str) -> str:
    return random_stored_name("findings", filename)


class FindingPhoto(StoredFile):
    """A photo of a finding (a tablet's camera); served to staff by permission and to the customer by their link."""

    DEALERSHIP_PATH = "finding__work_order__dealership"

    finding = models.ForeignKey(InspectionFinding, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=finding_photo_path, max_length=200)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("finding photo")
        verbose_name_plural = _("finding photos")
        ordering = ["id"]


class FindingConsent(models.Model):
    """R30: the customer's answer on one finding — when, through which channel and which link, from which address."""

    DEALERSHIP_PATH = "finding__work_order__dealership"

    finding = models.ForeignKey(InspectionFinding, on_delete=models.PROTECT, related_name="consents")
    agreed = models.BooleanField(_("agreed"))
    price = models.DecimalField(_("price shown"), max_digits=12, decimal_places=2)
    channel = models.CharField(_("channel"), max_length=20)
    link = models.ForeignKey(
        "core.CustomerLink", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("link")
    )
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("customer's consent")
        verbose_name_plural = _("customer's consents")
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["finding"], name="findingconsent_once_per_finding")]

    def __str__(self) -> str:
        return f"{self.finding} · {'+' if self.agreed else '-'}"


class ReminderReason(models.TextChoices):
    TIME = "time", _("Прошёл интервал по времени")
    MILEAGE = "mileage", _("Прошёл интервал по пробегу")
    DECLINED = "declined", _("Клиент отказался от рекомендованных работ")


# The reasons of service that falls due (one follow-up per vehicle and last visit); DECLINED has one per finding.
DUE_SERVICE_REASONS = (ReminderReason.TIME, ReminderReason.MILEAGE)


class FollowUpOutcome(models.TextChoices):
    REACHED = "reached", _("Дозвонились")
    BOOKED = "booked", _("Записался на визит")
    REFUSED = "refused", _("Отказался")
    UNREACHABLE = "unreachable", _("Не дозвонились")


class ReminderStatus(models.TextChoices):
    SENT = "sent", _("Сообщение отправлено")
    CALL_DUE = "call_due", _("Нужно позвонить")
    CALLED = "called", _("Позвонили")


class ServiceReminder(DealershipOwned):
    """Issue 17 item 5: a follow-up from service, for one of two reasons (``reason``):

    * service fell due by time or mileage since the vehicle's last visit — a message to the customer, or (a customer
      who prefers calls or cannot be messaged) a call for the advisor of that visit. One per vehicle and due period:
      the period is the last visit (``last_work_order``), a unique constraint;
    * the customer declined recommended work (R30, ``finding``) — a call for the advisor of that work order
      ``ServiceSettings.declined_follow_up_days`` after the answer. One per finding (a one-to-one field).

    Either way the beat task may run any number of times. The advisor completes the call with its outcome and,
    optionally, the customer's satisfaction (1–5, the complaint closing's scale; issue 18 item 6).
    """

    vehicle = models.ForeignKey("core.Vehicle", on_delete=models.CASCADE, related_name="+", verbose_name=_("vehicle"))
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    last_work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="+", verbose_name=_("last visit")
    )
    reason = models.CharField(_("reason"), max_length=10, choices=ReminderReason.choices)
    due_on = models.DateField(_("due"))
    estimated_mileage = models.PositiveIntegerField(_("estimated mileage, km"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ReminderStatus.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("advisor")
    )
    delivery = models.ForeignKey(
        "notifications.Delivery", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=pgettext_lazy("sent message", "message"),
    )  # fmt: skip
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("called by"),
    )  # fmt: skip
    note = models.CharField(_("call result"), max_length=300, blank=True)
    finding = models.OneToOneField(
        InspectionFinding, on_delete=models.CASCADE, null=True, blank=True, related_name="follow_up",
        verbose_name=_("declined work"),
    )  # fmt: skip
    outcome = models.CharField(_("outcome"), max_length=12, choices=FollowUpOutcome.choices, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("service reminder")
        verbose_name_plural = _("service reminders")
        ordering = ["-due_on", "-id"]
        permissions = [("call_servicereminder", _("Can record a service reminder call"))]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "last_work_order"],
                condition=models.Q(finding__isnull=True),
                name="service_reminder_once_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(finding__isnull=True) | models.Q(reason="declined"),
                name="service_reminder_finding_is_declined",
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True) | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="service_reminder_satisfaction_1_5",
            ),
        ]
        indexes = [
            models.Index(
                fields=["assignee", "due_on"], condition=models.Q(status="call_due"), name="reminder_call_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vehicle} · {self.get_reason_display()} · {self.due_on:%d.%m.%Y}"

    def get_absolute_url(self) -> str:
        return reverse("core:vehicle_detail", args=[self.vehicle_id])


class OnlineBookingStatus(models.TextChoices):
    CODE_SENT = "code_sent", _("Код отправлен")
    BOOKED = "booked", _("Записан")
    LOCKED = "locked", _("Код не подтверждён")


class OnlineBooking(ConcurrentTransitionMixin, DealershipOwned):
    """A customer's request on the public booking page (issue 17 item 4): the chosen slot, the phone to verify by an
    SMS code (only its hash is kept; it expires and allows few attempts), the vehicle and the reason (R15). Once the
    code is right it becomes an appointment on the advisor's grid (R16)."""

    status = FSMField(
        _("status"),
        max_length=12,
        choices=OnlineBookingStatus.choices,
        default=OnlineBookingStatus.CODE_SENT,
        protected=True,
    )
    name = models.CharField(_("name"), max_length=200)
    phone = PhoneNumberField(_("phone"))
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    plate = models.CharField(_("plate"), max_length=20, blank=True)
    make = models.CharField(_("make"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=80, blank=True)
    reason = models.TextField(_("reason for the visit"))
    area = models.CharField(_("area of arrival"), max_length=12, choices=ArrivalArea.choices)
    starts_at = models.DateTimeField(_("arrival"))
    language = models.CharField(_("language"), max_length=10, default="ru")
    code_hash = models.CharField(_("code hash"), max_length=100)
    code_expires_at = models.DateTimeField(_("code expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    verified_at = models.DateTimeField(_("phone verified"), null=True, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="online_booking",
        verbose_name=_("appointment"),
    )

    class Meta:
        verbose_name = _("online booking request")
        verbose_name_plural = _("online booking requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone", "created_at"], name="online_booking_phone_idx")]

    def __str__(self) -> str:
        return f"{self.phone} {self.starts_at:%d.%m.%Y %H:%M}"

    @transition(field=status, source=OnlineBookingStatus.CODE_SENT, target=OnlineBookingStatus.BOOKED)
    def book(self):
        pass

    @transition(field=status, source=OnlineBookingStatus.CODE_SENT, target=OnlineBookingStatus.LOCKED)
    def lock(self):
        pass
