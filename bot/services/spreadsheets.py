"""Workbooks (XLSX) for organisers' exports, safe to open in a spreadsheet.

What trainees typed ends up in these files, so no text cell may become a formula: a text
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe
(the spreadsheet shows it as text; our own imports take it off again) and is stored as a
string cell, never a formula. Numbers stay numbers; times are written as UTC text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Final, TypeAlias

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell as SheetCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: Characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: Control characters a workbook may not hold (openpyxl refuses them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's limits: a sheet's name, a cell's text.
_SHEET_NAME_CHARS: Final = 31
_CELL_CHARS: Final = 32_767
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_WIDTH_SAMPLE: Final = 200

Cell: TypeAlias = str | int | float | bool | date | datetime | None
#: A sheet: its header and its rows.
Sheet: TypeAlias = tuple[Sequence[str], Iterable[Sequence[Cell]]]


def neutralise(value: object) -> str:
    """A cell's text a spreadsheet will not run as a formula (a leading apostrophe where
    needed); ``None`` is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _value(value: Cell) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return _ILLEGAL.sub("", neutralise(value))[:_CELL_CHARS]


def _cell(sheet: WriteOnlyWorksheet, value: Cell, *, bold: bool = False) -> SheetCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=_value(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # text, whatever it looks like
    if bold:
        cell.font = Font(bold=True)
    return cell


def sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A name Excel accepts for a sheet (31 characters, none of ``[]:*?/\\``), unique."""
    cleaned = " ".join(_SHEET_NAME_BAD.sub(" ", name).split()).strip("'")
    base = cleaned[:_SHEET_NAME_CHARS].rstrip() or "Sheet"
    used = {item.lower() for item in taken}
    candidate, number = base, 2
    while candidate.lower() in used:
        suffix = f" ({number})"
        candidate = base[: _SHEET_NAME_CHARS - len(suffix)] + suffix
        number += 1
    return candidate


def _widths(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[float]:
    widths = [float(len(str(title))) for title in header]
    for row in rows[:_WIDTH_SAMPLE]:
        for index, value in enumerate(row):
            size = len(str(_value(value) or ""))
            if index < len(widths):
                widths[index] = max(widths[index], size)
            else:
                widths.append(size)
    return [min(max(width + 2, 8), 60) for width in widths]


def write_workbook(sheets: Mapping[str, Sheet]) -> bytes:
    """A workbook with one sheet per entry (in order), each a bold, frozen header and its
    rows; XLSX bytes."""
    # Imported here: only an export needs openpyxl, not every process of the bot.
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    names: list[str] = []
    for name, (header, rows) in sheets.items():
        names.append(sheet_name(name, names))
        sheet = workbook.create_sheet(names[-1])
        materialised = [list(row) for row in rows]
        for index, width in enumerate(_widths(header, materialised), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        if header:
            sheet.freeze_panes = "A2"
            sheet.append([_cell(sheet, title, bold=True) for title in header])
        for row in materialised:
            sheet.append([_cell(sheet, value) for value in row])
    if not names:
        workbook.create_sheet("Sheet")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_back(data: bytes) -> dict[str, list[list[object]]]:
    """A workbook's sheets as lists of rows of values (for checks and tests)."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {
            sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in workbook.worksheets
        }
    finally:
        workbook.close()
