"""Read a timetable file of any supported kind: tell the format apart, then hand it on."""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import gettext as _
from bot.services.timetable.files.ics import parse_ics
from bot.services.timetable.files.model import (
    MAX_FILE_BYTES,
    MAX_SESSIONS,
    TimetableError,
    TimetableParseResult,
    failed,
)
from bot.services.timetable.files.tables import parse_table, read_csv, read_xlsx


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
        return failed(
            _("The file is too large ({size} MB); the limit is {limit} MB.").format(
                size=round(len(data) / 1024 / 1024, 1), limit=MAX_FILE_BYTES // 1024 // 1024
            )
        )
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return failed(_("The file is empty."))

    kind = _detect_format(data, filename)
    if kind == "xls":
        return failed(
            _(
                "This is an old-style Excel file (.xls). Please save it as .xlsx or CSV "
                "and send it again."
            )
        )
    if kind == "ics":
        result = parse_ics(data, zone, default_language)
    else:
        table = read_xlsx(data) if kind == "xlsx" else read_csv(data)
        if isinstance(table, TimetableError):
            return TimetableParseResult(errors=[table])
        result = parse_table(table, zone, default_language)

    if len(result.sessions) > MAX_SESSIONS:
        return failed(
            _(
                "The file describes {count} sessions; at most {limit} can be imported at once."
            ).format(count=len(result.sessions), limit=MAX_SESSIONS)
        )
    if not result.sessions and not result.cancelled_keys and not result.errors:
        return failed(_("No sessions were found in the file."))
    return result


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
