"""Uploads: images and PDF only, size-limited, sniffed; served only to users allowed to see the record."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims import services
from claims.models import Attachment
from dms.core import roles
from tests.factories import VehicleFactory

from .helpers import PNG, draft_claim, pdf, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(engineer, work_orders, warranty_vehicle, pump):
    wo = work_orders.add(vehicle=warranty_vehicle, parts={pump: 1})
    return draft_claim(engineer, wo, pump)


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("virus.exe", b"MZ" + b"\x00" * 50),
        SimpleUploadedFile("fake.png", b"<html>not an image</html>"),
        SimpleUploadedFile("scan.pdf", PNG),  # content does not match the name
        SimpleUploadedFile("empty.pdf", b""),
    ],
    ids=["exe", "html-as-png", "png-as-pdf", "empty"],
)
def test_upload_that_is_not_an_image_or_pdf_is_refused(engineer, claim, upload):
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=engineer, owner=claim, kind="photo", file=upload)
    assert "file" in error.value.message_dict
    assert Attachment.objects.count() == 0


def test_upload_too_large_is_refused(engineer, claim, monkeypatch):
    monkeypatch.setattr(services.attachments, "MAX_UPLOAD_BYTES", 50)
    with pytest.raises(ValidationError, match="too large"):
        services.attachment_add(actor=engineer, owner=claim, kind="photo", file=png())
    assert Attachment.objects.count() == 0


def test_file_is_served_to_allowed_users_only(client, engineer, fmc, claim, make_user, other_dealership, director):
    attachment = services.attachment_add(actor=engineer, owner=claim, kind="photo", file=png("щиток.png"))
    url = reverse("claims:attachment_download", args=[attachment.pk])
    assert not attachment.file.name.endswith("щиток.png")  # stored under a random name
    client.force_login(fmc)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    # Another dealership's engineer: 404. A role without sight of claims: 403. Anonymous: login.
    client.force_login(make_user(roles.WARRANTY_ENGINEER, dealerships=[other_dealership]))
    assert client.get(url).status_code == 404
    client.force_login(make_user(roles.SERVICE_ADVISOR))
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_file_of_another_dealerships_claim_is_not_downloadable_via_api_upload(
    api_as, engineer, claim, make_user, other_dealership
):
    api = api_as(engineer)
    response = api.post(
        f"/api/warranty-claims/{claim.pk}/attachments/", {"kind": "photo", "file": pdf("x.pdf")}, format="multipart"
    )
    assert response.status_code == 201
    stranger = api_as(make_user(roles.WARRANTY_ENGINEER, dealerships=[other_dealership]))
    assert (
        stranger.post(
            f"/api/warranty-claims/{claim.pk}/attachments/", {"kind": "photo", "file": pdf()}, format="multipart"
        ).status_code
        == 404
    )
    bad = api.post(
        f"/api/warranty-claims/{claim.pk}/attachments/",
        {"kind": "photo", "file": SimpleUploadedFile("a.txt", b"hello")},
        format="multipart",
    )
    assert bad.status_code == 400 and "file" in bad.json()
    assert Attachment.objects.count() == 1


def test_files_cannot_be_added_once_the_claim_is_submitted(engineer, claim):
    services.warranty_claim_submit(actor=engineer, claim=claim)
    from dms.core.exceptions import ConflictError

    with pytest.raises(ConflictError):
        services.attachment_add(actor=engineer, owner=claim, kind="photo", file=png())


def test_complaint_evidence_upload_by_page(client, advisor, dealership):
    vehicle = VehicleFactory(customer__dealership=dealership)
    complaint = services.complaint_register(
        actor=advisor, dealership=dealership, channel="phone", description="Царапина", vehicle=vehicle
    )
    client.force_login(advisor)
    response = client.post(
        reverse("claims:complaint_attach", args=[complaint.pk]), {"kind": "evidence", "file": png("scratch.png")}
    )
    assert response.status_code == 302
    assert complaint.attachments.get().original_name == "scratch.png"
    response = client.post(
        reverse("claims:complaint_attach", args=[complaint.pk]),
        {"kind": "evidence", "file": SimpleUploadedFile("x.svg", b"<svg/>")},
    )
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert complaint.attachments.count() == 1
