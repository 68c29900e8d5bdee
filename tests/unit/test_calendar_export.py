"""The exported calendar: valid iCalendar that round-trips through icalendar and our importer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from bot.services.timetable.calendar import CalendarEvent, build_ics, event_uid
from bot.services.timetable.files import TimetableParseResult, parse_timetable

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STAMP = datetime(2027, 2, 20, 8, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def sample_events() -> list[CalendarEvent]:
    return [
        CalendarEvent(
            key="2027-03-08/opening",
            title="Opening Ceremony, with a comma; and semicolon",
            description="Welcome words.\nProgramme briefing.",
            speaker="Prof. Chen Wei",
            starts_at=utc(2027, 3, 8, 11, 0),
            ends_at=utc(2027, 3, 8, 13, 0),
            join_url="https://www.eeo.cn/live.php?lessonKey=dt27001",
            location=None,
            sequence=2,
        ),
        CalendarEvent(
            key="dt27-office-hours@training-base.example.org/2027-03-10T10:00:00Z",
            title="Office hours",
            description=None,
            speaker=None,
            starts_at=utc(2027, 3, 10, 10, 0),
            ends_at=utc(2027, 3, 10, 11, 0),
            join_url=None,
            location="Room 101",
        ),
        CalendarEvent(
            key="guest-talk",
            title="Guest talk (postponed)",
            description=None,
            speaker="Dr. Guest",
            starts_at=utc(2027, 3, 12, 13, 30),
            ends_at=utc(2027, 3, 12, 14, 30),
            join_url="https://zoom.us/j/1",
            location=None,
            cancelled=True,
            sequence=1,
        ),
        CalendarEvent(
            key="self-study",
            title="Self-study day",
            description=None,
            speaker=None,
            starts_at=utc(2027, 3, 19, 16, 0),  # 2027-03-20 00:00 in Beijing
            ends_at=utc(2027, 3, 20, 16, 0),
            join_url=None,
            location=None,
            all_day=True,
        ),
    ]


def build(events: list[CalendarEvent] | None = None) -> bytes:
    return build_ics(
        events if events is not None else sample_events(),
        "2027 Seminar on Digital Trade",
        "Asia/Shanghai",
        generated_at=STAMP,
    )


def test_calendar_properties() -> None:
    calendar = icalendar.Calendar.from_ical(build())
    assert calendar["VERSION"] == "2.0"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["PRODID"]
    assert calendar["X-WR-CALNAME"] == "2027 Seminar on Digital Trade"
    assert calendar["X-WR-TIMEZONE"] == "Asia/Shanghai"
    data = build()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))


def test_round_trip_through_icalendar() -> None:
    events = sample_events()
    calendar = icalendar.Calendar.from_ical(build(events))
    parsed = {str(event.get("UID")): event for event in calendar.walk("VEVENT")}
    assert set(parsed) == {event_uid(event.key) for event in events}
    for source in events:
        event = parsed[f"{source.key}@trainee-assistant"]
        assert str(event.get("SUMMARY")) == source.title
        assert event.get("DTSTAMP").dt == STAMP
        assert int(event.get("SEQUENCE")) == source.sequence
        assert str(event.get("STATUS")) == ("CANCELLED" if source.cancelled else "CONFIRMED")
        if source.all_day:
            assert event.get("DTSTART").dt == datetime(2027, 3, 20).date()
            assert event.get("DTEND").dt == datetime(2027, 3, 21).date()
            continue
        assert event.get("DTSTART").dt == source.starts_at
        assert event.get("DTSTART").dt.tzinfo is not None
        assert event.get("DTSTART").dt.utcoffset() == timedelta(0)
        assert event.get("DTEND").dt == source.ends_at
    opening = parsed[event_uid("2027-03-08/opening")]
    assert str(opening.get("URL")) == "https://www.eeo.cn/live.php?lessonKey=dt27001"
    assert str(opening.get("LOCATION")) == "https://www.eeo.cn/live.php?lessonKey=dt27001"
    description = str(opening.get("DESCRIPTION"))
    assert "Prof. Chen Wei" in description
    assert "https://www.eeo.cn/live.php?lessonKey=dt27001" in description
    assert description.startswith("Welcome words.\nProgramme briefing.")
    (alarm,) = opening.walk("VALARM")
    assert alarm.get("TRIGGER").dt == -timedelta(minutes=15)
    assert str(alarm.get("ACTION")) == "DISPLAY"
    office = parsed[event_uid(events[1].key)]
    assert str(office.get("LOCATION")) == "Room 101"
    assert "URL" not in office
    # No reminder for a cancelled session.
    assert parsed[event_uid("guest-talk")].walk("VALARM") == []


def test_utc_times_are_written_with_z() -> None:
    data = build().decode()
    assert "DTSTART:20270308T110000Z" in data
    assert "DTEND:20270308T130000Z" in data
    assert "DTSTART;VALUE=DATE:20270320" in data


def test_uids_are_stable_and_moves_raise_the_sequence() -> None:
    events = sample_events()
    moved = [replace(events[0], starts_at=utc(2027, 3, 9, 11, 0), sequence=3), *events[1:]]
    first = icalendar.Calendar.from_ical(build(events))
    second = icalendar.Calendar.from_ical(build(moved))
    assert {str(e["UID"]) for e in first.walk("VEVENT")} == {
        str(e["UID"]) for e in second.walk("VEVENT")
    }
    again = {str(e["UID"]): int(e.get("SEQUENCE")) for e in second.walk("VEVENT")}
    assert again[event_uid(events[0].key)] == 3
    assert build(events) == build(events)


def test_round_trip_through_our_importer() -> None:
    events = sample_events()
    result = parse_timetable(build(events), "export.ics", "Asia/Shanghai")
    assert result.errors == []
    assert result.cancelled_keys == ["guest-talk"]
    sessions = {session.key: session for session in result.sessions}
    live = [event for event in events if not event.cancelled]
    assert set(sessions) == {event.key for event in live}
    for event in live:
        session = sessions[event.key]
        assert session.title == event.title
        assert session.starts_at == event.starts_at
        assert session.ends_at == event.ends_at
        assert session.starts_at.tzinfo is UTC
        assert session.join_url == event.join_url
        assert session.location == event.location
        assert session.speaker == event.speaker
        assert session.all_day == event.all_day
        assert session.descriptions == ({"en": event.description} if event.description else {})


def test_example_timetable_survives_export_and_import() -> None:
    original = parse_timetable(
        (EXAMPLES / "timetable.ics").read_bytes(), "timetable.ics", "Asia/Shanghai"
    )
    events = [
        CalendarEvent(
            key=s.key,
            title=s.title,
            description=s.descriptions.get("en"),
            speaker=s.speaker,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            join_url=s.join_url,
            location=s.location,
            all_day=s.all_day,
        )
        for s in original.sessions
    ]
    again = parse_timetable(build(events), "export.ics", "Asia/Shanghai")
    assert again.errors == []

    def summary(result: TimetableParseResult) -> list[tuple[object, ...]]:
        return [
            (s.key, s.title, s.starts_at, s.ends_at, s.all_day, s.join_url, s.speaker)
            for s in result.sessions
        ]

    assert summary(again) == summary(original)


def test_naive_datetimes_and_unknown_zone_are_refused() -> None:
    naive = replace(sample_events()[0], starts_at=datetime(2027, 3, 8, 11, 0))
    with pytest.raises(ValueError, match="naive"):
        build([naive])
    with pytest.raises(ValueError, match="zone"):
        build_ics([], "x", "Not/AZone")


def test_empty_calendar_is_still_valid() -> None:
    calendar = icalendar.Calendar.from_ical(build([]))
    assert calendar.walk("VEVENT") == []
    assert calendar["METHOD"] == "PUBLISH"
