"""Claims and complaints (seed 003, seed 004 «客户投诉处理»): rules R22, R23, R24, R33.

- ``Complaint`` (R33, R24): intake by channel → classification and assignment with a deadline → investigation →
  a solution agreed with the customer → follow-up → closing report with the customer's satisfaction. Emergency
  complaints (vehicle fire, major accident) notify the field manager (FMC) and technical centre (TAC) at once and
  carry the R24 checklist; a media case records the outlet, programme/section, journalist and contact.
- ``GoodwillClaim`` (R23): FMC terms → agreement signed with the customer → claim with work order and
  agreement/invoice → FMC confirmation → customer-assistance (CAC) confirmation → payment to the dealership.
- ``WarrantyClaim`` (R22): draft → submitted → automatic system check → FMC confirmation → claims department
  confirmation → paid; rejected or returned for correction at each step with a reason. Special and assembly parts
  need a TAC authorisation; odometer-rollback claims need an explanation, photos and the FMC's signed scan. The
  failed part stays in quarantine (``QuarantinedPart``) until the claim is decided.

Work orders live in the service app (below claims): claims hold a foreign key to them and read them through
``claims.workorders``.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from dms.core.models import Customer, Dealership, DealershipOwned, StoredFile, Vehicle, random_stored_name

# --------------------------------------------------------------------------------------------------------------
# Settings per dealership: who the field manager, technical centre and customer-assistance contacts are.
# --------------------------------------------------------------------------------------------------------------


class ClaimsSettings(DealershipOwned):
    fmc_name = models.CharField(_("field manager (FMC)"), max_length=200, blank=True)
    fmc_email = models.EmailField(_("field manager e-mail"), blank=True)
    fmc_phone = models.CharField(_("field manager phone"), max_length=40, blank=True)
    tac_name = models.CharField(_("technical assistance centre (TAC)"), max_length=200, blank=True)
    tac_email = models.EmailField(_("TAC e-mail"), blank=True)
    tac_phone = models.CharField(_("TAC phone"), max_length=40, blank=True)
    cac_email = models.EmailField(_("customer assistance (CAC) e-mail"), blank=True)
    complaint_deadline_days = models.PositiveSmallIntegerField(
        _("default complaint deadline, days"), default=5, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    emergency_deadline_days = models.PositiveSmallIntegerField(
        _("emergency complaint deadline, days"), default=1, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )

    class Meta:
        verbose_name = _("claims settings")
        verbose_name_plural = _("claims settings")
        constraints = [models.UniqueConstraint(fields=["dealership"], name="claims_settings_one_per_dealership")]

    def __str__(self) -> str:
        return str(_("Claims settings of %(dealership)s") % {"dealership": self.dealership})


class NumberCounter(models.Model):
    """Per-dealership numbering of complaints and claims (ЖЛ-000001, ГП-000001, ГА-000001)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dealership", "kind"], name="claims_counter_unique")]

    def __str__(self) -> str:
        return f"{self.dealership_id}/{self.kind}: {self.last_value}"


# --------------------------------------------------------------------------------------------------------------
# Complaints (R33, R24)
# --------------------------------------------------------------------------------------------------------------


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    LETTER = "letter", _("Letter")
    IN_PERSON = "in_person", _("In person")


class ComplaintCategory(models.TextChoices):
    PART_QUALITY = "part_quality", _("Part quality")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    REPAIR_QUALITY = "repair_quality", _("Repair quality")
    RETURN_DISPUTE = "return_dispute", _("Return or exchange dispute")
    OTHER = "other", _("Other")


class Department(models.TextChoices):
    SERVICE = "service", _("Service")
    PARTS = "parts", _("Parts")
    WARRANTY = "warranty", _("Warranty")
    QUALITY = "quality", _("Quality control")
    SALES = "sales", _("Sales")
    CUSTOMER_CARE = "customer_care", _("Customer care")


class ComplaintSeverity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class EmergencyKind(models.TextChoices):
    # Seed 003 «紧急投诉: 火烧车、重大事故»
    VEHICLE_FIRE = "vehicle_fire", _("Vehicle fire")
    MAJOR_ACCIDENT = "major_accident", _("Major accident")


class ComplaintStatus(models.TextChoices):
    # Labels are the procedure's terms (seed 004 «投诉受理 → 投诉分配 → 调查与分析 → 解决方案 → 结案»).
    REGISTERED = "registered", _("Принята")
    ASSIGNED = "assigned", _("Назначена")
    INVESTIGATING = "investigating", _("Расследование")
    SOLUTION_AGREED = "solution_agreed", _("Решение согласовано")
    CLOSED = "closed", _("Закрыта")


COMPLAINT_OPEN_STATUSES = (
    ComplaintStatus.REGISTERED,
    ComplaintStatus.ASSIGNED,
    ComplaintStatus.INVESTIGATING,
    ComplaintStatus.SOLUTION_AGREED,
)


def complaint_is_overdue(*, status: str, deadline: datetime.date | None, today: datetime.date) -> bool:
    """R33: an open complaint whose deadline is before the dealership's today (the model's ``is_overdue``; the API
    list computes it from the row's columns)."""
    return status in COMPLAINT_OPEN_STATUSES and deadline is not None and deadline < today


COMPLAINT_STATUS_COLOURS = {
    ComplaintStatus.REGISTERED: "secondary",
    ComplaintStatus.ASSIGNED: "info",
    ComplaintStatus.INVESTIGATING: "primary",
    ComplaintStatus.SOLUTION_AGREED: "warning",
    ComplaintStatus.CLOSED: "success",
}


class Complaint(ConcurrentTransitionMixin, DealershipOwned):
    number = models.CharField(_("number"), max_length=20)
    status = FSMField(
        _("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.REGISTERED, protected=True
    )
    # Intake (R33): channel, time, customer, vehicle, description.
    channel = models.CharField(_("channel"), max_length=12, choices=ComplaintChannel.choices)
    received_at = models.DateTimeField(pgettext_lazy("claim or complaint", "received"))
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints", verbose_name=_("customer")
    )
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints", verbose_name=_("vehicle")
    )
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    vin_text = models.CharField(_("VIN or plate as given"), max_length=40, blank=True)
    description = models.TextField(_("description"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registered by"),
    )  # fmt: skip
    # Classification and assignment.
    category = models.CharField(_("category"), max_length=20, choices=ComplaintCategory.choices, blank=True)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("responsible employee"),
    )  # fmt: skip
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    # Investigation, solution, closing report.
    cause = models.TextField(_("cause found"), blank=True)
    responsibility = models.CharField(_("responsibility"), max_length=300, blank=True)
    solution = models.TextField(_("solution agreed with the customer"), blank=True)
    solution_agreed_at = models.DateTimeField(_("solution agreed"), null=True, blank=True)
    closing_report = models.TextField(_("closing report"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    improvement = models.TextField(_("improvement measures"), blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("claim or complaint", "closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Overdue (flagged by beat) and escalation to the directors.
    overdue_flagged_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated to the director"), null=True, blank=True)
    # R24: emergency complaints.
    severity = models.CharField(
        _("severity"), max_length=10, choices=ComplaintSeverity.choices, default=ComplaintSeverity.NORMAL
    )
    emergency_kind = models.CharField(_("emergency"), max_length=20, choices=EmergencyKind.choices, blank=True)
    contacts_notified_at = models.DateTimeField(_("FMC and TAC notified"), null=True, blank=True)
    insurance_info = models.CharField(_("insurance (insurer, policy)"), max_length=300, blank=True)
    insurance_checked = models.BooleanField(_("insurance checked"), default=False)
    aftermarket_equipment = models.CharField(_("aftermarket equipment installed"), max_length=300, blank=True)
    aftermarket_checked = models.BooleanField(_("aftermarket equipment checked"), default=False)
    police_report = models.CharField(_("police report (number, department)"), max_length=300, blank=True)
    police_checked = models.BooleanField(_("police report checked"), default=False)
    photos_taken = models.BooleanField(_("photos taken as TAC instructed"), default=False)
    # R24: media involvement.
    involves_media = models.BooleanField(_("media involved"), default=False)
    media_outlet = models.CharField(_("media outlet"), max_length=200, blank=True)
    media_programme = models.CharField(_("programme / section"), max_length=200, blank=True)
    journalist = models.CharField(_("journalist"), max_length=200, blank=True)
    journalist_contact = models.CharField(_("journalist contact"), max_length=200, blank=True)
    # Public web form: where it came from (spam investigation).
    source_ip = models.GenericIPAddressField(_("sender IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("assign_complaint", _("Can classify and assign complaints")),
            ("investigate_complaint", _("Can investigate complaints and agree solutions")),
            ("close_complaint", _("Can close complaints")),
            ("view_claims_kpi", _("Can view claims and complaints KPIs")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "number"], name="complaint_number_unique"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="complaint_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(severity="emergency") | ~Q(emergency_kind=""), name="complaint_emergency_has_kind"
            ),
        ]
        indexes = [
            models.Index(fields=["dealership", "status", "deadline"], name="complaint_status_deadline_idx"),
            models.Index(fields=["dealership", "-received_at"], name="complaint_received_idx"),
            models.Index(fields=["dealership", "assignee"], name="complaint_assignee_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("claims:complaint_detail", args=[self.pk])

    @property
    def is_emergency(self) -> bool:
        return self.severity == ComplaintSeverity.EMERGENCY

    @property
    def is_open(self) -> bool:
        return self.status in COMPLAINT_OPEN_STATUSES

    @property
    def status_colour(self) -> str:
        return COMPLAINT_STATUS_COLOURS.get(self.status, "secondary")

    @property
    def display_name(self) -> str:
        return self.customer.name if self.customer_id else self.contact_name

    def local_today(self, now: datetime.datetime | None = None) -> datetime.date:
        return timezone.localtime(now or timezone.now(), self.dealership.tz).date()

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        return complaint_is_overdue(status=self.status, deadline=self.deadline, today=self.local_today(now))

    def closed_on_time(self) -> bool | None:
        if self.closed_at is None or self.deadline is None:
            return None
        return timezone.localtime(self.closed_at, self.dealership.tz).date() <= self.deadline

    def checklist(self) -> list[tuple[str, bool, str]]:
        """R24 checklist of an emergency: (label, done, details)."""
        return [
            (_("Insurance"), self.insurance_checked, self.insurance_info),
            (_("Aftermarket equipment"), self.aftermarket_checked, self.aftermarket_equipment),
            (_("Police report"), self.police_checked, self.police_report),
            (_("Photos"), self.photos_taken, ""),
        ]

    def checklist_complete(self) -> bool:
        return all(done for _label, done, _details in self.checklist())

    # -- conditions -----------------------------------------------------------------------------------------
    def has_assignment(self) -> bool:
        return bool(self.category and self.department and self.assignee_id and self.deadline)

    def has_solution(self) -> bool:
        return bool((self.solution or "").strip())

    def has_closing_report(self) -> bool:
        return bool((self.closing_report or "").strip()) and self.satisfaction is not None

    # -- transitions (side-effect free) ---------------------------------------------------------------------
    @transition(
        field=status,
        source=[ComplaintStatus.REGISTERED, ComplaintStatus.ASSIGNED],
        target=ComplaintStatus.ASSIGNED,
        conditions=[has_assignment],
        permission="claims.assign_complaint",
    )
    def assign(self, *, at: datetime.datetime) -> None:
        self.assigned_at = at

    @transition(
        field=status,
        source=ComplaintStatus.ASSIGNED,
        target=ComplaintStatus.INVESTIGATING,
        permission="claims.investigate_complaint",
    )
    def start_investigation(self) -> None:
        pass

    @transition(
        field=status,
        source=ComplaintStatus.INVESTIGATING,
        target=ComplaintStatus.SOLUTION_AGREED,
        conditions=[has_solution],
        permission="claims.investigate_complaint",
    )
    def agree_solution(self, *, at: datetime.datetime) -> None:
        self.solution_agreed_at = at

    @transition(
        field=status,
        source=ComplaintStatus.SOLUTION_AGREED,
        target=ComplaintStatus.CLOSED,
        conditions=[has_solution, has_closing_report],
        permission="claims.close_complaint",
    )
    def close(self, *, at: datetime.datetime, by) -> None:
        self.closed_at = at
        self.closed_by = by


class ComplaintNote(models.Model):
    """Investigation notes and follow-up contacts with the customer (R33)."""

    class Kind(models.TextChoices):
        INVESTIGATION = "investigation", _("Investigation")
        FOLLOW_UP = "follow_up", _("Follow-up")
        CUSTOMER_CONTACT = "customer_contact", _("Contact with the customer")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("complaint note")
        verbose_name_plural = _("complaint notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint} {self.get_kind_display()}"


class ComplaintNotification(models.Model):
    """R24: who was told about an emergency complaint, how and when (and whether it could be sent)."""

    class Recipient(models.TextChoices):
        FMC = "fmc", _("Field manager (FMC)")
        TAC = "tac", _("Technical centre (TAC)")
        DIRECTOR = "director", _("Director")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", pgettext_lazy("delivery status", "sent")
        FAILED = "failed", _("failed")
        NO_ADDRESS = "no_address", _("no contact configured")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.CharField(_("recipient"), max_length=10, choices=Recipient.choices)
    channel = models.CharField(_("channel"), max_length=10, default="email")
    address = models.CharField(_("address"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint notification")
        verbose_name_plural = _("complaint notifications")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint} → {self.get_recipient_display()} {self.address}"


# --------------------------------------------------------------------------------------------------------------
# Goodwill claims (R23)
# --------------------------------------------------------------------------------------------------------------


class GoodwillStatus(models.TextChoices):
    DRAFT = "draft", _("Черновик")
    SUBMITTED = "submitted", _("Подана FMC")
    FMC_CONFIRMED = "fmc_confirmed", _("Подтверждена FMC")
    CAC_CONFIRMED = "cac_confirmed", _("Подтверждена CAC")
    PAID = "paid", _("Оплачена")
    RETURNED = "returned", _("Возвращена на доработку")
    REJECTED = "rejected", _("Отклонена")


class GoodwillClaim(ConcurrentTransitionMixin, DealershipOwned):
    number = models.CharField(_("number"), max_length=20)
    status = FSMField(
        _("status"), max_length=20, choices=GoodwillStatus.choices, default=GoodwillStatus.DRAFT, protected=True
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="goodwill_claims",
        verbose_name=_("complaint"),
    )  # fmt: skip
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="+", verbose_name=_("vehicle"))
    work_order = models.ForeignKey(
        "service.WorkOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="goodwill_claims",
        verbose_name=_("work order"),
    )  # fmt: skip
    # R23 accepts a work order given by its number alone (one from before the DMS, or a paper one); for a linked work
    # order it is its number, kept as the claim was submitted.
    work_order_number = models.CharField(_("work order"), max_length=40, blank=True)
    description = models.TextField(_("case description"))
    # The terms the FMC allows (seed 003: «ASC根据FMC允许条件与客户签订协议»).
    fmc_terms = models.TextField(_("terms allowed by the FMC"), blank=True)
    fmc_max_amount = models.DecimalField(
        _("amount allowed by the FMC"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    fmc_terms_recorded_at = models.DateTimeField(_("FMC terms recorded"), null=True, blank=True)
    agreement_signed_on = models.DateField(_("agreement signed with the customer"), null=True, blank=True)
    requested_amount = models.DecimalField(
        _("amount claimed"), max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(pgettext_lazy("claim or complaint", "submitted"), null=True, blank=True)
    fmc_confirmed_at = models.DateTimeField(_("FMC confirmed"), null=True, blank=True)
    fmc_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cac_confirmed_at = models.DateTimeField(_("CAC confirmed"), null=True, blank=True)
    cac_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(pgettext_lazy("claim or complaint", "paid"), null=True, blank=True)
    paid_amount = models.DecimalField(_("amount paid"), max_digits=12, decimal_places=2, null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    decision_reason = models.TextField(_("reason of return / rejection"), blank=True)

    class Meta:
        verbose_name = _("goodwill claim")
        verbose_name_plural = _("goodwill claims")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_goodwillclaim", _("Can submit goodwill claims")),
            ("fmc_confirm_goodwillclaim", _("Can confirm goodwill claims as field manager (FMC)")),
            ("cac_confirm_goodwillclaim", _("Can confirm goodwill claims as customer assistance (CAC)")),
            ("record_payment_goodwillclaim", _("Can record payment of goodwill claims")),
        ]
        constraints = [models.UniqueConstraint(fields=["dealership", "number"], name="goodwill_number_unique")]
        # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
        indexes = [models.Index(fields=["dealership", "-created_at", "-id"], name="goodwill_list_order_idx")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("claims:goodwill_detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status in (GoodwillStatus.DRAFT, GoodwillStatus.RETURNED)

    @transition(
        field=status,
        source=[GoodwillStatus.DRAFT, GoodwillStatus.RETURNED],
        target=GoodwillStatus.SUBMITTED,
        permission="claims.submit_goodwillclaim",
    )
    def submit(self, *, at: datetime.datetime) -> None:
        self.submitted_at = at
        self.decision_reason = ""

    @transition(
        field=status,
        source=GoodwillStatus.SUBMITTED,
        target=GoodwillStatus.FMC_CONFIRMED,
        permission="claims.fmc_confirm_goodwillclaim",
    )
    def fmc_confirm(self, *, at: datetime.datetime, by) -> None:
        self.fmc_confirmed_at, self.fmc_confirmed_by = at, by

    @transition(
        field=status,
        source=GoodwillStatus.FMC_CONFIRMED,
        target=GoodwillStatus.CAC_CONFIRMED,
        permission="claims.cac_confirm_goodwillclaim",
    )
    def cac_confirm(self, *, at: datetime.datetime, by) -> None:
        self.cac_confirmed_at, self.cac_confirmed_by = at, by

    @transition(
        field=status,
        source=GoodwillStatus.CAC_CONFIRMED,
        target=GoodwillStatus.PAID,
        permission="claims.record_payment_goodwillclaim",
    )
    def record_payment(self, *, at: datetime.datetime, amount, reference: str) -> None:
        self.paid_at, self.paid_amount, self.payment_reference = at, amount, reference

    def may_decide(self, user) -> bool:
        """Return or reject: the FMC at its step, customer assistance at its own."""
        perm = {
            GoodwillStatus.SUBMITTED: "claims.fmc_confirm_goodwillclaim",
            GoodwillStatus.FMC_CONFIRMED: "claims.cac_confirm_goodwillclaim",
        }.get(self.status)
        return bool(perm) and user.has_perm(perm)

    @transition(
        field=status,
        source=[GoodwillStatus.SUBMITTED, GoodwillStatus.FMC_CONFIRMED],
        target=GoodwillStatus.RETURNED,
        permission=lambda instance, user: instance.may_decide(user),
    )
    def return_for_correction(self, *, reason: str) -> None:
        self.decision_reason = reason

    @transition(
        field=status,
        source=[GoodwillStatus.SUBMITTED, GoodwillStatus.FMC_CONFIRMED],
        target=GoodwillStatus.REJECTED,
        permission=lambda instance, user: instance.may_decide(user),
    )
    def reject(self, *, reason: str) -> None:
        self.decision_reason = reason


# --------------------------------------------------------------------------------------------------------------
# Warranty claims (R22)
# --------------------------------------------------------------------------------------------------------------


class WarrantyClaimKind(models.TextChoices):
    # Seed 003: 常规索赔 / 特殊件、总成件索赔 / 特殊售后活动索赔 / 里程倒走索赔
    REGULAR = "regular", _("Regular")
    SPECIAL_PART = "special_part", _("Special or assembly part")
    CAMPAIGN = "campaign", _("Special after-sales campaign")
    ODOMETER_ROLLBACK = "odometer_rollback", _("Odometer rollback")


class WarrantyStatus(models.TextChoices):
    DRAFT = "draft", _("Черновик")
    SUBMITTED = "submitted", _("Подана")
    AUTO_CHECKED = "auto_checked", _("Проверена системой")
    FMC_CONFIRMED = "fmc_confirmed", _("Подтверждена FMC")
    CONFIRMED = "confirmed", _("Подтверждена отделом претензий")
    PAID = "paid", _("Оплачена")
    RETURNED = "returned", _("Возвращена на доработку")
    REJECTED = "rejected", _("Отклонена")


WARRANTY_STATUS_COLOURS = {
    WarrantyStatus.DRAFT: "secondary",
    WarrantyStatus.SUBMITTED: "info",
    WarrantyStatus.AUTO_CHECKED: "info",
    WarrantyStatus.FMC_CONFIRMED: "primary",
    WarrantyStatus.CONFIRMED: "primary",
    WarrantyStatus.PAID: "success",
    WarrantyStatus.RETURNED: "warning",
    WarrantyStatus.REJECTED: "danger",
}
WARRANTY_DECIDED_STATUSES = (WarrantyStatus.CONFIRMED, WarrantyStatus.PAID, WarrantyStatus.REJECTED)
WARRANTY_EDITABLE_STATUSES = (WarrantyStatus.DRAFT, WarrantyStatus.RETURNED)


class PartInstruction(models.TextChoices):
    # What the manufacturer wants done with the failed part once the claim is decided.
    SCRAP = "scrap", _("Scrap")
    RETURN = "return", _("Return to the manufacturer")


class WarrantyClaim(ConcurrentTransitionMixin, DealershipOwned):
    number = models.CharField(_("number"), max_length=20)
    status = FSMField(
        _("status"), max_length=20, choices=WarrantyStatus.choices, default=WarrantyStatus.DRAFT, protected=True
    )
    kind = models.CharField(_("kind"), max_length=20, choices=WarrantyClaimKind.choices, default="regular")
    # The work order and its job (R22: a claim is drafted from a job of a work order). Only a claim whose work order
    # was gone before the link became a foreign key (migration 0002) has none: its number stays below.
    work_order = models.ForeignKey(
        "service.WorkOrder", on_delete=models.PROTECT, null=True, related_name="warranty_claims",
        verbose_name=_("work order"),
    )  # fmt: skip
    work_order_number = models.CharField(_("work order"), max_length=40)
    job_id = models.PositiveBigIntegerField(_("job id"))
    job_description = models.CharField(_("job"), max_length=300)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="warranty_claims", verbose_name=_("vehicle")
    )
    mileage = models.PositiveIntegerField(_("mileage, km"))
    failure_date = models.DateField(_("failure date"))
    failure_code = models.CharField(_("failure code"), max_length=40)
    causal_part = models.ForeignKey(
        "parts.Part", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("causal part")
    )
    causal_part_number = models.CharField(_("causal part number"), max_length=40)
    description = models.TextField(_("complaint, cause and correction"))
    failed_part_serial = models.CharField(_("serial number of the failed part"), max_length=60, blank=True)
    replacement_part_serial = models.CharField(_("serial number of the replacement part"), max_length=60, blank=True)
    labour_hours = models.DecimalField(
        _("labour, standard hours"), max_digits=6, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    labour_rate = models.DecimalField(
        _("labour rate"), max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    # R22: special and assembly parts need the TAC's authorisation before submission.
    tac_authorisation = models.CharField(_("TAC authorisation number"), max_length=60, blank=True)
    tac_authorised_by = models.CharField(_("TAC expert"), max_length=200, blank=True)
    # R22: odometer-rollback claims need an explanation, photos and the FMC's signed confirmation.
    odometer_explanation = models.TextField(_("odometer rollback explanation"), blank=True)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("warranty engineer")
    )
    check_results = models.JSONField(_("automatic check results"), default=list, blank=True)
    checked_at = models.DateTimeField(_("automatically checked"), null=True, blank=True)
    submitted_at = models.DateTimeField(pgettext_lazy("claim or complaint", "submitted"), null=True, blank=True)
    fmc_confirmed_at = models.DateTimeField(_("FMC confirmed"), null=True, blank=True)
    fmc_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("claims department confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_amount = models.DecimalField(_("amount approved"), max_digits=12, decimal_places=2, null=True, blank=True)
    part_instruction = models.CharField(
        _("instruction for the failed part"), max_length=10, choices=PartInstruction.choices, blank=True
    )
    paid_at = models.DateTimeField(pgettext_lazy("claim or complaint", "paid"), null=True, blank=True)
    paid_amount = models.DecimalField(_("amount paid"), max_digits=12, decimal_places=2, null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    rejected_at = models.DateTimeField(_("rejected"), null=True, blank=True)
    decision_reason = models.TextField(_("reason of return / rejection"), blank=True)
    return_count = models.PositiveSmallIntegerField(_("times returned"), default=0)

    class Meta:
        verbose_name = _("warranty claim")
        verbose_name_plural = _("warranty claims")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_warrantyclaim", _("Can submit warranty claims")),
            ("fmc_confirm_warrantyclaim", _("Can confirm warranty claims as field manager (FMC)")),
            ("claims_confirm_warrantyclaim", _("Can confirm warranty claims as claims department")),
            ("record_payment_warrantyclaim", _("Can record payment of warranty claims")),
            ("dispose_quarantinedpart", _("Can scrap or return quarantined parts")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "number"], name="warranty_claim_number_unique"),
            # R22 "no duplicate claim for the same job": enforced in the database for live claims.
            models.UniqueConstraint(
                fields=["dealership", "work_order", "job_id"],
                condition=~Q(status="rejected"),
                name="warranty_claim_one_live_claim_per_job",
                violation_error_message=_("A claim for this job already exists."),
            ),
        ]
        indexes = [
            models.Index(fields=["dealership", "status", "-created_at"], name="wclaim_status_idx"),
            models.Index(fields=["vehicle"], name="wclaim_vehicle_idx"),
            # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
            models.Index(fields=["dealership", "-created_at", "-id"], name="wclaim_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("claims:claim_detail", args=[self.pk])

    @property
    def status_colour(self) -> str:
        return WARRANTY_STATUS_COLOURS.get(self.status, "secondary")

    @property
    def is_editable(self) -> bool:
        return self.status in WARRANTY_EDITABLE_STATUSES

    @property
    def is_decided(self) -> bool:
        return self.status in WARRANTY_DECIDED_STATUSES

    @property
    def labour_amount(self):
        from decimal import Decimal

        return (self.labour_hours * self.labour_rate).quantize(Decimal("0.01"))

    @property
    def parts_amount(self):
        from decimal import Decimal

        return sum((line.amount for line in self.part_lines.all()), Decimal("0"))

    @property
    def total(self):
        return self.labour_amount + self.parts_amount

    def needs_tac(self) -> bool:
        """R22: a special or assembly part on the claim needs a TAC authorisation."""
        return self.kind == WarrantyClaimKind.SPECIAL_PART or any(line.is_special for line in self.part_lines.all())

    # -- transitions (side-effect free; dms.core.transitions.run_transition locks, checks, saves, audits) ---
    @transition(
        field=status,
        source=[WarrantyStatus.DRAFT, WarrantyStatus.RETURNED],
        target=WarrantyStatus.SUBMITTED,
        permission="claims.submit_warrantyclaim",
    )
    def submit(self, *, at: datetime.datetime) -> None:
        self.submitted_at = at
        self.decision_reason = ""

    @transition(field=status, source=WarrantyStatus.SUBMITTED, target=WarrantyStatus.AUTO_CHECKED)
    def pass_auto_check(self, *, at: datetime.datetime, results: list) -> None:
        self.checked_at = at
        self.check_results = results

    @transition(
        field=status,
        source=WarrantyStatus.AUTO_CHECKED,
        target=WarrantyStatus.FMC_CONFIRMED,
        permission="claims.fmc_confirm_warrantyclaim",
    )
    def fmc_confirm(self, *, at: datetime.datetime, by) -> None:
        self.fmc_confirmed_at, self.fmc_confirmed_by = at, by

    @transition(
        field=status,
        source=WarrantyStatus.FMC_CONFIRMED,
        target=WarrantyStatus.CONFIRMED,
        permission="claims.claims_confirm_warrantyclaim",
    )
    def claims_confirm(self, *, at: datetime.datetime, by, amount, instruction: str) -> None:
        self.confirmed_at, self.confirmed_by = at, by
        self.approved_amount, self.part_instruction = amount, instruction

    @transition(
        field=status,
        source=WarrantyStatus.CONFIRMED,
        target=WarrantyStatus.PAID,
        permission="claims.record_payment_warrantyclaim",
    )
    def record_payment(self, *, at: datetime.datetime, amount, reference: str) -> None:
        self.paid_at, self.paid_amount, self.payment_reference = at, amount, reference

    def may_decide(self, user) -> bool:
        """Return or reject: the field manager at its step, the claims department at its own."""
        perm = {
            WarrantyStatus.SUBMITTED: "claims.fmc_confirm_warrantyclaim",
            WarrantyStatus.AUTO_CHECKED: "claims.fmc_confirm_warrantyclaim",
            WarrantyStatus.FMC_CONFIRMED: "claims.claims_confirm_warrantyclaim",
        }.get(self.status)
        return bool(perm) and user.has_perm(perm)

    @transition(
        field=status,
        source=[WarrantyStatus.SUBMITTED, WarrantyStatus.AUTO_CHECKED, WarrantyStatus.FMC_CONFIRMED],
        target=WarrantyStatus.RETURNED,
        permission=lambda instance, user: instance.may_decide(user),
    )
    def return_for_correction(self, *, reason: str) -> None:
        self.decision_reason = reason
        self.return_count += 1

    @transition(
        field=status,
        source=[WarrantyStatus.AUTO_CHECKED, WarrantyStatus.FMC_CONFIRMED],
        target=WarrantyStatus.REJECTED,
        permission=lambda instance, user: instance.may_decide(user),
    )
    def reject(self, *, at: datetime.datetime, reason: str, instruction: str) -> None:
        self.rejected_at, self.decision_reason, self.part_instruction = at, reason, instruction


class WarrantyClaimPart(models.Model):
    claim = models.ForeignKey(WarrantyClaim, on_delete=models.CASCADE, related_name="part_lines")
    part = models.ForeignKey("parts.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    is_special = models.BooleanField(_("special or assembly part"), default=False)

    class Meta:
        verbose_name = _("claimed part")
        verbose_name_plural = _("claimed parts")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "part"], name="wclaim_part_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="wclaim_part_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity}"

    @property
    def amount(self):
        from decimal import Decimal

        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class QuarantineStatus(models.TextChoices):
    QUARANTINED = "quarantined", _("В карантине")
    SCRAPPED = "scrapped", _("Утилизирована")
    RETURNED = "returned", _("Возвращена производителю")


class QuarantinedPart(DealershipOwned):
    """The removed failed part, held until its claim is decided, then scrapped or returned as instructed (R22)."""

    claim = models.OneToOneField(
        WarrantyClaim, on_delete=models.PROTECT, related_name="quarantined_part", verbose_name=_("claim")
    )
    part_number = models.CharField(_("part number"), max_length=40)
    serial_number = models.CharField(_("serial number"), max_length=60, blank=True)
    location = models.CharField(_("quarantine location"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=QuarantineStatus.choices, default=QuarantineStatus.QUARANTINED
    )
    disposed_at = models.DateTimeField(_("disposed"), null=True, blank=True)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    shipment_reference = models.CharField(_("shipment / scrap act reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("quarantined part")
        verbose_name_plural = _("quarantined parts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.part_number} {self.serial_number}".strip()


# --------------------------------------------------------------------------------------------------------------
# Files (photos, scans, agreements): stored under MEDIA_ROOT, served only through a permission-checked view.
# --------------------------------------------------------------------------------------------------------------


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    EVIDENCE = "evidence", _("Evidence")
    FMC_SIGNED_CONFIRMATION = "fmc_signed", _("FMC's signed confirmation (scan)")
    AGREEMENT = "agreement", _("Agreement signed with the customer")
    INVOICE = "invoice", _("Invoice")
    WORK_ORDER = "work_order", _("Work order scan")
    OTHER = "other", _("Other document")


def attachment_path(instance, filename: str) -> str:
    return random_stored_name(f"claims/{instance.dealership_id}", filename)


class Attachment(DealershipOwned, StoredFile):
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    warranty_claim = models.ForeignKey(
        WarrantyClaim, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    goodwill_claim = models.ForeignKey(
        GoodwillClaim, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(complaint__isnull=False, warranty_claim__isnull=True, goodwill_claim__isnull=True)
                    | Q(complaint__isnull=True, warranty_claim__isnull=False, goodwill_claim__isnull=True)
                    | Q(complaint__isnull=True, warranty_claim__isnull=True, goodwill_claim__isnull=False)
                ),
                name="attachment_exactly_one_owner",
            )
        ]

    @property
    def owner(self):
        return self.complaint or self.warranty_claim or self.goodwill_claim

    def get_absolute_url(self) -> str:
        return reverse("claims:attachment_download", args=[self.pk])


# --------------------------------------------------------------------------------------------------------------
# Staff appraisal (seed 004 «绩效考核»): monthly and yearly, scored by the supervisor, colleagues, customers and the
# employee, kept with a frozen copy of the figures (claims.staff_kpi) at the time.
# --------------------------------------------------------------------------------------------------------------

SCORE_MIN, SCORE_MAX = 1, 5  # the seed names no scale: the 1–5 scale of the complaint satisfaction (R33)


class AppraisalPeriod(models.TextChoices):
    MONTH = "month", pgettext_lazy("appraisal period", "Month")
    YEAR = "year", pgettext_lazy("appraisal period", "Year")


class AppraisalStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("appraisal", "Открыта")
    FINAL = "final", pgettext_lazy("appraisal", "Утверждена")


class ScoreSource(models.TextChoices):
    # Seed 004: «上級評價、同事互評、客戶評價及員工自評».
    SUPERVISOR = "supervisor", _("Supervisor")
    COLLEAGUE = "colleague", _("Colleague")
    CUSTOMER = "customer", pgettext_lazy("appraisal score", "Customers")
    SELF = "self", _("Self-assessment")


class StaffAppraisal(ConcurrentTransitionMixin, DealershipOwned):
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("employee")
    )
    period_kind = models.CharField(_("period"), max_length=5, choices=AppraisalPeriod.choices)
    period_start = models.DateField(_("period starts"))
    status = FSMField(_("status"), default=AppraisalStatus.OPEN, choices=AppraisalStatus.choices, protected=True)
    # The employee's KPI row (claims.staff_kpi.StaffRow as plain JSON) when opened, taken again when finalised.
    figures = models.JSONField(_("figures"), default=dict)
    figures_at = models.DateTimeField(_("figures taken"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    summary = models.TextField(_("supervisor's conclusion"), blank=True)

    class Meta:
        verbose_name = _("staff appraisal")
        verbose_name_plural = _("staff appraisals")
        ordering = ["-period_start", "employee_id", "id"]
        permissions = [
            ("view_staff_kpi", _("Can view staff KPIs (own figures; everyone's with «appraise staff»)")),
            ("appraise_staff", _("Can appraise staff (supervisor)")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "employee", "period_kind", "period_start"], name="staff_appraisal_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee} · {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.period_kind == AppraisalPeriod.YEAR:
            return f"{self.period_start:%Y}"
        return f"{self.period_start:%m.%Y}"

    def get_absolute_url(self) -> str:
        return reverse("claims:staff_appraisal_detail", args=[self.pk])

    def average(self, source: str) -> float | None:
        values = [s.score for s in self.scores.all() if s.source == source]
        return round(sum(values) / len(values), 2) if values else None

    @transition(
        field=status, source=AppraisalStatus.OPEN, target=AppraisalStatus.FINAL, permission="claims.appraise_staff"
    )
    def finalise(self, *, at: datetime.datetime, by, figures: dict) -> None:
        self.finalised_at = at
        self.finalised_by = by
        self.figures = figures
        self.figures_at = at


class AppraisalScore(models.Model):
    """One score of an appraisal: the supervisor's, a colleague's, the customers' (entered by the supervisor from
    their feedback) or the employee's own. One per source and author; the author may change it while open."""

    DEALERSHIP_PATH = "appraisal__dealership"

    appraisal = models.ForeignKey(StaffAppraisal, on_delete=models.CASCADE, related_name="scores")
    source = models.CharField(_("whose score"), max_length=12, choices=ScoreSource.choices)
    score = models.PositiveSmallIntegerField(
        _("score (1–5)"), validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
    )
    comment = models.TextField(_("comment"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("appraisal score")
        verbose_name_plural = _("appraisal scores")
        ordering = ["source", "entered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "source", "entered_by"], name="appraisal_score_once"),
            models.CheckConstraint(condition=Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX), name="appraisal_score_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.score}"
