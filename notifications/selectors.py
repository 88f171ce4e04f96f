"""Reads for call-backs: the order list's «Обзвон» column (R13), My calls, the compliance report (R14)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from dms.core.models import Dealership
from dms.core.names import full_name, user_name
from dms.core.selectors import satisfaction_totals
from orders.models import CustomerOrder

from .models import (
    CLOSED_BY_ORDER_STATUS,
    INTERIM_CLOSED_BY_ORDER_STATUS,
    CallEvent,
    CallKind,
    CallOutcome,
    CallStatus,
    CancelReason,
    Delivery,
    InboundMessage,
    InboundStatus,
)

User = get_user_model()


def _full_name(user) -> str | None:
    if user is None:
        return None
    return user_name(user)


def call_events_to_close(*, order_ids: list[int] | None = None) -> QuerySet[CallEvent]:
    """Open events whose order moved on (R3; issue 15 item 8), each with the ``closing_reason`` it ends with.

    The reason is the filter too (an event closes when it has one): the same rule written as an ``OR`` of the order's
    statuses across the two tables cost PostgreSQL 2.5–4.5 ms to plan (0.04 ms to run) on every receipt and status
    change; the ``CASE`` plans in 0.2 ms and still reads the open events through their partial index (issue 19)."""
    reasons = [
        *(When(order__status=status, then=Value(reason)) for status, reason in CLOSED_BY_ORDER_STATUS.items()),
        *(
            When(order__status=status, kind=CallKind.INTERIM_ETA, then=Value(reason))
            for status, reason in INTERIM_CLOSED_BY_ORDER_STATUS.items()
        ),
    ]
    events = CallEvent.objects.annotate(closing_reason=Case(*reasons, output_field=CharField())).filter(
        closing_reason__isnull=False, status=CallStatus.OPEN
    )
    if order_ids is not None:
        events = events.filter(order_id__in=list(order_ids))
    return events.order_by("pk")


# -- the read contract for the orders app (dashboard «Обзвон» column and the order page's call history) -----------
@dataclass(frozen=True)
class CallLogEntry:
    completed_at: datetime.datetime
    caller_name: str | None
    outcome: str
    outcome_display: str
    comment: str
    agreed_date: datetime.date | None
    kind: str
    kind_display: str


@dataclass
class CallLogSummary:
    # "" while nobody has called yet (the orders app's API documents it as a plain string).
    last_caller_name: str | None = ""
    last_called_at: datetime.datetime | None = None
    results: list[CallLogEntry] = field(default_factory=list)


class _CallLogBuilder:
    """Adds call results to summaries, newest first; labels translated once, not per row (hundreds per page)."""

    def __init__(self):
        self.outcome_labels = {value: str(label) for value, label in CallOutcome.choices}
        self.kind_labels = {value: str(label) for value, label in CallKind.choices}

    def add(self, summary: CallLogSummary, completed_at, first, last, username, outcome, comment, agreed, kind):
        name = full_name(first, last, username)
        if summary.last_called_at is None:
            summary.last_called_at = completed_at
            summary.last_caller_name = name
        summary.results.append(
            CallLogEntry(
                completed_at=completed_at,
                caller_name=name,
                outcome=outcome,
                outcome_display=self.outcome_labels.get(outcome, outcome),
                comment=comment,
                agreed_date=agreed,
                kind=kind,
                kind_display=self.kind_labels.get(kind, kind),
            )
        )


def call_log_for_orders(*, order_ids: list[int]) -> dict[int, CallLogSummary]:
    """R13: per order, who called last, when, and every recorded call result (newest first).

    One SQL query whatever the number of ids (served by the partial index ``callevent_order_done_idx``).
    Orders without calls map to an empty summary.
    """
    ids = [int(pk) for pk in order_ids]
    summaries: dict[int, CallLogSummary] = {pk: CallLogSummary() for pk in ids}
    if not ids:
        return summaries
    builder = _CallLogBuilder()
    rows = (
        CallEvent.objects.filter(order_id__in=ids, status=CallStatus.DONE)
        .order_by("order_id", "-completed_at", "-id")
        .values_list(
            "order_id",
            "completed_at",
            "completed_by__first_name",
            "completed_by__last_name",
            "completed_by__username",
            "outcome",
            "comment",
            "agreed_date",
            "kind",
        )
    )
    for order_id, *entry in rows:
        builder.add(summaries[order_id], *entry)
    return summaries


def call_log_sql(order_id_column: str) -> str | None:
    """R13 inside the order list's own query: a scalar SQL subquery giving the done calls of the order whose id is
    ``order_id_column`` as a JSON array, newest first (served by ``callevent_order_done_idx``) — so a page of orders
    and their call logs is one query, like the hand-written LATERAL join it is measured against. PostgreSQL only;
    elsewhere None, and the caller uses :func:`call_log_for_orders`. Read the values with :func:`call_logs_from_json`.
    """
    if connection.vendor != "postgresql":
        return None
    event, user = CallEvent._meta.db_table, User._meta.db_table
    # json (not jsonb): built faster, and psycopg2 hands it over parsed. Entries by position: completed_at, first
    # name, last name, username, outcome, comment, agreed date, kind.
    return (
        "SELECT json_agg(json_build_array(e.completed_at, u.first_name, u.last_name, u.username, e.outcome, "
        "e.comment, e.agreed_date, e.kind) ORDER BY e.completed_at DESC, e.id DESC) "
        f'FROM "{event}" e LEFT JOIN "{user}" u ON u.id = e.completed_by_id '
        f"WHERE e.order_id = {order_id_column} AND e.status = '{CallStatus.DONE.value}'"
    )


def call_logs_from_json(values: list[list[list] | None]) -> list[CallLogSummary]:
    """The summaries of :func:`call_log_sql` values, in the same order (an empty summary for None)."""
    builder = _CallLogBuilder()
    summaries = []
    for entries in values:
        summary = CallLogSummary()
        for at, first, last, username, outcome, comment, agreed, kind in entries or ():
            builder.add(
                summary,
                datetime.datetime.fromisoformat(at) if at else None,
                first,
                last,
                username,
                outcome,
                comment,
                datetime.date.fromisoformat(agreed) if agreed else None,
                kind,
            )
        summaries.append(summary)
    return summaries


# -- lists ---------------------------------------------------------------------------------------------------------
def call_event_list(*, dealership_ids) -> QuerySet[CallEvent]:
    return (
        CallEvent.objects.filter(dealership_id__in=dealership_ids)
        .select_related("order", "order__customer", "assignee", "completed_by")
        .order_by("due_date", "id")
    )


@dataclass
class MyCalls:
    overdue: list[CallEvent]
    today: list[CallEvent]
    upcoming: list[CallEvent]


def _lot_first(event: CallEvent):
    # R10: the waiting-lot repair task shows first on the advisor's list.
    return (event.kind != CallKind.LOT_REPAIR, event.due_date, event.id)


def my_calls(*, user, dealership: Dealership, today: datetime.date, upcoming_days: int = 14) -> MyCalls:
    events = list(
        CallEvent.objects.filter(
            assignee=user,
            dealership=dealership,
            status=CallStatus.OPEN,
            due_date__lte=today + datetime.timedelta(days=upcoming_days),
        )
        .select_related("order", "order__customer", "order__vehicle")
        .order_by("due_date", "id")
    )
    return MyCalls(
        overdue=sorted((e for e in events if e.due_date < today), key=_lot_first),
        today=sorted((e for e in events if e.due_date == today), key=_lot_first),
        upcoming=sorted((e for e in events if e.due_date > today), key=_lot_first),
    )


# -- R14: the call-compliance report -------------------------------------------------------------------------------
@dataclass
class ComplianceRow:
    key: int
    label: str
    due: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    open_not_due: int = 0

    @property
    def on_time_share(self) -> float | None:
        # Share of the calls that were due and are settled (done or missed) which were done on time.
        settled = self.on_time + self.late + self.missed
        return round(self.on_time / settled, 4) if settled else None


@dataclass
class ComplianceReport:
    date_from: datetime.date
    date_to: datetime.date
    employees: list[ComplianceRow]
    orders: list[ComplianceRow]
    days: list[datetime.date]
    # employee id → day → (on time, late, missed)
    daily: dict[int, dict[datetime.date, tuple[int, int, int]]]
    totals: ComplianceRow


def _aggregates(*, past_due: Q) -> dict:
    done = Q(status=CallStatus.DONE)
    return {
        "due": Count("id"),
        "on_time": Count("id", filter=done & Q(completed_on__lte=F("due_date"))),
        "late": Count("id", filter=done & Q(completed_on__gt=F("due_date"))),
        # A cancelled event still in the report was cancelled after its due day (_counted): it was missed.
        "missed": Count("id", filter=(Q(status=CallStatus.OPEN) & past_due) | Q(status=CallStatus.CANCELLED)),
        "open_not_due": Count("id", filter=Q(status=CallStatus.OPEN) & ~past_due),
    }


# The order's moment that ended its events, by the reason they were cancelled with (services.call_events_close).
_CLOSED_AT = {
    CancelReason.ORDER_ISSUED: "order__issued_at",
    CancelReason.ORDER_CANCELLED: "order__cancelled_at",
    CancelReason.ORDER_RETURNED: "order__returned_at",
    CancelReason.PARTS_RECEIVED: "order__received_at",
}


def _counted(events: QuerySet[CallEvent], *, zones: dict[int, datetime.tzinfo]) -> QuerySet[CallEvent]:
    """R14: the events a report counts — all but those cancelled because their order moved on (issued, cancelled,
    returned, or for interim calls, every part arrived) on or before the day they were due. An event left open past
    its due day and cancelled later was a call due and never made: it stays in the report, as missed. The day the
    order moved on is its moment in the dealership's calendar."""
    closed_at = Case(
        *(When(cancel_reason=reason, then=F(path)) for reason, path in _CLOSED_AT.items()),
        output_field=DateTimeField(),
    )
    closed_on = Case(
        *(When(dealership_id=pk, then=TruncDate(closed_at, tzinfo=tz)) for pk, tz in zones.items()),
        output_field=DateField(),
    )
    # The cancelled events' orders are read once, for them alone (a set of ids): the other events are still answered
    # from the report index without their orders (joined to every event, the orders doubled the report's time).
    cancelled_late = (
        events.filter(status=CallStatus.CANCELLED)
        .alias(closed_on=closed_on)
        .filter(closed_on__gt=F("due_date"))
        .order_by()
        .values("pk")
    )
    return events.filter(~Q(status=CallStatus.CANCELLED) | Q(pk__in=cancelled_late))


def call_satisfaction(*, dealership, start: datetime.datetime, end: datetime.datetime) -> dict[int, tuple[int, int]]:
    """Issue 18 item 6: the satisfaction customers gave on calls completed in [start, end), per the call's assignee —
    the employee responsible for the order (its author), whoever made the call: {user id: (sum, count)}."""
    done = CallEvent.objects.filter(dealership=dealership, status=CallStatus.DONE)
    return satisfaction_totals(done, owner="assignee_id", at="completed_at", start=start, end=end)


def call_compliance(
    *,
    dealership_ids,
    date_from: datetime.date,
    date_to: datetime.date,
    today_by_dealership: dict[int, datetime.date],
    assignee_id: int | None = None,
    order_limit: int = 500,
) -> ComplianceReport:
    """R14: per employee and per order — events due in the range, done on time, late, missed (still open past due,
    or cancelled after the day it was due).

    Events cancelled because the order moved on by the day the call was due are not counted (``_counted``). A
    constant number of queries.
    """
    dealership_ids = list(dealership_ids)
    zones = {dealership.pk: dealership.tz for dealership in Dealership.objects.filter(pk__in=dealership_ids)}
    base = _counted(
        CallEvent.objects.filter(dealership_id__in=dealership_ids, due_date__gte=date_from, due_date__lte=date_to),
        zones=zones,
    )
    if assignee_id is not None:
        base = base.filter(assignee_id=assignee_id)
    past_due = Q(pk__in=[])
    for dealership_id, today in today_by_dealership.items():
        past_due |= Q(dealership_id=dealership_id, due_date__lt=today)
    agg = _aggregates(past_due=past_due)

    # One pass for the employees and their days (the chart), one for the orders; names come after, for the few
    # rows shown. The covering index callevent_report_idx answers both scans.
    daily: dict[int, dict[datetime.date, tuple[int, int, int]]] = defaultdict(dict)
    per_employee: dict[int, ComplianceRow] = {}
    for r in base.values("assignee_id", "due_date").annotate(**agg).order_by():
        row = per_employee.setdefault(r["assignee_id"], ComplianceRow(key=r["assignee_id"], label=""))
        for name, value in _counts(r).items():
            setattr(row, name, getattr(row, name) + value)
        daily[r["assignee_id"]][r["due_date"]] = (r["on_time"], r["late"], r["missed"])
    names = {u.pk: _full_name(u) for u in User.objects.filter(pk__in=list(per_employee))}
    for row in per_employee.values():
        row.label = names.get(row.key) or "?"
    employees = sorted(per_employee.values(), key=lambda row: row.label)

    by_order = list(base.values("order_id").annotate(**agg).order_by("-missed", "-late", "order_id")[:order_limit])
    numbers = dict(CustomerOrder.objects.filter(pk__in=[r["order_id"] for r in by_order]).values_list("pk", "number"))
    orders = [ComplianceRow(key=r["order_id"], label=numbers.get(r["order_id"], "?"), **_counts(r)) for r in by_order]
    days = [date_from + datetime.timedelta(days=n) for n in range((date_to - date_from).days + 1)]

    totals = ComplianceRow(key=0, label="")
    for row in employees:
        for name in ("due", "on_time", "late", "missed", "open_not_due"):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    return ComplianceReport(
        date_from=date_from, date_to=date_to, employees=employees, orders=orders, days=days, daily=daily, totals=totals
    )


def _counts(row: dict) -> dict:
    return {name: row[name] for name in ("due", "on_time", "late", "missed", "open_not_due")}


def call_history(*, customer=None, vehicle=None) -> QuerySet[CallEvent]:
    """Issue 14 item 3: the call-backs about the customer's (or the vehicle's) orders — the call log on the card."""
    from dms.core.history import open_first, subject_q

    qs = CallEvent.objects.filter(
        subject_q(customer=customer, vehicle=vehicle, customer_path="order__customer", vehicle_path="order__vehicle")
    ).select_related("order")
    return open_first(qs, open_q=Q(status=CallStatus.OPEN), newest="due_date")


def message_history(*, customer=None, vehicle=None):
    """Issue 14 item 3: the messages sent to the customer (for a vehicle: those about its orders)."""
    from dms.core.history import open_first, subject_q

    from .models import FINAL_DELIVERY_STATUSES, Delivery, DeliveryStatus

    qs = Delivery.objects.filter(
        subject_q(customer=customer, vehicle=vehicle, vehicle_path="event__order__vehicle")
    ).select_related("event")
    # Open: not yet final (queued, sending, or sent and waiting for the provider's report).
    still_open = ~Q(status__in=FINAL_DELIVERY_STATUSES) & ~Q(status=DeliveryStatus.UNKNOWN)
    return open_first(qs, open_q=still_open, newest="created_at")


# -- issue 17 item 3: the customer's message thread, message tasks, the staff list of customers' messages ----------
@dataclass(frozen=True)
class ThreadEntry:
    """One message of a thread, either way: ``incoming`` from the customer, else a message we sent."""

    kind: str  # "in" or "out"
    pk: int
    at: datetime.datetime
    channel: str
    channel_display: str
    body: str
    status: str
    status_display: str
    author: str | None
    event_id: int | None
    intent: str = ""
    intent_display: str = ""

    @property
    def incoming(self) -> bool:
        return self.kind == "in"


THREAD_ROWS = 20


def _thread(deliveries, inbound, limit: int | None) -> list[ThreadEntry]:
    deliveries = deliveries.select_related("author").order_by("-created_at", "-id")
    inbound = inbound.order_by("-received_at", "-id")
    if limit is not None:
        deliveries, inbound = deliveries[:limit], inbound[:limit]
    out = [
        ThreadEntry(
            kind="out",
            pk=d.pk,
            at=d.sent_at or d.created_at,
            channel=d.channel,
            channel_display=str(d.get_channel_display()),
            body=d.body,
            status=d.status,
            status_display=str(d.get_status_display()),
            author=_full_name(d.author),
            event_id=d.event_id,
        )
        for d in deliveries
    ]
    out += [
        ThreadEntry(
            kind="in",
            pk=m.pk,
            at=m.received_at,
            channel=m.channel,
            channel_display=str(m.get_channel_display()),
            body=m.body,
            status=m.status,
            status_display=str(m.get_status_display()),
            author=None,
            event_id=m.event_id,
            intent=m.intent,
            intent_display=str(m.get_intent_display()),
        )
        for m in inbound
    ]
    out.sort(key=lambda entry: (entry.at, entry.kind == "in", entry.pk))
    return out[-limit:] if limit is not None else out


def customer_thread(*, customer, limit: int | None = THREAD_ROWS) -> list[ThreadEntry]:
    """The messages between the customer and us, oldest first (the latest ``limit`` of each direction)."""
    return _thread(Delivery.objects.filter(customer=customer), InboundMessage.objects.filter(customer=customer), limit)


def event_thread(*, event, limit: int | None = THREAD_ROWS) -> list[ThreadEntry]:
    """The messages about one call event (its arrival message, the customer's replies, employees' answers)."""
    return _thread(Delivery.objects.filter(event=event), InboundMessage.objects.filter(event=event), limit)


def my_message_tasks(*, user, dealership: Dealership):
    """Customers' messages left to a person (issue 17 item 3): the user's, and those of the dealership nobody owns."""
    return (
        InboundMessage.objects.filter(dealership=dealership, status=InboundStatus.OPEN)
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .select_related("customer", "event__order")
        .order_by("received_at", "id")
    )


def inbound_list(*, dealership_ids, unmatched: bool = False):
    """Customers' messages in the user's dealerships; ``unmatched``: those from numbers no customer has (kept
    without a dealership, since nothing tells which dealership the sender meant)."""
    qs = InboundMessage.objects.select_related("customer", "assignee", "handled_by", "event__order")
    if unmatched:
        return qs.filter(customer__isnull=True).order_by("-received_at", "-id")
    return qs.filter(dealership_id__in=list(dealership_ids)).order_by("-received_at", "-id")
