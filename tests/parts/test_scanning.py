"""Issue 15 item 7: parts carry an optional barcode; the scanner's lookup finds a part by barcode or number."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from parts import services
from parts.forms import IssueForm
from parts.models import Part

from .factories import PartFactory

pytestmark = pytest.mark.django_db

EAN = "4601234567890"


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


def test_barcode_is_optional_unique_per_dealership_and_normalised(storekeeper, dealership, other_dealership):
    first = services.part_create(
        actor=storekeeper, dealership=dealership, number="a-1", name="A", barcode=" 460 1234567890 "
    )
    assert first.barcode == EAN
    # parts without a label never collide: no code is NULL, not ""
    services.part_create(actor=storekeeper, dealership=dealership, number="B-1", name="B", barcode="")
    services.part_create(actor=storekeeper, dealership=dealership, number="C-1", name="C")
    assert Part.objects.filter(dealership=dealership, barcode__isnull=True).count() == 2
    with pytest.raises(ValidationError) as caught:
        services.part_create(actor=storekeeper, dealership=dealership, number="D-1", name="D", barcode=EAN)
    assert "barcode" in caught.value.message_dict
    # another dealership may label its own part with the same code
    other = services.part_create(actor=storekeeper, dealership=other_dealership, number="A-1", name="A", barcode=EAN)
    assert other.barcode == EAN
    updated = services.part_update(actor=storekeeper, part=first, data={"barcode": ""})
    assert updated.barcode is None


def test_lookup_by_barcode_or_number_in_own_dealership_only(client, storekeeper, dealership, other_dealership):
    part = PartFactory(dealership=dealership, number="04152-YZZA1", name="Фильтр", barcode=EAN)
    PartFactory(dealership=other_dealership, number="99999-00000", name="Чужая", barcode="111")
    client.force_login(storekeeper)
    url = reverse("parts:part_lookup")
    by_code = client.get(url, {"code": EAN})
    assert by_code.status_code == 200
    assert by_code.json() == {"id": part.pk, "number": "04152-YZZA1", "barcode": EAN, "name": "Фильтр", "unit": "pcs"}
    assert client.get(url, {"code": " 04152-yzza1 "}).json()["id"] == part.pk
    unknown = client.get(url, {"code": "111"})  # another dealership's label
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Unknown code: 111"
    assert client.get(url, {"code": "99999-00000"}).status_code == 404
    missing = client.get(url, {"code": "  "})
    assert missing.status_code == 400 and "Scan or type" in missing.json()["detail"]


def test_lookup_needs_the_catalogue_permission(client, make_user, dealership):
    PartFactory(dealership=dealership, barcode=EAN)
    client.force_login(make_user(role=None))
    assert client.get(reverse("parts:part_lookup"), {"code": EAN}).status_code == 403


def test_part_field_takes_a_scanned_barcode(dealership):
    part = PartFactory(dealership=dealership, number="04152-YZZA1", barcode=EAN)
    form = IssueForm(
        {"part": EAN, "quantity": "1", "reason": "counter_sale", "reference": "Ч-1"}, dealership=dealership
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["part"] == part
    form = IssueForm(
        {"part": "000", "quantity": "1", "reason": "counter_sale", "reference": "Ч-1"}, dealership=dealership
    )
    assert not form.is_valid() and "part" in form.errors


def test_scanning_pages_carry_the_scan_field_and_line_codes(client, dealership, storekeeper, receive):
    part = PartFactory(dealership=dealership, number="04152-YZZA1", barcode=EAN)
    receive(part, 3)
    client.force_login(storekeeper)
    for name in ("parts:receive", "parts:issue"):
        html = client.get(reverse(name)).content.decode()
        assert "data-scan-input" in html and 'data-scan-single="part,quantity"' in html and "js/scan.js" in html
        assert "data-enter-guard" in html
    warehouse = part.balances.get().warehouse
    count = services.stock_count_start(actor=storekeeper, dealership=dealership, warehouse=warehouse, scope="warehouse")
    html = client.get(reverse("parts:count_enter", args=[count.pk])).content.decode()
    assert "data-scan-input" in html and "data-enter-guard" in html
    assert f'data-scan-part="04152-YZZA1" data-scan-barcode="{EAN}"' in html
