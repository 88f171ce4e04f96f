"""Issue 14 item 4: the part picker — number or name, the stock on hand, the dealership's active parts only."""

import pytest
from django.urls import reverse

from dms.core import roles
from parts.forms import ReceiveForm

from .factories import PartFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_part_picker_finds_by_number_or_name_with_the_stock_on_hand(
    client, storekeeper, dealership, other_dealership, part, receive, django_assert_max_num_queries
):
    receive(part, "3")  # into the main warehouse, created on the first receipt
    second = WarehouseFactory(dealership=dealership, code="W2", name="Второй склад")
    receive(part, "2.5", warehouse=second)
    PartFactory(dealership=other_dealership, number="04152-FOREIGN", name="Фильтр масляный")
    PartFactory(dealership=dealership, number="04152-OLD", name="Фильтр масляный", is_active=False)
    empty = PartFactory(dealership=dealership, number="90915-YZZE1", name="Фильтр масляный малый")
    client.force_login(storekeeper)
    url = reverse("parts:pick_parts")
    client.get(url)
    with django_assert_max_num_queries(4):
        response = client.get(url, {"q": "фильтр"})
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": part.pk, "number": "04152-YZZA1", "text": "04152-YZZA1 · Фильтр масляный",
         "detail": "В наличии: 5,50 шт."},
        {"id": empty.pk, "number": "90915-YZZE1", "text": "90915-YZZE1 · Фильтр масляный малый",
         "detail": "В наличии: 0 шт."},
    ]  # fmt: skip
    assert [r["id"] for r in client.get(url, {"q": "yzza"}).json()["results"]] == [part.pk]
    assert client.get(url, {"q": "x" * 101}).status_code == 400


def test_part_picker_needs_the_catalogue_permission(client, make_user):
    client.force_login(make_user(None))
    assert client.get(reverse("parts:pick_parts")).status_code == 403
    client.force_login(make_user(roles.WARRANTY_ENGINEER))
    assert client.get(reverse("parts:pick_parts")).status_code == 200


def test_part_number_field_is_a_picker_posting_the_number_and_quantity_defaults_to_one(dealership, part):
    form = ReceiveForm(initial={"part": part}, dealership=dealership)
    html = str(form["part"])
    assert 'data-value-field="number"' in html and f'<option value="{part.number}" selected>' in html
    assert form["quantity"].value() == 1
    posted = ReceiveForm(data={"part": part.number.lower(), "quantity": "1", "unit_cost": "10"}, dealership=dealership)
    assert posted.is_valid(), posted.errors
    assert posted.cleaned_data["part"] == part
