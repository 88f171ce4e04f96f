"""Issue 17: inspection findings and the customer's remote approval of extra work (R30).

The technician records findings per inspection item (green / amber / red, comment, photos, price of the fix); the
advisor sends them; the customer approves or declines each on the status page. The answer is R30's consent: it goes
through ``workorder_consent_record`` (the work order is revised) and is kept as a ``FindingConsent`` row with its
time, channel, link and address, plus an audit entry.
"""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core.exceptions import ConflictError
from dms.core.models import AuditAction, CustomerLink
from dms.core.uploads import IMAGE_UPLOADS, validate_upload
from dms.core.validation import clean_text, money_amount
from notifications import services as notification_services

from ..models import (
    FindingColour,
    FindingConsent,
    FindingPhoto,
    InspectionFinding,
    WorkOrder,
    WorkOrderJob,
    WorkOrderStatus,
)
from .common import _lock_work_order, _now
from .workorders import EDITABLE_STATUSES, workorder_consent_record, workorder_job_add

FINDING_FIELDS = ("item", "colour", "comment", "price")
MAX_PHOTOS = 10
# The price of a fix becomes the extra job's labour: one unit at the finding's price.
FIX_UNIT_HOURS = Decimal("1")


def _check_finding(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    item = clean_text(data.get("item") or "")
    if not item:
        errors["item"] = _("Name the inspection item.")
    elif len(item) > 200:
        errors["item"] = _("At most %(n)s characters.") % {"n": 200}
    colour = data.get("colour") or ""
    if colour not in FindingColour.values:
        errors["colour"] = _("Choose green, amber or red.")
    comment = clean_text(data.get("comment") or "")
    if len(comment) > 2000:
        errors["comment"] = _("At most %(n)s characters.") % {"n": 2000}
    price = data.get("price")
    try:
        price = money_amount(price, field="price", required=False) if price not in (None, "") else Decimal("0")
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    except (InvalidOperation, TypeError, ValueError):
        errors["price"] = _("Enter the price of the fix.")
    if "price" not in errors and colour != FindingColour.GREEN and colour in FindingColour.values and not price:
        errors["price"] = _("Amber and red findings need the price of the fix for the customer to decide.")
    if errors:
        raise ValidationError(errors)
    return {"item": item, "colour": colour, "comment": comment, "price": price or Decimal("0")}


def _check_open(work_order: WorkOrder) -> None:
    if work_order.status not in EDITABLE_STATUSES:
        raise ConflictError(
            _("Findings cannot be recorded while the status is «%(status)s».")
            % {"status": work_order.get_status_display()}
        )


def _store_photos(finding: InspectionFinding, photos: list) -> None:
    if len(photos) + finding.photos.count() > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most %(n)s photos per finding.") % {"n": MAX_PHOTOS}})
    types = [validate_upload(photo, allowed=IMAGE_UPLOADS, field="photos") for photo in photos]
    for photo, content_type in zip(photos, types, strict=True):
        FindingPhoto(finding=finding).store_upload(photo, content_type=content_type)


@transaction.atomic
def finding_create(*, actor, work_order: WorkOrder, photos: list | None = None, **data: Any) -> InspectionFinding:
    """The technician records one inspection item (issue 17): colour, comment, price of the fix, photos."""
    work_order = _lock_work_order(work_order)
    _check_open(work_order)
    clean = _check_finding(data)
    finding = InspectionFinding.objects.create(work_order=work_order, created_by=actor, **clean)
    _store_photos(finding, list(photos or []))
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={"item": finding.item, "colour": finding.colour, "price": str(finding.price)},
        message=events.text(gettext_noop("inspection finding recorded: %(item)s"), item=finding.item),
    )
    return finding


def _lock_finding(finding: InspectionFinding) -> tuple[WorkOrder, InspectionFinding]:
    work_order = _lock_work_order(finding.work_order)
    return work_order, InspectionFinding.objects.select_for_update().get(pk=finding.pk)


@transaction.atomic
def finding_update(*, actor, finding: InspectionFinding, data: dict[str, Any]) -> InspectionFinding:
    """Correct a finding before it is sent; a sent one is the customer's to answer."""
    work_order, finding = _lock_finding(finding)
    _check_open(work_order)
    if finding.sent_at is not None:
        raise ConflictError(_("This finding has been sent to the customer and can no longer be changed."))
    merged = {name: data.get(name, getattr(finding, name)) for name in FINDING_FIELDS}
    clean = _check_finding(merged)
    before = events.snapshot(finding, FINDING_FIELDS)
    for name, value in clean.items():
        setattr(finding, name, value)
    finding.save()
    after = events.snapshot(finding, FINDING_FIELDS)
    changes = {name: [before[name], after[name]] for name in FINDING_FIELDS if before[name] != after[name]}
    if changes:
        events.record(
            actor=actor,
            instance=work_order,
            action=AuditAction.ACTION,
            changes=changes,
            message=events.text(gettext_noop("inspection finding changed: %(item)s"), item=finding.item),
        )
    return finding


@transaction.atomic
def finding_photo_add(*, actor, finding: InspectionFinding, photos: list) -> InspectionFinding:
    work_order, finding = _lock_finding(finding)
    _check_open(work_order)
    if not photos:
        raise ValidationError({"photos": _("Choose a file.")})
    _store_photos(finding, list(photos))
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("photos added to the finding: %(item)s"), item=finding.item),
    )
    return finding


@transaction.atomic
def finding_delete(*, actor, finding: InspectionFinding) -> None:
    work_order, finding = _lock_finding(finding)
    _check_open(work_order)
    if finding.sent_at is not None:
        raise ConflictError(_("This finding has been sent to the customer and can no longer be changed."))
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        message=events.text(gettext_noop("inspection finding removed: %(item)s"), item=finding.item),
    )
    for photo in finding.photos.all():
        photo.file.delete(save=False)
    finding.delete()


def _findings_message(work_order: WorkOrder, findings: list[InspectionFinding]) -> tuple[str, str]:
    # In the customer's language, not the advisor's who sends it (issue 17).
    with translation.override(notification_services.message_language(work_order.customer)):
        return _findings_text(work_order, findings)


def _findings_text(work_order: WorkOrder, findings: list[InspectionFinding]) -> tuple[str, str]:
    subject = _("Inspection of your %(vehicle)s: your decision is needed") % {
        "vehicle": f"{work_order.vehicle.make} {work_order.vehicle.model}"
    }
    body = _(
        "%(dealership)s: during the inspection of your %(vehicle)s we found %(count)s item(s) that need work. "
        "See the photos and prices, and approve or decline each item:"
    ) % {
        "dealership": work_order.dealership.name,
        "vehicle": f"{work_order.vehicle.make} {work_order.vehicle.model}",
        "count": len(findings),
    }
    return subject, body


def _stored_channel(channel: str) -> str:
    # Stored text the staff read: in the dealership's language, not the customer's page language (issue 17).
    with translation.override(settings.LANGUAGE_CODE):
        return (_("status link (%(channel)s)") % {"channel": CHANNEL_LABELS.get(channel, channel)})[:40]


@transaction.atomic
def findings_send(*, actor, work_order: WorkOrder, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The advisor sends the unsent amber and red findings to the customer (issue 17, R30).

    Each becomes an extra job awaiting consent (``workorder_job_add``: the work order waits for approval); the
    customer gets one message on their channel, which carries their status link (``notifications``). Returns
    ``{"sent": [findings], "delivery": Delivery | None}`` — None: the customer is phoned (no SMS/e-mail channel).
    """
    now = _now(now)
    work_order = _lock_work_order(work_order)
    if work_order.status == WorkOrderStatus.OPENED:
        raise ConflictError(_("Start the diagnosis before sending findings to the customer."))
    _check_open(work_order)
    findings = [
        f
        for f in InspectionFinding.objects.select_for_update().filter(work_order=work_order, sent_at__isnull=True)
        if f.needs_decision
    ]
    if not findings:
        raise ConflictError(_("There are no unsent amber or red findings with a price."))
    for finding in findings:
        job = workorder_job_add(
            actor=actor,
            work_order=work_order,
            description=finding.item,
            standard_hours=FIX_UNIT_HOURS,
            rate=finding.price,
        )
        finding.job = job
        finding.sent_at = now
        finding.save(update_fields=["job", "sent_at"])
    subject, body = _findings_message(work_order, findings)
    delivery = notification_services.customer_notify(
        actor=actor,
        customer=work_order.customer,
        subject=subject,
        body=body,
        reference=f"findings:{work_order.pk}:{findings[0].pk}",
    )
    events.record(
        actor=actor,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={"findings": len(findings), "channel": delivery.channel if delivery else "phone"},
        message=events.text(gettext_noop("findings sent to the customer")),
    )
    return {"sent": findings, "delivery": delivery}


CHANNEL_LABELS = {"sms": "SMS", "email": "e-mail"}


@transaction.atomic
def finding_decide(
    *,
    link: CustomerLink,
    finding: InspectionFinding,
    agreed: bool,
    client_address: str | None = None,
    now: datetime.datetime | None = None,
) -> FindingConsent:
    """The customer approves or declines one finding through their link (R30): the consent row, the job's consent
    and the work order's revision — one transaction."""
    now = _now(now)
    work_order, finding = _lock_finding(finding)
    if work_order.customer_id != link.customer_id or finding.job_id is None or finding.sent_at is None:
        raise ValidationError({"finding": _("Unknown item.")})
    job = WorkOrderJob.objects.get(pk=finding.job_id)
    if job.consent != WorkOrderJob.Consent.PENDING or FindingConsent.objects.filter(finding=finding).exists():
        raise ConflictError(_("This item has already been answered."))
    channel = link.channel or "web"
    consent = FindingConsent.objects.create(
        finding=finding,
        agreed=agreed,
        price=finding.price,
        channel=channel,
        link=link,
        client_address=client_address,
        at=now,
    )
    workorder_consent_record(
        actor=None,
        job=job,
        agreed=agreed,
        given_by=work_order.customer.name[:200],
        # what the consent was given through: the status link of an SMS / e-mail (issue 17)
        channel=_stored_channel(channel),
        now=now,
    )
    events.record(
        actor=None,
        instance=work_order,
        action=AuditAction.ACTION,
        changes={
            "item": finding.item,
            "consent": "agreed" if agreed else "declined",
            "channel": channel,
            "link": link.pk,
            "address": client_address or "",
        },
        message=events.text(
            gettext_noop("customer approved through the status link: %(item)s")
            if agreed
            else gettext_noop("customer declined through the status link: %(item)s"),
            item=finding.item,
        ),
    )
    return consent
