"""Values in timetable cells: dates, clock times, ranges, durations, links and plain text."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Final
from urllib.parse import urlsplit

from bot.services.text_cleaning import clean_line

# --------------------------------------------------------------------------------------------
# Values in cells


_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'\]\)}]+", re.IGNORECASE)
_MEETING_HOSTS: Final = (
    "zoom.us",
    "zoom.com",
    "eeo.cn",
    "classin",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "webex.com",
    "meeting.tencent.com",
    "voovmeeting.com",
    "dingtalk.com",
    "feishu.cn",
    "larksuite.com",
)


def clean_url(value: str) -> str | None:
    """``value`` as an http(s) URL, or ``None`` if it is not one."""
    text = value.strip()
    if text.lower().startswith("www."):
        text = "https://" + text
    if any(ch.isspace() for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    if "." not in parts.hostname and parts.hostname != "localhost":
        return None
    return text


def url_in_text(text: str) -> str | None:
    found = [m.group(0).rstrip(".,;:!?") for m in _URL_IN_TEXT.finditer(text)]
    found = [url for url in found if clean_url(url)]
    for url in found:
        if any(host in url.lower() for host in _MEETING_HOSTS):
            return url
    return found[0] if found else None


def cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_line(str(value))
    return text or None


def slug(title: str) -> str:
    return "-".join(re.findall(r"\w+", unicodedata.normalize("NFKC", title).casefold()))


_DATE_ISO = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
DATE_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4}|\d{2})(?!\d)")
_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DATE_WORDS = re.compile(
    r"(?:(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4}))|(?:([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4}))",
    re.IGNORECASE,
)


def _date_or_none(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(value: object, day_first: bool) -> date | None:
    """A calendar date from a cell: real spreadsheet dates or text in the usual spellings."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if text is None:
        return None
    found: date | None = None
    if match := _DATE_ISO.search(text):
        found = _date_or_none(int(match[1]), int(match[2]), int(match[3]))
    elif match := DATE_DMY.search(text):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        day, month = (first, second) if day_first else (second, first)
        found = _date_or_none(year, month, day)
    elif match := _DATE_WORDS.search(text):
        if match[1]:
            day, month_name, year = int(match[1]), match[2], int(match[3])
        else:
            month_name, day, year = match[4], int(match[5]), int(match[6])
        month_number = _MONTHS.get(month_name.casefold())
        found = _date_or_none(year, month_number, day) if month_number else None
    if match is None or found is None:
        return None
    rest = text[: match.start()] + text[match.end() :]
    # Weekday names around the date are fine ("Mon, 08.03.2027"); other numbers are not.
    if re.search(r"\d", rest):
        return None
    return found


_CLOCK = re.compile(
    r"(\d{1,2})(?:\s*[:.hH时時点]\s*(\d{2}))?(?:\s*:\s*(\d{2}))?\s*"
    r"(a\.?\s?m\.?|p\.?\s?m\.?)?\s*(?:分)?",
    re.IGNORECASE,
)


def parse_clock(value: object) -> time | None:
    """A wall-clock time from a cell: "19:00", "19.00", "7:00 PM", or a spreadsheet time."""
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        if 0 <= seconds < 86_400:
            return time(seconds // 3600, seconds // 60 % 60)
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
        # A time cell without a time format is stored as a fraction of a day.
        minutes = round(value * 24 * 60)
        return time(minutes // 60 % 24, minutes % 60)
    text = cell_text(value)
    if text is None:
        return None
    match = _CLOCK.fullmatch(text)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    meridiem = (match[4] or "").replace(".", "").replace(" ", "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour == 24 and minute == 0 and second == 0:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def parse_when(value: object, day_first: bool) -> tuple[date | None, time | None]:
    """A cell holding a time, or a date and a time ("2027-03-08 19:00", a datetime cell)."""
    if isinstance(value, datetime):
        # Excel stores a bare time as a date-time on its epoch day.
        if value.year <= 1900:
            return None, value.time().replace(microsecond=0)
        return value.date(), value.time().replace(microsecond=0)
    clock = parse_clock(value)
    if clock is not None:
        return None, clock
    text = cell_text(value)
    if text is None:
        return None, None
    match = re.fullmatch(
        r"(.+?)[T\s]+(\d{1,2}[:.h]\d{2}(?::\d{2})?\s*(?:[ap]\.?\s?m\.?)?)", text, re.I
    )
    if match:
        day = parse_date(match[1], day_first)
        clock = parse_clock(match[2])
        if day is not None and clock is not None:
            return day, clock
    return None, None


_RANGE_SPLIT = re.compile(r"\s*(?:-|–|—|~|～|\bto\b|\bдо\b|至|à)\s*", re.IGNORECASE)


def parse_range(value: object) -> tuple[time, time] | None:
    text = cell_text(value)
    if text is None:
        return None
    parts = _RANGE_SPLIT.split(text)
    if len(parts) != 2:
        return None
    start, end = parse_clock(parts[0]), parse_clock(parts[1])
    if start is None or end is None:
        return None
    return start, end


_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|ч|час|часа|часов|小时|heures?|horas?|"
    r"m|min|mins|minutes?|мин|минут|分钟|minutos?)?",
    re.IGNORECASE,
)


def parse_duration(value: object) -> timedelta | None:
    if isinstance(value, timedelta):
        return value if value > timedelta(0) else None
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute) or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number alone is minutes ("90"); below 1 it is Excel's fraction of a day.
        minutes = value * 24 * 60 if 0 < value < 1 else value
        return timedelta(minutes=minutes) if minutes > 0 else None
    text = cell_text(value)
    if text is None:
        return None
    if match := re.fullmatch(r"(\d{1,2}):(\d{2})", text):
        result = timedelta(hours=int(match[1]), minutes=int(match[2]))
        return result or None
    match = _DURATION.fullmatch(text)
    if not match:
        return None
    amount = float(match[1].replace(",", "."))
    unit = (match[2] or "min").casefold()
    hours = unit[0] in "hч小" or unit.startswith("час")
    result = timedelta(hours=amount) if hours else timedelta(minutes=amount)
    return result if result > timedelta(0) else None
