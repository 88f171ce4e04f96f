import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims import services

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def png(name="odometer.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="fmc-signed.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def draft_claim(engineer, work_order, part, *, quantity=1, kind="regular", is_special=False, **kwargs):
    data = {
        "kind": kind,
        "failure_date": timezone.localdate() - datetime.timedelta(days=3),
        "failure_code": "P0A3F",
        "causal_part": part,
        "description": "Течь насоса ГУР; замена насоса",
        "failed_part_serial": "SN-OLD-1",
        "replacement_part_serial": "SN-NEW-1",
    }
    data.update(kwargs)
    return services.warranty_claim_create(
        actor=engineer,
        dealership=part.dealership,
        work_order_id=work_order.id,
        job_id=work_order.jobs[0].id,
        parts=[{"part": part, "quantity": quantity, "is_special": is_special}],
        **data,
    )
