"""Every CSV and XLSX export writes its cells through here (issue 12 item 3: formula injection).

A customer named ``=HYPERLINK("http://x","y")`` was exported as a live formula to XLSX and unchanged to CSV, where
a spreadsheet evaluates it on opening. Following OWASP's CSV-injection guidance, a *text* cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote, so the spreadsheet shows it
as text; in XLSX every text cell is, in addition, typed as a string (never a formula). Numbers, dates and booleans
stay what they are: a negative number is still a number.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | datetime.date | datetime.datetime | bool | None


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


class CsvExportWriter:
    """``csv.writer`` whose rows go through :func:`export_row`; ``writerow`` returns what the target's ``write``
    returns (so a pseudo-buffer that echoes its input can stream the rows)."""

    def __init__(self, target: Any, *, delimiter: str = ";") -> None:
        self._writer = csv.writer(target, delimiter=delimiter)

    def writerow(self, values: Iterable[Any]) -> Any:
        return self._writer.writerow(export_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


def xlsx_cells(sheet: Any, values: Iterable[Any], *, font: Any = None) -> list[Any]:
    """The row's openpyxl cells for ``sheet.append`` (a write-only or a normal sheet): text neutralised and typed
    as a string — openpyxl would otherwise store any text starting with ``=`` as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in export_row(values):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells


def xlsx_append(sheet: Any, values: Iterable[Any], *, font: Any = None) -> None:
    sheet.append(xlsx_cells(sheet, values, font=font))
