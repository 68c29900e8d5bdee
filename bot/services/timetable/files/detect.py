"""Telling a timetable file from a roster or anything else an organiser sends."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Final

_DATE_WORDS: Final = frozenset(
    ["date", "day", "дата", "день", "日期", "fecha", "día", "dia", "jour"]
)
_START_WORDS: Final = frozenset(
    [
        "start",
        "start time",
        "starts",
        "begin",
        "time",
        "начало",
        "время",
        "время начала",
        "开始",
        "开始时间",
        "时间",
        "début",
        "debut",
        "heure",
        "heure de début",
        "inicio",
        "hora",
        "hora de inicio",
    ]
)
_HEADER_ROWS: Final = 30


def _header_word(cell: object) -> str:
    text = " ".join(unicodedata.normalize("NFKC", str(cell or "")).split()).casefold()
    # "Start (Beijing time)" is a start column whatever the bracket says.
    return re.split(r"\s*[(\[（【]", text, maxsplit=1)[0].strip(" :*")


def _rows_look_like_timetable(rows: Sequence[Sequence[object]]) -> bool:
    for cells in rows[:_HEADER_ROWS]:
        words = {_header_word(cell) for cell in cells}
        if words & _START_WORDS and (words & _DATE_WORDS or len(words) >= 3):
            return True
    return False


def looks_like_timetable(data: bytes, filename: str) -> bool:
    """Whether a file sent to the bot is a timetable (not a roster or anything else).

    A calendar file is always a timetable; a spreadsheet is one when a header row within
    its first rows names a start (or time) column next to a date column.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if head[:15].upper().startswith(b"BEGIN:VCALENDAR") or suffix in {"ics", "ical", "vcs"}:
        return True
    if head.startswith(b"PK\x03\x04"):
        return _rows_look_like_timetable(_xlsx_rows(data))
    if suffix not in {"csv", "txt", "tsv", ""} or b"\x00" in head[:512]:
        return False
    text = _decode(data[:65536])
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if _rows_look_like_timetable(rows):
            return True
    return False


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The first 64 KiB may end inside a character; the header rows are what matter.
        return data.decode("utf-8-sig", errors="replace")


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged workbook is simply not recognised here
        return []
    rows: list[list[object]] = []
    try:
        for sheet in workbook.worksheets:
            for values in sheet.iter_rows(max_row=_HEADER_ROWS, values_only=True):
                rows.append(list(values))
    finally:
        workbook.close()
    return rows
