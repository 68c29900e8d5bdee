"""Reading and checking an organiser's timetable file (CSV, Excel or iCalendar).

Organisers keep timetables in whatever their office uses: a CSV saved from Excel with Russian
or Chinese headers, a workbook with a title row above the table, or a calendar exported from
Google, Apple or Outlook. :func:`parse_timetable` accepts all of them and returns either the
sessions (every time timezone-aware UTC) or the list of problems found, so that the organiser
can fix every bad row in one go. Callers reject the whole file when there is any error.

Times written without a zone are read in the programme's zone (``default_tz``) unless a
column header names another one ("Start (Beijing time)", "Начало (МСК)", "Start (UTC+3)").
"""

from __future__ import annotations

from bot.services.timetable.files.detect import looks_like_timetable
from bot.services.timetable.files.model import (
    MAX_FILE_BYTES,
    MAX_OCCURRENCES,
    MAX_SESSIONS,
    RECURRENCE_HORIZON,
    ParsedSession,
    TimetableError,
    TimetableParseResult,
)
from bot.services.timetable.files.parse import parse_timetable

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_OCCURRENCES",
    "MAX_SESSIONS",
    "RECURRENCE_HORIZON",
    "ParsedSession",
    "TimetableError",
    "TimetableParseResult",
    "looks_like_timetable",
    "parse_timetable",
]
