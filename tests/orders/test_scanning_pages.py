"""Issue 15 item 7: the order receipt pages carry the scanner field, the codes of each line and the Enter guard."""

import pytest
from django.urls import reverse

from .factories import PartFactory

pytestmark = pytest.mark.django_db


def test_single_and_batch_receipt_pages_scan(client, parts_manager, make_order, place, dealership, supplier):
    part = PartFactory(dealership=dealership, barcode="4601234567890")
    order = place(make_order(lines=[{"part": part, "quantity": 3}]), supplier_order_number="TMR-9")
    line = order.lines.get()
    client.force_login(parts_manager)
    single = client.get(reverse("orders:receive", args=[order.pk])).content.decode()
    assert "data-scan-input" in single and "js/scan.js" in single and 'id="action-form" data-enter-guard' in single
    assert f'name="line_{line.pk}"' in single
    assert f'data-scan-part="{part.number}"' in single and 'data-scan-barcode="4601234567890"' in single
    assert 'max="3"' in single
    batch = client.get(reverse("orders:receive_batch"), {"supplier": supplier.pk, "number": "TMR-9"}).content.decode()
    assert "data-scan-input" in batch and 'data-scan-reset="1"' in batch and "data-enter-guard" in batch
    assert 'data-scan-barcode="4601234567890"' in batch
