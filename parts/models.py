from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from dms.core.models import Customer, DealershipOwned, FirstContactChannel


class Supplier(DealershipOwned):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=30, blank=True)
    # Seed 000: the distributor's standard term is 7 days; a longer ETA triggers interim calls (R3).
    delivery_days = models.PositiveSmallIntegerField(_("standard delivery term, days"), default=7)
    # Issue 15 item 8: received parts nobody collects can go back to the supplier within this many days.
    return_days = models.PositiveSmallIntegerField(_("return window, days"), default=30)
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
    # Issue 15 item 7: the code on the part's label (EAN-13, UPC, the maker's own), read by a keyboard-wedge scanner
    # at receiving, issuing and counting. Optional; unique per dealership when set (NULL when not, so parts without
    # a label never collide); the unique constraint's index serves the scanner's lookups.
    barcode = models.CharField(_("barcode"), max_length=64, null=True, blank=True)
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
            ),
            models.UniqueConstraint(
                fields=["dealership", "barcode"],
                name="part_barcode_unique_per_dealership",
                violation_error_message=_("A part with this barcode already exists in the dealership."),
            ),
        ]
        indexes = [
            models.Index(fields=["dealership", "name"]),
            # The stock list is ordered by part number across the dealerships a user may read (issue 19): walking
            # this index stops at the page's LIMIT instead of sorting every balance (94 ms → 0.3 ms at 100,000).
            models.Index(fields=["number", "dealership"], name="part_number_order_idx"),
        ]
        permissions = [("run_abc_classification", _("Can run the ABC classification"))]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parts:part_detail", args=[self.pk])


class SupplierPrice(DealershipOwned):
    """A supplier's purchase price of a part from a date on (issue 15 item 5): receipts are costed at it, never at
    the selling price. The price valid on a date is the latest one whose ``valid_from`` is not after it."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="prices", verbose_name=_("supplier"))
    part = models.ForeignKey("Part", on_delete=models.PROTECT, related_name="supplier_prices", verbose_name=_("part"))
    price = models.DecimalField(_("purchase price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("supplier price")
        verbose_name_plural = _("supplier prices")
        ordering = ["part", "supplier", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "part", "valid_from"],
                name="supplier_price_once_per_date",
                violation_error_message=_("This supplier already has a price for this part from this date."),
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="supplier_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.part.number}: {self.price} ({self.valid_from:%d.%m.%Y})"


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
    # Issue 15 item 2 (R32): the work order and job (service app) an issue against a requisition is charged to.
    # Plain ids, because parts sits below service (core ← parts ← service); service's migration 0003 makes them
    # foreign keys on (dealership, work order) and (work order, job) in the database (dms.core.references).
    work_order_id = models.PositiveBigIntegerField(_("work order"), null=True, blank=True, db_index=True)
    job_id = models.PositiveBigIntegerField(_("job"), null=True, blank=True, db_index=True)

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
    # Issue 13: a real foreign key, named by string so parts never imports orders (core ← parts ← orders). The
    # database constraint is orders' migration 0005's, on (dealership, order), so a reservation never names another
    # dealership's order; a plain one on the order alone would add nothing. Deleting the order keeps the
    # reservation (its stock stays reserved) without the reference, as that constraint's ON DELETE SET NULL does.
    customer_order = models.ForeignKey(
        "orders.CustomerOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="reservations",
        verbose_name=_("customer order"),
    )
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


# ---------------------------------------------------------------------------------------------------------------------
# R26: stock counts


class StockCount(ConcurrentTransitionMixin, FSMModelMixin, DealershipOwned):
    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("Ежемесячная инвентаризация")
        ANNUAL = "annual", _("Годовая инвентаризация")

    class Scope(models.TextChoices):
        LOCATION = "location", _("By bin")
        CLASS = "class", _("By ABC class")
        DUE = "due", _("Parts due by the count plan")
        ALL = "all", _("Full count")

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("Идёт пересчёт")
        SUBMITTED = "submitted", _("На утверждении")
        APPROVED = "approved", _("Утверждена")
        CANCELLED = "cancelled", _("Отменена")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MONTHLY)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.LOCATION)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bin")
    )
    abc_class = models.CharField(_("ABC class"), max_length=1, choices=AbcClass.choices, blank=True)
    status = FSMField(_("status"), default=Status.IN_PROGRESS, choices=Status.choices, protected=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by")
    )
    committee = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("count committee")
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-started_at", "-id"]
        permissions = [("approve_stockcount", _("Can approve stock count adjustments"))]

    def __str__(self) -> str:
        return _("Count #%(id)s %(warehouse)s") % {"id": self.pk, "warehouse": self.warehouse.code}

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parts:count_detail", args=[self.pk])

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.SUBMITTED, permission="parts.change_stockcount")
    def submit(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=Status.SUBMITTED, target=Status.IN_PROGRESS, permission="parts.approve_stockcount")
    def reopen(self):
        self.submitted_at = None

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED, permission="parts.approve_stockcount")
    def approve(self):
        self.approved_at = timezone.now()

    @transition(
        field=status,
        source=[Status.IN_PROGRESS, Status.SUBMITTED],
        target=Status.CANCELLED,
        permission="parts.change_stockcount",
    )
    def cancel(self):
        pass


class StockCountLine(models.Model):
    # Issue 12 item 6: ids of lines resolve in their parent's dealership (dms.core.references).
    DEALERSHIP_PATH = "count__dealership"

    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("bin")
    )
    expected_quantity = models.DecimalField(_("book quantity"), **QTY)
    counted_quantity = models.DecimalField(_("counted"), null=True, blank=True, **QTY)
    reason = models.CharField(_("reason for the difference"), max_length=300, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    counted_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.OneToOneField(
        StockMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="count_line"
    )

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["location__code", "part__number"]
        constraints = [
            models.UniqueConstraint(fields=["count", "part"], name="count_line_unique_part"),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="count_line_counted_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part.number}: {self.expected_quantity} / {self.counted_quantity}"

    @property
    def variance(self) -> Decimal | None:
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.expected_quantity


# ---------------------------------------------------------------------------------------------------------------------
# R20, R21: sales orders for wholesale and counter customers


class SalesOrder(ConcurrentTransitionMixin, FSMModelMixin, DealershipOwned):
    class Status(models.TextChoices):
        INQUIRY = "inquiry", _("Запрос клиента")
        NEED_CONFIRMED = "need_confirmed", _("Потребность подтверждена")
        QUOTED = "quoted", _("Коммерческое предложение")
        ORDERED = "ordered", _("Заказ")
        INVOICED = "invoiced", _("Счёт выставлен")
        PAID = "paid", _("Оплачен")
        SHIPPED = "shipped", _("Отгружен")
        CANCELLED = "cancelled", _("Отменён")

    class Payment(models.TextChoices):
        CASH = "cash", _("Cash")
        CASHLESS = "cashless", _("Cash-less (bank transfer)")

    number = models.CharField(_("number"), max_length=20, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    # R20: an existing customer is routed to their assigned manager.
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible manager")
    )
    channel = models.CharField(
        pgettext_lazy("first contact", "channel"), max_length=10, choices=FirstContactChannel.choices, blank=True
    )
    payment_method = models.CharField(_("payment"), max_length=10, choices=Payment.choices, default=Payment.CASHLESS)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("warehouse")
    )
    status = FSMField(_("status"), default=Status.INQUIRY, choices=Status.choices, protected=True)
    need_description = models.TextField(_("what the customer needs"), blank=True)
    delivery_days = models.PositiveSmallIntegerField(_("delivery term, days"), null=True, blank=True)
    delivery_method = models.CharField(_("delivery method"), max_length=200, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=30, blank=True)
    invoiced_at = models.DateTimeField(_("invoiced"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_amount = models.DecimalField(_("amount paid"), max_digits=14, decimal_places=2, null=True, blank=True)
    payment_reference = models.CharField(_("payment document"), max_length=100, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    customer_notified_at = models.DateTimeField(_("customer notified"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("record_payment_salesorder", _("Can record payment of sales orders")),
            ("ship_salesorder", _("Can ship sales orders")),
        ]
        indexes = [
            models.Index(fields=["dealership", "status"]),
            # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
            models.Index(fields=["dealership", "-created_at", "-id"], name="salesorder_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parts:sales_detail", args=[self.pk])

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines.all()), Decimal("0.00"))

    def is_payment_settled(self) -> bool:
        """R21: a cash-less order ships only after payment is recorded; cash is paid at the counter."""
        return self.payment_method == self.Payment.CASH or self.paid_at is not None

    def has_lines(self) -> bool:
        return self.lines.exists()

    @transition(
        field=status,
        source=Status.INQUIRY,
        target=Status.NEED_CONFIRMED,
        conditions=[has_lines],
        permission="parts.change_salesorder",
    )
    def confirm_need(self):
        pass

    @transition(field=status, source=Status.NEED_CONFIRMED, target=Status.QUOTED, permission="parts.change_salesorder")
    def quote(self):
        pass

    @transition(field=status, source=Status.QUOTED, target=Status.ORDERED, permission="parts.change_salesorder")
    def place(self):
        pass

    @transition(field=status, source=Status.ORDERED, target=Status.INVOICED, permission="parts.change_salesorder")
    def invoice(self):
        self.invoiced_at = timezone.now()

    @transition(field=status, source=Status.INVOICED, target=Status.PAID, permission="parts.record_payment_salesorder")
    def record_payment(self):
        self.paid_at = timezone.now()

    @transition(
        field=status,
        source=[Status.INVOICED, Status.PAID],
        target=Status.SHIPPED,
        conditions=[is_payment_settled],
        permission="parts.ship_salesorder",
    )
    def ship(self):
        self.shipped_at = timezone.now()

    @transition(
        field=status,
        source=[Status.INQUIRY, Status.NEED_CONFIRMED, Status.QUOTED, Status.ORDERED, Status.INVOICED],
        target=Status.CANCELLED,
        permission="parts.change_salesorder",
    )
    def cancel(self):
        pass


class SalesOrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    available_at_quote = models.DecimalField(_("in stock at quote"), null=True, blank=True, **QTY)
    reservation = models.ForeignKey(Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.part.number} x {self.quantity}"

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------------------------------
# R29: returns and exchanges


class ReturnRequest(ConcurrentTransitionMixin, FSMModelMixin, DealershipOwned):
    class Reason(models.TextChoices):
        QUALITY = "quality_defect", _("Quality defect")
        WRONG_SPEC = "wrong_specification", _("Wrong specification")
        WRONG_SHIPMENT = "wrong_shipment", _("Wrong part shipped")
        MISSING = "missing_shipment", _("Missing from the shipment")

    class Resolution(models.TextChoices):
        REFUND = "refund", _("Return (goods back to stock)")
        EXCHANGE = "exchange", _("Exchange (goods back, replacement shipped)")
        REPLACEMENT = "replacement", _("Ship the missing goods")

    class FreightPayer(models.TextChoices):
        COMPANY = "company", _("Company")
        CUSTOMER = "customer", _("Customer")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Заявка на возврат")
        INSPECTION = "inspection", _("Техническая экспертиза")
        APPROVED = "approved", _("Возврат одобрен")
        REFUSED = "refused", _("Отказ")
        COMPLETED = "completed", _("Возврат выполнен")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    sales_order = models.ForeignKey(
        SalesOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="returns", verbose_name=_("order")
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_cost = models.DecimalField(_("unit cost"), default=Decimal("0"), **COST)
    received_on = models.DateField(_("goods received by the customer on"))
    requested_on = models.DateField(_("requested on"))
    deadline = models.DateField(_("deadline"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    resolution = models.CharField(_("customer wants"), max_length=12, choices=Resolution.choices)
    description = models.TextField(_("description"))
    status = FSMField(_("status"), default=Status.REQUESTED, choices=Status.choices, protected=True)
    inspection_result = models.TextField(_("inspection result"), blank=True)
    defect_confirmed = models.BooleanField(_("defect confirmed"), null=True, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    freight_payer = models.CharField(_("freight paid by"), max_length=10, choices=FreightPayer.choices, blank=True)
    freight_cost = models.DecimalField(_("freight cost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        ordering = ["-created_at", "-id"]
        # issue 19: the list's order (Meta.ordering) read from an index, stopping at the page's LIMIT
        indexes = [models.Index(fields=["dealership", "-created_at", "-id"], name="return_list_order_idx")]
        permissions = [
            ("inspect_returnrequest", _("Can inspect returned parts (technical department)")),
            ("decide_returnrequest", _("Can approve or refuse returns")),
            ("complete_returnrequest", _("Can take returned goods back and ship replacements")),
        ]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="return_quantity_positive")]

    def __str__(self) -> str:
        return _("Return #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parts:return_detail", args=[self.pk])

    def inspection_done_if_needed(self) -> bool:
        """R29: a quality claim is checked by the technical department before the decision."""
        return self.reason != self.Reason.QUALITY or self.defect_confirmed is not None

    @transition(
        field=status, source=Status.REQUESTED, target=Status.INSPECTION, permission="parts.change_returnrequest"
    )
    def send_to_inspection(self):
        pass

    @transition(
        field=status,
        source=[Status.REQUESTED, Status.INSPECTION],
        target=Status.APPROVED,
        conditions=[inspection_done_if_needed],
        permission="parts.decide_returnrequest",
    )
    def approve(self):
        pass

    @transition(
        field=status,
        source=[Status.REQUESTED, Status.INSPECTION],
        target=Status.REFUSED,
        conditions=[inspection_done_if_needed],
        permission="parts.decide_returnrequest",
    )
    def refuse(self):
        pass

    @transition(
        field=status, source=Status.APPROVED, target=Status.COMPLETED, permission="parts.complete_returnrequest"
    )
    def complete(self):
        self.completed_at = timezone.now()


class ReturnEvidence(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("file"), upload_to="parts/returns/%Y/%m/")
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.description or self.file.name


# ---------------------------------------------------------------------------------------------------------------------
# R32: requisitions and old parts


class Requisition(ConcurrentTransitionMixin, FSMModelMixin, DealershipOwned):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Требование подано")
        APPROVED = "approved", _("Утверждено мастером")
        ISSUED = "issued", _("Выдано со склада")
        REJECTED = "rejected", _("Отклонено")

    # Issue 15 item 2 (R32): a requisition names a real work order (and job) of its dealership. Ids, not
    # ForeignKeys: parts sits below service; writes resolve them through the targets service provides
    # (dms.core.references, service/apps.py) and service's migration 0003 adds the database foreign keys.
    work_order_id = models.PositiveBigIntegerField(_("work order"), null=True, blank=True, db_index=True)
    job_id = models.PositiveBigIntegerField(_("job"), null=True, blank=True, db_index=True)
    # The work order's number as shown (kept as text for requisitions made before work orders were referenced).
    work_order_ref = models.CharField(_("work order number"), max_length=50, blank=True, db_index=True)
    work_order_line = models.CharField(_("work order line"), max_length=200, blank=True)
    technician = models.CharField(_("technician"), max_length=200, blank=True)
    status = FSMField(_("status"), default=Status.REQUESTED, choices=Status.choices, protected=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("warehouse")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    reject_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("requisition")
        verbose_name_plural = _("requisitions")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_requisition", _("Can approve requisitions (supervisor)")),
            ("issue_requisition", _("Can issue parts against requisitions")),
        ]

    def __str__(self) -> str:
        return _("Requisition #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("parts:requisition_detail", args=[self.pk])

    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED, permission="parts.approve_requisition")
    def approve(self):
        self.approved_at = timezone.now()

    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED, permission="parts.approve_requisition")
    def reject(self):
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.ISSUED, permission="parts.issue_requisition")
    def issue(self):
        self.issued_at = timezone.now()


class RequisitionLine(models.Model):
    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity"), **QTY)
    movement = models.OneToOneField(
        StockMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="requisition_line"
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="requisition_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.part.number} x {self.quantity}"


class OldPartReturn(DealershipOwned):
    """R32: a removed old part handed back to the warehouse and registered."""

    class Condition(models.TextChoices):
        REUSABLE = "reusable", _("Reusable")
        SCRAP = "scrap", _("Scrap")

    requisition = models.ForeignKey(
        Requisition, on_delete=models.PROTECT, null=True, blank=True, related_name="old_parts"
    )
    work_order_ref = models.CharField(_("work order"), max_length=50, db_index=True)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity"), **QTY)
    condition = models.CharField(_("condition"), max_length=10, choices=Condition.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )

    class Meta:
        verbose_name = _("old part")
        verbose_name_plural = _("old parts")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="old_part_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.part.number} x {self.quantity} ({self.get_condition_display()})"
