"""Issue 14 item 8: a claim's history written on a Russian screen reads in English and Chinese — the amounts with
their currency, the part instruction in the reader's language — on the claim's page too."""

import pytest
from django.urls import reverse
from django.utils import translation

from claims import services
from dms.core.models import AuditEntry

from .helpers import draft_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_claim(engineer, fmc, claims_dept, work_orders, warranty_vehicle, pump):
    wo = work_orders.add(vehicle=warranty_vehicle, mileage=25000, parts={pump: 1})
    with translation.override("ru"):
        claim = draft_claim(engineer, wo, pump)
        claim = services.warranty_claim_submit(actor=engineer, claim=claim)
        claim = services.warranty_claim_fmc_confirm(actor=fmc, claim=claim)
        claim = services.warranty_claim_claims_confirm(actor=claims_dept, claim=claim, part_instruction="return")
        return services.warranty_claim_record_payment(
            actor=claims_dept, claim=claim, amount="22250.00", reference="ПП 4711"
        )


def _messages(claim, language):
    entries = AuditEntry.objects.filter(object_id=claim.pk, content_type__model="warrantyclaim", action="transition")
    with translation.override(language):
        return [e.shown_message for e in entries.order_by("id") if e.message]


def test_payment_and_confirmation_are_read_in_each_language_with_the_currency(paid_claim):
    ru = _messages(paid_claim, "ru")
    assert ru[-2].startswith("одобрено 22\u00a0250,00\u00a0₽; ")
    assert ru[-1] == "оплачено 22\u00a0250,00\u00a0₽, платёж ПП 4711"
    en = _messages(paid_claim, "en")
    assert en[-2].startswith("approved 22,250.00\u00a0₽; ") and en[-1] == "paid 22,250.00\u00a0₽, reference ПП 4711"
    zh = _messages(paid_claim, "zh-hans")
    assert zh[-2].startswith("批准 22,250.00\u00a0₽；") and zh[-1] == "已付 22,250.00\u00a0₽，付款参考 ПП 4711"
    ru_instruction = ru[-2].split("; ", 1)[1]
    assert ru_instruction and ru_instruction not in en[-2] and ru_instruction not in zh[-2]


@pytest.mark.parametrize("language, paid", [("en", "paid 22,250.00"), ("zh-hans", "已付 22,250.00")])
def test_the_claim_page_shows_the_history_in_the_readers_language(client, claims_dept, paid_claim, language, paid):
    client.force_login(claims_dept)
    client.cookies["django_language"] = language
    html = client.get(reverse("claims:claim_detail", args=[paid_claim.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert html.status_code == 200
    text = html.content.decode()
    assert paid in text
    assert "оплачено" not in text and "одобрено" not in text
