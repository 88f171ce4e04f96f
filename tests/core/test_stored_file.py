"""dms.core.models: where uploaded files go on disk (one helper for claims' attachments, quality and finding photos)."""

import re

from claims.models import Attachment, attachment_path
from dms.core.models import StoredFile, random_stored_name
from service.models import FindingPhoto, QualityPhoto, finding_photo_path, quality_photo_path


def test_the_stored_name_is_random_and_keeps_only_the_extension():
    names = {random_stored_name("quality", "../../etc/Фото машины.JPG") for _ in range(3)}
    assert len(names) == 3  # never the same name twice, never the original one
    for name in names:
        assert re.fullmatch(r"quality/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", name), name
        assert ".." not in name and "Фото" not in name
    assert random_stored_name("findings", "no-extension").endswith(".bin")


def test_every_upload_model_keeps_its_folder():
    class Owner:
        dealership_id = 7

    assert attachment_path(Owner(), "scan.pdf").startswith("claims/7/")
    assert quality_photo_path(None, "a.png").startswith("quality/")
    assert finding_photo_path(None, "a.png").startswith("findings/")
    for model in (Attachment, QualityPhoto, FindingPhoto):
        assert issubclass(model, StoredFile)
        assert {"original_name", "content_type", "size"} <= {field.name for field in model._meta.fields}
        assert str(model(original_name="акт.pdf")) == "акт.pdf"
