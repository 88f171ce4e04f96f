"""Issue 19: the warranty and goodwill claim lists draw their rows in Python (``claims.views``) — each row reads exactly
as the template loop drew it (the loops below are the templates' before the change), in every language, with the
empty row too."""

import datetime
from decimal import Decimal
from html import escape

import pytest
from django.conf import settings
from django.utils import timezone, translation

from claims import services
from claims.models import GoodwillStatus, WarrantyClaim, WarrantyStatus
from tests.core.test_list_rows import _assert_rows_as_the_template
from tests.factories import CustomerFactory, VehicleFactory

from .helpers import draft_claim, pdf

pytestmark = pytest.mark.django_db

WARRANTY_LOOP = """{% load i18n core_tags %}{% for c in page_obj %}
    <tr><td><a href="{% url 'claims:claim_detail' c.pk %}">{{ c.number }}</a></td><td>{{ c.get_kind_display }}</td><td>{{ c.work_order_number }}</td>
      <td>{{ c.vehicle.make }} {{ c.vehicle.model }} <code class="small">{{ c.vehicle.vin }}</code></td><td>{{ c.failure_code }}</td><td>{{ c.causal_part_number }}</td>
      <td class="text-end">{{ c.total|money }}</td><td><span class="badge text-bg-{{ c.status_colour }}">{{ c.get_status_display }}</span></td></tr>
  {% empty %}
    <tr><td colspan="8" class="text-secondary p-3">{% translate "No claims found." %}</td></tr>
  {% endfor %}"""  # noqa: E501

GOODWILL_LOOP = """{% load i18n core_tags %}{% for g in page_obj %}<tr><td><a href="{% url 'claims:goodwill_detail' g.pk %}">{{ g.number }}</a></td><td>{{ g.customer.name }}</td><td>{{ g.vehicle.make }} {{ g.vehicle.model }}</td><td>{{ g.work_order_number|default:"—" }}</td><td class="text-end">{{ g.requested_amount|money|default:"—" }}</td><td class="text-end">{{ g.paid_amount|money|default:"—" }}</td><td>{{ g.get_status_display }}</td></tr>
{% empty %}<tr><td colspan="7" class="text-secondary p-3">{% translate "No claims found." %}</td></tr>{% endfor %}"""  # noqa: E501


@pytest.fixture
def claim_vehicle(warranty_vehicle):
    warranty_vehicle.make, warranty_vehicle.model = "Kia & <Co>", "Rio «X»"
    warranty_vehicle.save()
    return warranty_vehicle


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_warranty_claim_rows_read_as_the_template_drew_them(
    client, api_as, engineer, fmc, claims_dept, work_orders, claim_vehicle, pump, language
):
    """Every status colour a claim walks through (draft, checked, returned, paid, rejected), three kinds' labels, a
    total of labour and two part lines (the prefetched ``part_lines``), names and codes that need escaping."""
    order = iter(range(1, 10))

    def claim(**kwargs):
        quantity = kwargs.pop("quantity", 1)
        wo = work_orders.add(vehicle=claim_vehicle, mileage=25000, parts={pump: quantity}, number=f"ЗН-<{next(order)}>")
        return draft_claim(engineer, wo, pump, quantity=quantity, **kwargs)

    claim(kind="special_part", failure_code="P0<&>", quantity=2)  # a draft
    submit = services.warranty_claim_submit
    submit(actor=engineer, claim=claim(kind="campaign"))  # checked by the system
    services.warranty_claim_return(actor=fmc, claim=submit(actor=engineer, claim=claim()), reason="Фото")
    paid = services.warranty_claim_fmc_confirm(actor=fmc, claim=submit(actor=engineer, claim=claim()))
    paid = services.warranty_claim_claims_confirm(actor=claims_dept, claim=paid, part_instruction="return")
    services.warranty_claim_record_payment(actor=claims_dept, claim=paid, amount="22250.00", reference="ПП 1")
    rejected = submit(actor=engineer, claim=claim())
    services.warranty_claim_reject(actor=fmc, claim=rejected, reason="Не гарантия", part_instruction="scrap")
    assert set(WarrantyClaim.objects.values_list("status", flat=True)) == {
        WarrantyStatus.DRAFT, WarrantyStatus.AUTO_CHECKED, WarrantyStatus.RETURNED, WarrantyStatus.PAID,
        WarrantyStatus.REJECTED,
    }  # fmt: skip
    client.force_login(engineer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/claims/", WARRANTY_LOOP)
        assert rows.count("<tr") == 5 and "Kia &amp; &lt;Co&gt; Rio «X»" in rows and "P0&lt;&amp;&gt;" in rows
        assert "ЗН-&lt;1&gt;" in rows
        for colour in ("secondary", "info", "warning", "success", "danger"):
            assert f"text-bg-{colour}" in rows
        _assert_rows_as_the_template(client, "/claims/?q=nobody-like-this", WARRANTY_LOOP)
    _assert_api_items_equal_their_own_answers(api_as(engineer), "/api/warranty-claims/", 5)


@pytest.mark.parametrize("language", ["ru", "en", "zh-hans"])
def test_goodwill_rows_read_as_the_template_drew_them(
    client, api_as, dealership, engineer, fmc, cac, vehicle, language
):
    """A paid claim (both amounts), a submitted and a rejected one, a draft with no work order and no amount (both
    «—»), an amount of zero (shown, not «—»), a customer and a vehicle whose names need escaping."""
    odd = CustomerFactory(dealership=dealership, name="ООО «Рога & Копыта» <b>")
    odd_vehicle = VehicleFactory(customer=odd, make="Lada <&>", model="")

    def goodwill(for_vehicle, **kwargs):
        data = {"customer": for_vehicle.customer, "vehicle": for_vehicle, "description": "Ремонт КПП"} | kwargs
        return services.goodwill_claim_create(actor=engineer, dealership=dealership, **data)

    def ready(**kwargs):
        claim = goodwill(
            vehicle, fmc_terms="50%", work_order_number="ЗН-<777>",
            agreement_signed_on=timezone.localdate() - datetime.timedelta(days=1), **kwargs,
        )  # fmt: skip
        services.attachment_add(actor=engineer, owner=claim, kind="agreement", file=pdf("agreement.pdf"))
        return services.goodwill_claim_submit(actor=engineer, claim=claim)

    goodwill(odd_vehicle)  # a draft: no work order, no amounts
    goodwill(vehicle, requested_amount=Decimal("0"), work_order_number="ЗН-1")
    ready(requested_amount=Decimal("1234567.89"))  # submitted
    services.goodwill_claim_reject(actor=fmc, claim=ready(requested_amount=Decimal("10")), reason="Нет")
    paid = services.goodwill_claim_fmc_confirm(actor=fmc, claim=ready(requested_amount=Decimal("55000")))
    paid = services.goodwill_claim_cac_confirm(actor=cac, claim=paid)
    services.goodwill_claim_record_payment(actor=engineer, claim=paid, amount="54999.5", reference="ПП 91")
    client.force_login(engineer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        rows = _assert_rows_as_the_template(client, "/goodwill/", GOODWILL_LOOP)
        assert rows.count("<tr") == 5 and rows.count("<td>—</td>") == 1 and rows.count(">—</td>") == 6
        assert "ООО «Рога &amp; Копыта» &lt;b&gt;" in rows and "Lada &lt;&amp;&gt; </td>" in rows
        assert "ЗН-&lt;777&gt;" in rows
        labels = dict(GoodwillStatus.choices)
        for status in (GoodwillStatus.DRAFT, GoodwillStatus.SUBMITTED, GoodwillStatus.REJECTED, GoodwillStatus.PAID):
            assert f"<td>{escape(labels[status])}</td>" in rows
        _assert_rows_as_the_template(client, "/goodwill/?q=nobody-like-this", GOODWILL_LOOP)
    _assert_api_items_equal_their_own_answers(api_as(engineer), "/api/goodwill-claims/", 5)


def _assert_api_items_equal_their_own_answers(api, url: str, count: int) -> None:
    """The API lists read fewer related rows than a claim's own answer (issue 19): every item still equals it."""
    items = api.get(url).json()["results"]
    assert len(items) == count
    for item in items:
        assert item == api.get(f"{url}{item['id']}/").json()
