"""Every CSV and XLSX export writes its cells through here.

Formula injection (issue 12 item 3): a customer named ``=HYPERLINK("http://x","y")`` was exported as a live formula to
XLSX and unchanged to CSV, where a spreadsheet evaluates it on opening. Following OWASP's CSV-injection guidance, a
*text* cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote,
so the spreadsheet shows it as text; in XLSX every text cell is, in addition, typed as a string (never a formula).
Numbers, dates and booleans stay what they are: a negative number is still a number.

Typed cells (issue 16 item 3): the views hand over raw values — dates, datetimes, Decimals, ints — never strings
preformatted for one reader, and this module writes them so that a spreadsheet reads them back with their types:

* XLSX: dates and datetimes are real dates with a display format of the request's language, Decimals (money,
  quantities) numbers formatted ``#,##0.00``, ints integers, text strings; the header row is bold and frozen and the
  columns are sized to the header and the first rows.
* CSV: one dialect per language (:data:`CSV_DIALECTS`, documented in README "Exports"): Russian ``;`` with a decimal
  comma and dd.mm.yyyy dates, so Excel and LibreOffice in Russian read numbers and dates as such; English and
  Chinese ``,`` with a decimal point and ISO dates. Always UTF-8 with a BOM (Excel needs it for Cyrillic text) and
  exactly one header row.

The dialect follows the active language (``translation.get_language()``: the request's language in a view, the
overridden one in the Monday e-mail).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise

from .formatting import Money, currency_symbol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | datetime.date | datetime.datetime | bool | None

BOM = "\ufeff"


def export_cell(value: Any) -> Any:
    """The value as an export writes it: text neutralised (a leading quote before a formula trigger), anything
    else (numbers, dates, booleans, None) unchanged."""
    if isinstance(value, Promise):  # a lazily translated header
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def export_row(values: Iterable[Any]) -> list[Any]:
    return [export_cell(value) for value in values]


def local_naive(value: datetime.datetime) -> datetime.datetime:
    """A datetime as the wall clock shows it: spreadsheets have no time zones (openpyxl refuses aware values). An
    aware value is shown in the active time zone; a naive one is taken as already local."""
    if timezone.is_aware(value):
        value = timezone.make_naive(value)
    return value.replace(microsecond=0)  # XLSX keeps time as a fraction of a day: whole seconds round-trip exactly


# -- the language of an export ---------------------------------------------------------------------------------------
def export_language(language: str | None = None) -> str:
    """``ru``, ``en`` or ``zh-hans``: the given or the active language, the project's default if none is active."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
    base = code.split("-")[0]
    if base == "ru":
        return "ru"
    if base == "zh":
        return "zh-hans"
    return "en"


# -- CSV -------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class CsvDialect:
    """How one language's spreadsheets read CSV without an import dialog."""

    language: str
    delimiter: str
    decimal_separator: str
    date_format: str  # strftime
    datetime_format: str

    def text(self, value: Any) -> str:
        """One cell as text: numbers with the decimal separator (no grouping, so a spreadsheet parses them), dates in
        the date format, None empty. Text is expected already neutralised (:func:`export_cell`)."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, datetime.datetime):
            return local_naive(value).strftime(self.datetime_format)
        if isinstance(value, datetime.date):
            return value.strftime(self.date_format)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            value = Decimal(repr(value))
        if isinstance(value, Decimal):
            return format(value, "f").replace(".", self.decimal_separator)
        return str(value)


_ISO = CsvDialect("en", ",", ".", "%Y-%m-%d", "%Y-%m-%d %H:%M")
CSV_DIALECTS: dict[str, CsvDialect] = {
    "ru": CsvDialect("ru", ";", ",", "%d.%m.%Y", "%d.%m.%Y %H:%M"),
    "en": _ISO,
    "zh-hans": dataclasses.replace(_ISO, language="zh-hans"),
}


def csv_dialect(language: str | None = None) -> CsvDialect:
    return CSV_DIALECTS[export_language(language)]


class CsvExportWriter:
    """``csv.writer`` in the language's dialect whose rows go through :func:`export_row`; ``writerow`` returns what
    the target's ``write`` returns (so a pseudo-buffer that echoes its input can stream the rows). The caller writes
    :data:`BOM` first."""

    def __init__(self, target: Any, *, dialect: CsvDialect | None = None) -> None:
        self.dialect = dialect or csv_dialect()
        self._writer = csv.writer(target, delimiter=self.dialect.delimiter, lineterminator="\r\n")

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._writer.writerow([self.dialect.text(value) for value in export_row(values)])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def csv_bytes(header: Sequence[Any], rows: Iterable[Iterable[Any]], *, language: str | None = None) -> bytes:
    """A whole CSV export: the BOM, exactly one header row, the rows — UTF-8 in the language's dialect."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = CsvExportWriter(buffer, dialect=csv_dialect(language))
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


# -- XLSX ------------------------------------------------------------------------------------------------------------
# Number format codes are written in Excel's invariant (en-US) notation; the spreadsheet shows the grouping and the
# decimal separator of the reader's locale.
XLSX_DATE_FORMATS: dict[str, tuple[str, str]] = {
    "ru": ("DD.MM.YYYY", "DD.MM.YYYY HH:MM"),
    "en": ("YYYY-MM-DD", "YYYY-MM-DD HH:MM"),
    "zh-hans": ("YYYY-MM-DD", "YYYY-MM-DD HH:MM"),
}
XLSX_MONEY_FORMAT = "#,##0.00"  # a Decimal that is not money (a quantity, a ratio)


def xlsx_currency_format(currency: str | None = None) -> str:
    """Money (:class:`dms.core.formatting.Money`) in XLSX: a number shown with the currency symbol (issue 14 item 8)."""
    return f'{XLSX_MONEY_FORMAT} "{currency_symbol(currency)}"'


XLSX_INTEGER_FORMAT = "0"
MIN_COLUMN_WIDTH = 6
MAX_COLUMN_WIDTH = 60


def xlsx_number_format(value: Any, language: str | None = None) -> str | None:
    """The display format of a typed cell (None: General)."""
    date_format, datetime_format = XLSX_DATE_FORMATS[export_language(language)]
    if isinstance(value, datetime.datetime):
        return datetime_format
    if isinstance(value, datetime.date):
        return date_format
    if isinstance(value, Money):
        return xlsx_currency_format()
    if isinstance(value, Decimal):
        return XLSX_MONEY_FORMAT
    if isinstance(value, int) and not isinstance(value, bool):
        return XLSX_INTEGER_FORMAT
    return None


def xlsx_cells(sheet: Any, values: Iterable[Any], *, font: Any = None, language: str | None = None) -> list[Any]:
    """The row's openpyxl cells for ``sheet.append`` (a write-only or a normal sheet): text neutralised and typed
    as a string — openpyxl would otherwise store any text starting with ``=`` as a formula —, dates, Decimals and
    ints typed with their display format."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in export_row(values):
        if isinstance(value, datetime.datetime):
            value = local_naive(value)
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        number_format = xlsx_number_format(value, language)
        if number_format:
            cell.number_format = number_format
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def xlsx_append(sheet: Any, values: Iterable[Any], *, font: Any = None, language: str | None = None) -> None:
    sheet.append(xlsx_cells(sheet, values, font=font, language=language))


def _display_width(value: Any, language: str) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime.datetime):
        return 16
    if isinstance(value, datetime.date):
        return 10
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


class XlsxExport:
    """One sheet of typed cells: a bold header row, frozen; columns sized to the header and the first
    :attr:`SAMPLE_ROWS` rows (a write-only sheet must know its widths before its first row, so those rows wait in
    memory; the rest stream)."""

    SAMPLE_ROWS = 200

    def __init__(self, title: str, header: Sequence[Any], *, language: str | None = None) -> None:
        from openpyxl import Workbook

        self.language = export_language(language)
        self._workbook = Workbook(write_only=True)
        # a sheet title has at most 31 characters and none of []:*?/\
        safe_title = "".join(" " if char in "[]:*?/\\" else char for char in str(title))[:31] or "Sheet"
        self.sheet = self._workbook.create_sheet(safe_title)
        self._header = [str(title) for title in header]
        self._pending: list[list[Any]] | None = []

    def append(self, values: Iterable[Any]) -> None:
        if self._pending is None:
            xlsx_append(self.sheet, values, language=self.language)
            return
        self._pending.append(list(values))
        if len(self._pending) >= self.SAMPLE_ROWS:
            self._flush()

    def extend(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.append(values)

    def _flush(self) -> None:
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        pending = self._pending or []
        for index, title in enumerate(self._header):
            widest = max(
                [len(title)] + [_display_width(row[index], self.language) for row in pending if index < len(row)]
            )
            width = min(max(widest + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        self.sheet.freeze_panes = "A2"
        xlsx_append(self.sheet, self._header, font=Font(bold=True), language=self.language)
        self._pending = None
        for row in pending:
            xlsx_append(self.sheet, row, language=self.language)

    def save(self, target: Any) -> None:
        """Write the workbook to a file name or a binary file object."""
        if self._pending is not None:
            self._flush()
        self._workbook.save(target)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.save(out)
        return out.getvalue()


def xlsx_bytes(
    title: str, header: Sequence[Any], rows: Iterable[Iterable[Any]], *, language: str | None = None
) -> bytes:
    export = XlsxExport(title, header, language=language)
    export.extend(rows)
    return export.to_bytes()
