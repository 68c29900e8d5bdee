"""Reading a roster file sent as CSV or XLSX into rows below its header, all or nothing.

The file is accepted as a whole or not at all: :func:`parse_roster` returns either every
participant row or every problem found (each with the line the organiser sees in their
spreadsheet), so that they can fix the file and send it again.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

from bot.i18n import gettext as _
from bot.services.roster.columns import (
    HEADER_SEARCH_ROWS,
    REQUIRED,
    RosterParseResult,
    Table,
    collect,
    example_header,
    match_header,
    refuse,
)
from bot.services.roster.validation import validate

#: Files above this size are refused before being read.
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: An XLSX file is a zip archive; refuse one that unpacks to more than this (a "zip bomb").
MAX_XLSX_UNPACKED_BYTES: Final = 200 * 1024 * 1024
_XLSX_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CSV_DELIMITERS: Final = (",", ";", "\t")
_TEXT_ENCODINGS: Final = ("utf-8-sig", "cp1252", "latin-1")
# Control characters other than tabs and line breaks: common in binary data, rare in text.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class _Unreadable(Exception):
    """The bytes are not a spreadsheet we can read."""


class _TooLarge(Exception):
    """The file unpacks to more than we are willing to read."""


def parse_roster(data: bytes, filename: str) -> RosterParseResult:
    """Read a roster sent as CSV (comma, semicolon or tab) or XLSX, all or nothing.

    The format is recognised from the content (an XLSX file is a zip archive), not from
    ``filename``, which only helps to explain a refused file (an old ``.xls`` workbook).
    Error texts are in the current locale.
    """
    if len(data) > MAX_FILE_BYTES:
        return refuse(
            _("The file is larger than {limit} MB; split it into smaller files.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    if not data.strip():
        return refuse(_("The file is empty."))
    if data.startswith(_OLE_MAGIC) and filename.lower().endswith(".xls"):
        return refuse(
            _(
                "The file is an old Excel workbook (.xls); save it as .xlsx or CSV and send "
                "it again."
            )
        )
    try:
        table = _read_xlsx(data) if data.startswith(_XLSX_MAGIC) else _read_csv(data)
    except _Unreadable:
        return refuse(_("The file is not a readable CSV or XLSX spreadsheet."))
    except _TooLarge:
        return refuse(_("The workbook is too large to read; split it into smaller files."))
    if table is None:
        examples = ", ".join(f"'{example_header(column)}'" for column in REQUIRED)
        return refuse(
            _(
                "The header row was not found: one of the first {count} rows should name the "
                "columns, such as {examples}."
            ).format(count=HEADER_SEARCH_ROWS, examples=examples)
        )
    return validate(table)


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data:
        # UTF-16/32 text and binary files both contain NUL bytes; neither is a CSV we read.
        raise _Unreadable
    for encoding in _TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise _Unreadable


def _looks_like_text(text: str) -> bool:
    """False for binary data that happened to decode (Latin-1 decodes anything)."""
    return len(_CONTROL_CHARS.findall(text)) * 100 <= len(text)


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(record number, stripped cells); the record number is the spreadsheet row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    for number, record in enumerate(reader, start=1):
        yield number, [cell.strip() for cell in record]


def _sniffed_delimiter(text: str) -> str | None:
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters="".join(_CSV_DELIMITERS))
    except csv.Error:
        return None
    return str(dialect.delimiter)


def _header_score(text: str, delimiter: str) -> int:
    """How many known columns the best of the first rows names with this delimiter."""
    scores = [0]
    try:
        for _line, cells in _csv_rows(text, delimiter):
            scores.append(len(match_header(cells)))
            if len(scores) > HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        return 0
    return max(scores)


def _read_csv(data: bytes) -> Table | None:
    text = _decode(data)
    # The sniffer is easily misled by title lines above the header, so each delimiter is
    # judged by how well it splits the header; the sniffed one wins a tie.
    sniffed = _sniffed_delimiter(text)
    candidates = list(dict.fromkeys([*([sniffed] if sniffed else []), *_CSV_DELIMITERS]))
    delimiter = max(candidates, key=lambda candidate: _header_score(text, candidate))
    try:
        return collect(_csv_rows(text, delimiter))
    except csv.Error as error:
        raise _Unreadable from error


# --------------------------------------------------------------------------- XLSX


def _cell_text(value: object) -> str:
    """A cell as the organiser sees it; numbers keep all their digits ("256772410118")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _check_unpacked_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _Unreadable from error
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise _TooLarge


def _read_xlsx(data: bytes) -> Table | None:
    """The first worksheet that has a header row (an instructions sheet may come first)."""
    # Imported here: only a roster upload needs openpyxl, not every process of the bot.
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    _check_unpacked_size(data)
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; they do not matter here.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:
            # openpyxl raises many kinds of errors for damaged or foreign zip files.
            raise _Unreadable from error
        try:
            for sheet in workbook.worksheets:
                if isinstance(sheet, ReadOnlyWorksheet):
                    # The recorded size of a sheet is sometimes wrong; read what is there.
                    sheet.reset_dimensions()
                rows = (
                    (number, [_cell_text(value) for value in values])
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                )
                table = collect(rows)
                if table is not None:
                    return table
        except Exception as error:
            # Damage inside a sheet only shows while reading it.
            raise _Unreadable from error
        finally:
            workbook.close()
    return None
