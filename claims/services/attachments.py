"""Files on complaints and claims: images and PDF only, size-limited; the content is sniffed, not trusted."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dms.core import events
from dms.core import uploads as core_uploads
from dms.core.exceptions import ConflictError
from dms.core.models import AuditAction
from dms.core.validation import clean_text

from ..models import Attachment, AttachmentKind, Complaint, ComplaintStatus, GoodwillClaim, WarrantyClaim
from .common import require

# Uploads (photos, scans, agreements): images and PDF only, at most this many bytes.
MAX_UPLOAD_BYTES = getattr(settings, "CLAIMS_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
ALLOWED_UPLOADS = core_uploads.IMAGE_OR_PDF_UPLOADS

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


def _refuse_frozen(field: str, owner) -> None:
    if field == "complaint" and owner.status == ComplaintStatus.CLOSED:
        raise ConflictError(_("A closed complaint cannot be changed."))
    if field != "complaint" and not owner.is_editable:
        raise ConflictError(
            _("Claim %(number)s is %(status)s: files are added while it is a draft or returned for correction.")
            % {"number": owner.number, "status": owner.get_status_display()}
        )


@transaction.atomic
def attachment_add(*, actor, owner, kind: str, file, description: str = "") -> Attachment:
    field = _owner_field(owner)
    require(actor, ATTACHMENT_PERMS[field])
    owner = type(owner).objects.select_for_update().get(pk=owner.pk)
    _refuse_frozen(field, owner)
    if kind not in ATTACHMENT_KINDS[field]:
        raise ValidationError({"kind": _("This kind of file does not belong here.")})
    content_type = validate_upload(file)
    attachment = Attachment(
        dealership_id=owner.dealership_id,
        kind=kind,
        description=clean_text(description)[:300],
        uploaded_by=actor,
        **{field: owner},
    )
    attachment.store_upload(file, content_type=content_type)
    events.record(
        actor=actor,
        instance=owner,
        action=AuditAction.ACTION,
        message=events.text(
            gettext_noop("File attached: %(name)s (%(kind)s)"),
            name=attachment.original_name,
            kind=attachment.get_kind_display(),
        ),
    )
    return attachment
