"""Writes of the service department. Pages, API, admin and tasks all call these; one transaction each."""

import datetime
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from dms.core import events
from dms.core import roles as core_roles
from dms.core.exceptions import ConflictError
from dms.core.models import AuditAction, Customer, Dealership, Vehicle
from dms.core.validators import ensure_vehicle_of_customer

from . import scheduling, selectors
from .models import (
    ACTIVE_APPOINTMENT_STATUSES,
    MAX_CUSTOMERS_PER_HOUR,
    SLOT,
    SLOT_MINUTES,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    ArrivalArea,
    DayOff,
    RecallCampaign,
    RecallCampaignVin,
    ServiceSettings,
    WorkingHours,
)
from .service_helpers import _check_owned, _check_staff, _fmt, _now, _transition  # noqa: F401

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
)
MAX_DURATION_MINUTES = 8 * 60


# --------------------------------------------------------------------------------------------------------------
# Settings, working hours, days off
# --------------------------------------------------------------------------------------------------------------


@transaction.atomic
def service_settings_update(*, actor, dealership: Dealership, data: dict[str, Any]) -> ServiceSettings:
    obj = selectors.service_settings(dealership=dealership)
    obj = ServiceSettings.objects.select_for_update().get(pk=obj.pk)
    fields = ("repeat_visit_days", "labour_rate", "warranty_ending_days")
    before = events.snapshot(obj, [k for k in data if k in fields])
    for name, value in data.items():
        if name in fields:
            setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    events.record_updated(actor=actor, instance=obj, before=before)
    return obj


@transaction.atomic
def working_hours_set(
    *, actor, dealership: Dealership, advisor, weekday: int, starts_at: datetime.time, ends_at: datetime.time
) -> WorkingHours:
    _check_staff(dealership.pk, "advisor", advisor, core_roles.SERVICE_ADVISOR)
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
    _check_staff(dealership.pk, "advisor", advisor, core_roles.SERVICE_ADVISOR)
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


# --------------------------------------------------------------------------------------------------------------
# Recall campaigns (R15)
# --------------------------------------------------------------------------------------------------------------


def _clean_vin(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


@transaction.atomic
def recall_campaign_create(
    *,
    actor,
    dealership: Dealership,
    code: str,
    title: str,
    description: str = "",
    is_open: bool = True,
    vin_from: str = "",
    vin_to: str = "",
    vins: list[str] | None = None,
) -> RecallCampaign:
    code = (code or "").strip()
    if RecallCampaign.objects.filter(dealership=dealership, code=code).exists():
        raise ValidationError({"code": _("A recall campaign with this code already exists.")})
    campaign = RecallCampaign(
        dealership=dealership,
        code=code,
        title=title,
        description=description,
        is_open=is_open,
        vin_from=_clean_vin(vin_from),
        vin_to=_clean_vin(vin_to),
    )
    _check_campaign(campaign, vins or [])
    campaign.save()
    _add_vins(campaign, vins or [])
    events.record_created(actor=actor, instance=campaign, fields=["code", "title", "is_open", "vin_from", "vin_to"])
    return campaign


@transaction.atomic
def recall_campaign_update(*, actor, campaign: RecallCampaign, data: dict[str, Any]) -> RecallCampaign:
    campaign = RecallCampaign.objects.select_for_update().get(pk=campaign.pk)
    fields = ("title", "description", "is_open", "vin_from", "vin_to")
    before = events.snapshot(campaign, [k for k in data if k in fields])
    for name, value in data.items():
        if name in fields:
            setattr(campaign, name, _clean_vin(value) if name.startswith("vin_") else value)
    _check_campaign(campaign, data.get("vins") or [])
    campaign.save()
    _add_vins(campaign, data.get("vins") or [])
    events.record_updated(actor=actor, instance=campaign, before=before)
    return campaign


def _check_campaign(campaign: RecallCampaign, vins: list[str]) -> None:
    from dms.core.models import VIN_RE

    errors = {}
    if not campaign.code:
        errors["code"] = _("This field is required.")
    if not (campaign.title or "").strip():
        errors["title"] = _("This field is required.")
    if bool(campaign.vin_from) != bool(campaign.vin_to):
        errors["vin_to"] = _("A VIN range needs both its first and its last VIN.")
    for name in ("vin_from", "vin_to"):
        value = getattr(campaign, name)
        if value and not VIN_RE.match(value):
            errors[name] = _("A VIN has exactly 17 characters: Latin letters except I, O, Q, and digits.")
    if campaign.vin_from and campaign.vin_to and campaign.vin_from > campaign.vin_to:
        errors["vin_to"] = _("The range's last VIN sorts before its first VIN.")
    bad = [vin for vin in vins if not VIN_RE.match(_clean_vin(vin))]
    if bad:
        errors["vins"] = _("Not a VIN: %(vins)s.") % {"vins": ", ".join(bad[:5])}
    if errors:
        raise ValidationError(errors)


def _add_vins(campaign: RecallCampaign, vins: list[str]) -> None:
    RecallCampaignVin.objects.bulk_create(
        [RecallCampaignVin(campaign=campaign, vin=_clean_vin(v)) for v in vins if v.strip()], ignore_conflicts=True
    )


RECALL_CSV_COLUMNS = ("code", "title", "vin", "vin_from", "vin_to", "description", "is_open")


@transaction.atomic
def recall_campaigns_import_csv(*, actor, dealership: Dealership, text: str) -> dict[str, int]:
    """Import recall campaigns from CSV (``,`` or ``;``) with a header of RECALL_CSV_COLUMNS (code, title required).

    Each row adds to its campaign (by code) a single ``vin`` and/or a ``vin_from``-``vin_to`` range. All or nothing:
    any bad row rejects the whole file with the row numbers.
    """
    import csv
    import io

    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        raise ValidationError({"file": _("The file is empty.")})
    first_line = text.splitlines()[0]
    dialect_delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=dialect_delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "code" not in header or "title" not in header:
        raise ValidationError(
            {"file": _("The header must name the columns code and title (and vin or vin_from, vin_to).")}
        )
    reader.fieldnames = header
    errors: list[str] = []
    campaigns: dict[str, dict[str, Any]] = {}
    for line_no, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        code, title = row.get("code", ""), row.get("title", "")
        if not code or not title:
            errors.append(_("Row %(n)s: code and title are required.") % {"n": line_no})
            continue
        entry = campaigns.setdefault(
            code,
            {"title": title, "description": row.get("description", ""), "vins": [], "range": None, "is_open": True},
        )
        if row.get("is_open", "").lower() in ("0", "no", "false", "нет", "closed"):
            entry["is_open"] = False
        vin, vin_from, vin_to = (
            _clean_vin(row.get("vin", "")),
            _clean_vin(row.get("vin_from", "")),
            _clean_vin(row.get("vin_to", "")),
        )
        if not vin and not vin_from:
            errors.append(_("Row %(n)s: give a vin or a vin_from and vin_to range.") % {"n": line_no})
            continue
        if vin:
            entry["vins"].append(vin)
        if vin_from or vin_to:
            entry["range"] = (vin_from, vin_to)
        probe = RecallCampaign(code=code, title=title, vin_from=vin_from, vin_to=vin_to if vin_from or vin_to else "")
        try:
            _check_campaign(probe, [vin] if vin else [])
        except ValidationError as error:
            for messages in error.message_dict.values():
                errors.extend(_("Row %(n)s: %(message)s") % {"n": line_no, "message": m} for m in messages)
    if errors:
        raise ValidationError({"file": errors[:20]})
    created = updated = vins_added = 0
    for code, entry in campaigns.items():
        campaign = RecallCampaign.objects.filter(dealership=dealership, code=code).first()
        vin_from, vin_to = entry["range"] or ("", "")
        if campaign is None:
            campaign = recall_campaign_create(
                actor=actor,
                dealership=dealership,
                code=code,
                title=entry["title"],
                description=entry["description"],
                is_open=entry["is_open"],
                vin_from=vin_from,
                vin_to=vin_to,
            )
            created += 1
        else:
            data = {"title": entry["title"], "is_open": entry["is_open"]}
            if entry["range"]:
                data.update(vin_from=vin_from, vin_to=vin_to)
            recall_campaign_update(actor=actor, campaign=campaign, data=data)
            updated += 1
        before = campaign.vins.count()
        _add_vins(campaign, entry["vins"])
        vins_added += campaign.vins.count() - before
    return {"created": created, "updated": updated, "vins": vins_added}


# --------------------------------------------------------------------------------------------------------------
# Appointments (R15, R16)
# --------------------------------------------------------------------------------------------------------------


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
    cells = [(cell, AppointmentSlot.Kind.RECEPTION) for cell in scheduling.slot_starts(starts_at, duration_minutes)]
    cells.append((handover_at, AppointmentSlot.Kind.HANDOVER))

    # Working hours and days off.
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
            raise ValidationError(
                {field: _("%(date)s is the advisor's day off.") % {"date": local.strftime("%d.%m.%Y")}}
            )
        day_hours = hours.get(local.weekday())
        end_local = local + SLOT
        if (
            day_hours is None
            or local.time() < day_hours.starts_at
            or end_local.date() != local.date()
            or end_local.time() > day_hours.ends_at
        ):
            raise ValidationError(
                {
                    field: _("%(time)s is outside the advisor's working hours.")
                    % {"time": local.strftime("%d.%m.%Y %H:%M")}
                }
            )

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
    return cells


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
    days = selectors.service_settings(dealership=dealership).repeat_visit_days
    earlier = (
        Appointment.objects.filter(
            dealership=dealership,
            vehicle=vehicle,
            starts_at__lt=starts_at,
            starts_at__gte=starts_at - datetime.timedelta(days=days),
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .order_by("-starts_at")
    )
    if exclude_pk:
        earlier = earlier.exclude(pk=exclude_pk)
    for previous in earlier:
        if same_reason(previous.reason, reason):
            return previous
    return None


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
    now: datetime.datetime | None = None,
) -> Appointment:
    """Book an arrival on the advisor's 15-minute grid with its hand-over slot (R15, R16)."""
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
    _check_owned(dealership.pk, customer=customer, vehicle=vehicle)
    # R15 (issue 14 item 2): the booked car must be the customer's, or reception would refuse it later.
    ensure_vehicle_of_customer(customer=customer, vehicle=vehicle)
    _check_staff(dealership.pk, "advisor", advisor, core_roles.SERVICE_ADVISOR)
    _lock_advisor(advisor)
    cells = _check_booking(
        dealership=dealership,
        advisor=advisor,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        handover_at=handover_at,
        now=now,
    )
    repeat_of = find_repeat_visit(dealership=dealership, vehicle=vehicle, reason=reason, starts_at=starts_at)
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
    )
    _occupy(appointment, cells)
    appointment.recall_campaigns.set(selectors.open_recalls_for_vin(dealership=dealership, vin=vehicle.vin))
    events.record_created(actor=actor, instance=appointment, fields=APPOINTMENT_FIELDS)
    return appointment


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
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE):
        raise ConflictError(_("Only a booked appointment can be moved."))
    advisor = advisor or appointment.advisor
    _check_staff(appointment.dealership_id, "advisor", advisor, core_roles.SERVICE_ADVISOR)
    duration_minutes = duration_minutes or appointment.duration_minutes
    before = events.snapshot(appointment, ["advisor", "starts_at", "duration_minutes", "handover_at", "status"])
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
    if appointment.status != AppointmentStatus.BOOKED:
        appointment.rebook()
    appointment.save()
    _occupy(appointment, cells)
    events.record_updated(actor=actor, instance=appointment, before=before, message=_("rescheduled"))
    return appointment


@transaction.atomic
def appointment_cancel(*, actor, appointment: Appointment, reason: str = "") -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not can_proceed(appointment.cancel):
        raise ConflictError(_("This appointment can no longer be cancelled."))
    source = appointment.status
    appointment.cancel()
    appointment.save()
    appointment.slots.all().delete()
    for reservation in appointment.loaner_reservations.filter(status="reserved"):
        loaner_reservation_cancel(actor=actor, reservation=reservation)
    events.record_transition(
        actor=actor, instance=appointment, source=source, target=appointment.status, message=reason
    )
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, actor, appointment: Appointment) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not can_proceed(appointment.mark_no_show):
        raise ConflictError(_("This appointment cannot be marked as a no-show."))
    source = appointment.status
    appointment.mark_no_show()
    appointment.save()
    appointment.slots.all().delete()
    events.record_transition(actor=actor, instance=appointment, source=source, target=appointment.status)
    return appointment


# Import the rest of the service layer so that ``service.services.<name>`` is the one entry point.
from .services_loaners import *  # noqa: E402, F403
from .services_loaners import loaner_reservation_cancel  # noqa: E402
from .services_workorders import *  # noqa: E402, F403
