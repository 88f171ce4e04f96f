"""Issue 16 item 3: exports for spreadsheets — every export read back with its types.

XLSX held dates as text; CSV wrote decimals with a point beside ``;`` and dd.mm.yyyy, so LibreOffice in Russian read
them as text; the call-compliance CSV started with a title row above its header. Now every export goes through
dms/core/exports.py: XLSX cells are typed (dates with a display format, Decimals as numbers formatted ``#,##0.00``,
ints as integers; a bold, frozen header; sized columns) and CSV follows one dialect per language (README
"Exports"). Each export is requested in each language and read back with openpyxl and the csv module (and with
LibreOffice headless where it is installed), the values compared with the database.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import shutil
import subprocess
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from claims import kpi, staff_kpi
from dms.core import roles
from dms.core.exports import CsvExportWriter, XlsxExport, csv_dialect, export_language, xlsx_cells
from tests.hardening import test_access_matrix as matrix
from tests.hardening.test_exports import EXPORTS

world = matrix.world  # the access matrix's demo world (module-scoped fixture)


# The documented dialects (README "Exports"), written out here rather than read from the module under test.
@dataclass(frozen=True)
class Expected:
    delimiter: str
    decimal: str
    date: str
    datetime: str
    xlsx_date: str
    xlsx_datetime: str


ISO = Expected(",", ".", "%Y-%m-%d", "%Y-%m-%d %H:%M", "YYYY-MM-DD", "YYYY-MM-DD HH:MM")
DIALECTS = {
    "ru": Expected(";", ",", "%d.%m.%Y", "%d.%m.%Y %H:%M", "DD.MM.YYYY", "DD.MM.YYYY HH:MM"),
    "en": ISO,
    "zh-hans": ISO,
}
LANGUAGES = list(DIALECTS)


def parse_number(text: str, language: str) -> Decimal:
    expected = DIALECTS[language]
    other = "." if expected.decimal == "," else ","
    assert other not in text, f"{text!r}: a {other!r} in a {language} number"
    return Decimal(text.replace(expected.decimal, "."))


def parse_int(text: str) -> int:
    assert text.lstrip("-").isdigit(), text
    return int(text)


# -- the helper ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "language, row, line",
    [
        (
            "ru",
            ["Иванов", Decimal("1234.50"), -3, 33.3, datetime.date(2025, 6, 1), datetime.datetime(2025, 6, 1, 9, 5)],
            "Иванов;1234,50;-3;33,3;01.06.2025;01.06.2025 09:05",
        ),
        (
            "en",
            [
                "Ivanov, A.",
                Decimal("1234.50"),
                -3,
                33.3,
                datetime.date(2025, 6, 1),
                datetime.datetime(2025, 6, 1, 9, 5),
            ],
            '"Ivanov, A.",1234.50,-3,33.3,2025-06-01,2025-06-01 09:05',
        ),
        ("zh-hans", [Decimal("-0.10"), None, datetime.date(2025, 12, 31)], "-0.10,,2025-12-31"),
    ],
)
def test_csv_dialect_per_language(language, row, line):
    buffer = io.StringIO()
    with translation.override(language):
        CsvExportWriter(buffer).writerow(row)
    assert buffer.getvalue() == line + "\r\n"


def test_language_follows_the_active_one():
    for active, expected in (("ru", "ru"), ("en", "en"), ("en-us", "en"), ("zh-hans", "zh-hans"), ("zh-cn", "zh-hans")):
        with translation.override(active):
            assert export_language() == expected
            assert csv_dialect().delimiter == DIALECTS[expected].delimiter
    with translation.override(None):
        assert export_language() == "ru"  # the project's default language


def test_an_aware_datetime_is_written_in_the_active_time_zone():
    moment = datetime.datetime(2025, 6, 1, 6, 5, 7, 123456, tzinfo=datetime.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Moscow")), translation.override("ru"):
        buffer = io.StringIO()
        CsvExportWriter(buffer).writerow([moment])
        assert buffer.getvalue() == "01.06.2025 09:05\r\n"
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("x")
        sheet.append(xlsx_cells(sheet, [moment]))
        out = io.BytesIO()
        workbook.save(out)
    cell = load_workbook(out).worksheets[-1]["A1"]
    assert cell.is_date and cell.value == datetime.datetime(2025, 6, 1, 9, 5, 7)


@pytest.mark.parametrize("language", LANGUAGES)
def test_xlsx_export_cells_are_typed_and_the_sheet_is_laid_out(language):
    rows = [
        ["=cmd", Decimal("1234567.80"), 7, 33.3, datetime.date(2025, 6, 1), datetime.datetime(2025, 6, 1, 9, 5, 7)]
    ] * (XlsxExport.SAMPLE_ROWS + 5)  # some rows after the sample, written streaming
    with translation.override(language):
        export = XlsxExport("Orders: [a/b]", ["Name", "Amount", "Quantity", "Share", "Date", "When"])
        export.extend(rows)
        sheet = load_workbook(io.BytesIO(export.to_bytes())).active
    assert sheet.title == "Orders   a b "
    assert sheet.freeze_panes == "A2"
    header, *body = list(sheet.iter_rows())
    assert [c.value for c in header] == ["Name", "Amount", "Quantity", "Share", "Date", "When"]
    assert all(c.font.b for c in header) and not any(c.font.b for c in body[0])
    assert len(body) == len(rows)
    expected = DIALECTS[language]
    for cells in (body[0], body[-1]):
        name, amount, quantity, share, date, when = cells
        assert (name.value, name.data_type) == ("'=cmd", "s")
        assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("1234567.80")
        assert amount.number_format == "#,##0.00"
        assert quantity.value == 7 and isinstance(quantity.value, int) and quantity.data_type == "n"
        assert share.value == 33.3 and share.data_type == "n"
        assert date.is_date and date.value == datetime.datetime(2025, 6, 1) and date.number_format == expected.xlsx_date
        assert when.is_date and when.value == datetime.datetime(2025, 6, 1, 9, 5, 7)
        assert when.number_format == expected.xlsx_datetime
    widths = [sheet.column_dimensions[get_column_letter(i)].width for i in range(1, 7)]
    assert widths[0] >= len("'=cmd") and widths[1] >= len("1,234,567.80") and widths[5] >= len("01.06.2025 09:05")
    assert all(width <= 60 for width in widths)


# -- every export endpoint, in every language ------------------------------------------------------------------------
def _request(w, name, kwargs, query, language):
    client = w.clients[roles.DIRECTOR]
    if name == "claims:technician_efficiency":
        _give_the_workshop_a_week(w.main)
    if name == "notifications:call_compliance":
        today = datetime.date.today()
        query = {**query, "from": (today - datetime.timedelta(days=60)).isoformat(), "to": today.isoformat()}
    client.cookies["django_language"] = language  # pages follow the language the user picked
    try:
        response = client.get(reverse(name, kwargs=kwargs), query)
    finally:
        del client.cookies["django_language"]
    assert response.status_code == 200, response.status_code
    return response, query


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _expected_header(name, query, dealership, language) -> list[str]:
    from notifications import reports
    from orders import kpis as parts_kpis
    from orders.views import EXPORT_HEADER

    with translation.override(language):
        if name == "orders:export":
            return [str(title) for title in EXPORT_HEADER]
        if name == "notifications:call_compliance":
            return [str(title) for title in reports._header()]
        if name == "orders:kpis":
            return [str(title) for title in parts_kpis.export_header()]
        if name == "claims:staff_kpis":
            return [str(title) for title in staff_kpi.export_header()]
        if name == "claims:technician_efficiency":
            return [str(title) for title in staff_kpi.efficiency_export_header()]
        period = kpi.Period.from_params({}, dealership)
        return [str(title) for title in kpi.csv_rows(dealership=dealership, period=period, section=query["section"])[0]]


# Column kinds per export (by column index): what each cell must read back as.
DATETIME, DATE, INT, NUMBER, DECIMAL, MONEY = "datetime", "date", "int", "number", "decimal", "money"
KINDS = {
    "orders:export": {2: DATETIME, 3: DATETIME, 4: DATE, 5: DATETIME, 12: INT},
    "notifications:call_compliance": {2: INT, 3: INT, 4: INT, 5: INT, 6: INT, 7: NUMBER},
    "complaints_by_employee": {1: INT, 2: INT, 3: INT, 4: INT, 5: INT, 6: NUMBER, 7: NUMBER, 8: NUMBER},
    "complaints_by_department": {1: INT, 2: INT, 3: INT, 4: INT, 5: INT, 6: NUMBER, 7: NUMBER, 8: NUMBER},
    "claims_turnaround": {1: NUMBER},
    # fill rate and turnover in the ratio column (the fill rate has three places); amounts in the money column
    "orders:kpis": {2: INT, 3: NUMBER, 4: NUMBER, 5: MONEY},
    # issue 18 item 6: counts as integers, the sales in money, hours as decimals, rates and averages as numbers
    "claims:staff_kpis": {
        1: INT,
        2: INT,
        3: MONEY,
        4: INT,
        5: INT,
        6: DECIMAL,
        7: INT,
        8: NUMBER,
        9: INT,
        10: INT,
        11: NUMBER,
        12: NUMBER,
        13: INT,
        14: NUMBER,
        15: INT,  # jobs finished as technician
        16: DECIMAL,  # their sold hours
    },
    # issue 18 item 5: hours as decimals, finished jobs as an integer, the two rates as numbers
    "claims:technician_efficiency": {1: DECIMAL, 2: DECIMAL, 3: INT, 4: DECIMAL, 5: DECIMAL, 6: NUMBER, 7: NUMBER},
    # issue 14 item 8: money carries its currency (XLSX format with the symbol; the CSV header names it)
    "cost_by_model": {1: INT, 2: MONEY},
    "cost_by_part": {1: INT, 2: MONEY},
}


def _give_the_report_a_cost(main) -> Decimal:
    """One accepted warranty claim this period with an amount that needs grouping and a decimal part."""
    from claims.models import WarrantyClaim, WarrantyStatus

    claim = WarrantyClaim.objects.filter(dealership=main).order_by("pk").first()
    WarrantyClaim.objects.filter(pk=claim.pk).update(
        status=WarrantyStatus.CONFIRMED, confirmed_at=timezone.now(), approved_amount=Decimal("12345.67")
    )
    return Decimal("12345.67")


def _db_orders(main) -> dict[str, dict]:
    """The orders as the database holds them, the datetimes on the dealership's wall clock."""
    from orders.models import CustomerOrder

    tz = zoneinfo.ZoneInfo(main.time_zone)
    rows = {}
    for order in CustomerOrder.objects.filter(dealership=main):
        rows[order.number] = {
            2: timezone.make_naive(order.created_at, tz).replace(microsecond=0),
            3: order.placed_at and timezone.make_naive(order.placed_at, tz).replace(microsecond=0),
            4: order.expected_at,
            5: order.received_at and timezone.make_naive(order.received_at, tz).replace(microsecond=0),
        }
    return rows


def _compliance_rows(w, query) -> list[list]:
    from django.contrib.auth import get_user_model

    from notifications import reports

    director = get_user_model().objects.get(username=f"m_{roles.DIRECTOR}")
    report = reports.compliance_for_user(
        user=director,
        date_from=datetime.date.fromisoformat(query["from"]),
        date_to=datetime.date.fromisoformat(query["to"]),
    )
    return [row[1:] for row in reports._rows(report)]


def _kpi_rows(main, section) -> list[list]:
    period = kpi.Period.from_params({}, main)
    return [row[1:] for row in kpi.csv_rows(dealership=main, period=period, section=section)[1:]]


def _parts_kpi_rows(w, language) -> list[list]:
    """The parts KPIs over every dealership of the director, for the page's default period (the last 30 days)."""
    from django.contrib.auth import get_user_model

    from dms.core.tenancy import allowed_dealership_ids
    from orders import kpis as parts_kpis
    from orders.selectors import local_today

    director = get_user_model().objects.get(username=f"m_{roles.DIRECTOR}")
    date_from, date_to = parts_kpis.parse_period(None, None, today=local_today(w.main))
    report = parts_kpis.parts_kpis(
        dealership_ids=allowed_dealership_ids(director), date_from=date_from, date_to=date_to, now=timezone.now()
    )
    with translation.override(language):
        return [[str(row[0]), *row[1:]] for row in parts_kpis.export_rows(report)]


def _give_the_workshop_a_week(main) -> None:
    """Issue 18 item 5: one technician of the main dealership with hours, a job finished and clocked this week (the
    demo has no clocked jobs); idempotent."""
    from service.models import JobClock, TechnicianHours, TechnicianProfile, WorkOrder, WorkOrderJob
    from tests.factories import UserFactory

    if TechnicianProfile.objects.filter(dealership=main, user__username="m_tech_export").exists():
        return
    user = UserFactory(username="m_tech_export", role=roles.TECHNICIAN, dealership=[main], first_name="Техник")
    profile = TechnicianProfile.objects.create(dealership=main, user=user)
    for weekday in range(7):
        TechnicianHours.objects.create(
            dealership=main, technician=profile, weekday=weekday, starts_at=datetime.time(8), ends_at=datetime.time(20)
        )
    job = WorkOrderJob.objects.filter(work_order__in=WorkOrder.objects.filter(dealership=main)).order_by("pk").first()
    now = timezone.now()
    start = max(now - datetime.timedelta(hours=2), now.replace(hour=0, minute=0, second=0, microsecond=0))
    WorkOrderJob.objects.filter(pk=job.pk).update(technician=user, done_at=now, standard_hours=Decimal("1.25"))
    JobClock.objects.create(dealership=main, job=job, technician=user, started_at=start, ended_at=now)


def _staff_kpi_rows(w, name) -> list[list]:
    """Issue 18 items 5, 6: the director's rows over all his dealerships, this month / this week."""
    from django.contrib.auth import get_user_model

    from dms.core.tenancy import allowed_dealership_ids
    from service import efficiency

    director = get_user_model().objects.get(username=f"m_{roles.DIRECTOR}")
    ids = sorted(allowed_dealership_ids(director))
    today = timezone.localtime(timezone.now(), w.main.tz).date()
    if name == "claims:staff_kpis":
        period = staff_kpi.StaffPeriod.parse(None, today=today)
        rows = staff_kpi.staff_kpis(dealership_ids=ids, period=period, now=timezone.now())
        return [row[1:] for row in staff_kpi.export_rows(rows)]
    monday = staff_kpi.parse_week(None, today=today)
    rows = efficiency.technician_efficiency(dealership_ids=ids, week_start=monday, now=timezone.now())
    return [row[1:] for row in staff_kpi.efficiency_export_rows(rows)]


def _check_against_the_database(w, name, query, rows: list[list], as_value) -> None:
    """``rows``: the export's body rows; ``as_value(kind, cell)``: the cell as a Python value (None when empty)."""
    key = query.get("section", name)
    kinds = KINDS[key]
    assert rows, "the export is empty"
    values = [[as_value(kinds.get(i), cell) for i, cell in enumerate(row)] for row in rows]
    if name == "orders:export":
        db = _db_orders(w.main)
        assert {row[0] for row in values} == set(db)
        for row in values:
            for column in (2, 3, 4, 5):
                expected = db[row[0]][column]
                if isinstance(expected, datetime.datetime) and as_value.precision == "minute":
                    expected = expected.replace(second=0)
                assert row[column] == expected, (row[0], column, row[column], expected)
            assert isinstance(row[12], int) and row[12] >= 0
        return
    if name == "orders:kpis":
        full = _parts_kpi_rows(w, as_value.language)
        assert [row[0] for row in values] == [row[0] for row in full]  # the indicator names, in order
        expected = [row[1:] for row in full]
    elif name == "notifications:call_compliance":
        expected = _compliance_rows(w, query)
    elif name in ("claims:staff_kpis", "claims:technician_efficiency"):
        expected = _staff_kpi_rows(w, name)
    else:
        expected = _kpi_rows(w.main, key)
    assert len(values) == len(expected)
    for row, want in zip(values, expected, strict=True):
        for column, kind in kinds.items():
            wanted = want[column - 1]
            got = row[column]
            if wanted is None:
                assert got is None, (column, got)
            elif kind == INT:
                assert got == wanted and isinstance(got, int), (column, got, wanted)
            else:
                assert Decimal(str(got)) == Decimal(str(wanted)), (column, got, wanted)
    if key.startswith("cost_"):  # the claim given 12 345,67 (the demo may add more claims of the same model)
        assert max(row[2] for row in values) >= Decimal("12345.67")


class CsvValue:
    precision = "minute"

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, kind, text: str):
        expected = DIALECTS[self.language]
        if text == "":
            return None
        if kind == DATETIME:
            return datetime.datetime.strptime(text, expected.datetime)
        if kind == DATE:
            return datetime.datetime.strptime(text, expected.date).date()
        if kind == INT:
            return parse_int(text)
        if kind in (NUMBER, DECIMAL, MONEY):
            return parse_number(text, self.language)
        return text


class XlsxValue:
    precision = "second"

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, kind, cell):
        expected = DIALECTS[self.language]
        if cell.value is None:
            return None
        if kind == DATETIME:
            assert cell.is_date and cell.number_format == expected.xlsx_datetime, (cell.coordinate, cell.number_format)
            return cell.value
        if kind == DATE:
            assert cell.is_date and cell.number_format == expected.xlsx_date, (cell.coordinate, cell.number_format)
            assert cell.value.time() == datetime.time(0)
            return cell.value.date()
        if kind in (INT, NUMBER, DECIMAL, MONEY):
            assert cell.data_type == "n" and isinstance(cell.value, int | float), (cell.coordinate, cell.value)
            if kind == INT:
                assert isinstance(cell.value, int) and cell.number_format == "0", (cell.coordinate, cell.value)
            if kind == DECIMAL:
                assert cell.number_format == "#,##0.00", (cell.coordinate, cell.number_format)
                return Decimal(str(cell.value)).quantize(Decimal("0.01"))
            if kind == MONEY:
                assert cell.number_format == '#,##0.00 "₽"', (cell.coordinate, cell.number_format)
                return Decimal(str(cell.value)).quantize(Decimal("0.01"))
            return cell.value
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        return cell.value


CSV_EXPORTS = [e for e in EXPORTS if "xlsx" not in (e[1].get("fmt"), e[2].get("export"))]
XLSX_EXPORTS = [e for e in EXPORTS if e not in CSV_EXPORTS]


def test_the_sweep_covers_every_export():
    assert len(CSV_EXPORTS) == 10 and len(XLSX_EXPORTS) == 5


def _read_csv(body: bytes, language: str) -> list[list[str]]:
    assert body.startswith(codecs.BOM_UTF8), "UTF-8 with a BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=DIALECTS[language].delimiter))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name, kwargs, query", CSV_EXPORTS, ids=lambda v: str(v))
def test_every_csv_export_reads_back_typed_in_its_language_dialect(world, db, name, kwargs, query, language):
    w = world
    _give_the_report_a_cost(w.main)
    response, query = _request(w, name, kwargs, query, language)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _read_csv(_body(response), language)
    header = _expected_header(name, query, w.main, language)
    assert rows[0] == header, "exactly one header row, first"
    assert header not in rows[1:]
    assert all(len(row) == len(header) for row in rows), "every row has the header's width (no title row)"
    _check_against_the_database(w, name, query, rows[1:], CsvValue(language))
    for index, kind in KINDS.get(query.get("section", name), {}).items():  # issue 14 item 8: money names its currency
        assert rows[0][index].endswith(", ₽") == (kind == MONEY), rows[0][index]
    if name == "orders:export":  # dates inside the call-results text follow the dialect too
        foreign = re.compile(r"\d{4}-\d\d-\d\d" if language == "ru" else r"\d\d\.\d\d\.\d{4}")
        assert not [row[14] for row in rows[1:] if foreign.search(row[14])]
        assert [row[14] for row in rows[1:] if row[14]], "the demo has call results"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name, kwargs, query", XLSX_EXPORTS, ids=lambda v: str(v))
def test_every_xlsx_export_reads_back_typed(world, db, name, kwargs, query, language):
    w = world
    response, query = _request(w, name, kwargs, query, language)
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = _expected_header(name, query, w.main, language)
    first, *body = list(sheet.iter_rows())
    assert [c.value for c in first] == header and all(c.font.b for c in first)
    assert header not in [[c.value for c in row] for row in body]
    assert sheet.freeze_panes == "A2"
    for index, title in enumerate(header, start=1):
        width = sheet.column_dimensions[get_column_letter(index)].width
        assert min(len(title), 58) <= width <= 60, (title, width)
    _check_against_the_database(w, name, query, body, XlsxValue(language))


# -- the Monday e-mail -------------------------------------------------------------------------------------------------
def test_the_weekly_email_attachment_is_a_russian_csv(world, db, mailoutbox):
    from django.contrib.auth import get_user_model

    from notifications import reports

    director = get_user_model().objects.get(username=f"m_{roles.DIRECTOR}")
    get_user_model().objects.filter(pk=director.pk).update(email="director@example.com")
    with translation.override("en"):  # the e-mail speaks Russian whatever is active
        reports.email_weekly_reports(today=datetime.date.today())
    message = next(m for m in mailoutbox if m.to == ["director@example.com"])
    name, content, mimetype = message.attachments[0]
    date_from, date_to = reports.previous_week(datetime.date.today())
    assert name == f"call-compliance-{date_from}-{date_to}.csv" and mimetype == "text/csv"
    rows = _read_csv(content if isinstance(content, bytes) else content.encode("utf-8"), "ru")
    assert rows[0] == _expected_header("notifications:call_compliance", {}, world.main, "ru")
    assert all(len(row) == len(rows[0]) for row in rows)
    if len(rows) > 1:
        query = {"from": str(date_from), "to": str(date_to)}
        _check_against_the_database(world, "notifications:call_compliance", query, rows[1:], CsvValue("ru"))


# -- LibreOffice (where installed) ----------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_in_russian_reads_the_russian_csv_as_numbers_and_dates(world, db, tmp_path: Path):
    w = world
    response, _query = _request(w, "orders:export", {"fmt": "csv"}, {}, "ru")
    source = tmp_path / "orders.csv"
    source.write_bytes(_body(response))
    # CSV filter options: separator ; (59), quote " (34), UTF-8 (76), from line 1, standard columns, ru-RU (1049),
    # quoted fields not forced to text, special numbers (dates) detected — what the import dialog offers in Russian.
    subprocess.run(
        [
            shutil.which("soffice"),
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--infilter=CSV:59,34,76,1,,1049,false,true",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    sheet = load_workbook(tmp_path / "orders.xlsx").active
    header, *body = list(sheet.iter_rows())
    assert body
    db_orders = _db_orders(w.main)
    for row in body:
        number = row[0].value
        created = row[2]
        assert created.is_date, (created.coordinate, created.value)
        # (a fraction of a day read back: allow rounding below a second)
        assert abs(created.value - db_orders[number][2].replace(second=0)) < datetime.timedelta(seconds=1)
        expected_at = row[4]
        if db_orders[number][4] is not None:
            assert expected_at.is_date and expected_at.value.date() == db_orders[number][4]
        assert row[12].data_type == "n" and isinstance(row[12].value, int | float)
