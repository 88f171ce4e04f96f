"""Complaints (R33, R24): intake, classification and assignment, investigation, solution, follow-up, closing."""

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.models import AuditAction, Customer, Dealership, Vehicle, normalize_vin
from dms.core.transitions import run_transition
from dms.core.validation import check_staff, clean_text
from dms.core.validators import vehicle_of_another_customer_error

from .. import selectors
from ..models import (
    COMPLAINT_OPEN_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNote,
    ComplaintSeverity,
    ComplaintStatus,
    Department,
    EmergencyKind,
)
from .common import apply, guard, next_number, require
from .notifications import escalate_overdue, notify_emergency

COMPLAINT_INTAKE_FIELDS = (
    "channel",
    "received_at",
    "customer",
    "vehicle",
    "contact_name",
    "contact_phone",
    "contact_email",
    "vin_text",
    "description",
    "severity",
    "emergency_kind",
    "insurance_info",
    "insurance_checked",
    "aftermarket_equipment",
    "aftermarket_checked",
    "police_report",
    "police_checked",
    "photos_taken",
    "involves_media",
    "media_outlet",
    "media_programme",
    "journalist",
    "journalist_contact",
)
MEDIA_FIELDS = ("media_outlet", "media_programme", "journalist", "journalist_contact")


def _intake_errors(complaint: Complaint, now: datetime.datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if complaint.channel not in ComplaintChannel.values:
        errors["channel"] = _("Choose the channel the complaint came through.")
    if complaint.received_at is None:
        errors["received_at"] = _("Enter when the complaint was received.")
    elif complaint.received_at > now + datetime.timedelta(minutes=5):
        errors["received_at"] = _("The time received is in the future.")
    if not clean_text(complaint.description):
        errors["description"] = _("Describe the complaint.")
    return errors


def _sender_errors(complaint: Complaint) -> dict[str, str]:
    errors: dict[str, str] = {}
    if complaint.customer_id:
        if complaint.customer.dealership_id != complaint.dealership_id:
            errors["customer"] = _("Unknown customer.")
    elif not clean_text(complaint.contact_name) or not (
        clean_text(complaint.contact_phone) or clean_text(complaint.contact_email)
    ):
        errors["customer"] = _("Choose the customer, or enter the contact's name and a phone or e-mail.")
    if complaint.vehicle_id:
        if complaint.vehicle.dealership_id != complaint.dealership_id:
            errors["vehicle"] = _("Unknown vehicle.")
        elif owner_error := vehicle_of_another_customer_error(
            customer=complaint.customer_id, vehicle=complaint.vehicle
        ):
            errors["vehicle"] = owner_error  # R15, the shared check
    return errors


def _severity_errors(complaint: Complaint) -> dict[str, str]:
    if complaint.severity not in ComplaintSeverity.values:
        return {"severity": _("Unknown severity.")}
    if complaint.severity == ComplaintSeverity.EMERGENCY and complaint.emergency_kind not in EmergencyKind.values:
        # R24: an emergency is a vehicle fire or a major accident.
        return {"emergency_kind": _("An emergency complaint needs its kind: vehicle fire or major accident.")}
    if complaint.severity == ComplaintSeverity.NORMAL:
        complaint.emergency_kind = ""
    return {}


def _media_errors(complaint: Complaint) -> dict[str, str]:
    if not complaint.involves_media:
        return {}
    # R24: a complaint involving the media records the outlet, programme/section, journalist and contact.
    labels = {
        "media_outlet": _("Enter the media outlet."),
        "media_programme": _("Enter the programme or section."),
        "journalist": _("Enter the journalist's name."),
        "journalist_contact": _("Enter the journalist's contact."),
    }
    return {name: labels[name] for name in MEDIA_FIELDS if not clean_text(getattr(complaint, name))}


def _validate_complaint_intake(complaint: Complaint, now: datetime.datetime) -> None:
    errors = {
        **_intake_errors(complaint, now),
        **_sender_errors(complaint),
        **_severity_errors(complaint),
        **_media_errors(complaint),
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def complaint_register(
    *,
    actor,
    dealership: Dealership,
    channel: str,
    description: str,
    received_at: datetime.datetime | None = None,
    customer: Customer | None = None,
    vehicle: Vehicle | None = None,
    now: datetime.datetime | None = None,
    source_ip: str | None = None,
    **data: Any,
) -> Complaint:
    """R33 intake (channel, time, customer, vehicle, description); R24 emergency and media details."""
    now = now or timezone.now()
    complaint = Complaint(
        dealership=dealership,
        channel=channel,
        description=clean_text(description),
        received_at=received_at or now,
        customer=customer,
        vehicle=vehicle,
        registered_by=actor if getattr(actor, "is_authenticated", False) else None,
        source_ip=source_ip,
    )
    if vehicle is not None and customer is None and vehicle.dealership_id == dealership.pk:
        complaint.customer = vehicle.customer
    apply(complaint, data, COMPLAINT_INTAKE_FIELDS)
    _validate_complaint_intake(complaint, now)
    complaint.number = next_number(dealership, "complaint")
    complaint.save()
    events.record_created(actor=actor, instance=complaint, fields=["channel", "received_at", "customer", "severity"])
    if complaint.is_emergency:
        notify_emergency(complaint, actor=actor, now=now)
    return complaint


def _locked_complaint(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().select_related("dealership").get(pk=complaint.pk)


def _refuse_closed(complaint: Complaint) -> None:
    if complaint.status == ComplaintStatus.CLOSED:
        raise ConflictError(_("A closed complaint cannot be changed."))


@transaction.atomic
def complaint_update(
    *, actor, complaint: Complaint, data: dict[str, Any], now: datetime.datetime | None = None
) -> Complaint:
    """Correct the intake, fill the R24 checklist and media details. An upgrade to emergency notifies at once."""
    now = now or timezone.now()
    complaint = _locked_complaint(complaint)
    _refuse_closed(complaint)
    before = events.snapshot(complaint, [name for name in data if name in COMPLAINT_INTAKE_FIELDS])
    apply(complaint, data, COMPLAINT_INTAKE_FIELDS)
    _validate_complaint_intake(complaint, now)
    complaint.save()
    events.record_updated(actor=actor, instance=complaint, before=before)
    if complaint.is_emergency and complaint.contacts_notified_at is None:
        notify_emergency(complaint, actor=actor, now=now)
    return complaint


def _known_sender(dealership: Dealership, phone: str, email: str) -> Customer | None:
    """The public form's sender matched to a known customer by phone, then by e-mail."""
    import phonenumbers

    customer = None
    if phone:
        try:
            parsed = phonenumbers.parse(phone, settings.PHONENUMBER_DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            raise ValidationError({"phone": _("Enter a valid phone number.")}) from None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        customer = Customer.objects.filter(dealership=dealership, phone=e164).first()
    if customer is None and email:
        customer = Customer.objects.filter(dealership=dealership, email__iexact=email).first()
    return customer


@transaction.atomic
def complaint_register_public(
    *,
    dealership: Dealership,
    name: str,
    phone: str = "",
    email: str = "",
    vin: str = "",
    description: str,
    source_ip: str | None = None,
    now: datetime.datetime | None = None,
) -> Complaint:
    """The public web form feeds intake: the sender is matched to a known customer by phone or e-mail."""
    phone = clean_text(phone)
    email = clean_text(email).lower()
    customer = _known_sender(dealership, phone, email)
    vehicle = None
    vin_norm = normalize_vin(vin)
    if vin_norm and customer is not None:
        vehicle = Vehicle.objects.filter(dealership=dealership, vin=vin_norm, customer=customer).first()
    return complaint_register(
        actor=None,
        dealership=dealership,
        channel=ComplaintChannel.WEB_FORM,
        description=description,
        customer=customer,
        vehicle=vehicle,
        contact_name=clean_text(name),
        contact_phone=phone,
        contact_email=email,
        vin_text=clean_text(vin)[:40],
        now=now,
        source_ip=source_ip,
    )


def _assignment_errors(complaint: Complaint, category, department, assignee, deadline, now) -> dict[str, str]:
    errors = {}
    if category not in ComplaintCategory.values:
        errors["category"] = _("Choose the category.")
    if department not in Department.values:
        errors["department"] = _("Choose the department.")
    if assignee is None:
        errors["assignee"] = _("Choose the responsible employee.")
    if deadline is None:
        errors["deadline"] = _("Enter the deadline.")
    elif deadline < complaint.local_today(now):
        errors["deadline"] = _("The deadline is in the past.")
    return errors


@transaction.atomic
def complaint_assign(
    *,
    actor,
    complaint: Complaint,
    category: str,
    department: str,
    assignee,
    deadline: datetime.date | None,
    now: datetime.datetime | None = None,
) -> Complaint:
    """R33: classify, assign to a department and a person, with a deadline."""
    now = now or timezone.now()
    complaint = _locked_complaint(complaint)
    guard(
        complaint,
        "assign",
        actor=actor,
        not_allowed=_("Complaint %(number)s is %(status)s: it can be assigned only before the investigation starts.")
        % {"number": complaint.number, "status": complaint.get_status_display()},
    )
    errors = _assignment_errors(complaint, category, department, assignee, deadline, now)
    if errors:
        raise ValidationError(errors)
    check_staff(complaint.dealership_id, assignee, field="assignee")
    before = events.snapshot(complaint, ["category", "department", "assignee", "deadline"])
    complaint.category, complaint.department, complaint.assignee, complaint.deadline = (
        category,
        department,
        assignee,
        deadline,
    )
    # A new deadline lifts an earlier overdue flag.
    if complaint.overdue_flagged_at and not complaint.is_overdue(now):
        complaint.overdue_flagged_at = None
    if complaint.status == ComplaintStatus.ASSIGNED:
        # A reassignment changes the assignment, not the status: no transition, no status event.
        complaint.save()
        events.record_updated(actor=actor, instance=complaint, before=before)
        return complaint
    events.record_updated(actor=actor, instance=complaint, before=before)
    return run_transition(complaint, "assign", actor=actor, at=now)


@transaction.atomic
def complaint_start_investigation(*, actor, complaint: Complaint) -> Complaint:
    complaint = _locked_complaint(complaint)
    not_allowed = _("Only an assigned complaint can go to investigation.")
    guard(complaint, "start_investigation", actor=actor, not_allowed=not_allowed)
    return run_transition(complaint, "start_investigation", actor=actor, not_allowed=not_allowed)


@transaction.atomic
def complaint_add_note(
    *, actor, complaint: Complaint, kind: str, text: str, now: datetime.datetime | None = None
) -> ComplaintNote:
    """Investigation notes (assigned/investigating) and follow-ups with the customer (after the solution)."""
    require(actor, "claims.investigate_complaint")
    complaint = _locked_complaint(complaint)
    _refuse_closed(complaint)
    if kind not in ComplaintNote.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of note.")})
    if not clean_text(text):
        raise ValidationError({"text": _("Write the note.")})
    if kind == ComplaintNote.Kind.FOLLOW_UP and complaint.status != ComplaintStatus.SOLUTION_AGREED:
        raise ValidationError({"kind": _("A follow-up is recorded after a solution was agreed with the customer.")})
    note = ComplaintNote.objects.create(
        complaint=complaint, kind=kind, text=clean_text(text), author=actor, created_at=now or timezone.now()
    )
    events.record(
        actor=actor,
        instance=complaint,
        action=AuditAction.ACTION,
        message=f"{note.get_kind_display()}: {note.text}",
    )
    return note


@transaction.atomic
def complaint_agree_solution(
    *,
    actor,
    complaint: Complaint,
    solution: str,
    cause: str = "",
    responsibility: str = "",
    now: datetime.datetime | None = None,
) -> Complaint:
    """R33: the investigation's cause and responsibility, and the solution agreed with the customer."""
    complaint = _locked_complaint(complaint)
    guard(
        complaint,
        "agree_solution",
        actor=actor,
        not_allowed=_("A solution is agreed after the investigation has started."),
    )
    if not clean_text(solution):
        raise ValidationError({"solution": _("Describe the solution agreed with the customer.")})
    if not clean_text(cause):
        raise ValidationError({"cause": _("Record the cause found by the investigation.")})
    before = events.snapshot(complaint, ["cause", "responsibility", "solution"])
    complaint.solution = clean_text(solution)
    complaint.cause = clean_text(cause)
    complaint.responsibility = clean_text(responsibility)
    events.record_updated(actor=actor, instance=complaint, before=before)
    return run_transition(complaint, "agree_solution", actor=actor, at=now or timezone.now())


def _satisfaction(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return 0


def _closing_errors(complaint: Complaint, closing_report: str, satisfaction: int | None) -> dict[str, str]:
    errors = {}
    if not complaint.notes.filter(kind=ComplaintNote.Kind.FOLLOW_UP).exists():
        errors["closing_report"] = _("Record the follow-up with the customer before closing.")
    if not clean_text(closing_report):
        errors["closing_report"] = _("Write the closing report.")
    if satisfaction is None or not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("Rate the customer's satisfaction from 1 to 5.")
    if complaint.is_emergency and not complaint.checklist_complete():
        errors["checklist"] = _(
            "An emergency complaint is closed only with its checklist complete: insurance, aftermarket equipment, "
            "police report, photos."
        )
    return errors


@transaction.atomic
def complaint_close(
    *,
    actor,
    complaint: Complaint,
    closing_report: str,
    satisfaction: int | None,
    improvement: str = "",
    now: datetime.datetime | None = None,
) -> Complaint:
    """R33: close with the report and the customer's satisfaction (1–5) — only after a solution and a follow-up."""
    complaint = _locked_complaint(complaint)
    guard(
        complaint,
        "close",
        actor=actor,
        not_allowed=_("The complaint is already closed.")
        if complaint.status == ComplaintStatus.CLOSED
        else _("A complaint can be closed only after a solution was agreed with the customer."),
    )
    if not complaint.has_solution():
        raise ConflictError(_("A complaint can be closed only after a solution was agreed with the customer."))
    satisfaction = _satisfaction(satisfaction)
    errors = _closing_errors(complaint, closing_report, satisfaction)
    if errors:
        raise ValidationError(errors)
    before = events.snapshot(complaint, ["closing_report", "satisfaction", "improvement"])
    complaint.closing_report, complaint.satisfaction, complaint.improvement = (
        clean_text(closing_report),
        satisfaction,
        clean_text(improvement),
    )
    events.record_updated(actor=actor, instance=complaint, before=before)
    return run_transition(complaint, "close", actor=actor, at=now or timezone.now(), by=actor)


def complaints_flag_overdue(*, now: datetime.datetime | None = None) -> int:
    """Beat job: flag open complaints past their deadline and escalate them to the dealership's directors.

    Each complaint is flagged and escalated once (until a new deadline is set). One e-mail per dealership.
    """
    now = now or timezone.now()
    flagged = 0
    for dealership in Dealership.objects.all():
        with transaction.atomic():
            flagged += _flag_overdue_at(dealership, now)
    return flagged


def _flag_overdue_at(dealership: Dealership, now: datetime.datetime) -> int:
    today = timezone.localtime(now, dealership.tz).date()
    candidates = list(
        Complaint.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            dealership=dealership,
            status__in=COMPLAINT_OPEN_STATUSES,
            deadline__lt=today,
            overdue_flagged_at__isnull=True,
        )
        .select_related("assignee", "dealership")
        .order_by("deadline", "pk")
    )
    if not candidates:
        return 0
    directors = selectors.directors_of(dealership.pk)
    for complaint in candidates:
        complaint.overdue_flagged_at = now
        complaint.escalated_at = now if directors else None
        complaint.save(update_fields=["overdue_flagged_at", "escalated_at", "updated_at"])
        events.record(
            actor=None,
            instance=complaint,
            action=AuditAction.ACTION,
            message=events.text(
                gettext_noop("Overdue: the deadline %(deadline)s has passed; escalated to the director."),
                deadline=complaint.deadline,
            ),
        )
    if directors:
        escalate_overdue(dealership, candidates, directors, now=now)
    return len(candidates)
