"""Call-back events of seed 000 (R3, R5–R14) and the customer notifications that go with them."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from dms.core.models import ContactChannel, Customer, DealershipOwned
from orders.models import WAITING_STATUSES, CustomerOrder, OrderStatus


class CallKind(models.TextChoices):
    ARRIVAL = "arrival", _("Поступление запчастей")  # R5–R7
    INTERIM_ETA = "interim_eta", _("Промежуточная информация о сроке поставки")  # R3
    AGREED_DATE = "agreed_date", _("Звонок в согласованную дату")  # R8
    RETRY = "retry", _("Повторный звонок")  # R9
    NO_SHOW = "no_show", _("Клиент не приехал")  # R12
    UNCOLLECTED = "uncollected", _("Запчасти не забраны")  # 30-day rule
    LOT_REPAIR = "lot_repair", _("Авто на стоянке: передать в ремонт")  # R10


class CallStatus(models.TextChoices):
    OPEN = "open", _("Открыто")
    DONE = "done", _("Выполнено")
    CANCELLED = "cancelled", _("Отменено")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Дозвонились")
    UNREACHABLE = "unreachable", _("Не дозвонились")
    NO_ANSWER_LEFT_MESSAGE = "no_answer_left_message", _("Не ответил, оставлено сообщение")
    CUSTOMER_CAME = "customer_came", _("Клиент приехал")
    DID_NOT_COME = "did_not_come", _("Клиент не приехал")
    REPAIR_STARTED = "repair_started", _("Автомобиль передан в ремонт")


class CancelReason(models.TextChoices):
    PARTS_RECEIVED = "parts_received", _("Запчасти получены")
    ORDER_ISSUED = "order_issued", _("Заказ выдан")
    ORDER_CANCELLED = "order_cancelled", _("Заказ отменён")
    ORDER_RETURNED = "order_returned", _("Заказ возвращён поставщику")


# R9: unreachable (or only a message left) → the next call is due within this many days.
RETRY_DAYS = 3
# R6 / R7: first call after arrival.
ARRIVAL_DAYS = {"warranty": 3, "commercial": 7}
# R3: interim ETA calls when the ETA is more than orders' LONG_DELIVERY_DAYS after placement (the same "long
# delivery term" as R4), every INTERIM_EVERY_DAYS.
INTERIM_EVERY_DAYS = 3
# Parts not collected or fitted this many days after arrival get a call every day.
UNCOLLECTED_AFTER_DAYS = 30
RETRY_OUTCOMES = (CallOutcome.UNREACHABLE, CallOutcome.NO_ANSWER_LEFT_MESSAGE)
# Orders whose customer is still called: waiting for parts, or received and not yet collected.
ORDER_STATUSES_WITH_CALLS = (*WAITING_STATUSES, OrderStatus.RECEIVED)
# The one rule that ends call events (notifications.services.call_events_close): an order in one of these
# statuses ends all its open events, with this reason (issue 15 item 8: returned to the supplier too) ...
CLOSED_BY_ORDER_STATUS = {
    OrderStatus.ISSUED: CancelReason.ORDER_ISSUED,
    OrderStatus.CANCELLED: CancelReason.ORDER_CANCELLED,
    OrderStatus.RETURNED: CancelReason.ORDER_RETURNED,
}
# ... and R3: once every part has arrived, the interim-ETA calls stop (the arrival calls begin).
INTERIM_CLOSED_BY_ORDER_STATUS = {OrderStatus.RECEIVED: CancelReason.PARTS_RECEIVED}


class CallEvent(ConcurrentTransitionMixin, DealershipOwned):
    order = models.ForeignKey(CustomerOrder, on_delete=models.CASCADE, related_name="+", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=20, choices=CallKind.choices)
    status = FSMField(_("status"), default=CallStatus.OPEN, choices=CallStatus.choices, protected=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assignee")
    )
    due_date = models.DateField(_("due date"))
    source_event = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("follows")
    )
    completed_at = models.DateTimeField(_("called at"), null=True, blank=True)
    # The completion's date in the dealership's time zone: the report compares it with due_date without tz maths.
    completed_on = models.DateField(_("called on"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called by"),
    )
    outcome = models.CharField(_("outcome"), max_length=30, choices=CallOutcome.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    agreed_date = models.DateField(_("agreed date"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=20, choices=CancelReason.choices, blank=True)
    # Issue 18 item 6: the customer's satisfaction heard on the call (1–5, the complaint closing's scale); optional.
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["due_date", "id"]
        permissions = [
            ("complete_callevent", _("Can record the result of a call")),
            ("view_call_compliance_report", _("Can view the call-compliance report")),
            ("view_team_call_compliance", _("Can see every employee in the call-compliance report")),
        ]
        constraints = [
            # The generator's idempotency lives in the database: one event per order, kind and due day, whoever
            # (two beat ticks, two machines, a signal and a tick) tries to create it.
            models.UniqueConstraint(fields=["order", "kind", "due_date"], name="callevent_once_per_order_kind_day"),
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False, completed_by__isnull=False) | ~Q(status="done"),
                name="callevent_done_has_caller",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="callevent_satisfaction_1_5",
            ),
        ]
        indexes = [
            # call_log_for_orders: the done calls of a page of orders, newest first.
            models.Index(
                fields=["order", "-completed_at"], condition=Q(status="done"), name="callevent_order_done_idx"
            ),
            # My calls: an employee's open events in the dealership by due date. The dealership leads (issue 19
            # item 5): with the assignee alone PostgreSQL misjudged the index and walked every open event of the
            # group instead (46 ms at 10,000,000 events; 0.1 ms through this one, in the page's order).
            models.Index(
                fields=["dealership", "assignee", "due_date", "id"],
                condition=Q(status="open"),
                name="callevent_my_calls_idx",
            ),
            # The generator's closing step: the open events of an order.
            models.Index(fields=["order"], condition=Q(status="open"), name="callevent_order_open_idx"),
            models.Index(
                fields=["order"], condition=Q(status="open", kind="interim_eta"), name="callevent_interim_open_idx"
            ),
            # The weekly report: a dealership's events due in a date range, answered from the index alone.
            # (all key columns rather than INCLUDE, which SQLite lacks: PostgreSQL scans it index-only all the same)
            # The id after the due date: the call log (/api/call-events/, in the model's order) walks it and stops at
            # its page; without it PostgreSQL sorted every event of the dealership for a page of 50 (issue 19:
            # 100 ms at 100,000 events, growing with the log).
            models.Index(
                fields=["dealership", "due_date", "id", "assignee", "order", "status", "completed_on"],
                name="callevent_report_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.due_date:%d.%m.%Y}"

    def is_overdue(self, today: datetime.date) -> bool:
        return self.status == CallStatus.OPEN and self.due_date < today

    @property
    def on_time(self) -> bool | None:
        if self.status != CallStatus.DONE or self.completed_on is None:
            return None
        return self.completed_on <= self.due_date

    def allowed_outcomes(self) -> list[str]:
        if self.kind == CallKind.LOT_REPAIR:
            return [CallOutcome.REPAIR_STARTED]
        outcomes = [CallOutcome.REACHED, CallOutcome.UNREACHABLE, CallOutcome.NO_ANSWER_LEFT_MESSAGE]
        if self.kind == CallKind.AGREED_DATE:
            outcomes += [CallOutcome.CUSTOMER_CAME, CallOutcome.DID_NOT_COME]
        return outcomes

    # -- transitions (side-effect free; services lock, check, save, audit) --------------------------------------
    @transition(
        field=status, source=CallStatus.OPEN, target=CallStatus.DONE, permission="notifications.complete_callevent"
    )
    def complete(
        self,
        *,
        by,
        at: datetime.datetime,
        on: datetime.date,
        outcome: str,
        comment: str,
        agreed_date: datetime.date | None,
        satisfaction: int | None = None,
    ) -> None:
        self.completed_by = by
        self.completed_at = at
        self.completed_on = on
        self.outcome = outcome
        self.comment = comment
        self.agreed_date = agreed_date
        self.satisfaction = satisfaction

    @transition(field=status, source=CallStatus.OPEN, target=CallStatus.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason


class OptOut(DealershipOwned):
    """A customer's wish not to be notified through one channel (with the reason); every notification honours it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    reason = models.CharField(_("reason"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer", "channel"], name="optout_once_per_channel")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_channel_display()}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("В очереди")
    SENDING = "sending", _("Отправляется")
    SENT = "sent", _("Отправлено")
    DELIVERED = "delivered", _("Доставлено")
    UNDELIVERED = "undelivered", _("Не доставлено")
    FAILED = "failed", _("Ошибка")
    UNKNOWN = "unknown", _("Неизвестно")


# A status callback may only move a delivery forward; the final ones never change again.
DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.UNKNOWN: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 3,
    DeliveryStatus.FAILED: 3,
}
FINAL_DELIVERY_STATUSES = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


class Delivery(DealershipOwned):
    """One message to a customer through one channel; at most one per call event and channel."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer"))
    event = models.ForeignKey(
        CallEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name=_("event")
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    provider_id = models.CharField(_("provider message id"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Issue 17 item 3: a message an employee wrote in the customer's thread (empty for the system's notifications).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )

    class Meta:
        verbose_name = pgettext_lazy("sent message", "message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One notification per event and channel; employees' replies in the event's thread are not limited.
            models.UniqueConstraint(
                fields=["event", "channel"],
                condition=Q(event__isnull=False, author__isnull=True),
                name="delivery_once_per_event_channel",
            ),
            models.UniqueConstraint(
                fields=["customer", "reference", "channel"],
                condition=~Q(reference=""),
                name="delivery_once_per_reference_channel",
            ),
        ]
        indexes = [
            # Issue 19 item 5: the beat tick's catch-up (services.deliveries_unpublished) reads the queued messages
            # never tried — a handful — not the millions sent.
            models.Index(fields=["id"], condition=Q(status="queued", attempts=0), name="delivery_unpublished_idx"),
            models.Index(fields=["provider_id"], condition=~Q(provider_id=""), name="delivery_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"


class ReplyIntent(models.TextChoices):
    """What a customer's short reply means (issue 17 item 3), read by ``notifications.conversations.reply_intent``."""

    CONFIRM = "confirm", _("Подтверждение")
    RESCHEDULE = "reschedule", _("Просьба перенести")
    STOP = "stop", _("Отписка")
    START = "start", _("Возобновление подписки")
    OTHER = "other", _("Сообщение")


class InboundStatus(models.TextChoices):
    OPEN = "open", _("Ждёт ответа")
    HANDLED = "handled", _("Обработано")


# The channels a customer can write back on (Twilio's inbound webhook).
REPLY_CHANNELS = (ContactChannel.SMS, ContactChannel.WHATSAPP)


class InboundMessage(models.Model):
    """A message a customer sent us (SMS or WhatsApp through Twilio's inbound webhook), in the customer's thread.

    ``provider_id`` (Twilio's MessageSid) is unique: Twilio's retries never duplicate a message. A sender we cannot
    match to a customer is kept without dealership or customer and shown in the staff list of unmatched messages.
    A reply that is neither a confirmation, a reschedule request nor STOP/START is a task (``status`` open) of
    ``assignee`` on their «Мои звонки» page.
    """

    dealership = models.ForeignKey(
        "core.Dealership", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("dealership"),
    )  # fmt: skip
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("customer")
    )
    reply_to = models.ForeignKey(
        Delivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", verbose_name=_("reply to")
    )
    event = models.ForeignKey(
        CallEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", verbose_name=_("event")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    sender = models.CharField(_("sender"), max_length=64)
    recipient = models.CharField(_("recipient"), max_length=64, blank=True)
    body = models.TextField(_("text"), blank=True)
    provider_id = models.CharField(_("provider message id"), max_length=64, unique=True)
    intent = models.CharField(_("meaning"), max_length=12, choices=ReplyIntent.choices)
    status = models.CharField(_("status"), max_length=10, choices=InboundStatus.choices, default=InboundStatus.HANDLED)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("responsible"),
    )  # fmt: skip
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("handled by"),
    )  # fmt: skip
    received_at = models.DateTimeField(pgettext_lazy("message", "received"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer's message")
        verbose_name_plural = _("customers' messages")
        ordering = ["-received_at", "-id"]
        permissions = [("handle_inboundmessage", _("Can mark a customer's message as handled"))]
        indexes = [
            models.Index(fields=["customer", "-received_at"], name="inbound_customer_idx"),
            models.Index(fields=["assignee"], condition=Q(status="open"), name="inbound_assignee_open_idx"),
            models.Index(fields=["received_at"], condition=Q(customer__isnull=True), name="inbound_unmatched_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} ← {self.sender}"
