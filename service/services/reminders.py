"""Issue 17 item 5: follow-ups from service — one mechanism (``ServiceReminder``), two reasons.

* Service that falls due by time or mileage raises a reminder — a message, or the advisor's call. The due period is
  the vehicle's last visit (its last delivered work order). Time: ``reminder_months`` after that visit. Mileage:
  ``reminder_km`` past that visit's reading, the current mileage estimated from the readings taken at reception (the
  km per day between the oldest and the newest reading). One reminder per vehicle and period (a unique constraint).
* Work the customer declined (R30) becomes the advisor's call ``declined_follow_up_days`` after the answer, unless
  the work was agreed on a later visit by then (the same job done after all). One per finding (one-to-one).

The daily beat task raises both and is idempotent; ``now`` is explicit for replays and tests. The advisor completes
the call with its outcome, a note and optionally the customer's satisfaction (issue 18 item 6).
"""

import calendar
import datetime
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.models import Dealership
from dms.core.tenancy import allowed_dealership_ids
from dms.core.validation import satisfaction_score
from notifications import services as notification_services

from .. import selectors
from ..models import (
    DUE_SERVICE_REASONS,
    FollowUpOutcome,
    InspectionFinding,
    ReminderReason,
    ReminderStatus,
    ServiceReminder,
    WorkOrder,
    WorkOrderJob,
    WorkOrderStatus,
)
from .common import _now

# Readings closer together than this say nothing reliable about how much the car is driven.
MIN_READING_SPAN_DAYS = 30


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Due:
    reason: str
    due_on: datetime.date
    estimated_mileage: int | None


def estimate_mileage(readings: list[tuple[datetime.date, int]], today: datetime.date) -> tuple[int, float] | None:
    """(estimated mileage today, km per day) from (day, km) readings, or None when they cannot tell."""
    readings = sorted(readings)
    if len(readings) < 2:
        return None
    (first_day, first_km), (last_day, last_km) = readings[0], readings[-1]
    span = (last_day - first_day).days
    if span < MIN_READING_SPAN_DAYS or last_km <= first_km:
        return None
    per_day = (last_km - first_km) / span
    return last_km + round(per_day * max((today - last_day).days, 0)), per_day


def service_due(
    *,
    visit_day: datetime.date,
    visit_km: int | None,
    readings: list[tuple[datetime.date, int]],
    today: datetime.date,
    months: int,
    km: int,
) -> Due | None:
    """Whether service is due by ``today`` after the visit, and by which rule first (None: not yet)."""
    dues: list[Due] = []
    estimate = estimate_mileage(readings, today)
    if months:
        due_on = add_months(visit_day, months)
        if due_on <= today:
            dues.append(Due(ReminderReason.TIME, due_on, estimate[0] if estimate else None))
    if km and visit_km is not None and estimate is not None:
        estimated, per_day = estimate
        target = visit_km + km
        if estimated >= target:
            last_day, last_km = max(readings)
            due_on = last_day + datetime.timedelta(days=max(math.ceil((target - last_km) / per_day), 0))
            dues.append(Due(ReminderReason.MILEAGE, min(due_on, today), estimated))
    return min(dues, key=lambda due: due.due_on) if dues else None


def _last_visits(dealership: Dealership):
    """Each vehicle's last delivered work order that has no reminder yet."""
    latest = (
        WorkOrder.objects.filter(vehicle=OuterRef("vehicle"), status=WorkOrderStatus.DELIVERED)
        .annotate(visited=Coalesce("delivered_at", "arrived_at", "created_at"))
        .order_by("-visited", "-id")
        .values("pk")[:1]
    )
    return (
        WorkOrder.objects.filter(dealership=dealership, status=WorkOrderStatus.DELIVERED, pk=Subquery(latest))
        .filter(~Exists(ServiceReminder.objects.filter(last_work_order=OuterRef("pk"), reason__in=DUE_SERVICE_REASONS)))
        .annotate(visited=Coalesce("delivered_at", "arrived_at", "created_at"))
        .select_related("vehicle", "customer")
        .order_by("pk")
    )


def _readings(vehicle, tz) -> list[tuple[datetime.date, int]]:
    return [
        (timezone.localtime(order.visited_at, tz).date(), order.mileage_in)
        for order in selectors.mileage_history(vehicle=vehicle).only("mileage_in", "arrived_at", "created_at")
    ]


def _message(reminder: ServiceReminder) -> tuple[str, str]:
    vehicle = reminder.vehicle
    with translation.override(notification_services.message_language(reminder.customer)):
        subject = _("Time for the service of your %(vehicle)s") % {"vehicle": f"{vehicle.make} {vehicle.model}"}
        body = _(
            "Hello! Your %(vehicle)s (%(plate)s) is due for service. Book a visit with %(dealership)s%(phone)s."
        ) % {
            "vehicle": f"{vehicle.make} {vehicle.model}",
            "plate": vehicle.plate or vehicle.vin,
            "dealership": reminder.dealership.name,
            "phone": f", {_('phone')} {reminder.dealership.phone}" if reminder.dealership.phone else "",
        }
    return subject, body


def _create_once(order: WorkOrder, **fields) -> ServiceReminder | None:
    """The follow-up for the advisor of ``order``; None when another run raised it first (the unique constraints)."""
    try:
        with transaction.atomic():
            return ServiceReminder.objects.create(
                dealership_id=order.dealership_id,
                vehicle_id=order.vehicle_id,
                customer_id=order.customer_id,
                last_work_order=order,
                assignee_id=order.advisor_id,
                status=ReminderStatus.CALL_DUE,
                **fields,
            )
    except IntegrityError:
        return None


def _raise(order: WorkOrder, due: Due) -> ServiceReminder | None:
    """One reminder for the period, with its message or its call; None when another run raised it first."""
    reminder = _create_once(order, reason=due.reason, due_on=due.due_on, estimated_mileage=due.estimated_mileage)
    if reminder is None:
        return None
    subject, body = _message(reminder)
    delivery = notification_services.customer_notify(
        actor=None, customer=order.customer, subject=subject, body=body, reference=f"service-due:{reminder.pk}"
    )
    if delivery is not None:
        reminder.delivery = delivery
        reminder.status = ReminderStatus.SENT
        reminder.save(update_fields=["delivery", "status", "updated_at"])
    events.record_created(actor=None, instance=reminder, fields=["reason", "due_on", "status", "estimated_mileage"])
    return reminder


def _dealerships(now: datetime.datetime):
    """The beat's walk: each dealership with its service settings and its local date at ``now``."""
    for dealership in Dealership.objects.all():
        today = timezone.localtime(now, dealership.tz).date()
        yield dealership, selectors.service_settings(dealership=dealership), today


def service_reminders_raise(*, now: datetime.datetime | None = None) -> int:
    """The daily beat: every vehicle whose service fell due gets its one reminder for the period."""
    raised = 0
    for dealership, settings_, today in _dealerships(_now(now)):
        if not settings_.reminder_months and not settings_.reminder_km:
            continue
        for order in _last_visits(dealership):
            due = service_due(
                visit_day=timezone.localtime(order.visited, dealership.tz).date(),
                visit_km=order.mileage_in,
                readings=_readings(order.vehicle, dealership.tz),
                today=today,
                months=settings_.reminder_months,
                km=settings_.reminder_km,
            )
            if due is not None:
                with transaction.atomic():
                    raised += _raise(order, due) is not None
    return raised


def _declined_due(dealership: Dealership, *, days: int, today: datetime.date):
    """The dealership's findings declined at least ``days`` days before ``today`` that have no follow-up yet and were
    not agreed on a later visit of the vehicle (a job of the same description, in the order or agreed: R30)."""
    cutoff = datetime.datetime.combine(
        today - datetime.timedelta(days=days - 1), datetime.time.min, tzinfo=dealership.tz
    )
    agreed_later = WorkOrderJob.objects.annotate(text=Lower("description")).filter(
        work_order__vehicle=OuterRef("work_order__vehicle"),
        work_order__created_at__gt=OuterRef("job__consent_at"),
        consent__in=WorkOrderJob.DOABLE,
        text=Lower(OuterRef("job__description")),
    )
    return (
        selectors.declined_findings()
        .filter(work_order__dealership=dealership, job__consent_at__lt=cutoff)
        .filter(~Exists(ServiceReminder.objects.filter(finding=OuterRef("pk"))), ~Exists(agreed_later))
        .select_related("work_order")
        .order_by("pk")
    )


def _raise_declined(finding: InspectionFinding, *, days: int, tz) -> ServiceReminder | None:
    answered_on = timezone.localtime(finding.job.consent_at, tz).date()
    reminder = _create_once(
        finding.work_order,
        reason=ReminderReason.DECLINED,
        finding=finding,
        due_on=answered_on + datetime.timedelta(days=days),
    )
    if reminder is not None:
        events.record_created(actor=None, instance=reminder, fields=["reason", "finding", "due_on", "status"])
    return reminder


def declined_follow_ups_raise(*, now: datetime.datetime | None = None) -> int:
    """The daily beat: each finding declined ``declined_follow_up_days`` ago becomes its advisor's one call."""
    raised = 0
    for dealership, settings_, today in _dealerships(_now(now)):
        days = settings_.declined_follow_up_days
        if not days:
            continue
        for finding in _declined_due(dealership, days=days, today=today):
            with transaction.atomic():
                raised += _raise_declined(finding, days=days, tz=dealership.tz) is not None
    return raised


def service_follow_ups_raise(*, now: datetime.datetime | None = None) -> int:
    """The daily beat of both reasons (``raise_service_reminders``)."""
    now = _now(now)
    return service_reminders_raise(now=now) + declined_follow_ups_raise(now=now)


@transaction.atomic
def service_reminder_called(
    *,
    actor,
    reminder: ServiceReminder,
    outcome: str = FollowUpOutcome.REACHED,
    note: str = "",
    satisfaction: int | str | None = None,
    now: datetime.datetime | None = None,
) -> ServiceReminder:
    """The advisor called the customer about the service that fell due or the work they declined: the outcome, a note
    and, optionally, the customer's satisfaction (1–5)."""
    if reminder.dealership_id not in allowed_dealership_ids(actor):
        raise ValidationError({"reminder": _("Unknown reminder.")})
    reminder = ServiceReminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status != ReminderStatus.CALL_DUE:
        raise ConflictError(_("This reminder needs no call."))
    note = (note or "").strip()
    errors = {}
    if outcome not in FollowUpOutcome.values:
        errors["outcome"] = _("Choose the outcome of the call.")
    if len(note) > 300:
        errors["note"] = _("At most 300 characters.")
    try:
        satisfaction = satisfaction_score(satisfaction)
    except ValidationError as error:
        errors.update({key: value[0] for key, value in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    reminder.status = ReminderStatus.CALLED
    reminder.called_at = _now(now)
    reminder.called_by = actor
    reminder.outcome = outcome
    reminder.note = note
    reminder.satisfaction = satisfaction
    reminder.save(update_fields=["status", "called_at", "called_by", "outcome", "note", "satisfaction", "updated_at"])
    events.record(
        actor=actor,
        instance=reminder,
        action="action",
        # issue 14 item 8: the outcome's label kept as its msgid, so each reader sees it in their language
        message=events.text(gettext_noop("called: %(outcome)s"), outcome=FollowUpOutcome(outcome).label),
    )
    return reminder
