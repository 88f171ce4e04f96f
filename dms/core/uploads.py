"""Uploaded files, checked by their content and size, for every app (claims' attachments, quality-check photos).

The name's extension is never trusted alone: the first bytes must be those of the type the name says.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES: int = getattr(settings, "CLAIMS_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
IMAGE_UPLOADS = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
}
IMAGE_OR_PDF_UPLOADS = {"pdf": "application/pdf", **IMAGE_UPLOADS}


def sniff_content_type(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def validate_upload(
    file, *, allowed: dict[str, str] = IMAGE_OR_PDF_UPLOADS, max_bytes: int | None = None, field: str = "file"
) -> str:
    """Return the file's content type, or raise a ValidationError on ``field``: type (by content) and size."""
    max_bytes = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if file is None:
        raise ValidationError({field: _("Choose a file.")})
    size = getattr(file, "size", None) or 0
    if size <= 0:
        raise ValidationError({field: _("The file is empty.")})
    if size > max_bytes:
        raise ValidationError(
            {
                field: _("The file is too large (%(size)s MB); the limit is %(limit)s MB.")
                % {"size": round(size / 1024 / 1024, 1), "limit": max_bytes // (1024 * 1024)}
            }
        )
    name = getattr(file, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    images_only = "pdf" not in allowed
    if ext not in allowed:
        if images_only:
            raise ValidationError({field: _("Only images (JPEG, PNG, WebP, GIF) can be uploaded.")})
        raise ValidationError({field: _("Only images (JPEG, PNG, WebP, GIF) and PDF files can be uploaded.")})
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    sniffed = sniff_content_type(head)
    if sniffed is None or sniffed != allowed[ext]:
        if images_only:
            raise ValidationError({field: _("The file's content is not the image its name says it is.")})
        raise ValidationError({field: _("The file's content is not the image or PDF its name says it is.")})
    return sniffed
