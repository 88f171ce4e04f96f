"""Writes for complaints (R33, R24), goodwill claims (R23) and warranty claims (R22).

Each write is one transaction: lock, check, change, save, audit row; e-mails only in ``transaction.on_commit``.
Pages, API and admin call these functions.
"""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dms.core import events
from dms.core import uploads as core_uploads
from dms.core.exceptions import ConflictError
from dms.core.inputs import parse_id
from dms.core.models import AuditAction, Customer, Dealership, Vehicle, normalize_vin
from dms.core.roles import DIRECTOR
from dms.core.tenancy import allowed_dealership_ids
from dms.core.validators import vehicle_of_another_customer_error
from parts.models import Part

from . import workorders
from .models import (
    COMPLAINT_OPEN_STATUSES,
    Attachment,
    AttachmentKind,
    ClaimsSettings,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNote,
    ComplaintNotification,
    ComplaintSeverity,
    ComplaintStatus,
    Department,
    EmergencyKind,
    GoodwillClaim,
    GoodwillStatus,
    NumberCounter,
    PartInstruction,
    QuarantinedPart,
    QuarantineStatus,
    WarrantyClaim,
    WarrantyClaimKind,
    WarrantyClaimPart,
    WarrantyStatus,
)

logger = logging.getLogger(__name__)
User = get_user_model()

NUMBER_PREFIXES = {"complaint": "ЖЛ", "goodwill": "ГП", "warranty": "ГА"}

# Uploads (photos, scans, agreements): images and PDF only, at most this many bytes.
MAX_UPLOAD_BYTES = getattr(settings, "CLAIMS_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
ALLOWED_UPLOADS = core_uploads.IMAGE_OR_PDF_UPLOADS


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------


def _next_number(dealership: Dealership, kind: str) -> str:
    counter, _created = NumberCounter.objects.get_or_create(dealership=dealership, kind=kind)
    counter = NumberCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return f"{NUMBER_PREFIXES[kind]}-{counter.last_value:06d}"


def claims_settings(dealership: Dealership) -> ClaimsSettings:
    found, _created = ClaimsSettings.objects.get_or_create(dealership=dealership)
    return found


def _require(actor, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You are not allowed to do this."))


def _check_staff(user, dealership_id: int, field: str) -> None:
    if user is not None and dealership_id not in allowed_dealership_ids(user):
        raise ValidationError({field: _("This employee does not work in the dealership.")})


def _text(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


def _amount(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("Enter the amount.")})
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise ValidationError({field: _("Enter an amount between 0 and 9 999 999 999.")})
    return amount.quantize(Decimal("0.01"))


def _apply(instance, data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _transition_audit(instance, *, actor, source: str, message: str = "") -> None:
    events.record_transition(actor=actor, instance=instance, source=source, target=instance.status, message=message)


def _mail_on_commit(
    subject: str, body: str, recipients: list[str], *, notification_ids: Iterable[int] = (), log: str = ""
) -> None:
    """Send after the transaction commits; record success or failure on the notification rows."""
    ids = list(notification_ids)

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        except Exception as error:  # noqa: BLE001 - an SMTP failure must not break the request; it is recorded
            logger.exception("claims: e-mail %s to %s failed", log or subject, recipients)
            ComplaintNotification.objects.filter(pk__in=ids).update(
                status=ComplaintNotification.Status.FAILED, error=str(error)[:300]
            )
            return
        ComplaintNotification.objects.filter(pk__in=ids).update(
            status=ComplaintNotification.Status.SENT, sent_at=timezone.now()
        )

    transaction.on_commit(send)


# ----------------------------------------------------------------------------------------------------------------
# Complaints (R33, R24)
# ----------------------------------------------------------------------------------------------------------------

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


def _validate_complaint_intake(complaint: Complaint, now: datetime.datetime) -> None:
    errors: dict[str, str] = {}
    if complaint.channel not in ComplaintChannel.values:
        errors["channel"] = _("Choose the channel the complaint came through.")
    if complaint.received_at is None:
        errors["received_at"] = _("Enter when the complaint was received.")
    elif complaint.received_at > now + datetime.timedelta(minutes=5):
        errors["received_at"] = _("The time received is in the future.")
    if not _text(complaint.description):
        errors["description"] = _("Describe the complaint.")
    if complaint.customer_id:
        if complaint.customer.dealership_id != complaint.dealership_id:
            errors["customer"] = _("Unknown customer.")
    elif not _text(complaint.contact_name) or not (_text(complaint.contact_phone) or _text(complaint.contact_email)):
        errors["customer"] = _("Choose the customer, or enter the contact's name and a phone or e-mail.")
    if complaint.vehicle_id:
        if complaint.vehicle.dealership_id != complaint.dealership_id:
            errors["vehicle"] = _("Unknown vehicle.")
        elif owner_error := vehicle_of_another_customer_error(
            customer=complaint.customer_id, vehicle=complaint.vehicle
        ):
            errors["vehicle"] = owner_error  # R15, the shared check
    if complaint.severity not in ComplaintSeverity.values:
        errors["severity"] = _("Unknown severity.")
    elif complaint.severity == ComplaintSeverity.EMERGENCY and complaint.emergency_kind not in EmergencyKind.values:
        # R24: an emergency is a vehicle fire or a major accident.
        errors["emergency_kind"] = _("An emergency complaint needs its kind: vehicle fire or major accident.")
    elif complaint.severity == ComplaintSeverity.NORMAL:
        complaint.emergency_kind = ""
    if complaint.involves_media:
        # R24: a complaint involving the media records the outlet, programme/section, journalist and contact.
        labels = {
            "media_outlet": _("Enter the media outlet."),
            "media_programme": _("Enter the programme or section."),
            "journalist": _("Enter the journalist's name."),
            "journalist_contact": _("Enter the journalist's contact."),
        }
        for name in MEDIA_FIELDS:
            if not _text(getattr(complaint, name)):
                errors[name] = labels[name]
    if errors:
        raise ValidationError(errors)


def _notify_emergency(complaint: Complaint, *, actor, now: datetime.datetime) -> None:
    """R24: tell the field manager and the technical centre at once, with the checklist to gather."""
    contacts = claims_settings(complaint.dealership)
    subject = _("EMERGENCY complaint %(number)s: %(kind)s, %(dealership)s") % {
        "number": complaint.number,
        "kind": complaint.get_emergency_kind_display(),
        "dealership": complaint.dealership,
    }
    vehicle = complaint.vehicle
    lines = [
        subject,
        "",
        _("Received: %(at)s via %(channel)s")
        % {
            "at": timezone.localtime(complaint.received_at, complaint.dealership.tz).strftime("%d.%m.%Y %H:%M"),
            "channel": complaint.get_channel_display(),
        },
        _("Customer: %(name)s %(phone)s")
        % {
            "name": complaint.display_name,
            "phone": complaint.customer.phone if complaint.customer_id else complaint.contact_phone,
        },
        _("Vehicle: %(vehicle)s") % {"vehicle": vehicle or complaint.vin_text or "—"},
        "",
        complaint.description,
        "",
        _("Checklist: insurance; aftermarket equipment; police report; photos as TAC instructs."),  # R24
    ]
    if complaint.involves_media:
        lines.append(
            _("Media: %(outlet)s, %(programme)s, journalist %(journalist)s (%(contact)s)")
            % {
                "outlet": complaint.media_outlet,
                "programme": complaint.media_programme,
                "journalist": complaint.journalist,
                "contact": complaint.journalist_contact,
            }
        )
    body = "\n".join(str(line) for line in lines)
    for recipient, address in (
        (ComplaintNotification.Recipient.FMC, contacts.fmc_email),
        (ComplaintNotification.Recipient.TAC, contacts.tac_email),
    ):
        note = ComplaintNotification.objects.create(
            complaint=complaint,
            recipient=recipient,
            channel="email",
            address=address,
            subject=subject[:200],
            status=ComplaintNotification.Status.QUEUED if address else ComplaintNotification.Status.NO_ADDRESS,
            created_at=now,
        )
        if address:
            _mail_on_commit(subject, body, [address], notification_ids=[note.pk], log=f"emergency {complaint.number}")
    complaint.contacts_notified_at = now
    complaint.save(update_fields=["contacts_notified_at", "updated_at"])
    events.record(
        actor=actor,
        instance=complaint,
        action=AuditAction.ACTION,
        message=_("Emergency reported to the field manager and the technical centre."),
    )


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
        description=_text(description),
        received_at=received_at or now,
        customer=customer,
        vehicle=vehicle,
        registered_by=actor if getattr(actor, "is_authenticated", False) else None,
        source_ip=source_ip,
    )
    if vehicle is not None and customer is None and vehicle.dealership_id == dealership.pk:
        complaint.customer = vehicle.customer
    _apply(complaint, data, COMPLAINT_INTAKE_FIELDS)
    _validate_complaint_intake(complaint, now)
    complaint.number = _next_number(dealership, "complaint")
    complaint.save()
    events.record_created(actor=actor, instance=complaint, fields=["channel", "received_at", "customer", "severity"])
    if complaint.is_emergency:
        _notify_emergency(complaint, actor=actor, now=now)
    return complaint


@transaction.atomic
def complaint_update(
    *, actor, complaint: Complaint, data: dict[str, Any], now: datetime.datetime | None = None
) -> Complaint:
    """Correct the intake, fill the R24 checklist and media details. An upgrade to emergency notifies at once."""
    now = now or timezone.now()
    complaint = Complaint.objects.select_for_update().select_related("dealership").get(pk=complaint.pk)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ConflictError(_("A closed complaint cannot be changed."))
    before = events.snapshot(complaint, [name for name in data if name in COMPLAINT_INTAKE_FIELDS])
    _apply(complaint, data, COMPLAINT_INTAKE_FIELDS)
    _validate_complaint_intake(complaint, now)
    complaint.save()
    events.record_updated(actor=actor, instance=complaint, before=before)
    if complaint.is_emergency and complaint.contacts_notified_at is None:
        _notify_emergency(complaint, actor=actor, now=now)
    return complaint


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
    import phonenumbers

    customer = None
    phone = _text(phone)
    email = _text(email).lower()
    if phone:
        try:
            parsed = phonenumbers.parse(phone, settings.PHONENUMBER_DEFAULT_REGION)
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            customer = Customer.objects.filter(dealership=dealership, phone=e164).first()
        except phonenumbers.NumberParseException:
            raise ValidationError({"phone": _("Enter a valid phone number.")}) from None
    if customer is None and email:
        customer = Customer.objects.filter(dealership=dealership, email__iexact=email).first()
    vehicle = None
    vin_norm = normalize_vin(vin)
    if vin_norm:
        vehicles = Vehicle.objects.filter(dealership=dealership).filter(vin=vin_norm)
        if customer is not None:
            vehicles = vehicles.filter(customer=customer)
        vehicle = vehicles.first() if customer is not None else None
    return complaint_register(
        actor=None,
        dealership=dealership,
        channel=ComplaintChannel.WEB_FORM,
        description=description,
        customer=customer,
        vehicle=vehicle,
        contact_name=_text(name),
        contact_phone=phone,
        contact_email=email,
        vin_text=_text(vin)[:40],
        now=now,
        source_ip=source_ip,
    )


def _locked_complaint(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().select_related("dealership").get(pk=complaint.pk)


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
    _require(actor, "claims.assign_complaint")
    complaint = _locked_complaint(complaint)
    if complaint.status not in (ComplaintStatus.REGISTERED, ComplaintStatus.ASSIGNED):
        raise ConflictError(
            _("Complaint %(number)s is %(status)s: it can be assigned only before the investigation starts.")
            % {"number": complaint.number, "status": complaint.get_status_display()}
        )
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
    if errors:
        raise ValidationError(errors)
    _check_staff(assignee, complaint.dealership_id, "assignee")
    before = events.snapshot(complaint, ["category", "department", "assignee", "deadline"])
    source = complaint.status
    complaint.category, complaint.department, complaint.assignee, complaint.deadline = (
        category,
        department,
        assignee,
        deadline,
    )
    # A new deadline lifts an earlier overdue flag.
    if complaint.overdue_flagged_at and not complaint.is_overdue(now):
        complaint.overdue_flagged_at = None
    complaint.assign(at=now)
    complaint.save()
    events.record_updated(actor=actor, instance=complaint, before=before)
    if source != complaint.status:
        _transition_audit(complaint, actor=actor, source=source)
    return complaint


@transaction.atomic
def complaint_start_investigation(*, actor, complaint: Complaint) -> Complaint:
    _require(actor, "claims.investigate_complaint")
    complaint = _locked_complaint(complaint)
    if complaint.status != ComplaintStatus.ASSIGNED:
        raise ConflictError(_("Only an assigned complaint can go to investigation."))
    source = complaint.status
    complaint.start_investigation()
    complaint.save()
    _transition_audit(complaint, actor=actor, source=source)
    return complaint


@transaction.atomic
def complaint_add_note(
    *, actor, complaint: Complaint, kind: str, text: str, now: datetime.datetime | None = None
) -> ComplaintNote:
    """Investigation notes (assigned/investigating) and follow-ups with the customer (after the solution)."""
    _require(actor, "claims.investigate_complaint")
    complaint = _locked_complaint(complaint)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ConflictError(_("A closed complaint cannot be changed."))
    if kind not in ComplaintNote.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of note.")})
    if not _text(text):
        raise ValidationError({"text": _("Write the note.")})
    if kind == ComplaintNote.Kind.FOLLOW_UP and complaint.status != ComplaintStatus.SOLUTION_AGREED:
        raise ValidationError({"kind": _("A follow-up is recorded after a solution was agreed with the customer.")})
    note = ComplaintNote.objects.create(
        complaint=complaint, kind=kind, text=_text(text), author=actor, created_at=now or timezone.now()
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
    now = now or timezone.now()
    _require(actor, "claims.investigate_complaint")
    complaint = _locked_complaint(complaint)
    if complaint.status != ComplaintStatus.INVESTIGATING:
        raise ConflictError(_("A solution is agreed after the investigation has started."))
    if not _text(solution):
        raise ValidationError({"solution": _("Describe the solution agreed with the customer.")})
    if not _text(cause):
        raise ValidationError({"cause": _("Record the cause found by the investigation.")})
    before = events.snapshot(complaint, ["cause", "responsibility", "solution"])
    complaint.solution, complaint.cause, complaint.responsibility = _text(solution), _text(cause), _text(responsibility)
    source = complaint.status
    complaint.agree_solution(at=now)
    complaint.save()
    events.record_updated(actor=actor, instance=complaint, before=before)
    _transition_audit(complaint, actor=actor, source=source)
    return complaint


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
    now = now or timezone.now()
    _require(actor, "claims.close_complaint")
    complaint = _locked_complaint(complaint)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ConflictError(_("The complaint is already closed."))
    if complaint.status != ComplaintStatus.SOLUTION_AGREED or not complaint.has_solution():
        raise ConflictError(_("A complaint can be closed only after a solution was agreed with the customer."))
    errors = {}
    if not complaint.notes.filter(kind=ComplaintNote.Kind.FOLLOW_UP).exists():
        errors["closing_report"] = _("Record the follow-up with the customer before closing.")
    if not _text(closing_report):
        errors["closing_report"] = _("Write the closing report.")
    try:
        satisfaction = int(satisfaction) if satisfaction not in (None, "") else None
    except (TypeError, ValueError):
        satisfaction = 0
    if satisfaction is None or not 1 <= satisfaction <= 5:
        errors["satisfaction"] = _("Rate the customer's satisfaction from 1 to 5.")
    if complaint.is_emergency and not complaint.checklist_complete():
        errors["checklist"] = _(
            "An emergency complaint is closed only with its checklist complete: insurance, aftermarket equipment, "
            "police report, photos."
        )
    if errors:
        raise ValidationError(errors)
    before = events.snapshot(complaint, ["closing_report", "satisfaction", "improvement"])
    complaint.closing_report, complaint.satisfaction, complaint.improvement = (
        _text(closing_report),
        satisfaction,
        _text(improvement),
    )
    source = complaint.status
    complaint.close(at=now, by=actor)
    complaint.save()
    events.record_updated(actor=actor, instance=complaint, before=before)
    _transition_audit(complaint, actor=actor, source=source)
    return complaint


def _directors_of(dealership_id: int) -> list:
    return list(
        User.objects.filter(is_active=True, groups__name=DIRECTOR, staff_profile__dealerships__id=dealership_id)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def complaints_flag_overdue(*, now: datetime.datetime | None = None) -> int:
    """Beat job: flag open complaints past their deadline and escalate them to the dealership's directors.

    Each complaint is flagged and escalated once (until a new deadline is set). One e-mail per dealership.
    """
    now = now or timezone.now()
    flagged = 0
    for dealership in Dealership.objects.all():
        today = timezone.localtime(now, dealership.tz).date()
        with transaction.atomic():
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
                continue
            directors = _directors_of(dealership.pk)
            for complaint in candidates:
                complaint.overdue_flagged_at = now
                complaint.escalated_at = now if directors else None
                complaint.save(update_fields=["overdue_flagged_at", "escalated_at", "updated_at"])
                events.record(
                    actor=None,
                    instance=complaint,
                    action=AuditAction.ACTION,
                    message=_("Overdue: the deadline %(deadline)s has passed; escalated to the director.")
                    % {"deadline": complaint.deadline.strftime("%d.%m.%Y")},
                )
            flagged += len(candidates)
            if directors:
                subject = _("Overdue complaints at %(dealership)s: %(count)s") % {
                    "dealership": dealership,
                    "count": len(candidates),
                }
                body = "\n".join(
                    [str(subject), ""]
                    + [
                        _("%(number)s, deadline %(deadline)s, %(status)s, responsible: %(assignee)s — %(customer)s")
                        % {
                            "number": c.number,
                            "deadline": c.deadline.strftime("%d.%m.%Y"),
                            "status": c.get_status_display(),
                            "assignee": (c.assignee.get_full_name() or c.assignee.username) if c.assignee else "—",
                            "customer": c.display_name,
                        }
                        for c in candidates
                    ]
                )
                ids = []
                for complaint in candidates:
                    for director in directors:
                        ids.append(
                            ComplaintNotification.objects.create(
                                complaint=complaint,
                                recipient=ComplaintNotification.Recipient.DIRECTOR,
                                address=director.email,
                                subject=str(subject)[:200],
                                created_at=now,
                            ).pk
                        )
                _mail_on_commit(
                    str(subject), body, [d.email for d in directors], notification_ids=ids, log="overdue escalation"
                )
    return flagged


# ----------------------------------------------------------------------------------------------------------------
# Attachments: images and PDF only, size-limited; the content is sniffed, not trusted from the name.
# ----------------------------------------------------------------------------------------------------------------


def validate_upload(file) -> str:
    """Return the file's content type, or raise a ValidationError on ``file`` (the shared check of dms.core)."""
    return core_uploads.validate_upload(file, allowed=ALLOWED_UPLOADS, max_bytes=MAX_UPLOAD_BYTES)


def _owner_field(owner) -> str:
    if isinstance(owner, Complaint):
        return "complaint"
    if isinstance(owner, WarrantyClaim):
        return "warranty_claim"
    if isinstance(owner, GoodwillClaim):
        return "goodwill_claim"
    raise ValidationError(_("Files can be attached to complaints and claims only."))


ATTACHMENT_KINDS = {
    "complaint": (AttachmentKind.PHOTO, AttachmentKind.EVIDENCE, AttachmentKind.OTHER),
    "warranty_claim": (
        AttachmentKind.PHOTO,
        AttachmentKind.FMC_SIGNED_CONFIRMATION,
        AttachmentKind.WORK_ORDER,
        AttachmentKind.OTHER,
    ),
    "goodwill_claim": (
        AttachmentKind.AGREEMENT,
        AttachmentKind.INVOICE,
        AttachmentKind.WORK_ORDER,
        AttachmentKind.PHOTO,
        AttachmentKind.OTHER,
    ),
}
ATTACHMENT_PERMS = {
    "complaint": "claims.investigate_complaint",
    "warranty_claim": "claims.change_warrantyclaim",
    "goodwill_claim": "claims.change_goodwillclaim",
}


@transaction.atomic
def attachment_add(*, actor, owner, kind: str, file, description: str = "") -> Attachment:
    field = _owner_field(owner)
    _require(actor, ATTACHMENT_PERMS[field])
    model = type(owner)
    owner = model.objects.select_for_update().get(pk=owner.pk)
    if field == "complaint" and owner.status == ComplaintStatus.CLOSED:
        raise ConflictError(_("A closed complaint cannot be changed."))
    if field != "complaint" and not owner.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s: files are added while it is a draft or returned for correction.")
            % {"number": owner.number, "status": owner.get_status_display()}
        )
    if kind not in ATTACHMENT_KINDS[field]:
        raise ValidationError({"kind": _("This kind of file does not belong here.")})
    content_type = validate_upload(file)
    original = (getattr(file, "name", "") or "file").rsplit("/", 1)[-1][:200]
    attachment = Attachment(
        dealership_id=owner.dealership_id,
        kind=kind,
        original_name=original,
        content_type=content_type,
        size=file.size,
        description=_text(description)[:300],
        uploaded_by=actor,
        **{field: owner},
    )
    attachment.file.save(original, file, save=False)
    attachment.save()
    events.record(
        actor=actor,
        instance=owner,
        action=AuditAction.ACTION,
        message=_("File attached: %(name)s (%(kind)s)") % {"name": original, "kind": attachment.get_kind_display()},
    )
    return attachment


# ----------------------------------------------------------------------------------------------------------------
# Goodwill claims (R23)
# ----------------------------------------------------------------------------------------------------------------

GOODWILL_FIELDS = (
    "complaint",
    "customer",
    "vehicle",
    "work_order_id",
    "work_order_number",
    "description",
    "fmc_terms",
    "fmc_max_amount",
    "agreement_signed_on",
    "requested_amount",
)


def _validate_goodwill(claim: GoodwillClaim) -> None:
    errors = {}
    if not claim.customer_id or claim.customer.dealership_id != claim.dealership_id:
        errors["customer"] = _("Unknown customer.")
    if not claim.vehicle_id or claim.vehicle.dealership_id != claim.dealership_id:
        errors["vehicle"] = _("Unknown vehicle.")
    elif owner_error := vehicle_of_another_customer_error(customer=claim.customer_id, vehicle=claim.vehicle):
        errors["vehicle"] = owner_error  # R15, the shared check
    if claim.complaint_id and claim.complaint.dealership_id != claim.dealership_id:
        errors["complaint"] = _("Unknown complaint.")
    if not _text(claim.description):
        errors["description"] = _("Describe the case.")
    if claim.work_order_id:
        work_order = workorders.work_order_for_claim(
            dealership_id=claim.dealership_id, work_order_id=claim.work_order_id
        )
        if work_order is None:
            errors["work_order_id"] = _("Unknown work order.")
        else:
            claim.work_order_number = work_order.number
    for name in ("fmc_max_amount", "requested_amount"):
        setattr(claim, name, _amount(getattr(claim, name), name, required=False))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def goodwill_claim_create(*, actor, dealership: Dealership, **data: Any) -> GoodwillClaim:
    claim = GoodwillClaim(dealership=dealership, author=actor)
    _apply(claim, data, GOODWILL_FIELDS)
    if claim.complaint_id and not claim.customer_id and claim.complaint.customer_id:
        claim.customer = claim.complaint.customer
    _validate_goodwill(claim)
    claim.number = _next_number(dealership, "goodwill")
    claim.save()
    events.record_created(actor=actor, instance=claim, fields=["customer", "vehicle", "complaint", "work_order_number"])
    return claim


def _locked_goodwill(claim: GoodwillClaim) -> GoodwillClaim:
    return GoodwillClaim.objects.select_for_update().select_related("dealership").get(pk=claim.pk)


@transaction.atomic
def goodwill_claim_update(
    *, actor, claim: GoodwillClaim, data: dict[str, Any], now: datetime.datetime | None = None
) -> GoodwillClaim:
    claim = _locked_goodwill(claim)
    if not claim.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s and cannot be changed.")
            % {"number": claim.number, "status": claim.get_status_display()}
        )
    before = events.snapshot(claim, [name for name in data if name in GOODWILL_FIELDS])
    _apply(claim, data, GOODWILL_FIELDS)
    _validate_goodwill(claim)
    if "fmc_terms" in data and claim.fmc_terms and before.get("fmc_terms") != claim.fmc_terms:
        claim.fmc_terms_recorded_at = now or timezone.now()
    claim.save()
    events.record_updated(actor=actor, instance=claim, before=before)
    return claim


@transaction.atomic
def goodwill_claim_submit(*, actor, claim: GoodwillClaim, now: datetime.datetime | None = None) -> GoodwillClaim:
    """R23: the claim goes to the FMC with the terms, the signed agreement and the work order and agreement/invoice."""
    now = now or timezone.now()
    _require(actor, "claims.submit_goodwillclaim")
    claim = _locked_goodwill(claim)
    if not claim.is_editable:
        raise ConflictError(_("Only a draft or a returned claim can be submitted."))
    errors = {}
    if not _text(claim.fmc_terms):
        errors["fmc_terms"] = _("Record the terms the field manager allowed.")
    if claim.agreement_signed_on is None:
        errors["agreement_signed_on"] = _("Record when the agreement was signed with the customer.")
    if not (claim.work_order_id or _text(claim.work_order_number)):
        errors["work_order_number"] = _("The claim needs the work order.")
    if not claim.attachments.filter(kind__in=[AttachmentKind.AGREEMENT, AttachmentKind.INVOICE]).exists():
        errors["attachments"] = _("Attach the signed agreement or the invoice.")
    if claim.requested_amount is None:
        errors["requested_amount"] = _("Enter the amount claimed.")
    elif claim.fmc_max_amount is not None and claim.requested_amount > claim.fmc_max_amount:
        errors["requested_amount"] = _("The amount claimed exceeds the amount the field manager allowed.")
    if errors:
        raise ValidationError(errors)
    source = claim.status
    claim.submit(at=now)
    claim.save()
    _transition_audit(claim, actor=actor, source=source)
    return claim


@transaction.atomic
def goodwill_claim_fmc_confirm(*, actor, claim: GoodwillClaim, now: datetime.datetime | None = None) -> GoodwillClaim:
    _require(actor, "claims.fmc_confirm_goodwillclaim")
    claim = _locked_goodwill(claim)
    if claim.status != GoodwillStatus.SUBMITTED:
        raise ConflictError(_("Only a submitted claim can be confirmed by the field manager."))
    source = claim.status
    claim.fmc_confirm(at=now or timezone.now(), by=actor)
    claim.save()
    _transition_audit(claim, actor=actor, source=source)
    return claim


@transaction.atomic
def goodwill_claim_cac_confirm(*, actor, claim: GoodwillClaim, now: datetime.datetime | None = None) -> GoodwillClaim:
    _require(actor, "claims.cac_confirm_goodwillclaim")
    claim = _locked_goodwill(claim)
    if claim.status != GoodwillStatus.FMC_CONFIRMED:
        raise ConflictError(_("Customer assistance confirms a claim after the field manager."))
    source = claim.status
    claim.cac_confirm(at=now or timezone.now(), by=actor)
    claim.save()
    _transition_audit(claim, actor=actor, source=source)
    return claim


@transaction.atomic
def goodwill_claim_record_payment(
    *, actor, claim: GoodwillClaim, amount: Any, reference: str, now: datetime.datetime | None = None
) -> GoodwillClaim:
    _require(actor, "claims.record_payment_goodwillclaim")
    claim = _locked_goodwill(claim)
    if claim.status != GoodwillStatus.CAC_CONFIRMED:
        raise ConflictError(_("Payment is recorded after customer assistance confirmed the claim."))
    amount = _amount(amount, "amount")
    if not _text(reference):
        raise ValidationError({"reference": _("Enter the payment reference.")})
    source = claim.status
    claim.record_payment(at=now or timezone.now(), amount=amount, reference=_text(reference))
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=f"{amount} {reference}")
    return claim


def _goodwill_decider_perm(claim: GoodwillClaim) -> str:
    return {
        GoodwillStatus.SUBMITTED: "claims.fmc_confirm_goodwillclaim",
        GoodwillStatus.FMC_CONFIRMED: "claims.cac_confirm_goodwillclaim",
    }.get(claim.status, "")


@transaction.atomic
def goodwill_claim_return(*, actor, claim: GoodwillClaim, reason: str) -> GoodwillClaim:
    claim = _locked_goodwill(claim)
    perm = _goodwill_decider_perm(claim)
    if not perm:
        raise ConflictError(_("This claim is not awaiting a confirmation."))
    _require(actor, perm)
    if not _text(reason):
        raise ValidationError({"reason": _("Give the reason.")})
    source = claim.status
    claim.return_for_correction(reason=_text(reason))
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=_text(reason))
    return claim


@transaction.atomic
def goodwill_claim_reject(*, actor, claim: GoodwillClaim, reason: str) -> GoodwillClaim:
    claim = _locked_goodwill(claim)
    perm = _goodwill_decider_perm(claim)
    if not perm:
        raise ConflictError(_("This claim is not awaiting a confirmation."))
    _require(actor, perm)
    if not _text(reason):
        raise ValidationError({"reason": _("Give the reason.")})
    source = claim.status
    claim.reject(reason=_text(reason))
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=_text(reason))
    return claim


# ----------------------------------------------------------------------------------------------------------------
# Warranty claims (R22)
# ----------------------------------------------------------------------------------------------------------------

WARRANTY_FIELDS = (
    "kind",
    "mileage",
    "failure_date",
    "failure_code",
    "causal_part",
    "causal_part_number",
    "description",
    "failed_part_serial",
    "replacement_part_serial",
    "labour_hours",
    "labour_rate",
    "tac_authorisation",
    "tac_authorised_by",
    "odometer_explanation",
)


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "passed": self.passed, "message": self.message}


def _validate_warranty(claim: WarrantyClaim, now: datetime.datetime) -> None:
    errors = {}
    if claim.kind not in WarrantyClaimKind.values:
        errors["kind"] = _("Unknown kind of claim.")
    if claim.mileage is None or claim.mileage < 0:
        errors["mileage"] = _("Enter the mileage at the repair.")
    if claim.failure_date is None:
        errors["failure_date"] = _("Enter the failure date.")
    elif claim.failure_date > timezone.localtime(now, claim.dealership.tz).date():
        errors["failure_date"] = _("The failure date is in the future.")
    if not _text(claim.failure_code):
        errors["failure_code"] = _("Enter the failure code.")
    if claim.causal_part_id:
        if claim.causal_part.dealership_id != claim.dealership_id:
            errors["causal_part"] = _("Unknown part.")
        else:
            claim.causal_part_number = claim.causal_part.number
    if not _text(claim.causal_part_number):
        errors["causal_part"] = _("Choose the causal part.")
    if not _text(claim.description):
        errors["description"] = _("Describe the complaint, the cause and the correction.")
    for name in ("labour_hours", "labour_rate"):
        value = _amount(getattr(claim, name), name, required=False)
        setattr(claim, name, value if value is not None else Decimal("0"))
    if errors:
        raise ValidationError(errors)


def _parse_part_lines(dealership_id: int, parts: Iterable[dict]) -> list[tuple[Part, Decimal, bool]]:
    parsed = []
    seen = set()
    for index, line in enumerate(parts):
        part = line.get("part")
        if not isinstance(part, Part) or part.dealership_id != dealership_id:
            raise ValidationError({"parts": _("Line %(n)s: unknown part.") % {"n": index + 1}})
        if part.pk in seen:
            raise ValidationError({"parts": _("Part %(part)s is listed twice.") % {"part": part.number}})
        seen.add(part.pk)
        quantity = _amount(line.get("quantity"), "parts")
        if quantity <= 0:
            raise ValidationError(
                {"parts": _("Line %(n)s: the quantity must be greater than zero.") % {"n": index + 1}}
            )
        parsed.append((part, quantity, bool(line.get("is_special"))))
    return parsed


def _replace_part_lines(claim: WarrantyClaim, parsed: list[tuple[Part, Decimal, bool]]) -> None:
    claim.part_lines.all().delete()
    WarrantyClaimPart.objects.bulk_create(
        WarrantyClaimPart(claim=claim, part=part, quantity=quantity, unit_price=part.price, is_special=special)
        for part, quantity, special in parsed
    )


def _sync_quarantine(claim: WarrantyClaim, location: str | None = None) -> QuarantinedPart:
    """R22: the removed failed part is held in quarantine, linked to the claim."""
    held, created = QuarantinedPart.objects.get_or_create(
        claim=claim,
        defaults={
            "dealership_id": claim.dealership_id,
            "part_number": claim.causal_part_number,
            "serial_number": claim.failed_part_serial,
            "location": location or "",
        },
    )
    if not created and held.status == QuarantineStatus.QUARANTINED:
        held.part_number, held.serial_number = claim.causal_part_number, claim.failed_part_serial
        if location is not None:
            held.location = location
        held.save()
    return held


def _live_claims_for_job(claim: WarrantyClaim):
    return WarrantyClaim.objects.filter(
        dealership_id=claim.dealership_id, work_order_id=claim.work_order_id, job_id=claim.job_id
    ).exclude(status=WarrantyStatus.REJECTED)


@transaction.atomic
def warranty_claim_create(
    *,
    actor,
    dealership: Dealership,
    work_order_id: int,
    job_id: int,
    parts: Iterable[dict] = (),
    quarantine_location: str = "",
    now: datetime.datetime | None = None,
    **data: Any,
) -> WarrantyClaim:
    """R22: the warranty engineer drafts a claim from a work order's job (parts, labour, causal part, failure code)."""
    now = now or timezone.now()
    work_order = workorders.work_order_for_claim(dealership_id=dealership.pk, work_order_id=work_order_id)
    if work_order is None:
        raise ValidationError({"work_order_id": _("Unknown work order.")})
    job_id = parse_id(job_id)
    job = work_order.job(job_id) if job_id is not None else None
    if job is None:
        raise ValidationError(
            {"job_id": _("This job is not on work order %(number)s.") % {"number": work_order.number}}
        )
    claim = WarrantyClaim(
        dealership=dealership,
        engineer=actor,
        work_order_id=work_order.id,
        work_order_number=work_order.number,
        job_id=job.id,
        job_description=job.description[:300],
        customer_id=work_order.customer_id,
        vehicle_id=work_order.vehicle_id,
        labour_hours=job.labour_hours,
        labour_rate=job.labour_rate,
    )
    if data.get("mileage") in (None, "") and work_order.mileage is not None:
        data["mileage"] = work_order.mileage
    if data.get("labour_hours") in (None, ""):
        data.pop("labour_hours", None)  # the job's standard hours
    _apply(claim, data, WARRANTY_FIELDS)
    _validate_warranty(claim, now)
    duplicate = _live_claims_for_job(claim).first()
    if duplicate is not None:
        raise ValidationError(
            {"job_id": _("Claim %(number)s already exists for this job.") % {"number": duplicate.number}}
        )
    parsed = _parse_part_lines(dealership.pk, parts)
    claim.number = _next_number(dealership, "warranty")
    claim.save()
    _replace_part_lines(claim, parsed)
    _sync_quarantine(claim, _text(quarantine_location))
    events.record_created(
        actor=actor, instance=claim, fields=["kind", "work_order_number", "job_description", "mileage", "failure_code"]
    )
    return claim


def _locked_warranty(claim: WarrantyClaim) -> WarrantyClaim:
    return WarrantyClaim.objects.select_for_update().select_related("dealership", "vehicle").get(pk=claim.pk)


@transaction.atomic
def warranty_claim_update(
    *,
    actor,
    claim: WarrantyClaim,
    data: dict[str, Any],
    parts: Iterable[dict] | None = None,
    quarantine_location: str | None = None,
    now: datetime.datetime | None = None,
) -> WarrantyClaim:
    now = now or timezone.now()
    claim = _locked_warranty(claim)
    if not claim.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s: it is corrected only as a draft or when returned.")
            % {"number": claim.number, "status": claim.get_status_display()}
        )
    before = events.snapshot(claim, [name for name in data if name in WARRANTY_FIELDS])
    _apply(claim, data, WARRANTY_FIELDS)
    _validate_warranty(claim, now)
    claim.save()
    if parts is not None:
        _replace_part_lines(claim, _parse_part_lines(claim.dealership_id, parts))
    _sync_quarantine(claim, _text(quarantine_location) if quarantine_location is not None else None)
    events.record_updated(actor=actor, instance=claim, before=before)
    return claim


def warranty_claim_preconditions(claim: WarrantyClaim) -> dict[str, str]:
    """What must be on the claim before it may be submitted (R22): TAC authorisation, odometer evidence."""
    errors: dict[str, str] = {}
    if claim.needs_tac() and not _text(claim.tac_authorisation):
        errors["tac_authorisation"] = _(
            "A special or assembly part needs the TAC authorisation number before the claim is submitted."
        )
    if claim.kind == WarrantyClaimKind.ODOMETER_ROLLBACK:
        if not _text(claim.odometer_explanation):
            errors["odometer_explanation"] = _("An odometer-rollback claim needs the explanation of the rollback.")
        kinds = set(claim.attachments.values_list("kind", flat=True))
        if AttachmentKind.PHOTO not in kinds:
            errors["photos"] = _("An odometer-rollback claim needs photos of the odometer.")
        if AttachmentKind.FMC_SIGNED_CONFIRMATION not in kinds:
            errors["fmc_signed_confirmation"] = _(
                "An odometer-rollback claim needs the field manager's signed confirmation (upload the scan)."
            )
    if not claim.part_lines.exists() and claim.labour_hours <= 0:
        errors["parts"] = _("The claim has neither parts nor labour.")
    return errors


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def run_automatic_checks(claim: WarrantyClaim) -> list[CheckResult]:
    """R22 «系统自动审批»: the system's own checks. Each returns passed/failed with a message."""
    results: list[CheckResult] = []
    vehicle = claim.vehicle
    # 1. In warranty by date.
    if vehicle.warranty_end is None:
        results.append(CheckResult("warranty_date", False, _("The vehicle has no warranty period recorded.")))
    elif (vehicle.warranty_start and claim.failure_date < vehicle.warranty_start) or (
        claim.failure_date > vehicle.warranty_end
    ):
        results.append(
            CheckResult(
                "warranty_date",
                False,
                _("The failure date %(date)s is outside the warranty (until %(end)s).")
                % {"date": claim.failure_date.strftime("%d.%m.%Y"), "end": vehicle.warranty_end.strftime("%d.%m.%Y")},
            )
        )
    else:
        results.append(CheckResult("warranty_date", True, _("In warranty by date.")))
    # 2. In warranty by mileage.
    limit = vehicle.warranty_mileage_limit
    if limit is not None and claim.mileage > limit:
        results.append(
            CheckResult(
                "warranty_mileage",
                False,
                _("The mileage %(mileage)s km exceeds the warranty limit of %(limit)s km.")
                % {"mileage": claim.mileage, "limit": limit},
            )
        )
    else:
        results.append(CheckResult("warranty_mileage", True, _("In warranty by mileage.")))
    # 3. The work order was delivered; 5. the claimed parts were issued to it.
    work_order = workorders.work_order_for_claim(dealership_id=claim.dealership_id, work_order_id=claim.work_order_id)
    if work_order is None or work_order.vehicle_id != claim.vehicle_id:
        results.append(CheckResult("work_order_delivered", False, _("The work order is not found for this vehicle.")))
        results.append(CheckResult("parts_issued", False, _("The parts cannot be checked without the work order.")))
    else:
        if workorders.is_delivered(work_order):
            results.append(CheckResult("work_order_delivered", True, _("The work order was delivered.")))
        else:
            results.append(
                CheckResult(
                    "work_order_delivered",
                    False,
                    _("Work order %(number)s has not been delivered to the customer.") % {"number": work_order.number},
                )
            )
        # Issue 15 item 3: the warehouse ledger's issues against the work order's requisitions (net of returns).
        issued = workorders.parts_issued_to(work_order)
        missing = [
            _("%(part)s (claimed %(claimed)s, issued %(issued)s)")
            % {
                "part": line.part.number,
                "claimed": _number(line.quantity),
                "issued": _number(issued.get(line.part_id, Decimal("0"))),
            }
            for line in claim.part_lines.select_related("part")
            if issued.get(line.part_id, Decimal("0")) < line.quantity
        ]
        if missing:
            results.append(
                CheckResult(
                    "parts_issued",
                    False,
                    _(
                        "Parts not issued from the warehouse to work order %(number)s against its requisitions: "
                        "%(parts)s."
                    )
                    % {"number": work_order.number, "parts": "; ".join(missing)},
                )
            )
        else:
            results.append(CheckResult("parts_issued", True, _("The claimed parts were issued to the work order.")))
    # 4. No duplicate claim for the same job.
    duplicate = _live_claims_for_job(claim).exclude(pk=claim.pk).first()
    if duplicate is not None:
        results.append(
            CheckResult(
                "duplicate",
                False,
                _("Claim %(number)s already exists for the same job.") % {"number": duplicate.number},
            )
        )
    else:
        results.append(CheckResult("duplicate", True, _("No other claim for this job.")))
    # 6. Mileage never decreasing across the vehicle's visits (the claim's reading included).
    readings = [
        (r.at, r.mileage, r.work_order_number)
        for r in workorders.mileage_history(vehicle_id=claim.vehicle_id)
        if r.work_order_id != claim.work_order_id
    ]
    this_at = work_order.opened_at if work_order and work_order.opened_at else claim.created_at
    readings.append((this_at, claim.mileage, claim.work_order_number))
    readings.sort(key=lambda r: r[0])
    drops = [(earlier, later) for earlier, later in zip(readings, readings[1:], strict=False) if later[1] < earlier[1]]
    if drops:
        earlier, later = drops[0]
        message = _("The mileage decreased from %(a)s km (%(wa)s) to %(b)s km (%(wb)s).") % {
            "a": earlier[1],
            "wa": earlier[2],
            "b": later[1],
            "wb": later[2],
        }
        if claim.kind == WarrantyClaimKind.ODOMETER_ROLLBACK:
            # The rollback is the claim's subject: explained, with photos and the FMC's signed confirmation.
            results.append(
                CheckResult(
                    "mileage", True, _("%(message)s Explained by the FMC-confirmed rollback.") % {"message": message}
                )
            )
        else:
            results.append(CheckResult("mileage", False, message))
    else:
        results.append(CheckResult("mileage", True, _("The mileage never decreased across the vehicle's visits.")))
    return results


@transaction.atomic
def warranty_claim_submit(*, actor, claim: WarrantyClaim, now: datetime.datetime | None = None) -> WarrantyClaim:
    """R22: submit → automatic system check. A failed precondition or check is a 400 listing what failed, and
    nothing changes; a passed check moves the claim to «Проверена системой» for the field manager."""
    now = now or timezone.now()
    _require(actor, "claims.submit_warrantyclaim")
    claim = _locked_warranty(claim)
    if not claim.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s: only a draft or a returned claim can be submitted.")
            % {"number": claim.number, "status": claim.get_status_display()}
        )
    errors = warranty_claim_preconditions(claim)
    if errors:
        raise ValidationError(errors)
    results = run_automatic_checks(claim)
    failed = [r.message for r in results if not r.passed]
    if failed:
        raise ValidationError({"checks": failed})
    source = claim.status
    claim.submit(at=now)
    claim.save()
    _transition_audit(claim, actor=actor, source=source)
    claim.pass_auto_check(at=now, results=[r.as_dict() for r in results])
    claim.save()
    _transition_audit(claim, actor=None, source=WarrantyStatus.SUBMITTED, message=_("All automatic checks passed."))
    return claim


@transaction.atomic
def warranty_claim_fmc_confirm(*, actor, claim: WarrantyClaim, now: datetime.datetime | None = None) -> WarrantyClaim:
    _require(actor, "claims.fmc_confirm_warrantyclaim")
    claim = _locked_warranty(claim)
    if claim.status != WarrantyStatus.AUTO_CHECKED:
        raise ConflictError(_("The field manager confirms a claim that passed the automatic check."))
    source = claim.status
    claim.fmc_confirm(at=now or timezone.now(), by=actor)
    claim.save()
    _transition_audit(claim, actor=actor, source=source)
    return claim


@transaction.atomic
def warranty_claim_claims_confirm(
    *,
    actor,
    claim: WarrantyClaim,
    part_instruction: str,
    approved_amount: Any = None,
    now: datetime.datetime | None = None,
) -> WarrantyClaim:
    _require(actor, "claims.claims_confirm_warrantyclaim")
    claim = _locked_warranty(claim)
    if claim.status != WarrantyStatus.FMC_CONFIRMED:
        raise ConflictError(_("The claims department confirms a claim after the field manager."))
    if part_instruction not in PartInstruction.values:
        raise ValidationError({"part_instruction": _("Say whether the failed part is scrapped or returned.")})
    amount = _amount(approved_amount, "approved_amount", required=False)
    amount = claim.total if amount is None else amount
    source = claim.status
    claim.claims_confirm(at=now or timezone.now(), by=actor, amount=amount, instruction=part_instruction)
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=f"{amount}; {claim.get_part_instruction_display()}")
    return claim


@transaction.atomic
def warranty_claim_record_payment(
    *, actor, claim: WarrantyClaim, amount: Any, reference: str, now: datetime.datetime | None = None
) -> WarrantyClaim:
    _require(actor, "claims.record_payment_warrantyclaim")
    claim = _locked_warranty(claim)
    if claim.status != WarrantyStatus.CONFIRMED:
        raise ConflictError(_("Payment is recorded for a claim confirmed by the claims department."))
    amount = _amount(amount, "amount")
    if not _text(reference):
        raise ValidationError({"reference": _("Enter the payment reference.")})
    source = claim.status
    claim.record_payment(at=now or timezone.now(), amount=amount, reference=_text(reference))
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=f"{amount} {reference}")
    return claim


def _warranty_decider_perm(claim: WarrantyClaim) -> str:
    return {
        WarrantyStatus.SUBMITTED: "claims.fmc_confirm_warrantyclaim",
        WarrantyStatus.AUTO_CHECKED: "claims.fmc_confirm_warrantyclaim",
        WarrantyStatus.FMC_CONFIRMED: "claims.claims_confirm_warrantyclaim",
    }.get(claim.status, "")


@transaction.atomic
def warranty_claim_return(*, actor, claim: WarrantyClaim, reason: str) -> WarrantyClaim:
    """Return for correction at the FMC or claims-department step, with a reason."""
    claim = _locked_warranty(claim)
    perm = _warranty_decider_perm(claim)
    if not perm:
        raise ConflictError(_("This claim is not awaiting a confirmation."))
    _require(actor, perm)
    if not _text(reason):
        raise ValidationError({"reason": _("Give the reason.")})
    source = claim.status
    claim.return_for_correction(reason=_text(reason))
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=_text(reason))
    return claim


@transaction.atomic
def warranty_claim_reject(
    *,
    actor,
    claim: WarrantyClaim,
    reason: str,
    part_instruction: str,
    now: datetime.datetime | None = None,
) -> WarrantyClaim:
    claim = _locked_warranty(claim)
    perm = _warranty_decider_perm(claim)
    if not perm or claim.status == WarrantyStatus.SUBMITTED:
        raise ConflictError(_("This claim is not awaiting a confirmation."))
    _require(actor, perm)
    errors = {}
    if not _text(reason):
        errors["reason"] = _("Give the reason.")
    if part_instruction not in PartInstruction.values:
        errors["part_instruction"] = _("Say whether the failed part is scrapped or returned.")
    if errors:
        raise ValidationError(errors)
    source = claim.status
    claim.reject(at=now or timezone.now(), reason=_text(reason), instruction=part_instruction)
    claim.save()
    _transition_audit(claim, actor=actor, source=source, message=_text(reason))
    return claim


@transaction.atomic
def quarantined_part_dispose(
    *,
    actor,
    part: QuarantinedPart,
    action: str,
    reference: str = "",
    now: datetime.datetime | None = None,
) -> QuarantinedPart:
    """R22: the failed part leaves quarantine only once the claim is decided, as the claims department instructed."""
    _require(actor, "claims.dispose_quarantinedpart")
    part = QuarantinedPart.objects.select_for_update().select_related("claim").get(pk=part.pk)
    claim = part.claim
    if part.status != QuarantineStatus.QUARANTINED:
        raise ConflictError(_("The part has already left quarantine."))
    if not claim.is_decided:
        raise ConflictError(
            _("The part stays in quarantine until claim %(number)s is decided.") % {"number": claim.number}
        )
    target = {PartInstruction.SCRAP: QuarantineStatus.SCRAPPED, PartInstruction.RETURN: QuarantineStatus.RETURNED}
    if action not in target:
        raise ValidationError({"action": _("Choose scrap or return to the manufacturer.")})
    if claim.part_instruction and action != claim.part_instruction:
        raise ValidationError(
            {
                "action": _("The instruction for this part is: %(instruction)s.")
                % {"instruction": claim.get_part_instruction_display()}
            }
        )
    if action == PartInstruction.RETURN and not _text(reference):
        raise ValidationError({"reference": _("Enter the shipment reference of the return.")})
    source = part.status
    part.status = target[action]
    part.disposed_at = now or timezone.now()
    part.disposed_by = actor
    part.shipment_reference = _text(reference)
    part.save()
    events.record(
        actor=actor,
        instance=part,
        action=AuditAction.TRANSITION,
        changes={"status": [source, part.status]},
        message=_text(reference),
    )
    events.record(
        actor=actor,
        instance=claim,
        action=AuditAction.ACTION,
        message=_("Failed part %(part)s: %(status)s") % {"part": part, "status": part.get_status_display()},
    )
    return part


@transaction.atomic
def claims_settings_update(*, actor, dealership: Dealership, data: dict[str, Any]) -> ClaimsSettings:
    found = ClaimsSettings.objects.select_for_update().get(pk=claims_settings(dealership).pk)
    fields = [
        "fmc_name",
        "fmc_email",
        "fmc_phone",
        "tac_name",
        "tac_email",
        "tac_phone",
        "cac_email",
        "complaint_deadline_days",
        "emergency_deadline_days",
    ]
    before = events.snapshot(found, [name for name in data if name in fields])
    _apply(found, data, fields)
    found.full_clean()
    found.save()
    events.record_updated(actor=actor, instance=found, before=before)
    return found
