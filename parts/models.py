from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dms.core.models import DealershipOwned


class Supplier(DealershipOwned):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=30, blank=True)
    # Seed 000: the distributor's standard term is 7 days; a longer ETA triggers interim calls (R3).
    delivery_days = models.PositiveSmallIntegerField(_("standard delivery term, days"), default=7)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["dealership", "name"], name="supplier_name_unique")]

    def __str__(self) -> str:
        return self.name


class AbcClass(models.TextChoices):
    # R28: classes by consumption value and importance.
    A = "A", _("A — key, fast-moving")
    B = "B", _("B — regular")
    C = "C", _("C — slow-moving")


class Part(DealershipOwned):
    class Unit(models.TextChoices):
        PIECE = "pcs", _("pcs")
        SET = "set", _("set")
        LITRE = "l", _("l")
        KG = "kg", _("kg")
        METRE = "m", _("m")

    number = models.CharField(_("part number"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("unit"), max_length=5, choices=Unit.choices, default=Unit.PIECE)
    default_supplier = models.ForeignKey(
        Supplier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("default supplier"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # R28: set by the ABC classification job (monthly and on demand) from 12 months' consumption value.
    abc_class = models.CharField(_("ABC class"), max_length=1, choices=AbcClass.choices, blank=True, db_index=True)
    abc_consumption_value = models.DecimalField(
        _("consumption value, 12 months"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    abc_classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "number"],
                name="part_number_unique_per_dealership",
                violation_error_message=_("A part with this number already exists in the dealership."),
            )
        ]
        indexes = [models.Index(fields=["dealership", "name"])]
        permissions = [("run_abc_classification", _("Can run the ABC classification"))]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parts:part_detail", args=[self.pk])


class Warehouse(DealershipOwned):
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    is_default = models.BooleanField(_("default warehouse"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["-is_default", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "code"], name="warehouse_code_unique_per_dealership"),
            models.UniqueConstraint(
                fields=["dealership"], condition=Q(is_default=True), name="one_default_warehouse_per_dealership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Location(DealershipOwned):
    """A bin (shelf place) inside a warehouse."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="locations", verbose_name=_("warehouse")
    )
    code = models.CharField(_("bin"), max_length=30)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("bin location")
        verbose_name_plural = _("bin locations")
        ordering = ["warehouse", "code"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="location_code_unique")]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


QTY = {"max_digits": 12, "decimal_places": 3}
COST = {"max_digits": 14, "decimal_places": 4}


class StockBalance(DealershipOwned):
    """Stock of one part in one warehouse. ``on_hand`` always equals the sum of the part's ledger rows there.

    The database itself refuses negative stock and reservations above what is on hand (R27 context, issue 5 §2);
    services lock the row (SELECT ... FOR UPDATE) before every change.
    """

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="balances", verbose_name=_("part"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="balances", verbose_name=_("warehouse")
    )
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("bin")
    )
    on_hand = models.DecimalField(_("on hand"), default=Decimal("0"), **QTY)
    reserved = models.DecimalField(_("reserved"), default=Decimal("0"), **QTY)
    average_cost = models.DecimalField(_("average cost"), default=Decimal("0"), **COST)
    # R27: None means "the default level of the part's class".
    alert_level = models.DecimalField(_("alert level"), null=True, blank=True, **QTY)
    last_counted_at = models.DateTimeField(_("last counted"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        ordering = ["part__number"]
        constraints = [
            models.UniqueConstraint(fields=["part", "warehouse"], name="stock_balance_unique_part_warehouse"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0),
                name="stock_on_hand_not_negative",
                violation_error_message=_("Stock cannot go below zero."),
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")),
                name="stock_reserved_within_on_hand",
                violation_error_message=_("Reservations cannot exceed the stock on hand."),
            ),
            models.CheckConstraint(condition=Q(average_cost__gte=0), name="stock_average_cost_not_negative"),
        ]
        indexes = [models.Index(fields=["dealership", "warehouse"])]
        permissions = [("view_stock_value_report", _("Can view the stock value report"))]

    def __str__(self) -> str:
        return f"{self.part.number} @ {self.warehouse.code}: {self.on_hand}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def stock_value(self) -> Decimal:
        return (self.on_hand * self.average_cost).quantize(Decimal("0.01"))


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt from supplier")
    ISSUE = "issue", _("Issue to work order")
    COUNTER_SALE = "counter_sale", _("Counter sale")
    RETURN_IN = "return_in", _("Customer return")
    RETURN_OUT = "return_out", _("Return to supplier")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    ADJUSTMENT = "adjustment", _("Count adjustment")
    WRITE_OFF = "write_off", _("Write-off")


# Consumption for the ABC classification (R28): what leaves the warehouse to jobs and customers.
CONSUMPTION_KINDS = (MovementKind.ISSUE, MovementKind.COUNTER_SALE)


class StockMovement(DealershipOwned):
    """One ledger row: an append-only record of stock entering (+) or leaving (-) a warehouse."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="movements", verbose_name=_("part"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="movements", verbose_name=_("warehouse")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_cost = models.DecimalField(_("unit cost"), default=Decimal("0"), **COST)
    on_hand_after = models.DecimalField(_("on hand after"), default=Decimal("0"), **QTY)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("who")
    )
    reference = models.CharField(_("document"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reservation = models.ForeignKey(
        "Reservation", on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    # R32: the job the parts were issued to, so that parts cost per job can be reported.
    work_order_ref = models.CharField(_("work order"), max_length=50, blank=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_quantity_not_zero"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="stock_movement_cost_not_negative"),
            models.CheckConstraint(condition=Q(on_hand_after__gte=0), name="stock_movement_after_not_negative"),
        ]
        indexes = [
            models.Index(fields=["dealership", "occurred_at"]),
            models.Index(fields=["part", "warehouse", "occurred_at"]),
        ]
        permissions = [("view_job_cost_report", _("Can view parts cost per job"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.part.number} {self.quantity:+}"

    @property
    def value(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


class Reservation(DealershipOwned):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")
        ISSUED = "issued", _("Issued")

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("part"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("warehouse")
    )
    quantity = models.DecimalField(_("quantity"), **QTY)
    issued_quantity = models.DecimalField(_("issued"), default=Decimal("0"), **QTY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    reference = models.CharField(_("for"), max_length=100)
    # The customer order (orders app) the parts were received for, when the reservation came with a receipt.
    customer_order_id = models.PositiveBigIntegerField(_("customer order"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("who")
    )

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(issued_quantity__gte=0) & Q(issued_quantity__lte=F("quantity")),
                name="reservation_issued_within_quantity",
            ),
        ]
        indexes = [models.Index(fields=["part", "warehouse", "status"])]

    def __str__(self) -> str:
        return f"{self.part.number} x {self.quantity} ({self.reference})"

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.issued_quantity


class LowStockAlert(DealershipOwned):
    """R27: at most one open alert per part and warehouse; it closes itself when stock recovers."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("part"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    alert_level = models.DecimalField(_("alert level"), **QTY)
    on_hand = models.DecimalField(_("on hand when raised"), **QTY)
    available = models.DecimalField(_("available when raised"), **QTY)
    suggested_quantity = models.DecimalField(_("suggested reorder quantity"), **QTY)
    opened_at = models.DateTimeField(_("raised"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("low-stock alert")
        verbose_name_plural = _("low-stock alerts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["part", "warehouse"],
                condition=Q(status="open"),
                name="one_open_low_stock_alert_per_part_warehouse",
            )
        ]

    def __str__(self) -> str:
        return f"{self.part.number} @ {self.warehouse.code}: {self.available} < {self.alert_level}"
