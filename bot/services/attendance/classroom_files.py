"""Reading an online classroom's participant report (Zoom, ClassIn) into rows of minutes.

CSV (comma, semicolon or tab; UTF-8, UTF-16 with a byte-order mark, GB18030 or
Windows-1252) or XLSX (the first sheet with a header). The header row is looked for among
the first :data:`HEADER_SEARCH_ROWS` rows (Zoom's meeting report puts the meeting's details
above it). Headers are compared ignoring case, spacing, punctuation and a bracketed part
("Name (Original Name)" is "Name"); :data:`HEADERS` lists what each column may be called.

A file needs a name or e-mail column and either a duration column or both join and leave
times. A duration is minutes ("45", "45.5"), unless its header says seconds ("Duration
(seconds)", "时长(秒)"); "1:05:30" is h:mm:ss, "05:30" is mm:ss, and "1h 5m", "65 min",
"1小时5分钟" are read too. Without a duration, leave minus join is used. The file is read
all or nothing: any problem refuses it, naming the line.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from bot.i18n import gettext as _
from bot.services.countries import fold_name

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_XLSX_UNPACKED_BYTES: Final = 200 * 1024 * 1024
MAX_ROWS: Final = 20_000
HEADER_SEARCH_ROWS: Final = 20
_XLSX_MAGIC: Final = b"PK\x03\x04"
_BRACKETED = re.compile(r"[(（\[][^)）\]]*[)）\]]")


class Column(StrEnum):
    """The columns read from a participant report."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    JOIN = "join"
    LEAVE = "leave"
    DURATION = "duration"


#: What each column may be called, Zoom's and ClassIn's spellings among them.
HEADERS: Final[Mapping[Column, tuple[str, ...]]] = {
    Column.NAME: (
        "Name (Original Name)",
        "Name",
        "Full name",
        "Participant",
        "Participant name",
        "User name",
        "Display name",
        "Nickname",
        "Student",
        "Student name",
        "Attendee",
        "Attendee name",
        "姓名",
        "名字",
        "昵称",
        "学生",
        "学生姓名",
        "学员姓名",
        "用户名",
        "参会者",
        "成员",
    ),
    Column.EMAIL: (
        "User Email",
        "Email",
        "E-mail",
        "Email address",
        "Attendee email",
        "邮箱",
        "电子邮箱",
        "邮件",
    ),
    Column.PHONE: (
        "Phone",
        "Phone number",
        "Mobile",
        "Mobile number",
        "Telephone",
        "Account",
        "ClassIn account",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "账号",
        "账户",
    ),
    Column.JOIN: (
        "Join Time",
        "Join",
        "Joined",
        "Entry time",
        "Enter time",
        "Entered",
        "Time entered",
        "First join",
        "进入时间",
        "进教室时间",
        "首次进入时间",
        "入会时间",
        "加入时间",
    ),
    Column.LEAVE: (
        "Leave Time",
        "Leave",
        "Left",
        "Exit time",
        "Time left",
        "Last leave",
        "离开时间",
        "出教室时间",
        "最后离开时间",
        "退出时间",
        "离会时间",
    ),
    Column.DURATION: (
        "Duration (Minutes)",
        "Duration",
        "Minutes",
        "Total duration",
        "Time in session",
        "Time in class",
        "Attendance duration",
        "Online duration",
        "In-class duration",
        "时长",
        "在线时长",
        "在教室时长",
        "听课时长",
        "上课时长",
        "参会时长",
        "出勤时长",
    ),
}

_ALIASES: Final = {
    fold_name(alias): column for column, aliases in HEADERS.items() for alias in aliases
}
_DATETIME_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%H:%M:%S",
    "%H:%M",
)
_UNIT_RE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(hours?|hrs?|h|小时|时|minutes?|mins?|m|分钟|分|seconds?|secs?|s|秒)",
    re.IGNORECASE,
)


def column_of(header: str) -> Column | None:
    """The column a header names, if any."""
    for text in (header, _BRACKETED.sub("", header)):
        folded = fold_name(text)
        if folded and folded in _ALIASES:
            return _ALIASES[folded]
    return None


def _seconds_unit(header: str) -> bool:
    lowered = header.casefold()
    return "sec" in lowered or "秒" in lowered


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row of the report: who (as the classroom knows them) and how long."""

    line: int
    name: str
    email: str | None
    phone: str | None
    minutes: float


@dataclass
class ReportFile:
    """The rows of a readable report, or the problems that refuse it."""

    rows: list[ReportRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return not self.problems


def _refuse(problem: str) -> ReportFile:
    return ReportFile(problems=[problem])


def read_report(data: bytes) -> ReportFile:
    """Read a participant report, all or nothing; the problems are in the current locale."""
    if len(data) > MAX_FILE_BYTES:
        return _refuse(
            _("The file is larger than {limit} MB.").format(limit=MAX_FILE_BYTES // 2**20)
        )
    if not data.strip():
        return _refuse(_("The file is empty."))
    try:
        records = _xlsx_records(data) if data.startswith(_XLSX_MAGIC) else _csv_records(data)
        return _rows(records)
    except (ValueError, csv.Error, zipfile.BadZipFile, OSError, KeyError):
        return _refuse(_("The file is not a readable CSV or XLSX spreadsheet."))


# --------------------------------------------------------------------------- cells


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _csv_records(data: bytes) -> list[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise ValueError("binary")

    def parse(delimiter: str) -> list[list[str]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [[cell.strip() for cell in record] for record in reader]

    def score(records: list[list[str]]) -> int:
        return max(
            (len({c for c in map(column_of, row) if c}) for row in records[:HEADER_SEARCH_ROWS]),
            default=0,
        )

    candidates = [parse(delimiter) for delimiter in (",", ";", "\t")]
    return max(candidates, key=score)


def _xlsx_records(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
            raise ValueError("too large")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            records = [
                [_cell(value) for value in row]
                for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + HEADER_SEARCH_ROWS)
            ]
            if _header_at(records) is not None:
                return records
        return []
    finally:
        workbook.close()


# --------------------------------------------------------------------------- rows


def _header_at(records: list[list[str]]) -> int | None:
    best: tuple[int, int] | None = None
    for index, record in enumerate(records[:HEADER_SEARCH_ROWS]):
        found = len({c for c in map(column_of, record) if c})
        if found >= 2 and (best is None or found > best[1]):
            best = (index, found)
    return best[0] if best is not None else None


def _rows(records: list[list[str]]) -> ReportFile:
    at = _header_at(records)
    if at is None:
        return _refuse(
            _(
                "No header row found: one of the first {count} rows should name the columns, "
                "such as 'Name', 'User Email', 'Join Time', 'Leave Time', 'Duration (Minutes)'."
            ).format(count=HEADER_SEARCH_ROWS)
        )
    header = records[at]
    positions: dict[Column, int] = {}
    seconds = False
    for index, text in enumerate(header):
        column = column_of(text)
        if column is not None and column not in positions:
            positions[column] = index
            if column == Column.DURATION:
                seconds = _seconds_unit(text)
    problems: list[str] = []
    if Column.NAME not in positions and Column.EMAIL not in positions:
        problems.append(_("The file has no name or e-mail column."))
    if Column.DURATION not in positions and not (
        Column.JOIN in positions and Column.LEAVE in positions
    ):
        problems.append(_("The file has no duration column, nor both join and leave times."))
    if problems:
        return ReportFile(problems=problems)
    rows: list[ReportRow] = []
    for number, record in enumerate(records[at + 1 :], start=at + 2):
        if not any(record):
            continue

        def cell(column: Column, record: list[str] = record) -> str:
            index = positions.get(column)
            return record[index].strip() if index is not None and index < len(record) else ""

        name, email = cell(Column.NAME), cell(Column.EMAIL)
        if not name and not email:
            continue
        minutes = _minutes(cell(Column.DURATION), seconds, cell(Column.JOIN), cell(Column.LEAVE))
        if minutes is None:
            problems.append(
                _("Line {line}: the time in the session cannot be read.").format(line=number)
            )
            continue
        rows.append(
            ReportRow(
                line=number,
                name=name,
                email=email or None,
                phone=cell(Column.PHONE) or None,
                minutes=minutes,
            )
        )
        if len(rows) > MAX_ROWS:
            return _refuse(_("The file has more than {count} rows.").format(count=MAX_ROWS))
    if problems:
        return ReportFile(problems=problems)
    if not rows:
        return _refuse(_("The file lists nobody."))
    return ReportFile(rows=rows, columns=list(positions))


def _minutes(duration: str, seconds: bool, joined: str, left: str) -> float | None:
    if duration:
        return parse_duration(duration, seconds=seconds)
    start, end = parse_moment(joined), parse_moment(left)
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 60


def parse_duration(text: str, *, seconds: bool = False) -> float | None:
    """Minutes from "45", "45.5", "1:05:30", "05:30", "1h 5m", "65 min", "1小时5分钟"."""
    text = text.strip()
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        pass
    else:
        if number < 0:
            return None
        return number / 60 if seconds else number
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", text):
        parts = [int(part) for part in text.split(":")]
        if len(parts) == 2:
            return parts[0] + parts[1] / 60
        return parts[0] * 60 + parts[1] + parts[2] / 60
    total = 0.0
    found = False
    for amount, unit in _UNIT_RE.findall(text):
        value = float(amount.replace(",", "."))
        lowered = unit.casefold()
        if lowered.startswith("h") or lowered in ("小时", "时"):
            total += value * 60
        elif lowered.startswith("s") or lowered == "秒":
            total += value / 60
        else:
            total += value
        found = True
    if not found or _UNIT_RE.sub("", text).strip(" ,"):
        return None
    return total


def parse_moment(text: str) -> datetime | None:
    """A join or leave time as the exports write it (no zone: both are in the same one)."""
    text = text.strip()
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None
