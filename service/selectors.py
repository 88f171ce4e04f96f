"""Reads of the service department, always scoped to dealerships."""

import datetime
import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.core import roles as core_roles
from dms.core.filters import filter_given
from dms.core.models import Dealership, Vehicle
from dms.core.search import text_search
from dms.core.selectors import PICKER_LIMIT, picker_matches, satisfaction_totals

from . import scheduling
from .models import (
    ACTIVE_APPOINTMENT_STATUSES,
    MAX_CUSTOMERS_PER_HOUR,
    Appointment,
    AppointmentConfirmation,
    AppointmentSlot,
    AppointmentStatus,
    ConfirmationStatus,
    DayOff,
    Loaner,
    LoanerReservation,
    RecallCampaign,
    RecallCampaignVin,
    ReminderStatus,
    ServiceReminder,
    ServiceSettings,
    WorkingHours,
    WorkOrder,
    WorkOrderJob,
    WorkOrderStatus,
)

User = get_user_model()

# R19: the confirmation goes out 24 hours before the appointment.
CONFIRMATION_LEAD = datetime.timedelta(hours=24)


def service_settings(*, dealership: Dealership) -> ServiceSettings:
    obj = ServiceSettings.objects.filter(dealership=dealership).first()
    if obj is None:
        obj, _created = ServiceSettings.objects.get_or_create(dealership=dealership)
    return obj


def advisors(*, dealership: Dealership) -> QuerySet:
    return (
        User.objects.filter(
            is_active=True, groups__name=core_roles.SERVICE_ADVISOR, staff_profile__dealerships=dealership
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def open_recalls_for_vin(*, dealership: Dealership, vin: str) -> QuerySet[RecallCampaign]:
    """R15: open recall campaigns covering the VIN by range or by list."""
    vin = (vin or "").upper()
    return (
        RecallCampaign.objects.filter(dealership=dealership, is_open=True)
        .filter(Q(vins__vin=vin) | Q(vin_from__lte=vin, vin_to__gte=vin, vin_from__gt=""))
        .distinct()
        .order_by("code")
    )


def recall_campaign_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[RecallCampaign]:
    # the list shows each campaign's VIN count: one subquery, not a COUNT per row (issue 19)
    vins = RecallCampaignVin.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    qs = RecallCampaign.objects.filter(dealership_id__in=list(dealership_ids)).annotate(
        vin_count=Coalesce(Subquery(vins.annotate(n=Count("pk")).values("n")), 0)
    )
    # a campaign's VINs are tested per campaign (dms.core.search): no join, no DISTINCT over every matching VIN
    return text_search(qs, search, "code", "title", "vins__vin")


def appointment_list(
    *,
    dealership_ids: Iterable[int],
    search: str = "",
    advisor_id: int | None = None,
    status: str = "",
    date_from: datetime.datetime | None = None,
    date_to: datetime.datetime | None = None,
) -> QuerySet[Appointment]:
    qs = _of_dealerships(Appointment, dealership_ids, status=status, advisor_id=advisor_id)
    qs = qs.select_related("planned_kind")  # the API names each visit's kind of job (issue 18 item 3)
    qs = filter_given(qs, starts_at__gte=date_from, starts_at__lt=date_to)
    return text_search(qs, search, *CUSTOMER_OR_VEHICLE, "reason")


def _of_dealerships(model, dealership_ids: Iterable[int], *, status: str, advisor_id: int | None) -> QuerySet:
    """An appointment's or a work order's rows of the dealerships, by status and advisor when given."""
    qs = model.objects.filter(dealership_id__in=list(dealership_ids)).select_related(
        "advisor", "customer", "vehicle", "dealership"
    )
    return filter_given(qs, advisor_id=advisor_id, status=status)


# An appointment's or a work order's search: the customer's name, the VIN or the plate.
CUSTOMER_OR_VEHICLE = ("customer__name", "vehicle__vin", "vehicle__plate")


def working_hours_for(*, advisor, day: datetime.date) -> WorkingHours | None:
    if DayOff.objects.filter(advisor=advisor, date=day).exists():
        return None
    return WorkingHours.objects.filter(advisor=advisor, weekday=day.weekday()).first()


def advisor_day_slots(*, dealership: Dealership, advisor, day: datetime.date, now=None) -> list[dict]:
    """The advisor's 15-minute grid for one day: each cell free or taken, and whether its hour is full (R16)."""
    now = now or timezone.now()
    tz = dealership.tz
    hours = working_hours_for(advisor=advisor, day=day)
    if hours is None:
        return []
    cells = scheduling.day_grid(day, hours.starts_at, hours.ends_at, tz)
    start, end = scheduling.day_bounds(day, tz)
    taken = {
        s.starts_at: s
        for s in AppointmentSlot.objects.filter(
            advisor=advisor, starts_at__gte=start, starts_at__lt=end
        ).select_related("appointment__customer", "appointment__vehicle")
    }
    per_hour: dict[int, int] = {}
    for appointment in Appointment.objects.filter(
        advisor=advisor, status__in=ACTIVE_APPOINTMENT_STATUSES, starts_at__gte=start, starts_at__lt=end
    ):
        hour = scheduling.local(appointment.starts_at, tz).hour
        per_hour[hour] = per_hour.get(hour, 0) + 1
    result = []
    for cell in cells:
        slot = taken.get(cell)
        local = scheduling.local(cell, tz)
        hour_full = per_hour.get(local.hour, 0) >= MAX_CUSTOMERS_PER_HOUR
        result.append(
            {
                "starts_at": cell,
                "time": local.strftime("%H:%M"),
                "free": slot is None and cell > now,
                "bookable": slot is None and cell > now and not hour_full,
                "hour_full": hour_full,
                "kind": slot.kind if slot else "",
                "appointment": slot.appointment if slot else None,
            }
        )
    return result


def calendar_week(*, dealership: Dealership, advisor, monday: datetime.date) -> list[dict]:
    tz = dealership.tz
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    start, _end = scheduling.day_bounds(days[0], tz)
    _start, end = scheduling.day_bounds(days[-1], tz)
    appointments = list(
        Appointment.objects.filter(
            advisor=advisor, starts_at__gte=start, starts_at__lt=end, status__in=ACTIVE_APPOINTMENT_STATUSES
        ).select_related("customer", "vehicle")
    )
    result = []
    for day in days:
        hours = working_hours_for(advisor=advisor, day=day)
        result.append(
            {
                "date": day,
                "hours": hours,
                "appointments": [a for a in appointments if scheduling.local(a.starts_at, tz).date() == day],
            }
        )
    return result


# R25: who gets a personal interview at reception.
INTERVIEW_NEW_CAR = "new_car"
INTERVIEW_WARRANTY_ENDING = "warranty_ending"
INTERVIEW_OUT_OF_WARRANTY = "out_of_warranty"
INTERVIEW_COMPLAINT_3_DAYS = "complaint_3_days"
INTERVIEW_VIP = "vip"
INTERVIEW_MAX_PREVIOUS = 2  # "except those already interviewed more than twice"
NEW_CAR_DAYS = 365
WARRANTY_ENDING_KM = 5000


def previous_interviews(*, customer) -> int:
    return WorkOrder.objects.filter(customer=customer, interview_done_at__isnull=False).count()


def interview_reasons(*, dealership: Dealership, customer, vehicle, now=None) -> list[str]:
    now = now or timezone.now()
    if previous_interviews(customer=customer) > INTERVIEW_MAX_PREVIOUS:
        return []
    today = timezone.localtime(now, dealership.tz).date()
    window = service_settings(dealership=dealership).warranty_ending_days
    reasons = []
    if vehicle.warranty_start and (today - vehicle.warranty_start).days <= NEW_CAR_DAYS:
        reasons.append(INTERVIEW_NEW_CAR)
    limit = vehicle.warranty_mileage_limit
    expired = (vehicle.warranty_end is not None and vehicle.warranty_end < today) or (
        limit is not None and vehicle.mileage > limit
    )
    if expired:
        reasons.append(INTERVIEW_OUT_OF_WARRANTY)
    elif (vehicle.warranty_end is not None and (vehicle.warranty_end - today).days <= window) or (
        limit is not None and limit - vehicle.mileage <= WARRANTY_ENDING_KM
    ):
        reasons.append(INTERVIEW_WARRANTY_ENDING)
    recent = WorkOrder.objects.filter(
        vehicle=vehicle,
        status=WorkOrderStatus.DELIVERED,
        delivered_at__gte=now - datetime.timedelta(days=3),
        delivered_at__lte=now,
    )
    if recent.exists():
        reasons.append(INTERVIEW_COMPLAINT_3_DAYS)
    if customer.is_vip:
        reasons.append(INTERVIEW_VIP)
    return reasons


def appointments_due_for_preparation(*, dealership_ids: Iterable[int], now=None) -> QuerySet[Appointment]:
    """R17: active appointments arriving within the next 48 hours that are not prepared yet."""
    now = now or timezone.now()
    return appointment_list(dealership_ids=dealership_ids).filter(
        status__in=ACTIVE_APPOINTMENT_STATUSES[:3],
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(hours=48),
        prepared_at__isnull=True,
    )


def workorder_list(
    *, dealership_ids: Iterable[int], search: str = "", status: str = "", advisor_id: int | None = None
) -> QuerySet[WorkOrder]:
    qs = _of_dealerships(WorkOrder, dealership_ids, status=status, advisor_id=advisor_id)
    return text_search(qs, search, "number", *CUSTOMER_OR_VEHICLE)


# Issue 19: a column of the board shows its first cards; the rest are a link to the work order list of that status.
# A dealership whose old work orders were never closed drew 100,000 cards in one page (22 s).
BOARD_COLUMN_CARDS = 50


def workshop_board(*, dealership: Dealership, now=None) -> list[dict]:
    """Today's cars by status: the open work orders and those delivered today. R10: cars on the waiting lot whose
    parts arrived today come first in each column, then by arrival. Each column holds its first
    ``BOARD_COLUMN_CARDS`` cards (``orders``), how many it has in all (``total``) and how many are not shown
    (``more``)."""
    now = now or timezone.now()
    today = timezone.localtime(now, dealership.tz).date()
    start, end = scheduling.day_bounds(today, dealership.tz)
    on_board = WorkOrder.objects.filter(dealership=dealership).filter(
        Q(status__in=[s for s in WorkOrderStatus.values if s != WorkOrderStatus.DELIVERED])
        | Q(delivered_at__gte=start, delivered_at__lt=end)
    )
    totals = dict(on_board.order_by().values_list("status").annotate(cards=Count("id")))
    # R10 read first, once: the cards whose car waits on the lot and whose parts all arrived today (the customer
    # order's full receipt, in the dealership's day) — a few ids, so that each column then sorts its own rows and
    # reads its first cards only (joined in each column's query, every customer order was hashed seven times).
    arrived_today = list(
        on_board.filter(
            on_waiting_lot=True, customer_order__received_at__gte=start, customer_order__received_at__lt=end
        ).values_list("pk", flat=True)
    )
    cards = (
        on_board.select_related("customer", "vehicle", "advisor", "appointment")
        .annotate(
            parts_arrived_today=Case(When(pk__in=arrived_today, then=Value(True)), default=Value(False)),
            board_time=Coalesce("arrived_at", "created_at"),
        )
        # then the list's own order (Meta.ordering), as the board's stable sort kept it
        .order_by("-parts_arrived_today", "board_time", "-created_at", "-id")
    )
    columns = []
    for value, label in WorkOrderStatus.choices:
        total = totals.get(value, 0)
        orders = list(cards.filter(status=value)[:BOARD_COLUMN_CARDS]) if total else []
        columns.append({"status": value, "label": label, "orders": orders, "total": total, "more": total - len(orders)})
    return columns


def loaner_list(*, dealership_ids: Iterable[int], search: str = "") -> QuerySet[Loaner]:
    qs = Loaner.objects.filter(dealership_id__in=list(dealership_ids))
    return text_search(qs, search, "plate", "make", "model")


def loaners_free(*, dealership: Dealership, starts_on: datetime.date, ends_on: datetime.date) -> QuerySet[Loaner]:
    busy = LoanerReservation.objects.filter(
        loaner__dealership=dealership,
        status=LoanerReservation.Status.RESERVED,
        starts_on__lte=ends_on,
        ends_on__gte=starts_on,
    ).values("loaner_id")
    return Loaner.objects.filter(dealership=dealership, is_active=True).exclude(pk__in=busy)


def confirmation_calls(*, dealership_ids: Iterable[int], user=None) -> QuerySet[AppointmentConfirmation]:
    qs = AppointmentConfirmation.objects.filter(
        dealership_id__in=list(dealership_ids),
        status__in=[ConfirmationStatus.CALL_DUE, ConfirmationStatus.RESCHEDULE, ConfirmationStatus.UNREACHABLE],
        appointment__status__in=ACTIVE_APPOINTMENT_STATUSES[:3],
    ).select_related("appointment__customer", "appointment__vehicle", "assigned_to")
    if user is not None:
        qs = qs.filter(assigned_to=user)
    return qs.order_by("appointment__starts_at")


def workorder_quality_state(work_order: WorkOrder) -> dict:
    """R31 / issue 14 item 6: which jobs wait for rework, which for the quality check, which have passed."""
    jobs = [job for job in work_order.jobs.all() if job.consent in WorkOrderJob.DOABLE]
    passed = WorkOrderJob.QualityStatus.PASSED
    return {
        "rework": [job for job in jobs if job.quality_status == WorkOrderJob.QualityStatus.REWORK and not job.done_at],
        "waiting_qc": [job for job in jobs if job.quality_status != passed and job.done_at],
        "passed": [job for job in jobs if job.quality_status == passed],
    }


def workorder_next_step(work_order: WorkOrder) -> str:
    """What comes next for the work order, naming the jobs (issue 14 item 6: the next-step card always says it)."""
    state = workorder_quality_state(work_order)

    def names(jobs) -> str:
        return ", ".join(f"«{job.description}»" for job in jobs)

    status = work_order.status
    if status == WorkOrderStatus.IN_REPAIR and state["rework"]:
        text = _("Rework: %(jobs)s; then the technician's self-check and the quality check of these jobs.") % {
            "jobs": names(state["rework"])
        }
        if state["passed"]:
            text += " " + _("Passed already: %(jobs)s.") % {"jobs": names(state["passed"])}
        return text
    if status == WorkOrderStatus.IN_REPAIR:
        return _("Repair, then the technician's self-check and the quality check.")
    if status == WorkOrderStatus.QUALITY_CHECK:
        text = _("Waiting for the quality check: %(jobs)s.") % {"jobs": names(state["waiting_qc"])}
        if state["passed"]:
            text += " " + _("Passed already: %(jobs)s.") % {"jobs": names(state["passed"])}
        return text
    if status == WorkOrderStatus.OPENED:
        return _("Reception of the car, then diagnosis.") if not work_order.arrived_at else _("Diagnosis.")
    if status in (WorkOrderStatus.DIAGNOSIS, WorkOrderStatus.AWAITING_APPROVAL):
        return _("The customer's consent to extra work, then the repair.")
    if status == WorkOrderStatus.READY:
        return _("Delivery: the customer signs for the car.")
    return _("Delivered.")


def appointment_history(*, customer=None, vehicle=None) -> QuerySet[Appointment]:
    """Issue 14 item 3: the card's appointments; open: still to come (booked, confirmed, asking to move)."""
    from dms.core.history import open_first, subject_q

    from .models import AppointmentStatus

    upcoming = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE)
    qs = Appointment.objects.filter(subject_q(customer=customer, vehicle=vehicle)).select_related("vehicle")
    return open_first(qs, open_q=Q(status__in=upcoming), newest="starts_at")


def workorder_history(*, customer=None, vehicle=None) -> QuerySet[WorkOrder]:
    """Issue 14 item 3: the card's work orders; open until the car is handed back."""
    from dms.core.history import open_first, subject_q

    qs = WorkOrder.objects.filter(subject_q(customer=customer, vehicle=vehicle)).select_related("vehicle")
    return open_first(qs, open_q=~Q(status=WorkOrderStatus.DELIVERED), newest="created_at")


def mileage_history(*, vehicle) -> QuerySet[WorkOrder]:
    """Issue 14 item 3: the vehicle's visits with the mileage read at reception, newest first (the card shows them
    in date order)."""
    from django.db.models.functions import Coalesce

    return (
        WorkOrder.objects.filter(dealership_id=vehicle.dealership_id, vehicle=vehicle, mileage_in__isnull=False)
        .annotate(visited_at=Coalesce("arrived_at", "created_at"))
        .order_by("-visited_at", "-id")
    )


def loaner_history(*, today: datetime.date, customer=None, vehicle=None) -> QuerySet[LoanerReservation]:
    """Issue 14 item 3: the card's loans; open: reserved and not yet over."""
    from dms.core.history import open_first, subject_q

    qs = LoanerReservation.objects.filter(
        subject_q(customer=customer, vehicle=vehicle, vehicle_path="appointment__vehicle")
    ).select_related("loaner")
    still_on = Q(status=LoanerReservation.Status.RESERVED, ends_on__gte=today)
    return open_first(qs, open_q=still_on, newest="starts_on")


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _reason_words(text: str) -> set[str]:
    # Crude stemming for Russian and English: significant words cut to 5 letters.
    return {w[:5] for w in _WORD_RE.findall((text or "").lower()) if len(w) >= 4}


def same_reason(a: str, b: str) -> bool:
    wa, wb = _reason_words(a), _reason_words(b)
    if not wa or not wb:
        return (a or "").strip().lower() == (b or "").strip().lower()
    return len(wa & wb) * 2 >= min(len(wa), len(wb))


def find_repeat_visit(
    *, dealership: Dealership, vehicle: Vehicle, reason: str, starts_at: datetime.datetime, exclude_pk=None
):
    """R15: an earlier visit of the same vehicle for the same problem within the dealership's period."""
    days = service_settings(dealership=dealership).repeat_visit_days
    earlier = (
        Appointment.objects.filter(
            dealership=dealership,
            vehicle=vehicle,
            starts_at__lt=starts_at,
            starts_at__gte=starts_at - datetime.timedelta(days=days),
        )
        # a cancelled booking or a no-show was never a visit (R15: a rebooking after a no-show is not a repeat)
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .order_by("-starts_at")
    )
    if exclude_pk:
        earlier = earlier.exclude(pk=exclude_pk)
    for previous in earlier:
        if same_reason(previous.reason, reason):
            return previous
    return None


def jobs_waiting_for_quality_check(work_order: WorkOrder) -> list[WorkOrderJob]:
    """The agreed jobs that have not passed yet: after a rework only the failed jobs (issue 14 item 6)."""
    return [job for job in work_order.doable_jobs() if job.quality_status != WorkOrderJob.QualityStatus.PASSED]


def appointments_due_for_confirmation(*, now: datetime.datetime):
    """Active appointments starting within the next 24 hours (exactly 24 h ahead included) not yet confirmed."""
    return Appointment.objects.filter(
        status=AppointmentStatus.BOOKED,
        starts_at__gt=now,
        starts_at__lte=now + CONFIRMATION_LEAD,
        confirmation_sent_at__isnull=True,
    )


def job_search(
    *, dealership_id: int, query: str, work_order_id: int | None = None, limit: int = 20
) -> list[WorkOrderJob]:
    """The job picker (issue 14 item 4): jobs of the dealership's work orders, only the chosen work order's when one
    is given (a warranty claim names a job of its own work order), newest work orders first."""
    qs = WorkOrderJob.objects.filter(work_order__dealership_id=dealership_id)
    if work_order_id is not None:
        qs = qs.filter(work_order_id=work_order_id)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(description__icontains=query) | Q(work_order__number__icontains=query))
    return list(
        qs.select_related("work_order")
        .only("id", "description", "work_order_id", "work_order__number")
        .order_by("-work_order_id", "id")[:limit]
    )


HANDOVER_SEARCH_DAYS = 14


def first_free_handover(
    *,
    dealership: Dealership,
    advisor,
    starts_at: datetime.datetime,
    duration_minutes: int,
    now: datetime.datetime | None = None,
) -> datetime.datetime | None:
    """The first free cell of the advisor's grid once the reception's slots end (R16: a hand-over slot per job), on
    the arrival day or the next working days; None when the next two weeks hold none."""
    ends_at = starts_at + datetime.timedelta(minutes=duration_minutes)
    first_day = scheduling.local(ends_at, dealership.tz).date()
    for offset in range(HANDOVER_SEARCH_DAYS):
        day = first_day + datetime.timedelta(days=offset)
        for cell in advisor_day_slots(dealership=dealership, advisor=advisor, day=day, now=now):
            if cell["free"] and cell["starts_at"] >= ends_at:
                return cell["starts_at"]
    return None


# --------------------------------------------------------------------------------------------------------------
# Issue 17: the customer's status page and inspection findings
# --------------------------------------------------------------------------------------------------------------
# The work order's stages as the customer sees its progress (R30/R31 in between).
CUSTOMER_STAGES = (
    WorkOrderStatus.OPENED,
    WorkOrderStatus.DIAGNOSIS,
    WorkOrderStatus.AWAITING_APPROVAL,
    WorkOrderStatus.IN_REPAIR,
    WorkOrderStatus.QUALITY_CHECK,
    WorkOrderStatus.READY,
)


def finding_list(*, dealership_ids: Iterable[int], work_order_id: int | None = None) -> QuerySet:
    from .models import InspectionFinding

    qs = InspectionFinding.objects.filter(work_order__dealership_id__in=list(dealership_ids)).select_related(
        "job", "work_order"
    )
    return filter_given(qs, work_order_id=work_order_id).prefetch_related("photos", "consents")


def declined_findings(*, vehicle=None, customer=None) -> QuerySet:
    """Findings the customer declined (issue 17): they stay on the vehicle's card as recommendations."""
    from .models import InspectionFinding

    qs = InspectionFinding.objects.filter(job__consent=WorkOrderJob.Consent.DECLINED).select_related(
        "work_order__vehicle", "job"
    )
    if vehicle is not None:
        qs = qs.filter(work_order__vehicle=vehicle)
    if customer is not None:
        qs = qs.filter(work_order__customer=customer)
    return qs.order_by("-job__consent_at", "-id")


def _order_rows(customer, today: datetime.date) -> list[dict]:
    from notifications.models import UNCOLLECTED_AFTER_DAYS
    from orders.models import OPEN_STATUSES, CustomerOrder, OrderStatus
    from orders.promises import order_revised_expected_date

    rows = []
    orders = (
        CustomerOrder.objects.filter(customer=customer, status__in=OPEN_STATUSES)
        .select_related("dealership", "supplier_order__supplier")
        .prefetch_related("lines__part")
        .order_by("-created_at")
    )
    for order in orders:
        tz = order.dealership.tz
        arrived = [line for line in order.lines.all() if line.quantity_received > 0]
        collect_until = None
        if order.status == OrderStatus.RECEIVED and order.received_at:
            # the supplier's return window (issue 15 item 8), else the 30-day rule after which parts are chased
            collect_until = order.return_deadline() or timezone.localtime(order.received_at, tz).date() + (
                datetime.timedelta(days=UNCOLLECTED_AFTER_DAYS)
            )
        rows.append(
            {
                "order": order,
                "promised": order.expected_at,
                "revised": order_revised_expected_date(order),
                "arrived": arrived,
                "lines": list(order.lines.all()),
                "collect_until": collect_until,
                "ready": order.status == OrderStatus.RECEIVED,
            }
        )
    return rows


def customer_status(*, customer, now: datetime.datetime | None = None) -> dict:
    """Everything the status page shows a customer (issue 17): open customer orders, open work orders with their
    stages, estimate and findings, upcoming appointments."""
    from .models import ACTIVE_APPOINTMENT_STATUSES, Appointment, AppointmentStatus

    now = now or timezone.now()
    today = timezone.localtime(now, customer.dealership.tz).date()
    work_orders = []
    for work_order in (
        WorkOrder.objects.filter(customer=customer)
        .exclude(status=WorkOrderStatus.DELIVERED)
        .select_related("vehicle")
        .prefetch_related("jobs__parts", "findings__photos", "findings__job", "findings__consents")
        .order_by("-created_at")
    ):
        stage = CUSTOMER_STAGES.index(work_order.status) if work_order.status in CUSTOMER_STAGES else 0
        work_orders.append(
            {
                "work_order": work_order,
                "stages": [
                    {"label": status.label, "done": i < stage, "current": i == stage}
                    for i, status in enumerate(CUSTOMER_STAGES)
                ],
                "jobs": [
                    {"description": job.description, "amount": job.labour_amount + job.parts_amount}
                    for job in work_order.doable_jobs()
                ],
                "findings": [f for f in work_order.findings.all() if f.sent_at is not None or not f.needs_decision],
            }
        )
    appointments = (
        Appointment.objects.filter(
            customer=customer, status__in=ACTIVE_APPOINTMENT_STATUSES, starts_at__gte=now - datetime.timedelta(hours=12)
        )
        .exclude(status=AppointmentStatus.ARRIVED)
        .select_related("vehicle", "dealership")
        .order_by("starts_at")
    )
    return {
        "orders": _order_rows(customer, today),
        "work_orders": work_orders,
        "appointments": list(appointments),
        "today": today,
    }


def reminder_calls_due(*, user, dealership) -> QuerySet:
    """Issue 17 item 5: the advisor's follow-ups (service due, declined work) that need a call, oldest due first."""
    return (
        ServiceReminder.objects.filter(dealership=dealership, assignee=user, status=ReminderStatus.CALL_DUE)
        .select_related("vehicle", "customer", "finding")
        .order_by("due_on", "id")
    )


def follow_up_list(*, dealership_ids) -> QuerySet:
    """Issue 17 item 5: the follow-ups from service (service due, declined work) of the dealerships, open calls
    first by due date."""
    return (
        ServiceReminder.objects.filter(dealership_id__in=dealership_ids)
        .select_related("assignee", "called_by", "finding")
        .order_by("due_on", "id")
    )


def follow_up_satisfaction(
    *, dealership, start: datetime.datetime, end: datetime.datetime
) -> dict[int, tuple[int, int]]:
    """Issue 18 item 6: the satisfaction customers gave on follow-up calls (service due, declined work) made in
    [start, end), per the follow-up's advisor (of the visit the customer was served on): {user id: (sum, count)}."""
    called = ServiceReminder.objects.filter(dealership=dealership, status=ReminderStatus.CALLED)
    return satisfaction_totals(called, owner="assignee_id", at="called_at", start=start, end=end)


def reminder_history(*, customer=None, vehicle=None) -> QuerySet:
    """Issue 17 item 5: the card's service reminders; open: a call still due."""
    from dms.core.history import open_first, subject_q

    qs = ServiceReminder.objects.filter(subject_q(customer=customer, vehicle=vehicle)).select_related(
        "vehicle", "finding__work_order"
    )
    return open_first(qs, open_q=Q(status=ReminderStatus.CALL_DUE), newest="due_on")


# -- issue 17 item 4: the public booking page ------------------------------------------------------------------
# The customer picks a time, not an advisor: a time is offered when at least one advisor's grid has it bookable
# (free, in their hours, its hour not full — R16, the same cells the appointment book shows).
ONLINE_BOOKING_DAYS = 30  # how far ahead the page offers days
ONLINE_BOOKING_LEAD = datetime.timedelta(hours=1)  # the earliest arrival: an hour from now


def online_booking_enabled(*, dealership: Dealership) -> bool:
    return ServiceSettings.objects.filter(dealership=dealership, online_booking=True).exists()


def online_booking_window(*, dealership: Dealership, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    today = timezone.localtime(now, dealership.tz).date()
    return today, today + datetime.timedelta(days=ONLINE_BOOKING_DAYS - 1)


def online_booking_advisors_for(
    *, dealership: Dealership, starts_at: datetime.datetime, now: datetime.datetime
) -> list:
    """The advisors whose grid has this cell bookable, the least busy that day first (the online booking's pick)."""
    day = scheduling.local(starts_at, dealership.tz).date()
    first, last = online_booking_window(dealership=dealership, now=now)
    if starts_at < now + ONLINE_BOOKING_LEAD or not first <= day <= last:
        return []
    found = []
    for advisor in advisors(dealership=dealership):
        cells = advisor_day_slots(dealership=dealership, advisor=advisor, day=day, now=now)
        if any(c["starts_at"] == starts_at and c["bookable"] for c in cells):
            found.append((sum(1 for c in cells if c["appointment"] is not None), advisor.pk, advisor))
    return [advisor for _busy, _pk, advisor in sorted(found, key=lambda row: row[:2])]


def online_booking_slots(*, dealership: Dealership, day: datetime.date, now: datetime.datetime) -> list[dict]:
    """The times of a day a customer may book: ``{"starts_at", "time"}`` in the dealership's zone, in order."""
    first, last = online_booking_window(dealership=dealership, now=now)
    if not first <= day <= last:
        return []
    times: dict[datetime.datetime, str] = {}
    for advisor in advisors(dealership=dealership):
        for cell in advisor_day_slots(dealership=dealership, advisor=advisor, day=day, now=now):
            if cell["bookable"] and cell["starts_at"] >= now + ONLINE_BOOKING_LEAD:
                times[cell["starts_at"]] = cell["time"]
    return [{"starts_at": starts_at, "time": times[starts_at]} for starts_at in sorted(times)]


def online_booking_first_day(*, dealership: Dealership, now: datetime.datetime) -> datetime.date:
    """The first day of the window with a bookable time (the page opens on it); today when none has."""
    first, last = online_booking_window(dealership=dealership, now=now)
    day = first
    while day <= last:
        if online_booking_slots(dealership=dealership, day=day, now=now):
            return day
        day += datetime.timedelta(days=1)
    return first


def open_work_orders() -> QuerySet[WorkOrder]:
    """The work orders whose car has not left (every dealership's): what a parts requisition may still be made for
    (the ``service.OpenWorkOrder`` reference target, see ``apps.py``) and what the open-work-order picker searches."""
    return WorkOrder.objects.exclude(status=WorkOrderStatus.DELIVERED)


def open_work_order_search(
    *, dealership_id: int, query: str, customer_id: int | None = None, limit: int = PICKER_LIMIT
) -> list[WorkOrder]:
    """The open-work-order picker (a parts requisition's work order): by number, customer name, VIN or plate, the
    chosen customer's only when one is given, newest first; one query with the LIMIT inside it (100,000 work orders
    were each an <option> of the requisition form)."""
    qs = picker_matches(
        open_work_orders().filter(dealership_id=dealership_id),
        query=query,
        fields=["number", *CUSTOMER_OR_VEHICLE],
        customer_id=customer_id,
    )
    return list(
        qs.select_related("customer", "vehicle")
        .only("id", "number", "status", "customer_id", "customer__name", "vehicle_id", "vehicle__vin", "vehicle__plate")
        .order_by("-created_at", "-id")[:limit]
    )
