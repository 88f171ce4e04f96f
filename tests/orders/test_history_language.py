"""Issue 14 item 8: the order's timeline written on a Russian screen reads in English and Chinese, its dates in the
reader's format (never a raw ISO date)."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "language, supplier_word",
    [("en", "Supplier "), ("zh-hans", "供应商 "), ("ru", "Поставщик ")],
)
def test_the_placement_reads_in_the_readers_language(client, order, place, parts_manager, language, supplier_word):
    with translation.override("ru"):
        placed = place(order, days=5)
    client.force_login(parts_manager)
    client.cookies["django_language"] = language
    page = client.get(reverse("orders:detail", args=[placed.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    timeline = page.content.decode().split('id="timeline"', 1)[1]
    assert supplier_word in timeline and f"TMR-{placed.pk}" in timeline
    assert placed.expected_at.isoformat() not in timeline  # the ETA in the reader's date format
    with translation.override(language):
        assert date_format(placed.expected_at, "SHORT_DATE_FORMAT") in timeline
    if language != "ru":
        assert "Поставщик" not in timeline and "поставка" not in timeline
