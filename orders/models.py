import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from dms.core.models import Customer, Dealership, DealershipOwned, Vehicle
from parts.models import LowStockAlert, Part, Supplier


class OrderStatus(models.TextChoices):
    # Labels are the procedure's own terms (seed 000).
    NOT_PLACED = "not_placed", _("Неразмещён")
    ORDERED = "ordered", _("Полностью заказан у поставщика")
    PARTIALLY_RECEIVED = "partially_received", _("Частично получен")
    RECEIVED = "received", _("Получен")
    ISSUED = "issued", _("Выдан")
    CANCELLED = "cancelled", _("Отменён")
    # Issue 15 item 8: received parts the customer never collected, sent back within the supplier's return window.
    RETURNED = "returned_to_supplier", _("Возвращён поставщику")


# R1: every status has its own colour; «Полностью заказан у поставщика» is brown as in the procedure.
STATUS_COLOURS = {
    OrderStatus.NOT_PLACED: "#6c757d",
    OrderStatus.ORDERED: "#8b4513",
    OrderStatus.PARTIALLY_RECEIVED: "#e8a317",
    OrderStatus.RECEIVED: "#198754",
    OrderStatus.ISSUED: "#0d6efd",
    OrderStatus.CANCELLED: "#adb5bd",
    OrderStatus.RETURNED: "#6f42c1",
}
# R3/R4: a delivery term longer than this many days from ordering is a "long" one: the advisor records the
# customer's agreement (R4, orders) and the parts manager makes interim-ETA calls (R3, notifications).
LONG_DELIVERY_DAYS = 7
# Issue 15 item 8: an order whose parts wait uncollected is flagged this many days before its supplier's return
# window closes (and stays flagged after it has closed).
RETURN_WARNING_DAYS = 3
OVERDUE_COLOUR = "#dc3545"
WAITING_STATUSES = (OrderStatus.ORDERED, OrderStatus.PARTIALLY_RECEIVED)
OPEN_STATUSES = (
    OrderStatus.NOT_PLACED,
    OrderStatus.ORDERED,
    OrderStatus.PARTIALLY_RECEIVED,
    OrderStatus.RECEIVED,
)


def order_is_overdue(status: str, expected_at: datetime.date | None, today: datetime.date) -> bool:
    """R1: still waiting for parts after the ETA."""
    return status in WAITING_STATUSES and expected_at is not None and expected_at < today


def order_return_deadline(
    *, status: str, received_at: datetime.datetime | None, return_days: int | None, tz: datetime.tzinfo
) -> datetime.date | None:
    """Issue 15 item 8: the last day the received, uncollected parts can go back to the supplier."""
    if status != OrderStatus.RECEIVED or received_at is None or return_days is None:
        return None
    return timezone.localtime(received_at, tz).date() + datetime.timedelta(days=return_days)


def order_return_due(deadline: datetime.date | None, today: datetime.date) -> bool:
    """Issue 15 item 8: flag from RETURN_WARNING_DAYS days before the window closes, never earlier."""
    return deadline is not None and today >= deadline - datetime.timedelta(days=RETURN_WARNING_DAYS)


def order_colour(status: str, expected_at: datetime.date | None, today: datetime.date) -> str:
    return OVERDUE_COLOUR if order_is_overdue(status, expected_at, today) else STATUS_COLOURS[status]


def order_days_waiting(
    *,
    created_at: datetime.datetime,
    closed_at: datetime.datetime | None,
    now: datetime.datetime,
    tz: datetime.tzinfo,
) -> int:
    """R13: whole days (in the dealership's calendar) since ordering, until the parts were issued or cancelled."""
    end = closed_at or now
    return (timezone.localtime(end, tz).date() - timezone.localtime(created_at, tz).date()).days


class OrderKind(models.TextChoices):
    WARRANTY = "warranty", _("Warranty")
    COMMERCIAL = "commercial", _("Commercial")


class OrderPurpose(models.TextChoices):
    REPAIR = "repair", _("Repair")
    COUNTER_SALE = "counter_sale", _("Counter sale")
    # Issue 15 item 6, R27: parts ordered for the warehouse from a low-stock alert; nobody waits for them, so the
    # received parts are not reserved and no customer is called.
    STOCK = "stock", _("Stock replenishment")


# What an order form or the API's create offers: a stock replenishment order is made from a low-stock alert.
CUSTOMER_PURPOSES = [(value, label) for value, label in OrderPurpose.choices if value != OrderPurpose.STOCK]


class OrderNumberCounter(models.Model):
    """Dealership-wide order numbers (Ф000004181): one row per dealership, incremented under a row lock."""

    dealership = models.OneToOneField(Dealership, on_delete=models.CASCADE, related_name="+")
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.dealership_id}: {self.last_value}"


class CustomerOrder(ConcurrentTransitionMixin, DealershipOwned):
    number = models.CharField(_("number"), max_length=20)
    status = FSMField(_("status"), default=OrderStatus.NOT_PLACED, choices=OrderStatus.choices, protected=True)
    kind = models.CharField(_("kind"), max_length=12, choices=OrderKind.choices)
    purpose = models.CharField(_("purpose"), max_length=15, choices=OrderPurpose.choices, default=OrderPurpose.REPAIR)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"))
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("vehicle")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    parts_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("parts manager"),
    )
    expected_at = models.DateField(_("ETA"), null=True, blank=True)
    placed_at = models.DateTimeField(_("placed"), null=True, blank=True)
    first_received_at = models.DateTimeField(_("first parts arrived"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    issued_at = models.DateTimeField(pgettext_lazy("customer order", "issued"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    # Issue 15 item 8: uncollected parts sent back to the supplier.
    returned_at = models.DateTimeField(_("returned to the supplier"), null=True, blank=True)
    return_reason = models.CharField(_("reason for the return"), max_length=500, blank=True)
    # R4: the customer agreed to a long delivery term when the order was taken.
    long_term_agreed = models.BooleanField(_("customer agreed to a long delivery term"), default=False)
    # R10: the car waits on the lot for these parts.
    on_waiting_lot = models.BooleanField(_("car waits on the lot"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    # Issue 15 item 6: the low-stock alert (R27) this replenishment order answers; one order per alert. The alert
    # reaches its order through the reverse accessor, so parts never imports orders.
    low_stock_alert = models.OneToOneField(
        LowStockAlert,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replenishment_order",
        verbose_name=_("low-stock alert"),
    )

    class Meta:
        verbose_name = _("customer order")
        verbose_name_plural = _("customer orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("place_customerorder", _("Can place a customer order with the supplier")),
            ("receive_customerorder", _("Can receive parts for a customer order")),
            ("issue_customerorder", _("Can issue parts of a customer order")),
            ("cancel_customerorder", _("Can cancel a customer order")),
            ("return_customerorder", _("Can return an order's uncollected parts to the supplier")),
            ("export_customerorder", _("Can export the order list")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dealership", "number"], name="order_number_unique_per_dealership"),
            # Issue 12 item 6: the target of parts reservations' (dealership, customer order) foreign key — a
            # reservation can only name an order of its own dealership (migration 0005).
            models.UniqueConstraint(fields=["dealership", "id"], name="order_dealership_id_unique"),
        ]
        indexes = [
            # Issue 19 item 5: the call-event generator's beat tick reads only the orders whose customer is still
            # called (waiting for parts or not yet collected, no stock order): a partial index of those, so a tick
            # costs the open orders, not the millions issued over the years (notifications.generator).
            models.Index(
                fields=["dealership"],
                condition=Q(status__in=["ordered", "partially_received", "received"]) & ~Q(purpose="stock"),
                name="order_with_calls_idx",
            ),
            # The dashboard's default page: newest first, the id breaking ties (also serves the date range).
            models.Index(fields=["dealership", "-created_at", "-id"], name="order_dealer_created_id_idx"),
            models.Index(fields=["dealership", "status", "-created_at"], name="order_dealer_status_idx"),
            # kind, alone or with a status (counts of "warranty orders waiting for parts" read only the index)
            models.Index(fields=["dealership", "kind", "status"], name="order_dealer_kind_status_idx"),
            models.Index(fields=["dealership", "author"], name="order_dealer_author_idx"),
            models.Index(fields=["dealership", "parts_manager"], name="order_dealer_manager_idx"),
            models.Index(fields=["dealership", "expected_at"], name="order_dealer_eta_idx"),
            # The «overdue» filter: orders still waiting for parts, by ETA.
            models.Index(
                fields=["dealership", "expected_at"],
                condition=Q(status__in=["ordered", "partially_received"]),
                name="order_overdue_idx",
            ),
            models.Index(
                fields=["dealership", "created_at"], condition=Q(on_waiting_lot=True), name="order_waiting_lot_idx"
            ),
            models.Index(fields=["customer"], name="order_customer_idx"),
            models.Index(fields=["vehicle"], name="order_vehicle_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("orders:detail", args=[self.pk])

    # -- derived facts (the same functions serve the dashboard's plain rows) ----------------------------------------
    def local_today(self, now: datetime.datetime | None = None) -> datetime.date:
        return timezone.localtime(now or timezone.now(), self.dealership.tz).date()

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return order_is_overdue(self.status, self.expected_at, today or self.local_today())

    def colour(self, today: datetime.date | None = None) -> str:
        return order_colour(self.status, self.expected_at, today or self.local_today())

    def return_deadline(self) -> datetime.date | None:
        supplier_order = getattr(self, "supplier_order", None) if self.status == OrderStatus.RECEIVED else None
        return order_return_deadline(
            status=self.status,
            received_at=self.received_at,
            return_days=supplier_order.supplier.return_days if supplier_order is not None else None,
            tz=self.dealership.tz,
        )

    def return_due(self, today: datetime.date | None = None) -> bool:
        return order_return_due(self.return_deadline(), today or self.local_today())

    def days_waiting(self, now: datetime.datetime | None = None) -> int:
        return order_days_waiting(
            created_at=self.created_at,
            closed_at=self.issued_at or self.cancelled_at or self.returned_at,
            now=now or timezone.now(),
            tz=self.dealership.tz,
        )

    # -- transitions: side-effect free; services lock, call them, save, audit -----------------------------------
    @transition(
        field=status,
        source=OrderStatus.NOT_PLACED,
        target=OrderStatus.ORDERED,
        permission="orders.place_customerorder",
    )
    def place(self, *, at: datetime.datetime, expected_at: datetime.date) -> None:
        # R1: placing with the supplier moves «Неразмещён» to «Полностью заказан у поставщика».
        self.placed_at = at
        self.expected_at = expected_at

    def _received_target(self) -> str:
        lines = list(self.lines.all())
        if lines and all(line.quantity_received >= line.quantity for line in lines):
            return OrderStatus.RECEIVED
        return OrderStatus.PARTIALLY_RECEIVED

    @transition(
        field=status,
        source=[OrderStatus.ORDERED, OrderStatus.PARTIALLY_RECEIVED],
        target=RETURN_VALUE(OrderStatus.PARTIALLY_RECEIVED, OrderStatus.RECEIVED),
        permission="orders.receive_customerorder",
    )
    def receive(self, *, at: datetime.datetime) -> str:
        # R2: the status follows the received quantities; nobody sets it by hand.
        target = self._received_target()
        self.first_received_at = self.first_received_at or at
        if target == OrderStatus.RECEIVED:
            self.received_at = at
        return target

    @transition(
        field=status, source=OrderStatus.RECEIVED, target=OrderStatus.ISSUED, permission="orders.issue_customerorder"
    )
    def issue(self, *, at: datetime.datetime) -> None:
        self.issued_at = at

    @transition(
        field=status,
        source=[OrderStatus.NOT_PLACED, OrderStatus.ORDERED],
        target=OrderStatus.CANCELLED,
        permission="orders.cancel_customerorder",
    )
    def cancel(self, *, at: datetime.datetime, reason: str) -> None:
        self.cancelled_at = at
        self.cancel_reason = reason

    @transition(
        field=status,
        source=OrderStatus.RECEIVED,
        target=OrderStatus.RETURNED,
        permission="orders.return_customerorder",
    )
    def return_to_supplier(self, *, at: datetime.datetime, reason: str) -> None:
        # Issue 15 item 8: a terminal state of its own, beside «Получен» and «Выдан».
        self.returned_at = at
        self.return_reason = reason


class CustomerOrderLine(models.Model):
    # Issue 12 item 6: ids of lines resolve in their parent's dealership (dms.core.references).
    DEALERSHIP_PATH = "order__dealership"

    order = models.ForeignKey(CustomerOrder, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity ordered"), max_digits=10, decimal_places=2)
    quantity_received = models.DecimalField(_("quantity received"), max_digits=10, decimal_places=2, default=0)
    unit_price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=0)
    # Issue 15 item 5: what the part costs us, from the supplier's price list on the placing date (or given when
    # placing); receipts are costed at it. Empty when unknown: the receipt then keeps the warehouse's average cost.
    purchase_price = models.DecimalField(
        _("purchase price"), max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            # R2 guarded in the database too: never more received than ordered, never negative.
            models.CheckConstraint(
                condition=Q(quantity_received__gte=0) & Q(quantity_received__lte=F("quantity")),
                name="order_line_received_within_ordered",
            ),
            models.UniqueConstraint(fields=["order", "part"], name="order_line_part_once"),
        ]
        indexes = [models.Index(fields=["part"], name="order_line_part_idx")]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity}"

    @property
    def quantity_outstanding(self):
        return self.quantity - self.quantity_received


class SupplierOrder(DealershipOwned):
    """The order with the supplier (the distributor's portal) that placed a customer order (R1)."""

    customer_order = models.OneToOneField(
        CustomerOrder, on_delete=models.CASCADE, related_name="supplier_order", verbose_name=_("customer order")
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("supplier"))
    supplier_order_number = models.CharField(_("supplier order number"), max_length=60)
    expected_at = models.DateField(_("ETA"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(_("placed"))

    class Meta:
        verbose_name = _("supplier order")
        verbose_name_plural = _("supplier orders")

    def __str__(self) -> str:
        return f"{self.supplier} {self.supplier_order_number}"


class Receipt(DealershipOwned):
    order = models.ForeignKey(CustomerOrder, on_delete=models.CASCADE, related_name="receipts")
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("received"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.order} {self.received_at:%Y-%m-%d %H:%M}"


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(CustomerOrderLine, on_delete=models.PROTECT, related_name="receipt_lines")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="receipt_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.line.part} × {self.quantity}"


class SupplierDelayRecord(models.Model):
    """Issue 19: each supplier's running delay record — how many of its orders have fully arrived and the sum of
    their delays in days — so the revised expected date (orders.promises, issue 15 item 8) reads one row instead of
    recomputing the supplier's whole history for every order on a page. Kept in the same transaction as the receipt
    that completes an order (orders.services.customer_order_receive); derived data, rebuilt from the history by
    ``orders.promises.supplier_delay_records_rebuild`` (the data migration, seeding scripts)."""

    supplier = models.OneToOneField(
        Supplier, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("supplier")
    )
    received_orders = models.PositiveIntegerField(_("fully received orders"), default=0)
    delay_days = models.PositiveBigIntegerField(_("sum of delays, days"), default=0)

    class Meta:
        verbose_name = _("supplier delay record")
        verbose_name_plural = _("supplier delay records")

    def __str__(self) -> str:
        return f"{self.supplier_id}: {self.delay_days}/{self.received_orders}"
