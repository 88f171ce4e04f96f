"""Issue 17 item 4: the customer books a visit on the dealership's public page.

The request keeps the chosen slot, the vehicle and the reason (R15) and sends an SMS code to the phone (only a salted
hash of it is stored; it expires and allows few wrong tries; a phone gets few codes an hour). The right code books
the appointment through ``appointment_book`` — the same checks of the grid, the hours and R16's three customers an
hour as a booking by the staff — for the customer and vehicle the phone and the VIN or plate identify, or for a new
customer and their vehicle (R15: the car is the customer's). R19: the confirmation follows as for any appointment;
one due within 24 hours goes at once.
"""

from __future__ import annotations

import datetime
import logging
import secrets

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from phonenumber_field.phonenumber import PhoneNumber

from dms.core import events
from dms.core import services as core_services
from dms.core.exceptions import ConflictError
from dms.core.models import ContactChannel, Customer, Dealership, FirstContactChannel, Vehicle, normalize_vin
from dms.core.models import validate_vin as check_vin
from dms.core.validation import clean_text
from notifications import services as notification_services

from .. import scheduling, selectors
from ..models import SLOT_MINUTES, Appointment, ArrivalArea, OnlineBooking, OnlineBookingStatus
from .appointments import appointment_book
from .common import _now, _run
from .confirmations import confirmation_send, reply_url

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_TTL = datetime.timedelta(minutes=10)
MAX_WRONG_CODES = 5  # then the request is locked: a new code is needed
CODES_PER_PHONE_PER_HOUR = 3
VERIFIED_TTL = datetime.timedelta(minutes=30)  # a verified phone may finish the vehicle's details this long
TOKEN_SALT = "service.online-booking"
TOKEN_MAX_AGE = 2 * 3600
CODE_SALT = "service.online-booking.code"
# The hand-over is planned by the first free cell of the advisor's grid this long after the arrival (R16: every
# job has one); the advisor moves it once the job is known.
HANDOVER_AFTER = datetime.timedelta(hours=2)
LANGUAGES = ("ru", "en", "zh-hans")
REQUEST_FIELDS = ["name", "phone", "vin", "plate", "make", "model", "reason", "area", "starts_at", "language"]


# -- the request's token and code ----------------------------------------------------------------------------------
def booking_token(booking: OnlineBooking) -> str:
    """The request's id for the code form (signed; the page needs no session, so it works inside a frame)."""
    return signing.dumps({"b": booking.pk}, salt=TOKEN_SALT, compress=True)


def online_booking_from_token(token: str, *, dealership: Dealership) -> OnlineBooking | None:
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("b"), int):
        return None
    return OnlineBooking.objects.filter(pk=data["b"], dealership=dealership).first()


def _hash_code(code: str, salt: str) -> str:
    return f"{salt}${salted_hmac(CODE_SALT, f'{salt}:{code}').hexdigest()}"


def _code_matches(booking: OnlineBooking, code: str) -> bool:
    salt, _sep, _digest = booking.code_hash.partition("$")
    return bool(salt) and constant_time_compare(_hash_code(code, salt), booking.code_hash)


def _code_text(booking: OnlineBooking, code: str) -> str:
    with translation.override(booking.language):
        return _(
            "%(code)s is your code to book a visit to %(dealership)s. It is valid for %(minutes)s minutes. "
            "Do not tell it to anyone."
        ) % {"code": code, "dealership": booking.dealership.name, "minutes": int(CODE_TTL.total_seconds() // 60)}


# -- step 1: the request and its code ------------------------------------------------------------------------------
def _clean_request(
    *,
    dealership: Dealership,
    name: str,
    phone: PhoneNumber | None,
    vin: str,
    plate: str,
    make: str,
    model: str,
    reason: str,
    area: str,
    starts_at: datetime.datetime | None,
    now: datetime.datetime,
) -> dict:
    errors: dict[str, str] = {}
    data = {
        "name": clean_text(name)[:200],
        "vin": normalize_vin(vin),
        "plate": clean_text(plate).replace(" ", "").upper()[:20],
        "make": clean_text(make)[:60],
        "model": clean_text(model)[:80],
        "reason": clean_text(reason)[:2000],
        "area": area or ArrivalArea.MECHANICAL,
    }
    if not data["name"]:
        errors["name"] = _("Give your name.")
    if phone is None or not getattr(phone, "is_valid", lambda: False)():
        errors["phone"] = _("Give a mobile phone number: we send the code there.")
    if not data["vin"] and not data["plate"]:
        errors["vin"] = _("Give the car's VIN or its plate.")  # R15
    elif data["vin"]:
        try:
            check_vin(data["vin"])
        except ValidationError as error:
            errors["vin"] = error.messages[0]
    if not data["reason"]:
        errors["reason"] = _("Tell us the reason for the visit.")  # R15
    if data["area"] not in ArrivalArea.values:
        errors["area"] = _("Choose the area of arrival.")
    if starts_at is None:
        errors["starts_at"] = _("Choose a time.")
    elif not selectors.online_booking_advisors_for(dealership=dealership, starts_at=starts_at, now=now):
        # The same cells the appointment book offers (R16); booking itself checks them again.
        errors["starts_at"] = _("This time is no longer free. Please choose another time.")
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def online_booking_request(
    *,
    dealership: Dealership,
    name: str,
    phone: PhoneNumber | None,
    reason: str,
    starts_at: datetime.datetime | None,
    vin: str = "",
    plate: str = "",
    make: str = "",
    model: str = "",
    area: str = ArrivalArea.MECHANICAL,
    language: str = "ru",
    client_address: str | None = None,
    now: datetime.datetime | None = None,
) -> OnlineBooking:
    """Check the request (the slot on the grid, R15's vehicle and reason), store it and text a code to the phone."""
    now = _now(now)
    if not selectors.online_booking_enabled(dealership=dealership):
        raise ConflictError(_("Online booking is not available at this dealership."))
    data = _clean_request(
        dealership=dealership,
        name=name,
        phone=phone,
        vin=vin,
        plate=plate,
        make=make,
        model=model,
        reason=reason,
        area=area,
        starts_at=starts_at,
        now=now,
    )
    # Codes issued within the hour before ``now`` (each expires CODE_TTL after it was issued).
    recent = OnlineBooking.objects.filter(phone=phone, code_expires_at__gt=now - datetime.timedelta(hours=1) + CODE_TTL)
    if recent.count() >= CODES_PER_PHONE_PER_HOUR:
        raise ValidationError(
            {"phone": _("Too many codes were sent to this number in the last hour. Please try again later.")}
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    booking = OnlineBooking.objects.create(
        dealership=dealership,
        phone=phone,
        starts_at=starts_at,
        language=language if language in LANGUAGES else "ru",
        code_hash=_hash_code(code, secrets.token_hex(8)),
        code_expires_at=now + CODE_TTL,
        client_address=client_address,
        **data,
    )
    events.record_created(actor=None, instance=booking, fields=REQUEST_FIELDS)
    to, body = phone.as_e164, _code_text(booking, code)
    transaction.on_commit(lambda: notification_services.sms_send_code(to=to, body=body))
    return booking


# -- step 2: the code ----------------------------------------------------------------------------------------------
@transaction.atomic
def _check_code(*, booking: OnlineBooking, code: str, now: datetime.datetime) -> Exception | None:
    """Count the try and answer the refusal to raise (after commit: a wrong code must stay counted)."""
    booking = OnlineBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.status == OnlineBookingStatus.LOCKED:
        return ConflictError(_("Too many wrong codes. Please ask for a new code."))
    if booking.status == OnlineBookingStatus.BOOKED or booking.verified_at is not None:
        return None
    if now >= booking.code_expires_at:
        return ValidationError({"code": _("The code has expired. Please ask for a new code.")})
    code = "".join(ch for ch in str(code or "") if ch.isdigit())
    if not _code_matches(booking, code):
        booking.attempts += 1
        booking.save(update_fields=["attempts", "updated_at"])
        if booking.attempts >= MAX_WRONG_CODES:
            _run(
                booking, "lock", actor=None, check_perm=False, message=events.text(gettext_noop("too many wrong codes"))
            )
            return ConflictError(_("Too many wrong codes. Please ask for a new code."))
        left = MAX_WRONG_CODES - booking.attempts
        return ValidationError({"code": _("Wrong code. Tries left: %(left)s.") % {"left": left}})
    booking.verified_at = now
    booking.save(update_fields=["verified_at", "updated_at"])
    events.record(
        actor=None, instance=booking, action="action", message=events.text(gettext_noop("phone verified by SMS code"))
    )
    return None


def online_booking_verify(*, booking: OnlineBooking, code: str, now: datetime.datetime | None = None) -> OnlineBooking:
    """The code from the SMS: right — the appointment is booked; wrong — one try fewer (the last locks the request)."""
    now = _now(now)
    refusal = _check_code(booking=booking, code=code, now=now)
    if refusal is not None:
        raise refusal
    return online_booking_complete(booking=booking, now=now)


# -- step 3: the customer, the vehicle and the appointment ---------------------------------------------------------
def _customer_and_vehicle(booking: OnlineBooking) -> tuple[Customer, Vehicle]:
    """The phone's customer and the car by VIN or plate; a new customer and car when the phone and car are unknown.

    R15: a car registered to another customer is never booked for this phone (nor moved to it) — the customer calls.
    """
    dealership = booking.dealership
    customers = list(
        Customer.objects.filter(dealership=dealership)
        .filter(Q(phone=booking.phone) | Q(phone_alt=booking.phone))
        .order_by("id")
    )
    vehicle = None
    if booking.vin:
        vehicle = Vehicle.objects.filter(dealership=dealership, vin=booking.vin).select_related("customer").first()
        if vehicle is not None and vehicle.customer_id not in {c.pk for c in customers}:
            raise ValidationError(
                {"vin": _("This car is registered to another customer of the dealership. Please call us to book it.")}
            )
    elif booking.plate:
        vehicle = (
            Vehicle.objects.filter(dealership=dealership, plate=booking.plate, customer__in=customers)
            .select_related("customer")
            .order_by("id")
            .first()
        )
    if vehicle is not None:
        return vehicle.customer, vehicle
    missing = {}
    if not booking.vin:
        missing["vin"] = _("We do not know a car with this plate for your phone number: give its VIN.")
    if not booking.make:
        missing["make"] = _("Give the car's make.")
    if not booking.model:
        missing["model"] = _("Give the car's model.")
    if missing:
        raise ValidationError(missing)
    customer = customers[0] if customers else None
    if customer is None:
        customer = core_services.customer_create(
            actor=None,
            dealership=dealership,
            name=booking.name,
            phone=booking.phone,
            preferred_channel=ContactChannel.SMS,  # the phone just proved it reads texts
            first_contact_channel=FirstContactChannel.WEBSITE,  # R20
        )
    vehicle = core_services.vehicle_create(
        actor=None,
        dealership=dealership,
        vin=booking.vin,
        make=booking.make,
        model=booking.model,
        plate=booking.plate,
        customer=customer,
    )
    return customer, vehicle


def _book_on_grid(booking: OnlineBooking, customer: Customer, vehicle: Vehicle, now: datetime.datetime) -> Appointment:
    """Book with the least busy advisor whose grid has the time; the next one if a colleague took it meanwhile."""
    dealership = booking.dealership
    taken = ValidationError({"starts_at": _("This time has just been taken. Please choose another time.")})
    planned_hours = selectors.service_settings(dealership=dealership).online_booking_hours
    for advisor in selectors.online_booking_advisors_for(dealership=dealership, starts_at=booking.starts_at, now=now):
        handover_at = selectors.first_free_handover(
            dealership=dealership,
            advisor=advisor,
            starts_at=booking.starts_at + HANDOVER_AFTER,
            duration_minutes=0,
            now=now,
        )
        if handover_at is None:
            continue
        try:
            return appointment_book(
                actor=None,
                dealership=dealership,
                advisor=advisor,
                customer=customer,
                vehicle=vehicle,
                reason=booking.reason,
                area=booking.area,
                starts_at=booking.starts_at,
                handover_at=handover_at,
                duration_minutes=SLOT_MINUTES,
                now=now,
                booked_online=True,
                planned_hours=planned_hours,
            )
        except ValidationError as error:
            if "planned_hours" in error.message_dict:
                # The workshop's load refused the day (issue 18 item 3: a dealership that refuses overloading): it is
                # the same for every advisor, and the advisors' words about technicians are not the customer's.
                raise ValidationError(
                    {"starts_at": _("The workshop is fully booked on this day. Please choose another day.")}
                ) from error
            if set(error.message_dict) - {"starts_at", "handover_at"}:
                raise
    raise taken


def _receipt(appointment: Appointment, language: str) -> tuple[str, str]:
    tz = appointment.dealership.tz
    when = scheduling.local(appointment.starts_at, tz).strftime("%d.%m.%Y %H:%M")
    with translation.override(language):
        subject = _("Your service appointment on %(date)s") % {"date": when}
        body = _(
            "%(dealership)s: you are booked for %(date)s, %(vehicle)s. We will ask you to confirm the day before. "
            "To confirm or move the visit: %(url)s"
        ) % {
            "dealership": appointment.dealership.name,
            "date": when,
            "vehicle": f"{appointment.vehicle.make} {appointment.vehicle.model}",
            "url": reply_url(appointment),
        }
    return subject, body


@transaction.atomic
def online_booking_complete(
    *,
    booking: OnlineBooking,
    vin: str = "",
    make: str = "",
    model: str = "",
    now: datetime.datetime | None = None,
) -> OnlineBooking:
    """Book the verified request (the vehicle's details added when the phone's cars did not include it)."""
    now = _now(now)
    booking = OnlineBooking.objects.select_for_update().select_related("dealership").get(pk=booking.pk)
    if booking.status == OnlineBookingStatus.BOOKED:
        return booking
    if booking.status != OnlineBookingStatus.CODE_SENT or booking.verified_at is None:
        raise ConflictError(_("Confirm your phone with the code first."))
    if now > booking.verified_at + VERIFIED_TTL:
        raise ConflictError(_("This booking has expired. Please start again."))
    details = {"vin": normalize_vin(vin), "make": clean_text(make)[:60], "model": clean_text(model)[:80]}
    if details["vin"]:
        try:
            check_vin(details["vin"])
        except ValidationError as error:
            raise ValidationError({"vin": error.messages[0]}) from error
    for field, value in details.items():
        if value:
            setattr(booking, field, value)
    customer, vehicle = _customer_and_vehicle(booking)
    appointment = _book_on_grid(booking, customer, vehicle, now)
    booking.appointment = appointment
    _run(booking, "book", actor=None, check_perm=False, message=str(appointment))
    # R19: a visit within the next 24 hours gets its confirmation now (the hourly job would send it at once anyway);
    # a later one gets a receipt, and its confirmation 24 hours ahead as every appointment does.
    if appointment.starts_at <= now + selectors.CONFIRMATION_LEAD:
        confirmation_send(appointment=appointment, now=now)
        appointment.refresh_from_db(fields=["confirmation_sent_at"])  # the page tells it is sent
    else:
        subject, body = _receipt(appointment, booking.language)
        notification_services.customer_notify(
            actor=None, customer=customer, subject=subject, body=body, reference=f"online-booking:{appointment.pk}"
        )
    return booking
