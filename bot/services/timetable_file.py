"""Read an organiser's timetable file (CSV, Excel or iCalendar) into sessions with UTC times.

Organisers keep timetables in whatever their office uses: a CSV saved from Excel with Russian
or Chinese headers, a workbook with a title row above the table, or a calendar exported from
Google, Apple or Outlook. :func:`parse_timetable` accepts all of them and returns either the
sessions (every time timezone-aware UTC) or the list of problems found, so that the organiser
can fix every bad row in one go. Callers reject the whole file when there is any error.

Times written without a zone are read in the programme's zone (``default_tz``) unless a
column header names another one ("Start (Beijing time)", "Начало (МСК)", "Start (UTC+3)").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.i18n import gettext as _
from bot.services.calendar_export import EXPORT_UID_SUFFIX

# icalendar, recurring_ical_events, x_wr_timezone and openpyxl are imported where a file is
# read: only an upload needs them, not every process of the bot.
if TYPE_CHECKING:
    import icalendar
    from openpyxl.worksheet.worksheet import Worksheet

#: Larger files are refused before parsing: a timetable is a few hundred rows at most.
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: More sessions than this in one file is a mistake (or an endless recurrence), not a programme.
MAX_SESSIONS: Final = 5_000
#: A single repeating calendar event may produce at most this many sessions.
MAX_OCCURRENCES: Final = 500
#: A repeating event without an end is expanded this far past its first occurrence.
RECURRENCE_HORIZON: Final = timedelta(days=731)

# The header row may sit below a title, a subtitle and blank rows; look this far down for it.
_HEADER_SEARCH_ROWS: Final = 30
_MAX_REASON_CHARS: Final = 200


@dataclass(frozen=True)
class ParsedSession:
    """One session read from a timetable file; every datetime is timezone-aware UTC.

    ``key`` matches the session across imports: the calendar UID (for a repeating event,
    ``UID/2027-03-10T10:00:00Z``, the occurrence's original start; ``UID/2027-03-20`` for an
    all-day one), a spreadsheet's "ID" column, or else the row's date and normalised title
    (``2027-03-08/opening-ceremony``). ``titles`` and ``descriptions`` map a language code to
    the text, the file's main language first. ``source`` says where the session came from,
    for messages ("row 5"). An all-day session runs from midnight to midnight in the
    programme's zone.
    """

    key: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    speaker: str | None
    kind: str | None
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    join_url: str | None
    location: str | None
    source: str

    @property
    def title(self) -> str:
        """The title in the file's main language (the plain title column or SUMMARY)."""
        return next(iter(self.titles.values()), "")


@dataclass(frozen=True)
class TimetableError:
    """A problem in the file, already translated; ``row`` is the spreadsheet row if known."""

    message: str
    row: int | None = None


@dataclass(frozen=True)
class TimetableParseResult:
    """Sessions read from a file, the problems found, and keys of events marked cancelled."""

    sessions: list[ParsedSession] = field(default_factory=list)
    errors: list[TimetableError] = field(default_factory=list)
    cancelled_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file can be applied (it has no errors)."""
        return not self.errors


def parse_timetable(
    data: bytes, filename: str, default_tz: str, default_language: str = "en"
) -> TimetableParseResult:
    """Read a timetable from ``data`` (CSV, XLSX or ICS, told apart by content and name).

    ``default_tz`` is the programme's IANA zone, used for times written without a zone;
    ``default_language`` is the language of the plain title column. A wrong ``default_tz``
    is a configuration mistake and raises ``ValueError``; everything wrong with the file
    itself is reported in the result's ``errors``.
    """
    try:
        zone: tzinfo = ZoneInfo(default_tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown programme time zone {default_tz!r}") from exc

    if len(data) > MAX_FILE_BYTES:
        return _failed(
            _("The file is too large ({size} MB); the limit is {limit} MB.").format(
                size=round(len(data) / 1024 / 1024, 1), limit=MAX_FILE_BYTES // 1024 // 1024
            )
        )
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return _failed(_("The file is empty."))

    kind = _detect_format(data, filename)
    if kind == "xls":
        return _failed(
            _(
                "This is an old-style Excel file (.xls). Please save it as .xlsx or CSV "
                "and send it again."
            )
        )
    if kind == "ics":
        result = _parse_ics(data, zone, default_language)
    else:
        table = _read_xlsx(data) if kind == "xlsx" else _read_csv(data)
        if isinstance(table, TimetableError):
            return TimetableParseResult(errors=[table])
        result = _parse_table(table, zone, default_language)

    if len(result.sessions) > MAX_SESSIONS:
        return _failed(
            _(
                "The file describes {count} sessions; at most {limit} can be imported at once."
            ).format(count=len(result.sessions), limit=MAX_SESSIONS)
        )
    if not result.sessions and not result.cancelled_keys and not result.errors:
        return _failed(_("No sessions were found in the file."))
    return result


def _failed(message: str, row: int | None = None) -> TimetableParseResult:
    return TimetableParseResult(errors=[TimetableError(message, row)])


def _detect_format(data: bytes, filename: str) -> str:
    # Content wins over the name: people rename files, and messengers rename them for them.
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in {"ics", "ical", "icalendar", "ifb", "vcs"}:
        return "ics"
    if suffix in {"xlsx", "xlsm"}:
        return "xlsx"
    if suffix == "xls":
        return "xls"
    return "csv"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 1] + "…"


# --------------------------------------------------------------------------------------------
# Time zones and local times


def _localize(naive: datetime, zone: tzinfo) -> datetime | str:
    """Attach ``zone`` to a wall-clock time; return "gap" or "fold" if it is not one instant."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        return "gap" if round_trip != naive else "fold"
    return first.astimezone(UTC)


def _zone_label(zone: tzinfo) -> str:
    if isinstance(zone, ZoneInfo):
        return zone.key
    return str(zone)


@cache
def _iana_names() -> dict[str, str]:
    """Lower-cased IANA names and their city parts ("new york") -> canonical name."""
    names: dict[str, str] = {}
    for name in sorted(available_timezones()):
        names.setdefault(name.casefold(), name)
    for name in sorted(available_timezones()):
        # Only real places ("Europe/Moscow"), not legacy aliases ("Etc/GMT+3", "US/Eastern").
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "Brazil/")):
            city = name.rsplit("/", 1)[1].replace("_", " ").casefold()
            names.setdefault(city, name)
    return names


@cache
def _windows_names() -> dict[str, str]:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    return {name.casefold(): olson for name, olson in WINDOWS_TO_OLSON.items()}


# How organisers label a zone in a column header; the city-based lookup covers the rest.
_ZONE_PHRASES: Final[dict[str, str]] = {
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "bjt": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "北京时间": "Asia/Shanghai",
    "中国": "Asia/Shanghai",
    "пекин": "Asia/Shanghai",
    "пекинское": "Asia/Shanghai",
    "пекинскому": "Asia/Shanghai",
    "pékin": "Asia/Shanghai",
    "pekín": "Asia/Shanghai",
    "msk": "Europe/Moscow",
    "мск": "Europe/Moscow",
    "москва": "Europe/Moscow",
    "московское": "Europe/Moscow",
    "московскому": "Europe/Moscow",
    "莫斯科时间": "Europe/Moscow",
    "moscou": "Europe/Moscow",
    "moscú": "Europe/Moscow",
    # tzdata itself now treats CET/EET/WET as aliases of these cities.
    "cet": "Europe/Brussels",
    "cest": "Europe/Brussels",
    "central european": "Europe/Brussels",
    "eet": "Europe/Athens",
    "eest": "Europe/Athens",
    "eastern european": "Europe/Athens",
    "wet": "Europe/Lisbon",
    "uk": "Europe/London",
    "india": "Asia/Kolkata",
    "indian standard": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "japan": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "korea": "Asia/Seoul",
    "eastern": "America/New_York",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "central": "America/Chicago",
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "gulf": "Asia/Dubai",
    "gst": "Asia/Dubai",
    "cuba": "America/Havana",
    "pakistan": "Asia/Karachi",
    "pkt": "Asia/Karachi",
    "iran": "Asia/Tehran",
    "east africa": "Africa/Nairobi",
    "eat": "Africa/Nairobi",
    "west africa": "Africa/Lagos",
    "wat": "Africa/Lagos",
    "south africa": "Africa/Johannesburg",
    "sast": "Africa/Johannesburg",
}

# Words that only say "this is a time zone"; removed to get at the place ("Moscow time").
_ZONE_NOISE = re.compile(
    r"\b(?:local|standard|summer|daylight|time|timezone|zone|hours?|время|времени|по|heure|"
    r"heures|de|hora|horario|zona|fuseau)\b",
    re.IGNORECASE,
)
# A bracket that mentions one of these must name a zone we understand, or the file is refused:
# reading "Start (Bejing time)" in the wrong zone would silently move every session.
_ZONE_HINT = re.compile(
    r"(?i:time|zone|utc|gmt|врем|мск|时间|時間|heure|hora|fuseau)|\b[A-Z]{1,4}T\b|"
    r"^[A-Za-z]+/[A-Za-z_]+"
)
_OFFSET = re.compile(r"(?:utc|gmt)\s*(?:([+\-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?)?", re.IGNORECASE)


def _zone_from_phrase(phrase: str, default_zone: tzinfo) -> tzinfo | None:
    """The zone a header's bracket names ("Beijing time", "UTC+3", "Europe/Belgrade")."""
    for part in re.split(r"[,;/]\s+|\s+/\s*", phrase.strip()):
        zone = _zone_from_single_phrase(part.strip(), default_zone)
        if zone is not None:
            return zone
    return _zone_from_single_phrase(phrase.strip(), default_zone)


def _zone_from_single_phrase(phrase: str, default_zone: tzinfo) -> tzinfo | None:
    text = " ".join(unicodedata.normalize("NFKC", phrase).split())
    folded = text.casefold()
    if not folded:
        return None
    offset = _OFFSET.fullmatch(folded)
    if offset:
        sign, hours, minutes = offset.groups()
        if hours is None:
            return UTC
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta >= timedelta(hours=15):
            return None
        return timezone(-delta if sign in {"-", "−"} else delta)
    if folded in {"local", "local time", "programme time", "program time", "местное время"}:
        return default_zone
    for candidate in (folded, " ".join(_ZONE_NOISE.sub(" ", folded).split())):
        if not candidate:
            continue
        name = (
            _ZONE_PHRASES.get(candidate)
            or _windows_names().get(candidate)
            or _iana_names().get(candidate)
            or _iana_names().get(candidate.replace(" ", "_"))
        )
        if name:
            return ZoneInfo(name)
    # Let icalendar have the last word: it knows Windows names and odd vendor spellings.
    from icalendar.timezone import tzp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = tzp.timezone(text)
    return found


def _resolve_zone_name(name: str) -> tzinfo | None:
    """A zone named inside a calendar file (IANA or Windows name)."""
    from icalendar.timezone import tzp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = tzp.timezone(name.strip())
    if found is not None:
        return found
    olson = _windows_names().get(name.strip().casefold())
    return ZoneInfo(olson) if olson else None


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


def _clean_url(value: str) -> str | None:
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


def _url_in_text(text: str) -> str | None:
    found = [m.group(0).rstrip(".,;:!?") for m in _URL_IN_TEXT.finditer(text)]
    found = [url for url in found if _clean_url(url)]
    for url in found:
        if any(host in url.lower() for host in _MEETING_HOSTS):
            return url
    return found[0] if found else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text or None


def _slug(title: str) -> str:
    return "-".join(re.findall(r"\w+", unicodedata.normalize("NFKC", title).casefold()))


_DATE_ISO = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4}|\d{2})(?!\d)")
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


def _parse_date(value: object, day_first: bool) -> date | None:
    """A calendar date from a cell: real spreadsheet dates or text in the usual spellings."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    found: date | None = None
    if match := _DATE_ISO.search(text):
        found = _date_or_none(int(match[1]), int(match[2]), int(match[3]))
    elif match := _DATE_DMY.search(text):
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


def _parse_clock(value: object) -> time | None:
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
    text = _text(value)
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


def _parse_when(value: object, day_first: bool) -> tuple[date | None, time | None]:
    """A cell holding a time, or a date and a time ("2027-03-08 19:00", a datetime cell)."""
    if isinstance(value, datetime):
        # Excel stores a bare time as a date-time on its epoch day.
        if value.year <= 1900:
            return None, value.time().replace(microsecond=0)
        return value.date(), value.time().replace(microsecond=0)
    clock = _parse_clock(value)
    if clock is not None:
        return None, clock
    text = _text(value)
    if text is None:
        return None, None
    match = re.fullmatch(
        r"(.+?)[T\s]+(\d{1,2}[:.h]\d{2}(?::\d{2})?\s*(?:[ap]\.?\s?m\.?)?)", text, re.I
    )
    if match:
        day = _parse_date(match[1], day_first)
        clock = _parse_clock(match[2])
        if day is not None and clock is not None:
            return day, clock
    return None, None


_RANGE_SPLIT = re.compile(r"\s*(?:-|–|—|~|～|\bto\b|\bдо\b|至|à)\s*", re.IGNORECASE)


def _parse_range(value: object) -> tuple[time, time] | None:
    text = _text(value)
    if text is None:
        return None
    parts = _RANGE_SPLIT.split(text)
    if len(parts) != 2:
        return None
    start, end = _parse_clock(parts[0]), _parse_clock(parts[1])
    if start is None or end is None:
        return None
    return start, end


_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|ч|час|часа|часов|小时|heures?|horas?|"
    r"m|min|mins|minutes?|мин|минут|分钟|minutos?)?",
    re.IGNORECASE,
)


def _parse_duration(value: object) -> timedelta | None:
    if isinstance(value, timedelta):
        return value if value > timedelta(0) else None
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute) or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number alone is minutes ("90"); below 1 it is Excel's fraction of a day.
        minutes = value * 24 * 60 if 0 < value < 1 else value
        return timedelta(minutes=minutes) if minutes > 0 else None
    text = _text(value)
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


# --------------------------------------------------------------------------------------------
# Column headers


# Header names as organisers write them, "|"-separated; compared after case folding.
_FIELD_ALIASES: Final[dict[str, str]] = {
    "id": "id|uid|session id|session uid|key|код",
    "date": "date|day|дата|день|日期|fecha|día|dia|jour",
    "start": "start|start time|starts|begin|begins|from|начало|время начала|开始|开始时间|"
    "début|debut|heure de début|inicio|hora de inicio|comienzo",
    "end": "end|end time|ends|finish|to|until|конец|окончание|время окончания|结束|结束时间|"
    "fin|heure de fin|hora de fin|final",
    "time": "time|times|время|时间|heure|horaire|horaires|hora|horario",
    "duration": "duration|length|продолжительность|длительность|时长|durée|duree|duración|duracion",
    "title": "session|title|topic|subject|session title|тема|название|занятие|主题|课程|题目|"
    "课程名称|séance|seance|titre|sujet|sesión|sesion|título|titulo|tema",
    "speaker": "speaker|speakers|lecturer|trainer|presenter|teacher|instructor|докладчик|"
    "лектор|спикер|преподаватель|主讲人|主讲|讲师|intervenant|intervenante|conférencier|"
    "formateur|ponente|orador|profesor",
    "kind": "type|format|kind|тип|формат|类型|形式|tipo|formato",
    "link": "link|url|join link|zoom link|classin link|meeting link|ссылка|链接|会议链接|lien|"
    "enlace",
    "location": "location|room|place|venue|место|地点|lieu|salle|lugar|sala",
    "description": "description|details|описание|简介|描述|descripción|descripcion|descriptif",
}
_FIELD_BY_ALIAS: Final[dict[str, str]] = {
    alias: name for name, aliases in _FIELD_ALIASES.items() for alias in aliases.split("|")
}
_LINK_WORDS: Final = frozenset({"link", "url", "ссылка", "链接", "lien", "enlace"})

# The language a title header is written in, for a second title column without a code.
_TITLE_ALIAS_LANGUAGE: Final[dict[str, str]] = {
    "тема": "ru",
    "название": "ru",
    "занятие": "ru",
    "主题": "zh",
    "课程": "zh",
    "题目": "zh",
    "课程名称": "zh",
    "séance": "fr",
    "seance": "fr",
    "titre": "fr",
    "sujet": "fr",
    "sesión": "es",
    "sesion": "es",
    "título": "es",
    "titulo": "es",
    "tema": "es",
}
_LANGUAGE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("en", "eng", "english", "английский", "англ", "英文", "英语", "anglais", "inglés"),
    "zh": ("zh", "cn", "chinese", "中文", "汉语", "китайский", "кит", "chinois", "chino"),
    "ru": ("ru", "rus", "russian", "русский", "рус", "俄语", "俄文", "russe", "ruso"),
    "fr": ("fr", "french", "français", "francais", "французский", "фр", "法语", "francés"),
    "es": ("es", "spanish", "español", "espanol", "испанский", "исп", "西班牙语", "espagnol"),
    "ar": ("ar", "arabic", "العربية", "عربي", "арабский", "阿拉伯语", "arabe", "árabe"),
}
_LANGUAGE_BY_WORD: Final[dict[str, str]] = {
    word: code for code, words in _LANGUAGE_WORDS.items() for word in words
}


def _language_from_phrase(phrase: str) -> str | None:
    folded = phrase.strip().casefold()
    if folded in _LANGUAGE_BY_WORD:
        return _LANGUAGE_BY_WORD[folded]
    if re.fullmatch(r"[a-z]{2}(?:[-_][a-z0-9]+)?", folded):
        return folded[:2]
    return None


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    language: str | None = None
    zone: tzinfo | None = None


@dataclass
class _Header:
    row: int
    fields: dict[str, _Column] = field(default_factory=dict)
    titles: list[_Column] = field(default_factory=list)
    descriptions: list[_Column] = field(default_factory=list)
    errors: list[TimetableError] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.titles) and ("start" in self.fields or "time" in self.fields)

    @property
    def score(self) -> int:
        return len(self.fields) + len(self.titles) + len(self.descriptions)


_BRACKETED = re.compile(r"^(.*?)\s*[(\[（【](.*?)[)\]）】]\s*$")
_SUFFIXED = re.compile(r"^(.*?)\s*[-_,:]\s*([a-zA-Z]{2})$")


def _split_header(raw: str) -> tuple[str, str | None]:
    text = " ".join(unicodedata.normalize("NFKC", raw).split()).strip(" :*")
    if match := _BRACKETED.match(text):
        return match[1].strip(" :*").casefold(), match[2].strip()
    if (match := _SUFFIXED.match(text)) and _language_from_phrase(match[2]):
        return match[1].strip(" :*").casefold(), match[2]
    return text.casefold(), None


def _field_for(base: str) -> str | None:
    if base in _FIELD_BY_ALIAS:
        return _FIELD_BY_ALIAS[base]
    if _LINK_WORDS.intersection(base.split()):
        return "link"
    return None


def _analyse_header(
    row: int, cells: Sequence[object], default_zone: tzinfo, default_language: str
) -> _Header:
    header = _Header(row=row)
    texts: dict[str, list[tuple[int, str, str, str | None]]] = {"title": [], "description": []}
    for index, cell in enumerate(cells):
        raw = _text(cell)
        if raw is None:
            continue
        base, qualifier = _split_header(raw)
        name = _field_for(base)
        if name is None:
            continue
        if name in texts:
            language = _language_from_phrase(qualifier) if qualifier else None
            texts[name].append((index, raw, base, language))
            continue
        if name in header.fields:
            continue
        zone: tzinfo | None = None
        if qualifier and name in {"start", "end", "time"}:
            zone = _zone_from_phrase(qualifier, default_zone)
            if zone is None and _ZONE_HINT.search(qualifier):
                header.errors.append(
                    TimetableError(
                        _(
                            "Row {row}: the column “{column}” names a time zone that is not "
                            "recognised. Write it as an IANA name such as Asia/Shanghai, or "
                            "as an offset such as UTC+8."
                        ).format(row=row, column=raw),
                        row,
                    )
                )
        header.fields[name] = _Column(index, raw, zone=zone)
    header.titles = _language_columns(texts["title"], default_language)
    header.descriptions = _language_columns(texts["description"], default_language)
    return header


def _language_columns(
    candidates: list[tuple[int, str, str, str | None]], default_language: str
) -> list[_Column]:
    """Give each title (or description) column its language; the main language first.

    "Session (ru)" is Russian; the first column without a language ("Session", "Тема") is
    the programme's main language; a further one is the language its header is written in.
    A second column for a language already taken is ignored: the first one wins.
    """
    by_language: dict[str, _Column] = {}
    for index, raw, _base, language in candidates:
        if language and language not in by_language:
            by_language[language] = _Column(index, raw, language=language)
    plain = [(index, raw, base) for index, raw, base, language in candidates if not language]
    for position, (index, raw, base) in enumerate(plain):
        language = default_language if position == 0 else _TITLE_ALIAS_LANGUAGE.get(base)
        if language == default_language and language in by_language and position == 0:
            language = _TITLE_ALIAS_LANGUAGE.get(base)
        if language and language not in by_language:
            by_language[language] = _Column(index, raw, language=language)
    columns = sorted(by_language.values(), key=lambda column: column.index)
    columns.sort(key=lambda column: column.language != default_language)
    return columns


# --------------------------------------------------------------------------------------------
# Tables (CSV and XLSX)


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


def _read_csv(data: bytes) -> _Table | TimetableError:
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
                _analyse_header(number, cells, UTC, "en").score
                for number, cells in rows[:_HEADER_SEARCH_ROWS]
            ),
            default=0,
        )
        if best is None or score > best[0]:
            best = (score, rows)
    if best is None:
        return TimetableError(_("The file is not a readable CSV, Excel or calendar file."))
    return _Table(best[1])


def _read_xlsx(data: bytes) -> _Table | TimetableError:
    from openpyxl import load_workbook
    from openpyxl.worksheet.worksheet import Worksheet

    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, styles); irrelevant here.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl fails with many exception types on damaged files
        return TimetableError(
            _("The Excel file could not be read: {reason}").format(reason=_short(exc))
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
            _analyse_header(number, cells, UTC, "en").usable
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


def _cell(cells: Sequence[object], column: _Column | None) -> object:
    if column is None or column.index >= len(cells):
        return None
    value = cells[column.index]
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value


def _guess_day_first(table: _Table, header: _Header) -> bool:
    """Whether slashed dates are day-first; only a file that proves otherwise is month-first."""
    columns = [header.fields.get("date"), header.fields.get("start")]
    day_over_12 = month_over_12 = False
    for number, cells in table.rows:
        if number <= header.row:
            continue
        for column in columns:
            value = _cell(cells, column)
            if isinstance(value, str) and (match := _DATE_DMY.search(value)):
                day_over_12 |= int(match[1]) > 12
                month_over_12 |= int(match[2]) > 12
    return day_over_12 or not month_over_12


def _parse_table(table: _Table, zone: tzinfo, default_language: str) -> TimetableParseResult:
    header: _Header | None = None
    for number, cells in table.rows[:_HEADER_SEARCH_ROWS]:
        candidate = _analyse_header(number, cells, zone, default_language)
        if candidate.usable:
            header = candidate
            break
    if header is None:
        return _failed(
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
            return _failed(
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
        header: _Header,
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
            text = _text(_cell(self.cells, column))
            if text and column.language:
                titles[column.language] = text
        if not titles:
            self.error(_("Row {row}: the session title is missing.").format(row=row))
        descriptions: dict[str, str] = {}
        for column in self.header.descriptions:
            raw = _cell(self.cells, column)
            if raw is not None and column.language:
                described = str(raw).strip()
                if described:
                    descriptions[column.language] = described

        join_url = None
        link = _text(self.value("link"))
        if link is not None:
            join_url = _clean_url(link)
            if join_url is None:
                self.error(
                    _(
                        "Row {row}: “{link}” is not a web link; the join link must start "
                        "with https:// or http://."
                    ).format(row=row, link=link[:100])
                )

        if self.errors or starts_at is None or ends_at is None or day is None or not titles:
            return None
        explicit_key = _text(self.value("id"))
        kind = _text(self.value("kind"))
        return ParsedSession(
            key=explicit_key or f"{day.isoformat()}/{_slug(next(iter(titles.values())))}",
            titles=titles,
            descriptions=descriptions,
            speaker=_text(self.value("speaker")),
            kind=kind.casefold() if kind else None,
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=False,
            join_url=join_url,
            location=_text(self.value("location")),
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
        day = _parse_date(raw, self.day_first)
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
            start_day, start = _parse_when(raw_start, self.day_first)
            if start is None:
                self.error(self.bad_time(raw_start))
        if raw_end is not None:
            _end_day, end = _parse_when(raw_end, self.day_first)
            if end is None:
                self.error(self.bad_time(raw_end))
        raw_range = self.value("time")
        if raw_range is not None and (start is None or end is None) and raw_start is None:
            parsed = _parse_range(raw_range)
            if parsed is None:
                single = _parse_clock(raw_range)
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
        duration = _parse_duration(raw)
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
        result = _localize(local, zone)
        if isinstance(result, datetime):
            return result
        when = local.strftime("%Y-%m-%d %H:%M")
        if result == "gap":
            self.error(
                _(
                    "Row {row}: {when} does not exist in {zone} because the clocks are put "
                    "forward at that moment. Check the time."
                ).format(row=self.number, when=when, zone=_zone_label(zone))
            )
        else:
            self.error(
                _(
                    "Row {row}: {when} happens twice in {zone} because the clocks are put "
                    "back at that moment. Give the time in UTC instead."
                ).format(row=self.number, when=when, zone=_zone_label(zone))
            )
        return None


# --------------------------------------------------------------------------------------------
# iCalendar


_SPEAKER_LINE = re.compile(
    r"^\s*(?:speakers?|lecturer|trainer|presenter|докладчик|лектор|спикер|主讲人|主讲|讲师|"
    r"intervenante?|ponente)\s*[:：]\s*(.+?)\s*$",
    re.IGNORECASE,
)


@dataclass
class _IcsContext:
    zone: tzinfo
    default_language: str
    floating_zone: tzinfo | None
    floating_uids: set[str]
    errors: list[TimetableError]
    sessions: list[ParsedSession] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def _parse_ics(data: bytes, zone: tzinfo, default_language: str) -> TimetableParseResult:
    import icalendar
    import x_wr_timezone

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # the parser raises ValueError, but odd input can raise others
        return _failed(
            _("The calendar file could not be read: {reason}").format(reason=_short(exc))
        )
    if not isinstance(calendar, icalendar.Calendar):
        return _failed(_("The calendar file could not be read: it has no VCALENDAR."))

    # Google writes floating times and means the calendar's X-WR-TIMEZONE.
    floating_zone: tzinfo | None = None
    x_wr = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    if x_wr:
        floating_zone = _resolve_zone_name(x_wr)
        if floating_zone is None:
            return _failed(
                _("The calendar names the time zone “{zone}”, which is not recognised.").format(
                    zone=x_wr[:60]
                )
            )

    # Check every event first: the expansion fails as a whole on one bad event, whereas the
    # organiser should learn about every bad event at once.
    errors: list[TimetableError] = []
    valid: list[icalendar.Component] = []
    floating_uids: set[str] = set()
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _uid_of(event)
        if uid is None:
            label = _("Event “{title}” (number {number} in the file)").format(
                title=_summary(event), number=number
            )
        else:
            label = _event_label(event, uid)
        problem = _check_event(event)
        if problem is not None:
            errors.append(
                TimetableError(_("{event}: {problem}").format(event=label, problem=problem))
            )
            continue
        start = event.get("DTSTART").dt
        if uid is None:
            # Without a UID the event is matched like a spreadsheet row: by date and title.
            title = next(iter(_texts_by_language(event, "SUMMARY", default_language).values()), "")
            day = start.date() if isinstance(start, datetime) else start
            uid = f"{day.isoformat()}/{_slug(title)}"
            event["UID"] = uid
        if isinstance(start, datetime) and start.tzinfo is None:
            floating_uids.add(uid)
        valid.append(event)
    valid_ids = {id(event) for event in valid}
    calendar.subcomponents = [
        component
        for component in calendar.subcomponents
        if component.name != "VEVENT" or id(component) in valid_ids
    ]

    if floating_zone is not None:
        try:
            calendar = x_wr_timezone.to_standard(calendar, timezone=floating_zone)
        except Exception as exc:  # the conversion walks arbitrary content; report, don't crash
            return _failed(
                _("The calendar file could not be read: {reason}").format(reason=_short(exc))
            )
        # Applied now; left in place, the expansion would apply it a second time.
        calendar.pop("X-WR-TIMEZONE", None)

    context = _IcsContext(zone, default_language, floating_zone, floating_uids, errors)
    by_uid: dict[str, list[icalendar.Component]] = {}
    for event in calendar.walk("VEVENT"):
        by_uid.setdefault(_uid_of(event) or "", []).append(event)
    for uid, events in by_uid.items():
        masters = [event for event in events if event.get("RECURRENCE-ID") is None]
        if len(masters) > 1:
            context.errors.append(
                TimetableError(
                    _(
                        "Two events have the same UID {uid}: “{first}” and “{second}”. "
                        "Each event needs its own UID."
                    ).format(uid=uid, first=_summary(masters[0]), second=_summary(masters[1]))
                )
            )
            continue
        recurring = len(events) > 1 or any(
            event.get("RRULE") is not None or event.get("RDATE") is not None for event in events
        )
        if recurring:
            _expand_series(context, uid, events)
        else:
            _add_single(context, uid, events[0])
        if len(context.sessions) > MAX_SESSIONS:
            break

    sessions = sorted(context.sessions, key=lambda s: (s.starts_at, s.key))
    return TimetableParseResult(sessions, context.errors, context.cancelled)


def _single(event: icalendar.Component, name: str) -> str:
    """A text property's value; a repeated property (invalid, but seen) counts once."""
    raw = event.get(name)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return str(raw or "").strip()


def _summary(event: icalendar.Component) -> str:
    text = " ".join(_single(event, "SUMMARY").split())
    return text[:80] or "—"


def _event_label(event: icalendar.Component, uid: str) -> str:
    """How an error message names an event; it starts the sentence."""
    return _("Event “{title}” (UID {uid})").format(title=_summary(event), uid=uid)


def _event_source(event: icalendar.Component, uid: str) -> str:
    """How other messages refer to an event ("… comes from event “Opening” (UID …)")."""
    return _("event “{title}” (UID {uid})").format(title=_summary(event), uid=uid)


def _uid_of(event: icalendar.Component) -> str | None:
    uid = _single(event, "UID")
    # Our own export: the part before the suffix is the key the session is stored under.
    return uid.removesuffix(EXPORT_UID_SUFFIX) or None


def _dt_value(event: icalendar.Component, name: str) -> date | datetime | None:
    prop = event.get(name)
    if prop is None:
        return None
    value = prop.dt
    if not isinstance(value, date):
        raise ValueError(f"{name} is not a date or a date-time")
    return value


def _check_event(event: icalendar.Component) -> str | None:
    """Why ``event`` cannot be imported, or ``None``."""
    try:
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            _dt_value(event, name)
        duration = event.get("DURATION")
        if duration is not None and not isinstance(duration.dt, timedelta):
            raise ValueError("DURATION is not a duration")
    except Exception as exc:  # broken properties raise on access, with differing types
        return _("it has an unreadable date or time ({reason}).").format(reason=_short(exc))
    if event.get("DTSTART") is None:
        return _("it has no start time (DTSTART).")
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = event.get(name)
        if prop is None:
            continue
        tzid = prop.params.get("TZID")
        # icalendar reads an unknown zone as a floating time, which would silently shift it.
        if tzid and isinstance(prop.dt, datetime) and prop.dt.tzinfo is None:
            return _("its time zone “{zone}” is not recognised.").format(zone=str(tzid)[:60])
    return None


def _language_param(prop: object) -> str | None:
    params = getattr(prop, "params", None)
    language = params.get("LANGUAGE") if params else None
    if not language:
        return None
    return str(language).replace("_", "-").split("-", 1)[0].casefold() or None


def _texts_by_language(
    event: icalendar.Component, name: str, default_language: str
) -> dict[str, str]:
    raw = event.get(name)
    if raw is None:
        return {}
    values = raw if isinstance(raw, list) else [raw]
    result: dict[str, str] = {}
    # The value without LANGUAGE is the file's main language and comes first.
    for prop in sorted(values, key=lambda p: _language_param(p) is not None):
        text = str(prop).strip()
        language = _language_param(prop) or default_language
        if text and language not in result:
            result[language] = text
    return result


def _categories(event: icalendar.Component) -> str | None:
    raw = event.get("CATEGORIES")
    if raw is None:
        return None
    for item in raw if isinstance(raw, list) else [raw]:
        for category in getattr(item, "cats", [item]):
            text = str(category).strip()
            if text:
                return text.casefold()
    return None


def _series_is_unbounded(events: Iterable[icalendar.Component]) -> bool:
    for event in events:
        raw = event.get("RRULE")
        if raw is None:
            continue
        for rule in raw if isinstance(raw, list) else [raw]:
            if "COUNT" not in rule and "UNTIL" not in rule:
                return True
    return False


def _rough_utc(value: date | datetime, zone: tzinfo) -> datetime:
    """An instant for comparisons and keys, without the gap checks."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone).astimezone(UTC)
    return value.astimezone(UTC)


def _default_end(start: date | datetime) -> date | datetime:
    # RFC 5545: without DTEND or DURATION a timed event has no length, an all-day one a day.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _add_single(context: _IcsContext, uid: str, event: icalendar.Component) -> None:
    start = _dt_value(event, "DTSTART")
    if start is None:
        return
    end = _dt_value(event, "DTEND")
    duration = event.get("DURATION")
    if end is None and duration is not None:
        end = start + duration.dt
    _add_occurrence(context, uid, uid, event, start, end or _default_end(start))


def _expand_series(context: _IcsContext, uid: str, events: list[icalendar.Component]) -> None:
    import icalendar
    import recurring_ical_events

    series = icalendar.Calendar()
    for event in events:
        series.add_component(event)
    master = next((event for event in events if event.get("RECURRENCE-ID") is None), events[0])
    label = _event_label(master, uid)
    first_start = _dt_value(master, "DTSTART")
    horizon: datetime | None = None
    if first_start is not None and _series_is_unbounded(events):
        horizon = _rough_utc(first_start, context.zone) + RECURRENCE_HORIZON
    count = 0
    try:
        for occurrence in recurring_ical_events.of(series).all():
            start = _dt_value(occurrence, "DTSTART")
            if start is None:
                continue
            if horizon is not None and _rough_utc(start, context.zone) > horizon:
                break
            count += 1
            if count > MAX_OCCURRENCES:
                context.errors.append(
                    TimetableError(
                        _(
                            "{event}: it repeats more than {limit} times. Give the repetition "
                            "an end date or a number of occurrences."
                        ).format(event=label, limit=MAX_OCCURRENCES)
                    )
                )
                return
            # The key names the occurrence by its original start, so that moving one
            # occurrence (a RECURRENCE-ID override) keeps its key.
            original = _dt_value(occurrence, "RECURRENCE-ID") or start
            if isinstance(original, datetime):
                key = f"{uid}/{_rough_utc(original, context.zone):%Y-%m-%dT%H:%M:%SZ}"
            else:
                key = f"{uid}/{original.isoformat()}"
            end = _dt_value(occurrence, "DTEND") or _default_end(start)
            _add_occurrence(context, uid, key, occurrence, start, end)
            if len(context.sessions) > MAX_SESSIONS:
                return
    except Exception as exc:  # bad rules only surface while expanding, with varied types
        context.errors.append(
            TimetableError(
                _("{event}: its repetition could not be read ({reason}).").format(
                    event=label, reason=_short(exc)
                )
            )
        )


def _add_occurrence(
    context: _IcsContext,
    uid: str,
    key: str,
    event: icalendar.Component,
    start: date | datetime,
    end: date | datetime,
) -> None:
    if _single(event, "STATUS").upper() == "CANCELLED":
        context.cancelled.append(key)
        return
    label = _event_label(event, key)
    floating = uid in context.floating_uids
    starts_at = _event_instant(context, label, start, floating)
    ends_at = _event_instant(context, label, end, floating)
    if starts_at is None or ends_at is None:
        return
    if ends_at < starts_at:
        context.errors.append(
            TimetableError(_("{event}: it ends before it starts.").format(event=label))
        )
        return
    titles = _texts_by_language(event, "SUMMARY", context.default_language)
    if not titles:
        context.errors.append(
            TimetableError(_("{event}: it has no title (SUMMARY).").format(event=label))
        )
        return
    descriptions = _texts_by_language(event, "DESCRIPTION", context.default_language)

    join_url: str | None = None
    url_value = _single(event, "URL")
    if url_value:
        join_url = _clean_url(url_value)
        if join_url is None:
            context.errors.append(
                TimetableError(
                    _("{event}: its URL “{url}” is not a web link (https://…).").format(
                        event=label, url=url_value[:100]
                    )
                )
            )
            return
    location = " ".join(_single(event, "LOCATION").split()) or None
    if join_url is None:
        texts = [location or "", *descriptions.values()]
        join_url = next((url for text in texts if (url := _url_in_text(text))), None)
    if location is not None and _clean_url(location) is not None:
        # A bare link in LOCATION says where to join, not where the session takes place.
        location = None

    speaker: str | None = None
    cleaned: dict[str, str] = {}
    for language, text in descriptions.items():
        lines: list[str] = []
        for line in text.splitlines():
            if match := _SPEAKER_LINE.match(line):
                speaker = speaker or match[1]
            elif join_url and join_url in line and len(line.replace(join_url, "")) <= 40:
                # "Join on ClassIn: https://…" only repeats the join link.
                continue
            else:
                lines.append(line)
        remainder = "\n".join(lines).strip()
        if remainder:
            cleaned[language] = remainder

    context.sessions.append(
        ParsedSession(
            key=key,
            titles=titles,
            descriptions=cleaned,
            speaker=speaker,
            kind=_categories(event),
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=not isinstance(start, datetime),
            join_url=join_url,
            location=location,
            source=_event_source(event, key),
        )
    )


def _event_instant(
    context: _IcsContext, label: str, value: date | datetime, floating: bool
) -> datetime | None:
    if not isinstance(value, datetime):
        # An all-day event covers the day as the programme's zone sees it.
        return datetime.combine(value, time(0), tzinfo=context.zone).astimezone(UTC)
    if value.tzinfo is not None and not floating:
        return value.astimezone(UTC)
    # A floating time means a wall-clock time in the calendar's (or programme's) zone; one
    # that falls into a clock change is not a single instant.
    zone = context.floating_zone if value.tzinfo is not None and context.floating_zone else None
    zone = zone or context.zone
    local = value.replace(tzinfo=None)
    result = _localize(local, zone)
    if isinstance(result, datetime):
        return result
    if result == "gap":
        message = _(
            "{event}: {when} does not exist in {zone} because the clocks are put forward at "
            "that moment."
        )
    else:
        message = _(
            "{event}: {when} happens twice in {zone} because the clocks are put back at that "
            "moment. Give the time in UTC instead."
        )
    context.errors.append(
        TimetableError(
            message.format(event=label, when=f"{local:%Y-%m-%d %H:%M}", zone=_zone_label(zone))
        )
    )
    return None
