"""What the timetable-file tests share: parsing with the programme's zone, UTC instants, ICS
text built from events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.services.timetable.files import (
    ParsedSession,
    TimetableParseResult,
    parse_timetable,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHANGHAI = "Asia/Shanghai"
BELGRADE = "Europe/Belgrade"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def parse(
    text: str | bytes, filename: str = "timetable.csv", tz: str = SHANGHAI, **kwargs: str
) -> TimetableParseResult:
    data = text.encode() if isinstance(text, str) else text
    return parse_timetable(data, filename, tz, **kwargs)


def parse_ok(
    text: str | bytes, filename: str = "timetable.csv", tz: str = SHANGHAI, **kwargs: str
) -> TimetableParseResult:
    result = parse(text, filename, tz, **kwargs)
    assert result.errors == [], [e.message for e in result.errors]
    return result


def ics(*events: str, header: str = "") -> str:
    body = "\n".join(event.strip() for event in events)
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n"
        + (header.strip() + "\n" if header.strip() else "")
        + body
        + "\nEND:VCALENDAR\n"
    ).replace("\n", "\r\n")


def assert_all_utc(result: TimetableParseResult) -> None:
    for session in result.sessions:
        assert session.starts_at.tzinfo is UTC
        assert session.ends_at.tzinfo is UTC


def by_key(result: TimetableParseResult) -> dict[str, ParsedSession]:
    return {session.key: session for session in result.sessions}
