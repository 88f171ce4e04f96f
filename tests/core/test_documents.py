"""Documents a dealership hands to customers (issue 16, item 4).

Every PDF the project prints is rendered through its page with long Cyrillic names and descriptions, then read back
with pdfplumber: no two words overlap, no word crosses a table's vertical rule (a header overflowing its cell did),
no word leaves the page; the dealership's requisites head every document and the priced ones show the VAT inside
their totals. Every download names its file per RFC 6266 (filename*=utf-8''...) with an ASCII fallback.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pdfplumber
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from dms.core import requisites, roles
from dms.core.downloads import ascii_filename, content_disposition
from dms.core.models import Dealership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONG_NAME = (
    "Электроусилитель рулевого управления в сборе с датчиком крутящего момента и блоком управления, "
    "оригинальная запасная часть производителя"
)
LONG_WORD = "Высокотемпературнаямногофункциональнаясмазка"  # one word wider than a narrow column
LONG_CUSTOMER = "Общество с ограниченной ответственностью «Северо-Западная транспортно-логистическая компания»"
LONG_JOB = (
    "Диагностика и замена электроусилителя рулевого управления с последующей калибровкой датчика угла поворота "
    "и проверкой углов установки колёс на стенде"
)
LONG_PART_NUMBER = "45200-0D440-EXTRA-LONG-NUMBER"

DOCUMENTS = [
    "orders:print",
    "parts:count_sheet",
    "parts:sales_invoice",
    "service:workorder_pdf",
    "service:workorder_bin_label",
    "service:loaner_contract",
]
PRICED = ["orders:print", "parts:sales_invoice", "service:workorder_pdf"]


# ---------------------------------------------------------------------------------------------------------------------
# The records: the demo's, with long Cyrillic texts everywhere a document prints them
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", verbosity=0)
            yield _documents(Dealership.objects.get(code="demo-moscow"))
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _documents(main: Dealership) -> dict:
    from dms.core.models import Vehicle
    from orders.models import CustomerOrder
    from parts import services as parts_services
    from parts.models import Part, SalesOrder, StockCount, Warehouse
    from service import services as services_loaners
    from service.models import Appointment, Loaner, WorkOrder, WorkOrderJob, WorkOrderPart

    actor = UserFactory(username="doc_admin", role=roles.ADMINISTRATOR, dealership=[main], is_staff=True)
    parts = list(Part.objects.filter(dealership=main).order_by("pk")[:3])
    parts[0].name, parts[0].number = LONG_NAME, LONG_PART_NUMBER
    parts[1].name = f"{LONG_WORD} {LONG_NAME}"
    for part in parts[:2]:
        part.save(update_fields=["name", "number"])
    order = CustomerOrder.objects.filter(dealership=main, lines__isnull=False).order_by("pk").first()
    customer = order.customer
    customer.name = LONG_CUSTOMER
    customer.save(update_fields=["name"])
    order.comment = LONG_JOB
    order.save(update_fields=["comment"])
    if not order.lines.filter(part=parts[0]).exists():
        order.lines.create(part=parts[0], quantity=2, unit_price=Decimal("48750.00"))
    vehicle = customer.vehicles.first() or Vehicle.objects.filter(dealership=main).order_by("pk").first()
    wo = WorkOrder.objects.create(
        dealership=main,
        number="ЗН-Д1",
        customer=customer,
        vehicle=vehicle,
        advisor=actor,
        status="in_repair",
        mileage_in=30500,
        customer_words=LONG_JOB,
        damage_notes=LONG_NAME,
    )
    for description in (LONG_JOB, "Замена масла"):
        job = WorkOrderJob.objects.create(
            work_order=wo, description=description, standard_hours=Decimal("2.5"), rate=Decimal("2500")
        )
        for part in parts:
            WorkOrderPart.objects.create(job=job, part=part, quantity=1, price=Decimal("12345.67"))
    warehouse = Warehouse.objects.filter(dealership=main).order_by("pk").first()
    location = parts_services.location_create(
        actor=actor, dealership=main, warehouse=warehouse, code="Стеллаж-12-полка-3"
    )
    for part in parts:
        parts_services.stock_receive(actor=actor, dealership=main, part=part, quantity=10, unit_cost=100, reference="Д")
    parts_services.stock_count_start(actor=actor, dealership=main, warehouse=warehouse, scope="all")
    count = StockCount.objects.filter(dealership=main).order_by("-pk").first()
    count.lines.update(location=location)
    sale = parts_services.sales_order_create(
        actor=actor,
        dealership=main,
        customer=customer,
        payment_method="cashless",
        channel="phone",
        lines=[{"part": part, "quantity": 2, "unit_price": Decimal("48750.00")} for part in parts],
    )
    parts_services.sales_order_confirm_need(actor=actor, order=sale)
    parts_services.sales_order_quote(actor=actor, order=sale, delivery_days=3)
    parts_services.sales_order_place(actor=actor, order=sale)
    sale = parts_services.sales_order_invoice(actor=actor, order=sale)
    appointment = Appointment.objects.filter(dealership=main).order_by("pk").first()
    appointment.customer.name = LONG_CUSTOMER
    appointment.customer.save(update_fields=["name"])
    wo.appointment = appointment
    wo.save(update_fields=["appointment"])
    loaner = Loaner.objects.filter(dealership=main).order_by("pk").first()
    reservation = services_loaners.loaner_reserve(actor=actor, appointment=appointment, loaner=loaner)
    client = Client()
    client.force_login(actor)
    return {
        "dealership": main,
        "client": client,
        "objects": {
            "orders:print": order,
            "parts:count_sheet": count,
            "parts:sales_invoice": SalesOrder.objects.get(pk=sale.pk),
            "service:workorder_pdf": wo,
            "service:workorder_bin_label": wo,
            "service:loaner_contract": reservation,
        },
    }


@pytest.fixture
def w(world, db):
    return world


def fetch(w, name: str):
    obj = w["objects"][name]
    response = w["client"].get(reverse(name, args=[obj.pk]))
    assert response.status_code == 200, f"{name}: {response.status_code}"
    assert response["Content-Type"] == "application/pdf"
    return response


# ---------------------------------------------------------------------------------------------------------------------
# Layout: read back with pdfplumber
# ---------------------------------------------------------------------------------------------------------------------

TOLERANCE = 0.5  # points: glyph boxes of neighbouring words may touch, never overlap


def _overlap(a: dict, b: dict) -> bool:
    return (
        min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > TOLERANCE
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > TOLERANCE
    )


def layout_problems(content: bytes) -> list[str]:
    """Words that overlap another word, cross a vertical table rule, or leave the page."""
    problems = []
    with pdfplumber.open(io.BytesIO(content)) as document:
        for number, page in enumerate(document.pages, start=1):
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
            for i, a in enumerate(words):
                if a["x0"] < 0 or a["x1"] > page.width or a["top"] < 0 or a["bottom"] > page.height:
                    problems.append(f"page {number}: {a['text']!r} leaves the page")
                for b in words[i + 1 :]:
                    if _overlap(a, b):
                        problems.append(f"page {number}: {a['text']!r} overlaps {b['text']!r}")
            rules = [e for e in page.edges if e["orientation"] == "v"]
            for word in words:
                for rule in rules:
                    crosses = word["x0"] + TOLERANCE < rule["x0"] < word["x1"] - TOLERANCE
                    beside = min(word["bottom"], rule["bottom"]) - max(word["top"], rule["top"]) > TOLERANCE
                    if crosses and beside:
                        problems.append(f"page {number}: {word['text']!r} crosses a table rule at x={rule['x0']:.1f}")
                        break
    return problems


def plain_text(content: bytes) -> str:
    with pdfplumber.open(io.BytesIO(content)) as document:
        return " ".join(" ".join((page.extract_text() or "").split()) for page in document.pages)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_word_overlaps_another_or_crosses_a_cell_border(w, name):
    content = fetch(w, name).content
    problems = layout_problems(content)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_document_carries_the_dealerships_requisites(w, name):
    dealership = w["dealership"]
    text = plain_text(fetch(w, name).content)
    if name == "service:workorder_bin_label":  # a label on a parts bin: the name and phone only
        assert dealership.legal_name in text and dealership.phone.as_international in text
        return
    for expected in (
        dealership.legal_name,
        f"ИНН {dealership.inn}",
        f"КПП {dealership.kpp}",
        f"ОГРН {dealership.ogrn}",
        f"БИК {dealership.bik}",
        f"р/с {dealership.settlement_account}",
        f"к/с {dealership.correspondent_account}",
        dealership.bank_name,
        dealership.phone.as_international,
    ):
        assert expected in text, f"{name}: {expected!r} is missing"
    # The long texts are all there, wrapped, not cut.
    assert "Северо-Западная транспортно-логистическая" in text or name == "parts:count_sheet"


def test_the_logo_is_drawn_in_the_header(w):
    content = fetch(w, "service:workorder_pdf").content
    with pdfplumber.open(io.BytesIO(content)) as document:
        images = document.pages[0].images
    assert images, "the dealership's logo is missing"
    assert images[0]["top"] < 80  # in the header block, at the top of the page


@pytest.mark.parametrize("name", PRICED)
def test_priced_documents_show_the_total_and_the_vat_inside_it(w, name):
    text = plain_text(fetch(w, name).content)
    obj = w["objects"][name]
    if name == "orders:print":
        total = sum((line.quantity * line.unit_price for line in obj.lines.all()), Decimal("0"))
    else:
        total = obj.total
    vat = requisites.vat_included(total, Decimal("20"))
    amount = ru_money(total)
    assert re.search(rf"Итого {re.escape(amount)}", text), f"{name}: no total {amount} in {text[-400:]!r}"
    assert f"в т.ч. НДС 20% {ru_money(vat)}" in text, f"{name}: no VAT line"


def ru_money(value: Decimal) -> str:
    """«12 345,67 ₽» as pdftotext reads it back (the non-breaking spaces come back as spaces) — issue 14 item 8."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",") + " ₽"


def test_a_dealership_that_pays_no_vat_prints_so(w):
    dealership = w["dealership"]
    dealership.vat_rate = Decimal("0")
    dealership.save(update_fields=["vat_rate"])
    try:
        text = plain_text(fetch(w, "parts:sales_invoice").content)
    finally:
        dealership.vat_rate = Decimal("20")
        dealership.save(update_fields=["vat_rate"])
    assert "Без НДС" in text and "в т.ч. НДС" not in text


def test_a_broken_logo_prints_the_document_without_it(w):
    from django.core.files.base import ContentFile

    dealership = w["dealership"]
    saved = dealership.logo.name
    dealership.logo.save("broken.png", ContentFile(b"not an image"), save=True)
    try:
        content = fetch(w, "orders:print").content
    finally:
        dealership.logo.name = saved
        dealership.save(update_fields=["logo"])
    assert dealership.legal_name in plain_text(content)


def test_the_customer_order_page_links_to_its_print(w):
    order = w["objects"]["orders:print"]
    page = w["client"].get(reverse("orders:detail", args=[order.pk]))
    assert reverse("orders:print", args=[order.pk]) in page.content.decode()
    text = plain_text(fetch(w, "orders:print").content)
    assert order.number in text and LONG_PART_NUMBER in text
    assert "Ожидаемая дата поставки" in text or "Ожидаемая дата" in text or "ETA" in text


def test_the_invoice_api_returns_the_same_document_named(w):
    sale = w["objects"]["parts:sales_invoice"]
    response = w["client"].get(f"/api/sales-orders/{sale.pk}/invoice-pdf/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert f"filename*=utf-8''{quote(sale.invoice_number)}.pdf" in response["Content-Disposition"]


# ---------------------------------------------------------------------------------------------------------------------
# File names: RFC 6266
# ---------------------------------------------------------------------------------------------------------------------


def _filename_star(header: str) -> str:
    match = re.search(r"filename\*=utf-8''([^;]+)", header)
    assert match, f"no filename* in {header!r}"
    from urllib.parse import unquote

    return unquote(match.group(1))


EXPECTED_NAMES = {
    "orders:print": lambda o: f"заказ-{o.number}.pdf",
    "parts:count_sheet": lambda o: f"инвентаризационная-опись-{o.pk}.pdf",
    "parts:sales_invoice": lambda o: f"{o.invoice_number}.pdf",
    "service:workorder_pdf": lambda o: f"{o.number}.pdf",
    "service:workorder_bin_label": lambda o: f"{o.number}-label.pdf",
    "service:loaner_contract": lambda o: f"loan-{o.pk}.pdf",
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_pdf_downloads_name_the_file_in_utf8(w, name):
    header = fetch(w, name)["Content-Disposition"]
    expected = EXPECTED_NAMES[name](w["objects"][name])
    assert header.startswith("inline; ")
    assert _filename_star(header) == expected
    assert f'filename="{ascii_filename(expected)}"' in header
    assert "=?utf-8?" not in header  # never an RFC 2047 encoded word again


@pytest.mark.parametrize(
    "url, stem",
    [
        ("/orders/export.csv", "orders-"),
        ("/orders/export.xlsx", "orders-"),
    ],
)
def test_exports_name_the_file_in_utf8(w, url, stem):
    response = w["client"].get(url)
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert header.startswith("attachment; ") and _filename_star(header).startswith(stem)


def test_other_downloads_name_the_file_in_utf8(w):
    client = w["client"]
    csv = client.get(reverse("notifications:call_compliance") + "?export=csv")
    xlsx = client.get(reverse("notifications:call_compliance") + "?export=xlsx")
    kpi = client.get(reverse("claims:kpi_export"))
    for response, stem in ((csv, "call-compliance-"), (xlsx, "call-compliance-"), (kpi, "claims-kpi-")):
        assert response.status_code == 200
        assert _filename_star(response["Content-Disposition"]).startswith(stem)


def test_calendar_feed_names_its_file_in_utf8(w):
    from django.contrib.auth import get_user_model

    from service import ical

    admin = get_user_model().objects.get(username="doc_admin")
    response = Client().get(ical.feed_url(ical.calendar_feed_token_renew(actor=admin)))
    assert response.status_code == 200
    assert response["Content-Disposition"] == "inline; filename=\"appointments.ics\"; filename*=utf-8''appointments.ics"


def test_attachment_download_keeps_its_cyrillic_name(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from claims import services as claims_services
    from claims.models import Complaint

    complaint = Complaint.objects.filter(dealership=w["dealership"]).order_by("pk").first()
    upload = SimpleUploadedFile("Акт осмотра №5.pdf", b"%PDF-1.4\n" + b"0" * 64, content_type="application/pdf")
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="doc_admin")
    attachment = claims_services.attachment_add(actor=admin, owner=complaint, kind="other", file=upload)
    response = w["client"].get(reverse("claims:attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert _filename_star(response["Content-Disposition"]) == attachment.original_name


def test_no_module_writes_content_disposition_but_the_shared_helper():
    """The sweep: every download in the project goes through dms.core.downloads (grep the sources)."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in (".venv", "tests", "var") or relative.as_posix() == "dms/core/downloads.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "Content-Disposition" in source or re.search(r"FileResponse\((?s:.)*?filename=", source):
            if "set_download_name(" not in source:
                offenders.append(str(relative))
            elif "Content-Disposition" in source:
                offenders.append(str(relative))
    assert not offenders, f"Content-Disposition set outside dms.core.downloads: {offenders}"


@pytest.mark.parametrize(
    "filename, inline, expected",
    [
        ("ЗН-000123.pdf", True, "inline; filename=\"ZN-000123.pdf\"; filename*=utf-8''%D0%97%D0%9D-000123.pdf"),
        ("orders-2026.csv", False, "attachment; filename=\"orders-2026.csv\"; filename*=utf-8''orders-2026.csv"),
        ('Счёт "№5".pdf', False, None),
    ],
)
def test_content_disposition_header(filename, inline, expected):
    header = content_disposition(filename, inline=inline)
    if expected:
        assert header == expected
    assert _filename_star(header) == filename
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    assert fallback.isascii() and fallback.endswith(".pdf" if filename.endswith(".pdf") else ".csv")


# ---------------------------------------------------------------------------------------------------------------------
# Requisites: validation
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("inn", ["7728123459", "1655123453", "500100732259", "7707083893"])
def test_valid_inn(inn):
    requisites.validate_inn(inn)


@pytest.mark.parametrize(
    "inn", ["7728123450", "500100732250", "12345", "77281234590", "77281234S9", "７７２８１２３４５９"]
)
def test_invalid_inn(inn):
    with pytest.raises(ValidationError):
        requisites.validate_inn(inn)


def test_ogrn_and_account_keys():
    requisites.validate_ogrn("1027700132195")  # Sberbank's OGRN
    with pytest.raises(ValidationError):
        requisites.validate_ogrn("1027700132190")
    assert requisites.account_key_matches("044525225", "30101810400000000225", correspondent=True)
    assert not requisites.account_key_matches("044525225", "30101810500000000225", correspondent=True)
    assert requisites.account_key_matches("044525225", "40702810200000012345", correspondent=False)


def test_vat_included_rounds_half_up():
    assert requisites.vat_included(Decimal("120.00"), Decimal("20")) == Decimal("20.00")
    assert requisites.vat_included(Decimal("100.00"), Decimal("20")) == Decimal("16.67")
    assert requisites.vat_included(Decimal("100.00"), Decimal("0")) == Decimal("0.00")


def test_dealership_full_clean_refuses_bad_requisites(dealership):
    dealership.inn, dealership.kpp, dealership.bik = "7728123450", "77280100", "04452522"
    dealership.settlement_account = "40702810300000012345"
    with pytest.raises(ValidationError) as error:
        dealership.full_clean()
    assert {"inn", "kpp", "bik", "settlement_account"} <= set(error.value.message_dict)
    dealership.inn, dealership.kpp, dealership.bik = "7728123459", "772801001", "044525225"
    with pytest.raises(ValidationError) as error:
        dealership.full_clean()  # the account's key does not match the BIK
    assert set(error.value.message_dict) == {"settlement_account"}
    dealership.settlement_account = "40702810200000012345"
    dealership.full_clean()


def test_admin_edits_and_validates_the_requisites(client, dealership):
    admin = UserFactory(username="req_admin", role=roles.ADMINISTRATOR, dealership=[dealership], is_staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = reverse("admin:core_dealership_change", args=[dealership.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="inn"' in page.content.decode()
    data = {
        "group": dealership.group_id,
        "name": dealership.name,
        "code": dealership.code,
        "time_zone": dealership.time_zone,
        "currency": "RUB",
        "order_prefix": dealership.order_prefix,
        "legal_name": "ООО «Проверка»",
        "inn": "7728123450",
        "kpp": "772801001",
        "vat_rate": "20",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and "inn" in refused.context["adminform"].form.errors
    data["inn"] = "7728123459"
    saved = client.post(url, data)
    assert saved.status_code == 302
    dealership.refresh_from_db()
    assert (dealership.legal_name, dealership.inn) == ("ООО «Проверка»", "7728123459")


def test_demo_requisites_are_valid(w):
    for dealership in Dealership.objects.filter(code__in=["demo-moscow", "demo-kazan"]):
        dealership.full_clean()
        assert dealership.legal_name and dealership.inn and dealership.settlement_account and dealership.logo


def test_dump_documents_for_review(w, tmp_path):
    """Writes the documents to DMS_PDF_DUMP (when set) to look at them rendered; otherwise renders only."""
    import os

    target = Path(os.environ.get("DMS_PDF_DUMP") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    for name in DOCUMENTS:
        (target / f"{name.replace(':', '_')}.pdf").write_bytes(fetch(w, name).content)
    assert len(list(target.glob("*.pdf"))) == len(DOCUMENTS)
