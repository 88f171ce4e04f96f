"""Service settings, advisors' working hours and days off (the frame of the appointment book, R16)."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dms.core import events
from dms.core.models import AuditAction, Dealership
from dms.core.transitions import audited_update

from .. import scheduling, selectors
from ..models import (
    ACTIVE_APPOINTMENT_STATUSES,
    SLOT_MINUTES,
    Appointment,
    DayOff,
    ServiceSettings,
    WorkingHours,
)
from .common import _check_advisor


@transaction.atomic
def service_settings_update(*, actor, dealership: Dealership, data: dict[str, Any]) -> ServiceSettings:
    return audited_update(
        selectors.service_settings(dealership=dealership),
        actor=actor,
        data=data,
        allowed=(
            "repeat_visit_days",
            "labour_rate",
            "warranty_ending_days",
            "workshop_overload",
            "reminder_months",
            "reminder_km",
            "declined_follow_up_days",
            "online_booking",
            "online_booking_hours",
            "booking_embed_origins",
        ),
        check=ServiceSettings.full_clean,
    )


@transaction.atomic
def working_hours_set(
    *, actor, dealership: Dealership, advisor, weekday: int, starts_at: datetime.time, ends_at: datetime.time
) -> WorkingHours:
    _check_advisor(dealership.pk, advisor)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The working day must end after it starts.")})
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.minute % SLOT_MINUTES or value.second:
            raise ValidationError({name: _("Working hours follow the 15-minute grid.")})
    hours, created = WorkingHours.objects.select_for_update().get_or_create(
        advisor=advisor,
        weekday=weekday,
        defaults={"dealership": dealership, "starts_at": starts_at, "ends_at": ends_at},
    )
    if created:
        events.record_created(actor=actor, instance=hours, fields=["advisor", "weekday", "starts_at", "ends_at"])
    else:
        before = events.snapshot(hours, ["starts_at", "ends_at"])
        hours.starts_at, hours.ends_at = starts_at, ends_at
        hours.save()
        events.record_updated(actor=actor, instance=hours, before=before)
    return hours


@transaction.atomic
def working_hours_delete(*, actor, hours: WorkingHours) -> None:
    events.record(actor=actor, instance=hours, action=AuditAction.DELETED, message=str(hours))
    hours.delete()


@transaction.atomic
def day_off_create(*, actor, dealership: Dealership, advisor, date: datetime.date, reason: str = "") -> DayOff:
    _check_advisor(dealership.pk, advisor)
    if DayOff.objects.filter(advisor=advisor, date=date).exists():
        raise ValidationError({"date": _("This day is already a day off.")})
    busy = Appointment.objects.filter(
        advisor=advisor,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        starts_at__range=scheduling.day_bounds(date, dealership.tz),
    )
    if busy.exists():
        raise ValidationError({"date": _("The advisor has appointments on this day; move them first.")})
    day = DayOff.objects.create(dealership=dealership, advisor=advisor, date=date, reason=reason)
    events.record_created(actor=actor, instance=day, fields=["advisor", "date", "reason"])
    return day


@transaction.atomic
def day_off_delete(*, actor, day_off: DayOff) -> None:
    events.record(actor=actor, instance=day_off, action=AuditAction.DELETED, message=str(day_off))
    day_off.delete()
