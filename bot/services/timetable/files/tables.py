"""CSV and Excel timetables: reading the sheet, finding the header row, checking each row."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Final

from bot.i18n import gettext as _
from bot.services.text_cleaning import clean_block
from bot.services.timetable.files.cells import (
    DATE_DMY,
    cell_text,
    clean_url,
    parse_clock,
    parse_date,
    parse_duration,
    parse_range,
    parse_when,
    slug,
)
from bot.services.timetable.files.headers import Column, Header, analyse_header
from bot.services.timetable.files.model import (
    MAX_SESSIONS,
    ParsedSession,
    TimetableError,
    TimetableParseResult,
    failed,
    short_reason,
)
from bot.services.timetable.files.zones import localize, zone_label

# openpyxl is imported where a file is read: only an upload needs it, not every process of
# the bot.
if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# The header row may sit below a title, a subtitle and blank rows; look this far down for it.
_HEADER_SEARCH_ROWS: Final = 30


@dataclass(frozen=True)
class _Table:
    """Rows as the spreadsheet shows them: (row number, cell values)."""

    rows: list[tuple[int, list[object]]]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export is UTF-16 with a byte-order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(data: bytes) -> _Table | TimetableError:
    text = _decode(data)
    if "\x00" in text:
        return TimetableError(_("The file is not a readable CSV, Excel or calendar file."))
    best: tuple[int, list[tuple[int, list[object]]]] | None = None
    # Try each separator and keep the one under which the header is recognised best;
    # semicolons are what Excel writes where the decimal separator is a comma.
    for delimiter in (",", ";", "\t"):
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        rows: list[tuple[int, list[object]]] = []
        for number, record in enumerate(records, start=1):
            cells: list[object] = list(record)
            rows.append((number, cells))
        score = max(
            (
                analyse_header(number, cells, UTC, "en").score
                for number, cells in rows[:_HEADER_SEARCH_ROWS]
            ),
            default=0,
        )
        if best is None or score > best[0]:
            best = (score, rows)
    if best is None:
        return TimetableError(_("The file is not a readable CSV, Excel or calendar file."))
    return _Table(best[1])


def read_xlsx(data: bytes) -> _Table | TimetableError:
    from openpyxl import load_workbook
    from openpyxl.worksheet.worksheet import Worksheet

    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, styles); irrelevant here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl fails with many exception types on damaged files
        return TimetableError(
            _("The Excel file could not be read: {reason}").format(reason=short_reason(exc))
        )
    sheets = [sheet for sheet in workbook.worksheets if isinstance(sheet, Worksheet)]
    active = workbook.active
    if isinstance(active, Worksheet) and active in sheets:
        sheets.remove(active)
        sheets.insert(0, active)
    first: _Table | None = None
    for sheet in sheets:
        table = _sheet_rows(sheet)
        first = first or table
        if any(
            analyse_header(number, cells, UTC, "en").usable
            for number, cells in table.rows[:_HEADER_SEARCH_ROWS]
        ):
            return table
    return first or _Table([])


def _sheet_rows(sheet: Worksheet) -> _Table:
    rows: list[list[object]] = [list(values) for values in sheet.iter_rows(values_only=True)]
    # A date written once for a block of sessions is usually a cell merged downwards: every row
    # of the block means that date. Merges across columns ("Lunch break" over the whole row)
    # are notes, so only the first column of a merge is filled.
    for merged in sheet.merged_cells.ranges:
        min_col, min_row, _max_col, max_row = merged.bounds
        column = min_col - 1
        if min_row - 1 >= len(rows) or column >= len(rows[min_row - 1]):
            continue
        value = rows[min_row - 1][column]
        for row in rows[min_row : min(max_row, len(rows))]:
            if column < len(row):
                row[column] = value
    return _Table([(number, cells) for number, cells in enumerate(rows, start=1)])


def _cell(cells: Sequence[object], column: Column | None) -> object:
    if column is None or column.index >= len(cells):
        return None
    value = cells[column.index]
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value


def _guess_day_first(table: _Table, header: Header) -> bool:
    """Whether slashed dates are day-first; only a file that proves otherwise is month-first."""
    columns = [header.fields.get("date"), header.fields.get("start")]
    day_over_12 = month_over_12 = False
    for number, cells in table.rows:
        if number <= header.row:
            continue
        for column in columns:
            value = _cell(cells, column)
            if isinstance(value, str) and (match := DATE_DMY.search(value)):
                day_over_12 |= int(match[1]) > 12
                month_over_12 |= int(match[2]) > 12
    return day_over_12 or not month_over_12


def parse_table(table: _Table, zone: tzinfo, default_language: str) -> TimetableParseResult:
    header: Header | None = None
    for number, cells in table.rows[:_HEADER_SEARCH_ROWS]:
        candidate = analyse_header(number, cells, zone, default_language)
        if candidate.usable:
            header = candidate
            break
    if header is None:
        return failed(
            _(
                "The header row was not found. One of the first rows should name the columns, "
                "for example: Date, Start, End, Session, Speaker, Link."
            )
        )
    if header.errors:
        return TimetableParseResult(errors=header.errors)

    day_first = _guess_day_first(table, header)
    sessions: list[ParsedSession] = []
    errors: list[TimetableError] = []
    first_row_of_key: dict[str, int] = {}
    previous_date: date | None = None
    data_rows = 0
    for number, cells in table.rows:
        if number <= header.row:
            continue
        row = _RowParser(number, cells, header, zone, day_first, previous_date)
        if row.blank:
            continue
        data_rows += 1
        if data_rows > MAX_SESSIONS:
            return failed(
                _(
                    "The file has more than {limit} sessions; at most {limit} can be imported."
                ).format(limit=MAX_SESSIONS)
            )
        session = row.parse()
        if row.day is not None:
            previous_date = row.day
        errors.extend(row.errors)
        if session is None:
            continue
        if session.key in first_row_of_key:
            errors.append(
                TimetableError(
                    _(
                        "Rows {first} and {second} describe the same session (same date and "
                        "title, or the same ID). Remove one of them or give them different IDs."
                    ).format(first=first_row_of_key[session.key], second=number),
                    number,
                )
            )
            continue
        first_row_of_key[session.key] = number
        sessions.append(session)
    sessions.sort(key=lambda s: (s.starts_at, s.key))
    return TimetableParseResult(sessions=sessions, errors=errors)


class _RowParser:
    """Turns one spreadsheet row into a session, collecting every problem in the row."""

    def __init__(
        self,
        number: int,
        cells: Sequence[object],
        header: Header,
        zone: tzinfo,
        day_first: bool,
        previous_date: date | None,
    ) -> None:
        self.number = number
        self.cells = cells
        self.header = header
        self.zone = zone
        self.day_first = day_first
        self.previous_date = previous_date
        self.errors: list[TimetableError] = []
        self.day: date | None = None

    def value(self, name: str) -> object:
        return _cell(self.cells, self.header.fields.get(name))

    @property
    def blank(self) -> bool:
        # Rows without title or times are headings and notes ("Week 2", "Weekend").
        has_title = any(_cell(self.cells, column) is not None for column in self.header.titles)
        has_time = any(self.value(name) is not None for name in ("start", "end", "time"))
        return not has_title and not has_time

    def error(self, message: str) -> None:
        self.errors.append(TimetableError(message, self.number))

    def parse(self) -> ParsedSession | None:
        row = self.number
        day = self.parse_day()
        start_day, start_clock, end_clock = self.parse_clocks()
        if day is None and start_day is not None:
            day = start_day
        if day is None and self.value("date") is None and self.previous_date is not None:
            # A blank date cell continues the day above, as people write timetables by hand.
            day = self.previous_date
        self.day = day
        if day is None and self.value("date") is None:
            self.error(_("Row {row}: the date is missing.").format(row=row))

        starts_at = ends_at = None
        if day is not None and start_clock is not None:
            starts_at = self.instant(day, start_clock, self.start_zone)
        if day is not None and start_clock is not None and end_clock is not None:
            ends_at = self.instant(day, end_clock, self.end_zone)
        elif starts_at is not None and end_clock is None:
            duration = self.parse_duration()
            if duration is not None:
                ends_at = starts_at + duration
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            self.error(
                _("Row {row}: the end time {end} is not after the start {start}.").format(
                    row=row,
                    end=end_clock.strftime("%H:%M") if end_clock else "",
                    start=start_clock.strftime("%H:%M") if start_clock else "",
                )
            )

        titles: dict[str, str] = {}
        for column in self.header.titles:
            text = cell_text(_cell(self.cells, column))
            if text and column.language:
                titles[column.language] = text
        if not titles:
            self.error(_("Row {row}: the session title is missing.").format(row=row))
        descriptions: dict[str, str] = {}
        for column in self.header.descriptions:
            raw = _cell(self.cells, column)
            if raw is not None and column.language:
                described = clean_block(str(raw))
                if described:
                    descriptions[column.language] = described

        join_url = None
        link = cell_text(self.value("link"))
        if link is not None:
            join_url = clean_url(link)
            if join_url is None:
                self.error(
                    _(
                        "Row {row}: “{link}” is not a web link; the join link must start "
                        "with https:// or http://."
                    ).format(row=row, link=link[:100])
                )

        if self.errors or starts_at is None or ends_at is None or day is None or not titles:
            return None
        explicit_key = cell_text(self.value("id"))
        kind = cell_text(self.value("kind"))
        return ParsedSession(
            key=explicit_key or f"{day.isoformat()}/{slug(next(iter(titles.values())))}",
            titles=titles,
            descriptions=descriptions,
            speaker=cell_text(self.value("speaker")),
            kind=kind.casefold() if kind else None,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=False,
            join_url=join_url,
            location=cell_text(self.value("location")),
            source=_("row {row}").format(row=row),
        )

    def zone_of(self, *names: str) -> tzinfo:
        # A zone named in one time column holds for the others: "Start (Beijing time)"
        # next to a plain "End" means both are Beijing time.
        for name in names:
            column = self.header.fields.get(name)
            if column is not None and column.zone is not None:
                return column.zone
        return self.zone

    @property
    def start_zone(self) -> tzinfo:
        return self.zone_of("start", "time", "end")

    @property
    def end_zone(self) -> tzinfo:
        return self.zone_of("end", "time", "start")

    def parse_day(self) -> date | None:
        raw = self.value("date")
        if raw is None:
            return None
        day = parse_date(raw, self.day_first)
        if day is None:
            self.error(
                _(
                    "Row {row}: “{value}” is not a date. Write dates like 2027-03-08 or 08.03.2027."
                ).format(row=self.number, value=str(raw)[:60])
            )
        return day

    def parse_clocks(self) -> tuple[date | None, time | None, time | None]:
        start_day: date | None = None
        start: time | None = None
        end: time | None = None
        raw_start, raw_end = self.value("start"), self.value("end")
        if raw_start is not None:
            start_day, start = parse_when(raw_start, self.day_first)
            if start is None:
                self.error(self.bad_time(raw_start))
        if raw_end is not None:
            _end_day, end = parse_when(raw_end, self.day_first)
            if end is None:
                self.error(self.bad_time(raw_end))
        raw_range = self.value("time")
        if raw_range is not None and (start is None or end is None) and raw_start is None:
            parsed = parse_range(raw_range)
            if parsed is None:
                single = parse_clock(raw_range)
                if single is None:
                    self.error(self.bad_time(raw_range))
                start = single
            else:
                start, end = parsed
        if start is None and raw_start is None and raw_range is None:
            self.error(_("Row {row}: the start time is missing.").format(row=self.number))
        if start is not None and end is None and raw_end is None and self.value("duration") is None:
            self.error(_("Row {row}: the end time is missing.").format(row=self.number))
        return start_day, start, end

    def parse_duration(self) -> timedelta | None:
        raw = self.value("duration")
        if raw is None:
            return None
        duration = parse_duration(raw)
        if duration is None:
            self.error(
                _(
                    "Row {row}: “{value}” is not a duration. Write minutes (90) or hours "
                    "and minutes (1:30)."
                ).format(row=self.number, value=str(raw)[:40])
            )
        return duration

    def bad_time(self, raw: object) -> str:
        return _("Row {row}: “{value}” is not a time. Write times like 19:00 or 7:00 PM.").format(
            row=self.number, value=str(raw)[:40]
        )

    def instant(self, day: date, clock: time, zone: tzinfo) -> datetime | None:
        local = datetime.combine(day, clock)
        result = localize(local, zone)
        if isinstance(result, datetime):
            return result
        when = local.strftime("%Y-%m-%d %H:%M")
        if result == "gap":
            self.error(
                _(
                    "Row {row}: {when} does not exist in {zone} because the clocks are put "
                    "forward at that moment. Check the time."
                ).format(row=self.number, when=when, zone=zone_label(zone))
            )
        else:
            self.error(
                _(
                    "Row {row}: {when} happens twice in {zone} because the clocks are put "
                    "back at that moment. Give the time in UTC instead."
                ).format(row=self.number, when=when, zone=zone_label(zone))
            )
        return None
