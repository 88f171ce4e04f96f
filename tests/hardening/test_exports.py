"""Issue 12 item 3: formula injection in exports.

A customer named ``=HYPERLINK("http://x","y")`` was exported as a live formula to XLSX and unchanged to CSV. Every
export now writes through dms/core/exports.py: text cells that begin with = + - @ (or a tab or CR) get a leading
quote (OWASP), XLSX text cells are strings, numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from claims.kpi import SECTIONS
from dms.core import roles
from dms.core.exports import FORMULA_TRIGGERS, CsvExportWriter, export_cell, xlsx_cells
from tests.hardening import test_access_matrix as matrix

world = matrix.world  # the access matrix's demo world (module-scoped fixture), built once for this module too

PAYLOAD = '=HYPERLINK("http://x","y")'
NUMBER = re.compile(r"-?\d+([.,]\d+)?")  # a decimal point (en) or comma (ru: issue 16 item 3)
ROOT = Path(__file__).resolve().parents[2]


# -- the helper ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_text_starting_with_a_trigger_gets_a_leading_quote(trigger):
    assert export_cell(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("value", [-5, -1.5, Decimal("-90.00"), 0, 33.3, datetime.date(2025, 6, 1), True, None])
def test_numbers_dates_and_booleans_stay_as_they_are(value):
    assert export_cell(value) is value


def test_plain_text_and_lazy_headers():
    assert export_cell("Иванов =1") == "Иванов =1"
    assert export_cell(gettext_lazy("Customers")) == "Клиенты"
    buffer = io.StringIO()
    CsvExportWriter(buffer).writerow([PAYLOAD, -3, "-3", "@SUM(A1)"])
    assert next(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";")) == [f"'{PAYLOAD}", "-3", "'-3", "'@SUM(A1)"]


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_text_cells_are_strings_and_numbers_numbers(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("x") if write_only else workbook.active
    sheet.append(xlsx_cells(sheet, [PAYLOAD, "=1+1", -5, Decimal("-2.50"), "plain"]))
    out = io.BytesIO()
    workbook.save(out)
    cells = list(load_workbook(io.BytesIO(out.getvalue())).worksheets[-1].iter_rows())[0]
    assert [c.value for c in cells] == [f"'{PAYLOAD}", "'=1+1", -5, -2.5, "plain"]
    assert [c.data_type for c in cells] == ["s", "s", "n", "n", "s"]


# -- sweep: every module that writes CSV or XLSX does it through the helper ------------------------------------------
def _project_sources():
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "bench", "var", "static"} or "migrations" in parts:
            continue
        yield path


WRITES_CSV = re.compile(r"csv\.(writer|DictWriter)\(")
WRITES_XLSX = re.compile(r"openpyxl|xlsxwriter")


def test_every_csv_and_xlsx_writer_goes_through_the_shared_helper():
    offenders = []
    writers = 0  # modules that write exports (through the helper)
    for path in _project_sources():
        text = path.read_text(encoding="utf-8")
        relative = str(path.relative_to(ROOT))
        if relative == "dms/core/exports.py":
            continue
        if "dms.core.exports" in text:
            writers += 1
        if WRITES_CSV.search(text):
            offenders.append(f"{relative}: csv.writer outside dms.core.exports")
        if WRITES_XLSX.search(text):
            if "dms.core.exports" not in text or re.search(r"\bsheet\.append\((?!xlsx_cells)", text):
                offenders.append(f"{relative}: XLSX rows not written with dms.core.exports")
    assert writers >= 3  # orders, the call-compliance report, the claims KPIs
    assert not offenders, offenders


# -- sweep: every export endpoint, with poisoned names everywhere -----------------------------------------------------
EXPORTS = [
    ("orders:export", {"fmt": "csv"}, {}),
    ("orders:export", {"fmt": "xlsx"}, {}),
    *[("claims:kpi_export", {}, {"section": section}) for section in SECTIONS],
    ("notifications:call_compliance", {}, {"export": "csv"}),
    ("notifications:call_compliance", {}, {"export": "xlsx"}),
    # the directors' parts KPIs (issue 15 item 8): the page's own URL with ?export=, so the name sweep cannot see it
    ("orders:kpis", {}, {"export": "csv"}),
    ("orders:kpis", {}, {"export": "xlsx"}),
    # issue 18 items 5, 6: staff KPIs and technician efficiency, the pages' own URLs with ?export=
    ("claims:staff_kpis", {}, {"export": "csv"}),
    ("claims:staff_kpis", {}, {"export": "xlsx"}),
    ("claims:technician_efficiency", {}, {"export": "csv"}),
    ("claims:technician_efficiency", {}, {"export": "xlsx"}),
]
# Exports whose rows carry a poisoned name, and how it must come out (others show numbers and fixed labels only).
CARRIES = {
    "orders:export": "'" + PAYLOAD,
    "notifications:call_compliance": "'" + PAYLOAD,
    "complaints_by_employee": "'" + PAYLOAD,
    "cost_by_model": "'" + PAYLOAD,
    "cost_by_part": "'+7",
    "claims:staff_kpis": "'" + PAYLOAD,
}


def _export_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and "export" in pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_export_url_is_swept():
    assert _export_url_names() <= {name for name, _kwargs, _query in EXPORTS}


def _poison(main) -> None:
    """Every name an export shows — customers, staff, vehicle makes, parts, order numbers — becomes a formula."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from claims.models import WarrantyClaim, WarrantyStatus
    from dms.core.models import Customer, Vehicle
    from orders.models import CustomerOrder
    from parts.models import Part

    Customer.objects.filter(dealership=main).update(name=PAYLOAD)
    get_user_model().objects.update(first_name=PAYLOAD, last_name="")
    Vehicle.objects.filter(dealership=main).update(make=PAYLOAD)
    # numbers are short and unique: a formula of their own
    Part.objects.filter(dealership=main).update(number=Concat(Value("@"), Cast(F("id"), CharField())))
    CustomerOrder.objects.filter(dealership=main).update(number=Concat(Value("=1+"), Cast(F("id"), CharField())))
    # one accepted warranty claim this month, so the cost sections have a row
    claim = WarrantyClaim.objects.filter(dealership=main).order_by("pk").first()
    WarrantyClaim.objects.filter(pk=claim.pk).update(
        status=WarrantyStatus.CONFIRMED,
        confirmed_at=timezone.now(),
        approved_amount=Decimal("-90.00"),
        causal_part_number="+7(4310)",
    )
    # The demo's other accepted claims (issue 14 item 7) would be summed into the same model's row: keep them out of
    # this month so the row holds exactly the negative amount this sweep checks.
    WarrantyClaim.objects.filter(dealership=main, confirmed_at__isnull=False).exclude(pk=claim.pk).update(
        confirmed_at=timezone.now() - datetime.timedelta(days=800)
    )


def _cells(response, fmt: str) -> list:
    body = response.content if fmt == "xlsx" or not response.streaming else b"".join(response.streaming_content)
    if fmt == "xlsx":
        sheets = load_workbook(io.BytesIO(body)).worksheets
        return [cell for sheet in sheets for row in sheet.iter_rows() for cell in row]
    return [value for row in csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";") for value in row]


@pytest.mark.parametrize("name, kwargs, query", EXPORTS, ids=lambda v: str(v))
def test_every_export_neutralises_formulas(world, db, name, kwargs, query):
    w = world
    _poison(w.main)
    today = datetime.date.today()
    if name == "notifications:call_compliance":
        query = {**query, "from": (today - datetime.timedelta(days=60)).isoformat(), "to": today.isoformat()}
    response = w.clients[roles.DIRECTOR].get(reverse(name, kwargs=kwargs), query)
    assert response.status_code == 200, response.status_code
    fmt = "xlsx" if "xlsx" in (kwargs.get("fmt"), query.get("export")) else "csv"
    cells = _cells(response, fmt)
    assert cells, "the export is empty"
    if fmt == "xlsx":
        assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell was written as a formula"
        assert not [c.coordinate for c in cells if isinstance(c.value, str) and c.data_type != "s"]
        values = [c.value for c in cells]
    else:
        values = cells
    # (in CSV a number is text too: a negative number is the one cell that may start with "-")
    live = [v for v in values if isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) and not NUMBER.fullmatch(v)]
    assert not live, f"cells a spreadsheet would evaluate: {live[:5]}"
    expected = CARRIES.get(query.get("section", name))
    if expected:
        assert any(isinstance(v, str) and v.startswith(expected) for v in values), values[:40]
    if query.get("section") == "cost_by_model":  # a negative amount is still a number, not neutralised text
        assert "-90,00" in values  # the Russian dialect (issue 16 item 3)
