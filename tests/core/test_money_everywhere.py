"""Issue 14 item 8: money with its currency everywhere — exports (XLSX format with the symbol, the CSV header naming
it while the values stay numbers), history (changed prices, amounts in texts) and the parts KPI page."""

import csv
import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from claims.models import PartInstruction
from dms.core import events
from dms.core.exports import csv_bytes, xlsx_bytes, xlsx_number_format
from dms.core.formatting import Money, activate_currency, deactivate_currency, money_title
from dms.core.models import AuditEntry
from tests.factories import CustomerFactory
from tests.orders.factories import PartFactory

pytestmark = pytest.mark.django_db


def test_money_is_a_number_with_the_currency_in_xlsx_and_in_the_csv_header():
    assert xlsx_number_format(Money("6200")) == '#,##0.00 "₽"'
    assert xlsx_number_format(Decimal("1.5")) == "#,##0.00"  # a quantity or a ratio is not money
    token = activate_currency("CNY")
    try:
        assert xlsx_number_format(Money("1")) == '#,##0.00 "¥"'
    finally:
        deactivate_currency(token)
    with translation.override("ru"):
        header = [money_title("Сумма")]
        body = csv_bytes(header, [[Money("6200.5")]])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Сумма, ₽"], ["6200,5"]]  # the value stays a number a spreadsheet parses
    sheet = load_workbook(io.BytesIO(xlsx_bytes("t", ["Amount"], [[Money("6200")]]))).worksheets[0]
    cell = sheet["A2"]
    assert cell.data_type == "n" and cell.value == 6200 and cell.number_format == '#,##0.00 "₽"'


def test_a_changed_price_reads_with_the_currency_and_a_quantity_without(dealership):
    part = PartFactory(dealership=dealership)
    entry = events.record(
        actor=None,
        instance=part,
        action="updated",
        changes={"price": ["6200.00", "1300.00"], "alert_level": ["2.000", "3.000"]},
    )
    with translation.override("ru"):
        rows = {r["label"]: r for r in AuditEntry.objects.get(pk=entry.pk).readable_changes()}
    price = next(r for label, r in rows.items() if r["new"].endswith("₽"))
    assert (price["old"], price["new"]) == ("6\u00a0200,00\u00a0₽", "1\u00a0300,00\u00a0₽")
    assert sum(1 for r in rows.values() if "₽" in str(r["new"])) == 1


def test_amounts_and_labels_in_history_texts_follow_the_reader():
    customer = CustomerFactory()

    entry = events.record(
        actor=None,
        instance=customer,
        action="action",
        message=events.text("%(amount)s %(what)s", amount=Money("6200"), what=PartInstruction.RETURN.label),
    )
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.message_params["amount"] == {"money": "6200"}
    with translation.override("en"):
        assert entry.shown_message == f"6,200.00\u00a0₽ {PartInstruction.RETURN.label}"
        english = entry.shown_message
    with translation.override("ru"):
        assert entry.shown_message.startswith("6\u00a0200,00\u00a0₽ ") and entry.shown_message != english
