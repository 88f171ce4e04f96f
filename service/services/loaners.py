"""Loaner cars (R18): the fleet and reservations for an appointment's dates, never double-booked."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.formatting import short_date
from dms.core.transitions import record_writes
from dms.core.validation import check_owned

from .. import scheduling
from ..models import Appointment, Loaner, LoanerDay, LoanerReservation

LOANER_FIELDS = ("plate", "make", "model", "vin", "is_active", "notes")
MAX_LOAN_DAYS = 60  # a loan lasts at most this many days


def _check_loaner(loaner: Loaner) -> None:
    loaner.plate = (loaner.plate or "").strip().upper()
    loaner.vin = (loaner.vin or "").strip().upper()
    if Loaner.objects.filter(dealership_id=loaner.dealership_id, plate=loaner.plate).exclude(pk=loaner.pk).exists():
        raise ValidationError({"plate": _("A loaner car with this plate already exists.")})
    loaner.full_clean(validate_constraints=False)


loaner_create, loaner_update = record_writes(Loaner, entity="loaner", allowed=LOANER_FIELDS, check=_check_loaner)


@transaction.atomic
def loaner_reserve(
    *,
    actor,
    appointment: Appointment,
    loaner: Loaner,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    driver_licence: str = "",
) -> LoanerReservation:
    """Reserve a loaner for the appointment's dates (arrival to hand-over by default)."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    check_owned(appointment.dealership_id, loaner=loaner)
    if not appointment.is_active:
        raise ConflictError(_("The appointment is not active."))
    if not loaner.is_active:
        raise ValidationError({"loaner": _("This loaner car is out of service.")})
    tz = appointment.dealership.tz
    starts_on = starts_on or scheduling.local(appointment.starts_at, tz).date()
    ends_on = ends_on or scheduling.local(appointment.handover_at, tz).date()
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The loan must end on or after its first day.")})
    # R18 (issue 14 item 2): the loaner is for the arrival date — a loan that misses it serves no one.
    arrival = scheduling.local(appointment.starts_at, tz).date()
    if not starts_on <= arrival <= ends_on:
        field = "starts_on" if starts_on > arrival else "ends_on"
        raise ValidationError(
            {field: _("The loan must cover the arrival date, %(date)s.") % {"date": short_date(arrival)}}
        )
    # R18: one active loaner per appointment (the partial unique index settles a race; this gives the message).
    active = appointment.loaner_reservations.filter(status=LoanerReservation.Status.RESERVED).first()
    if active is not None:
        raise ValidationError(
            {
                "appointment": _("This appointment already has a loaner car reserved: %(loaner)s.")
                % {"loaner": active.loaner}
            }
        )
    if (ends_on - starts_on).days > MAX_LOAN_DAYS:
        raise ValidationError({"ends_on": _("A loan lasts at most 60 days.")})
    days = _loan_days(starts_on, ends_on)
    clash = _first_clash(loaner, days)
    if clash is not None:
        raise ValidationError(
            {
                "loaner": _("%(loaner)s is already reserved on %(day)s (%(customer)s).")
                % {"loaner": loaner, "day": short_date(clash.day), "customer": clash.reservation.customer}
            }
        )
    try:
        with transaction.atomic():
            reservation = LoanerReservation.objects.create(
                dealership_id=appointment.dealership_id,
                loaner=loaner,
                appointment=appointment,
                customer=appointment.customer,
                starts_on=starts_on,
                ends_on=ends_on,
                driver_licence=driver_licence,
            )
    except IntegrityError as error:
        raise ValidationError({"appointment": _("This appointment already has a loaner car reserved.")}) from error
    _hold_days(loaner, reservation, days, field="loaner")
    if not appointment.needs_loaner:
        appointment.needs_loaner = True
        appointment.save(update_fields=["needs_loaner", "updated_at"])
    events.record_created(actor=actor, instance=reservation, fields=["loaner", "appointment", "starts_on", "ends_on"])
    return reservation


def loaner_reservation_follow(*, actor, appointment: Appointment, old_arrival: datetime.date) -> None:
    """R18: a moved appointment keeps its loaner for the new arrival date. A loan that no longer covers the arrival
    moves by as many days as the arrival did (at least to the hand-over date); a loaner taken on the new days refuses
    the move (the caller's transaction rolls it back). Called inside ``appointment_reschedule``."""
    reservation = (
        LoanerReservation.objects.select_for_update()
        .select_related("loaner")
        .filter(appointment=appointment, status=LoanerReservation.Status.RESERVED)
        .first()
    )
    if reservation is None:
        return
    tz = appointment.dealership.tz
    arrival = scheduling.local(appointment.starts_at, tz).date()
    if reservation.starts_on <= arrival <= reservation.ends_on:
        return
    shift = arrival - old_arrival
    starts_on = reservation.starts_on + shift
    ends_on = max(reservation.ends_on + shift, scheduling.local(appointment.handover_at, tz).date())
    ends_on = min(ends_on, starts_on + datetime.timedelta(days=MAX_LOAN_DAYS))
    loaner = reservation.loaner
    days = _loan_days(starts_on, ends_on)
    clash = _first_clash(loaner, days, other_than=reservation)
    if clash is not None:
        raise ValidationError(
            {
                "starts_at": _(
                    "The appointment's loaner car %(loaner)s is already reserved on %(day)s (%(customer)s): "
                    "cancel its reservation or choose another day."
                )
                % {"loaner": loaner, "day": short_date(clash.day), "customer": clash.reservation.customer}
            }
        )
    before = events.snapshot(reservation, ["starts_on", "ends_on"])
    reservation.days.all().delete()
    _hold_days(loaner, reservation, days, field="starts_at")
    reservation.starts_on, reservation.ends_on = starts_on, ends_on
    reservation.save(update_fields=["starts_on", "ends_on", "updated_at"])
    events.record_updated(actor=actor, instance=reservation, before=before)


def _loan_days(starts_on: datetime.date, ends_on: datetime.date) -> list[datetime.date]:
    return [starts_on + datetime.timedelta(days=n) for n in range((ends_on - starts_on).days + 1)]


def _first_clash(loaner: Loaner, days: list[datetime.date], *, other_than: LoanerReservation | None = None):
    """The loaner's first day among ``days`` held by another reservation (with its customer, for the message)."""
    held = LoanerDay.objects.filter(loaner=loaner, day__in=days)
    if other_than is not None:
        held = held.exclude(reservation=other_than)
    return held.select_related("reservation__customer").order_by("day").first()


def _hold_days(loaner: Loaner, reservation: LoanerReservation, days: list[datetime.date], *, field: str) -> None:
    """R18: one row per loaner and day; the unique constraint settles two requests racing for the same day."""
    try:
        with transaction.atomic():
            LoanerDay.objects.bulk_create([LoanerDay(loaner=loaner, day=day, reservation=reservation) for day in days])
    except IntegrityError as error:
        raise ValidationError(
            {field: _("Someone has just reserved %(loaner)s for these days.") % {"loaner": loaner}}
        ) from error


@transaction.atomic
def loaner_reservation_cancel(*, actor, reservation: LoanerReservation) -> LoanerReservation:
    reservation = LoanerReservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status == LoanerReservation.Status.CANCELLED:
        raise ConflictError(_("This reservation is already cancelled."))
    before = events.snapshot(reservation, ["status"])
    reservation.status = LoanerReservation.Status.CANCELLED
    reservation.save(update_fields=["status", "updated_at"])
    reservation.days.all().delete()
    events.record_updated(actor=actor, instance=reservation, before=before)
    return reservation
