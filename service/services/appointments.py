"""Appointments (R15, R16): booking on the advisor's 15-minute grid, moving, cancelling, no-shows."""

import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.formatting import short_date, short_datetime
from dms.core.models import Customer, Dealership, Vehicle
from dms.core.transitions import is_available
from dms.core.validation import check_owned
from dms.core.validators import ensure_vehicle_of_customer

from .. import scheduling, selectors
from ..models import (
    ACTIVE_APPOINTMENT_STATUSES,
    MAX_CUSTOMERS_PER_HOUR,
    SLOT,
    SLOT_MINUTES,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    ArrivalArea,
    DayOff,
    JobKind,
    WorkingHours,
)
from .common import _check_advisor, _fmt, _now, _run
from .loaners import loaner_reservation_cancel, loaner_reservation_follow
from .workshop_load import WorkshopLoadCheck

User = get_user_model()

APPOINTMENT_FIELDS = (
    "advisor",
    "customer",
    "vehicle",
    "reason",
    "area",
    "starts_at",
    "duration_minutes",
    "handover_at",
    "needs_loaner",
    "comment",
    "is_repeat_visit",
    "planned_hours",
    "planned_kind",
)
MAX_DURATION_MINUTES = 8 * 60
MAX_PLANNED_HOURS = Decimal("100")


def _lock_advisor(advisor) -> None:
    # Bookings of one advisor are serialised: the "3 customers per hour" count (R16) cannot be raced.
    list(User.objects.select_for_update().filter(pk=advisor.pk).values_list("pk", flat=True))


def _check_booking(
    *,
    dealership: Dealership,
    advisor,
    starts_at: datetime.datetime,
    duration_minutes: int,
    handover_at: datetime.datetime | None,
    now: datetime.datetime,
    exclude_pk: int | None = None,
) -> list[tuple[datetime.datetime, str]]:
    """Check a booking against the grid, the advisor's hours and the book; return the cells to occupy."""
    tz = dealership.tz
    _check_booking_times(
        starts_at=starts_at, duration_minutes=duration_minutes, handover_at=handover_at, now=now, tz=tz
    )
    cells = [(cell, AppointmentSlot.Kind.RECEPTION) for cell in scheduling.slot_starts(starts_at, duration_minutes)]
    cells.append((handover_at, AppointmentSlot.Kind.HANDOVER))
    _check_working_hours(advisor=advisor, cells=cells, tz=tz)
    _check_cells_free(advisor=advisor, cells=cells, handover_at=handover_at, exclude_pk=exclude_pk, tz=tz)
    _check_customers_per_hour(advisor=advisor, starts_at=starts_at, exclude_pk=exclude_pk, tz=tz)
    return cells


def _check_booking_times(
    *,
    starts_at: datetime.datetime,
    duration_minutes: int,
    handover_at: datetime.datetime | None,
    now: datetime.datetime,
    tz,
) -> None:
    """The arrival and the hand-over: given, on the 15-minute grid, in the future, the hand-over after the job."""
    if starts_at is None:
        raise ValidationError({"starts_at": _("This field is required.")})
    if handover_at is None:
        raise ValidationError({"handover_at": _("Plan the hand-over slot for the job.")})  # R16
    if timezone.is_naive(starts_at) or timezone.is_naive(handover_at):
        raise ValidationError({"starts_at": _("Give the time with its time zone.")})
    if not scheduling.on_grid(starts_at, tz):
        raise ValidationError(
            {"starts_at": _("Appointments sit on the 15-minute grid: choose a time ending in :00, :15, :30 or :45.")}
        )
    if not scheduling.on_grid(handover_at, tz):
        raise ValidationError(
            {"handover_at": _("The hand-over slot sits on the 15-minute grid: :00, :15, :30 or :45.")}
        )
    if not duration_minutes or duration_minutes % SLOT_MINUTES or not 0 < duration_minutes <= MAX_DURATION_MINUTES:
        raise ValidationError(
            {"duration_minutes": _("The duration is a multiple of 15 minutes, from 15 minutes to 8 hours.")}
        )
    if starts_at <= now:
        raise ValidationError({"starts_at": _("The appointment must be in the future.")})
    ends_at = starts_at + datetime.timedelta(minutes=duration_minutes)
    if handover_at < ends_at:
        raise ValidationError(
            {
                "handover_at": _("The hand-over must be after the job's slots end (%(end)s).")
                % {"end": _fmt(ends_at, tz)}
            }
        )


def _check_working_hours(*, advisor, cells: list[tuple[datetime.datetime, str]], tz) -> None:
    """Every cell falls in the advisor's working hours, on a working day."""
    hours = {h.weekday: h for h in WorkingHours.objects.filter(advisor=advisor)}
    days_off = set(
        DayOff.objects.filter(
            advisor=advisor, date__in={scheduling.local(c, tz).date() for c, _kind in cells}
        ).values_list("date", flat=True)
    )
    for cell, kind in cells:
        local = scheduling.local(cell, tz)
        field = "handover_at" if kind == AppointmentSlot.Kind.HANDOVER else "starts_at"
        if local.date() in days_off:
            raise ValidationError({field: _("%(date)s is the advisor's day off.") % {"date": short_date(local.date())}})
        day_hours = hours.get(local.weekday())
        end_local = local + SLOT
        if (
            day_hours is None
            or local.time() < day_hours.starts_at
            or end_local.date() != local.date()
            or end_local.time() > day_hours.ends_at
        ):
            raise ValidationError(
                {field: _("%(time)s is outside the advisor's working hours.") % {"time": short_datetime(local)}}
            )


def _check_cells_free(
    *, advisor, cells: list[tuple[datetime.datetime, str]], handover_at: datetime.datetime, exclude_pk, tz
) -> None:
    # Free cells (the unique constraint is the final word; this gives the clear message).
    taken = AppointmentSlot.objects.filter(advisor=advisor, starts_at__in=[c for c, _kind in cells])
    if exclude_pk:
        taken = taken.exclude(appointment_id=exclude_pk)
    taken = taken.order_by("starts_at").first()
    if taken is not None:
        field = "handover_at" if taken.starts_at == handover_at else "starts_at"
        raise ValidationError(
            {field: _("The advisor is already booked at %(time)s.") % {"time": _fmt(taken.starts_at, tz)}}
        )


def _check_customers_per_hour(*, advisor, starts_at: datetime.datetime, exclude_pk, tz) -> None:
    # R16: at most 3 customers per hour per advisor (arrivals starting in that clock hour).
    hour_start, hour_end = scheduling.hour_bounds(starts_at, tz)
    same_hour = Appointment.objects.filter(
        advisor=advisor,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        starts_at__gte=hour_start,
        starts_at__lt=hour_end,
    )
    if exclude_pk:
        same_hour = same_hour.exclude(pk=exclude_pk)
    if same_hour.count() >= MAX_CUSTOMERS_PER_HOUR:
        raise ValidationError(
            {
                "starts_at": _(
                    "The advisor already has %(limit)s customers between %(start)s and %(end)s; "
                    "at most %(limit)s customers an hour can be booked. Choose another hour."
                )
                % {
                    "limit": MAX_CUSTOMERS_PER_HOUR,
                    "start": hour_start.strftime("%H:%M"),
                    "end": hour_end.strftime("%H:%M"),
                }
            }
        )


def _occupy(appointment: Appointment, cells) -> None:
    try:
        with transaction.atomic():
            AppointmentSlot.objects.bulk_create(
                [
                    AppointmentSlot(
                        dealership_id=appointment.dealership_id,
                        advisor_id=appointment.advisor_id,
                        starts_at=cell,
                        appointment=appointment,
                        kind=kind,
                    )
                    for cell, kind in cells
                ]
            )
    except IntegrityError as error:
        raise ValidationError(
            {"starts_at": _("Someone has just booked this time with the advisor; choose another slot.")}
        ) from error


@transaction.atomic
def appointment_book(
    *,
    actor,
    dealership: Dealership,
    advisor,
    customer: Customer | None,
    vehicle: Vehicle | None,
    reason: str,
    area: str,
    starts_at: datetime.datetime,
    handover_at: datetime.datetime,
    duration_minutes: int = SLOT_MINUTES,
    needs_loaner: bool = False,
    comment: str = "",
    is_repeat_visit: bool = False,
    planned_hours: Decimal | None = None,
    planned_kind: JobKind | None = None,
    now: datetime.datetime | None = None,
    booked_online: bool = False,
) -> Appointment:
    """Book an arrival on the advisor's 15-minute grid with its hand-over slot (R15, R16), taking the workshop's
    load into account (seed 001, issue 18 item 3): the answer carries ``load_warning`` when the day or the skill is
    overloaded; a dealership that refuses overloading bookings gets a 400 instead. ``booked_online`` marks the
    customer's own booking on the public page (issue 17 item 4), checked exactly as the staff's."""
    now = _now(now)
    errors = {}
    if customer is None:
        errors["customer"] = _("Identify the customer.")  # R15
    if vehicle is None:
        errors["vehicle"] = _("Identify the vehicle by its VIN.")  # R15
    if not (reason or "").strip():
        errors["reason"] = _("Record the reason for the visit.")  # R15
    if area not in ArrivalArea.values:
        errors["area"] = _("Choose the area of arrival.")
    if errors:
        raise ValidationError(errors)
    check_owned(dealership.pk, customer=customer, vehicle=vehicle)
    # R15 (issue 14 item 2): the booked car must be the customer's, or reception would refuse it later.
    ensure_vehicle_of_customer(customer=customer, vehicle=vehicle)
    _check_advisor(dealership.pk, advisor)
    _lock_advisor(advisor)
    cells = _check_booking(
        dealership=dealership,
        advisor=advisor,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        handover_at=handover_at,
        now=now,
    )
    planned_hours = _planned_hours(planned_hours)
    repeat_of = selectors.find_repeat_visit(dealership=dealership, vehicle=vehicle, reason=reason, starts_at=starts_at)
    load_check = WorkshopLoadCheck(
        dealership=dealership, day=scheduling.local(starts_at, dealership.tz).date(), now=now, field="planned_hours"
    )
    with load_check:
        appointment = Appointment.objects.create(
            dealership=dealership,
            advisor=advisor,
            customer=customer,
            vehicle=vehicle,
            reason=reason.strip(),
            area=area,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            ends_at=starts_at + datetime.timedelta(minutes=duration_minutes),
            handover_at=handover_at,
            needs_loaner=needs_loaner,
            comment=comment,
            is_repeat_visit=bool(is_repeat_visit or repeat_of),
            repeat_of=repeat_of,
            planned_hours=planned_hours,
            planned_kind=planned_kind,
            booked_online=booked_online,
        )
        _occupy(appointment, cells)
    appointment.recall_campaigns.set(selectors.open_recalls_for_vin(dealership=dealership, vin=vehicle.vin))
    events.record_created(actor=actor, instance=appointment, fields=APPOINTMENT_FIELDS)
    appointment.load_warning = load_check.warning
    return appointment


def _planned_hours(value) -> Decimal:
    try:
        hours = Decimal(value if value not in (None, "") else 0)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValidationError({"planned_hours": _("Give the planned labour in hours.")}) from error
    if (
        not hours.is_finite()
        or not Decimal("0") <= hours <= MAX_PLANNED_HOURS
        or hours != hours.quantize(Decimal("0.01"))
    ):
        raise ValidationError(
            {
                "planned_hours": _("The planned labour is from 0 to %(max)s hours, to the hundredth.")
                % {"max": MAX_PLANNED_HOURS}
            }
        )
    return hours


@transaction.atomic
def appointment_reschedule(
    *,
    actor,
    appointment: Appointment,
    starts_at: datetime.datetime,
    handover_at: datetime.datetime,
    duration_minutes: int | None = None,
    advisor=None,
    now: datetime.datetime | None = None,
) -> Appointment:
    now = _now(now)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not is_available(appointment, "rebook"):
        raise ConflictError(_("Only a booked appointment can be moved."))
    advisor = advisor or appointment.advisor
    _check_advisor(appointment.dealership_id, advisor)
    duration_minutes = duration_minutes or appointment.duration_minutes
    before = events.snapshot(appointment, ["advisor", "starts_at", "duration_minutes", "handover_at"])
    old_arrival = scheduling.local(appointment.starts_at, appointment.dealership.tz).date()
    _lock_advisor(advisor)
    cells = _check_booking(
        dealership=appointment.dealership,
        advisor=advisor,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        handover_at=handover_at,
        now=now,
        exclude_pk=appointment.pk,
    )
    # Issue 18 item 3: the new day must take the visit's hours as well — its work order's jobs once it has them —
    # under the same check and policy as a booking.
    load_check = WorkshopLoadCheck(
        dealership=appointment.dealership,
        day=scheduling.local(starts_at, appointment.dealership.tz).date(),
        now=now,
        field="starts_at",
    )
    with load_check:
        appointment.slots.all().delete()
        appointment.advisor = advisor
        appointment.starts_at = starts_at
        appointment.duration_minutes = duration_minutes
        appointment.ends_at = starts_at + datetime.timedelta(minutes=duration_minutes)
        appointment.handover_at = handover_at
        # A new time needs a new confirmation (R19) and a new preparation window (R17).
        appointment.confirmation_sent_at = None
        appointment.confirmed_at = None
        appointment.preparation_stage = ""
        appointment.confirmations.all().delete()
        appointment.save()
        _occupy(appointment, cells)
    # R18: the loaner is reserved for the arrival date — it moves with the visit, or the move is refused.
    loaner_reservation_follow(actor=actor, appointment=appointment, old_arrival=old_arrival)
    events.record_updated(
        actor=actor, instance=appointment, before=before, message=events.text(gettext_noop("rescheduled"))
    )
    if appointment.status != AppointmentStatus.BOOKED:  # confirmed or asked to move: booked again at the new time
        _run(appointment, "rebook", actor=actor, check_perm=False, message=events.text(gettext_noop("rescheduled")))
    appointment.load_warning = load_check.warning
    return appointment


@transaction.atomic
def appointment_cancel(*, actor, appointment: Appointment, reason: str = "") -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    _run(
        appointment,
        "cancel",
        actor=actor,
        message=reason,
        check_perm=False,
        not_allowed=_("This appointment can no longer be cancelled."),
    )
    appointment.slots.all().delete()
    for reservation in appointment.loaner_reservations.filter(status="reserved"):
        loaner_reservation_cancel(actor=actor, reservation=reservation)
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, actor, appointment: Appointment) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    _run(
        appointment,
        "mark_no_show",
        actor=actor,
        check_perm=False,
        not_allowed=_("This appointment cannot be marked as a no-show."),
    )
    appointment.slots.all().delete()
    # R18: the loaner was reserved for this arrival; a customer who did not come frees it for others (as a cancel).
    for reservation in appointment.loaner_reservations.filter(status="reserved"):
        loaner_reservation_cancel(actor=actor, reservation=reservation)
    return appointment
