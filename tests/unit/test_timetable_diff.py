"""What re-importing a changed timetable would do, and how it is shown to the organiser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.timetable.diff import (
    MAX_RENDERED_CHARS,
    CancelledSession,
    LinkChange,
    MovedSession,
    RenamedSession,
    SessionSnapshot,
    TimetableDiff,
    diff_timetable,
    render_diff,
)
from bot.services.timetable.files import ParsedSession, TimetableParseResult, parse_timetable

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def snapshot(session: ParsedSession, status: str = "scheduled") -> SessionSnapshot:
    return SessionSnapshot(
        key=session.key,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        join_url=session.join_url,
        status=status,  # type: ignore[arg-type]
    )


def session(key: str, title: str, start: datetime, url: str | None = None) -> ParsedSession:
    return ParsedSession(
        key=key,
        titles={"en": title},
        descriptions={},
        speaker=None,
        kind=None,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        all_day=False,
        join_url=url,
        location=None,
        source="row 2",
    )


@pytest.fixture(scope="module")
def stored() -> TimetableParseResult:
    result = parse_timetable(
        (EXAMPLES / "timetable.ics").read_bytes(), "timetable.ics", "Asia/Shanghai"
    )
    assert result.errors == []
    return result


def changed_ics() -> bytes:
    """The example calendar after the organisers' edits, as a second export would bring it."""
    text = (EXAMPLES / "timetable.ics").read_text(encoding="utf-8")
    # Opening Ceremony moves a day later and gets a new name.
    text = text.replace(
        "SUMMARY:Opening Ceremony and Programme Briefing\n"
        "DTSTART;TZID=Asia/Shanghai:20270308T190000\n"
        "DTEND;TZID=Asia/Shanghai:20270308T210000",
        "SUMMARY:Opening Ceremony\n"
        "DTSTART;TZID=Asia/Shanghai:20270309T190000\n"
        "DTEND;TZID=Asia/Shanghai:20270309T210000",
    )
    # Session 3 gets a new ClassIn room.
    text = text.replace(
        "LOCATION:https://www.eeo.cn/live.php?lessonKey=dt27003",
        "LOCATION:https://www.eeo.cn/live.php?lessonKey=dt27003b",
    )
    text = text.replace("lessonKey=dt27003\n", "lessonKey=dt27003b\n")
    # Session 20 disappears from the file.
    start = text.index("BEGIN:VEVENT\nSUMMARY:Closing Ceremony")
    end = text.index("END:VEVENT\n", start) + len("END:VEVENT\n")
    text = text[:start] + text[end:]
    # Session 19 is marked cancelled; one extra session is added.
    start = text.index("UID:dt27-019@")
    end = text.index("END:VEVENT", start)
    block = text[start:end].replace("STATUS:CONFIRMED", "STATUS:CANCELLED")
    text = (text[:start] + block + text[end:]).replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\nSUMMARY:Extra Q&A\nDTSTART:20270405T110000Z\nDTEND:20270405T120000Z\n"
        "UID:dt27-extra@training-base.example.org\nEND:VEVENT\nEND:VCALENDAR",
    )
    return text.encode()


def test_changed_file_against_stored_sessions(stored: TimetableParseResult) -> None:
    incoming = parse_timetable(changed_ics(), "timetable.ics", "Asia/Shanghai")
    assert incoming.errors == []
    diff = diff_timetable(
        [snapshot(s) for s in stored.sessions], incoming.sessions, incoming.cancelled_keys
    )
    assert [s.key for s in diff.new] == ["dt27-extra@training-base.example.org"]
    assert diff.moved == [
        MovedSession(
            key="dt27-001@training-base.example.org",
            title="Opening Ceremony",
            old_starts_at=utc(2027, 3, 8, 11, 0),
            old_ends_at=utc(2027, 3, 8, 13, 0),
            new_starts_at=utc(2027, 3, 9, 11, 0),
            new_ends_at=utc(2027, 3, 9, 13, 0),
        )
    ]
    assert diff.renamed == [
        RenamedSession(
            "dt27-001@training-base.example.org",
            "Opening Ceremony and Programme Briefing",
            "Opening Ceremony",
        )
    ]
    assert diff.link_changed == [
        LinkChange(
            "dt27-003@training-base.example.org",
            "Cross-border E-commerce Comprehensive Pilot Zones",
            "https://www.eeo.cn/live.php?lessonKey=dt27003",
            "https://www.eeo.cn/live.php?lessonKey=dt27003b",
        )
    ]
    assert diff.cancelled == [
        CancelledSession(
            "dt27-019@training-base.example.org", "Action Plan Workshop", utc(2027, 4, 1, 11, 0)
        ),
        CancelledSession(
            "dt27-020@training-base.example.org",
            "Closing Ceremony and Certificates",
            utc(2027, 4, 2, 11, 0),
        ),
    ]
    assert diff.restored == []
    assert diff.unchanged_count == len(stored.sessions) - 4
    assert not diff.is_empty

    text = render_diff(diff, SHANGHAI, "en")
    assert text.splitlines()[0] == (
        "1 new, 1 moved, 2 cancelled, 1 renamed, 1 link changed and 21 unchanged"
    )
    assert "Moved: Opening Ceremony: 8 Mar 2027, 19:00 → 9 Mar 2027, 19:00" in text
    assert "New: Extra Q&A: 5 Apr 2027, 19:00" in text
    assert "Cancelled: Action Plan Workshop: 1 Apr 2027, 19:00" in text
    assert "Cancelled: Closing Ceremony and Certificates: 2 Apr 2027, 19:00" in text
    assert "Renamed: Opening Ceremony and Programme Briefing → Opening Ceremony" in text
    assert "https://www.eeo.cn/live.php?lessonKey=dt27003b" in text


def test_same_file_again_is_empty(stored: TimetableParseResult) -> None:
    diff = diff_timetable(
        [snapshot(s) for s in stored.sessions], stored.sessions, stored.cancelled_keys
    )
    assert diff.is_empty
    assert diff.unchanged_count == len(stored.sessions)
    assert "25" in render_diff(diff, SHANGHAI, "en")


def test_cancelled_session_back_in_the_file_is_restored() -> None:
    old = session("a", "Talk", utc(2027, 3, 8, 11, 0))
    diff = diff_timetable([snapshot(old, "cancelled")], [old])
    assert diff.restored == [old]
    assert diff.new == []
    assert diff.cancelled == []
    assert "Back on: Talk" in render_diff(diff, SHANGHAI, "en")


def test_already_cancelled_session_is_not_cancelled_again() -> None:
    old = session("a", "Talk", utc(2027, 3, 8, 11, 0))
    diff = diff_timetable([snapshot(old, "cancelled")], [], ["a"])
    assert diff.is_empty
    assert diff.cancelled == []


def test_session_marked_cancelled_in_file_is_cancelled() -> None:
    old = session("a", "Talk", utc(2027, 3, 8, 11, 0))
    diff = diff_timetable([snapshot(old)], [], ["a"])
    assert diff.cancelled == [CancelledSession("a", "Talk", old.starts_at)]


def test_link_removed_and_length_change() -> None:
    old = session("a", "Talk", utc(2027, 3, 8, 11, 0), "https://zoom.us/j/1")
    new = replace(old, join_url=None, ends_at=old.ends_at + timedelta(minutes=30))
    diff = diff_timetable([snapshot(old)], [new])
    assert diff.link_changed == [LinkChange("a", "Talk", "https://zoom.us/j/1", None)]
    assert len(diff.moved) == 1
    text = render_diff(diff, SHANGHAI, "en")
    assert "Link removed: Talk" in text
    assert "19:00–21:00 → 8 Mar 2027, 19:00–21:30" in text


def many_changes(count: int) -> TimetableDiff:
    start = utc(2027, 3, 8, 11, 0)
    long_title = "A very long session title about cross-border e-commerce " * 4
    old = [
        session(f"k{i}", f"{long_title}{i}", start + timedelta(hours=i), f"https://zoom.us/j/{i}")
        for i in range(count)
    ]
    new = [
        replace(
            s,
            titles={"en": s.title + " (updated)"},
            starts_at=s.starts_at + timedelta(days=1),
            ends_at=s.ends_at + timedelta(days=1),
            join_url=f"https://zoom.us/j/{i}?pwd=" + "x" * 200,
        )
        for i, s in enumerate(old[: count // 2])
    ]
    new += [session(f"n{i}", f"{long_title}new {i}", start, None) for i in range(count)]
    return diff_timetable([snapshot(s) for s in old], new)


@pytest.mark.parametrize("locale", ["en", "zh", "ru", "fr", "es", "ar"])
def test_huge_diff_fits_in_one_message(locale: str) -> None:
    diff = many_changes(2000)
    assert len(diff.new) == 2000
    assert len(diff.moved) == len(diff.renamed) == len(diff.link_changed) == 1000
    assert len(diff.cancelled) == 1000
    text = render_diff(diff, SHANGHAI, locale)
    assert len(text) < MAX_RENDERED_CHARS
    if locale == "en":
        assert text.splitlines()[0] == (
            "2000 new, 1000 moved, 1000 cancelled, 1000 renamed and 1000 links changed"
        )
        assert text.splitlines()[-1].startswith("… and ")


def test_limit_truncates_each_kind() -> None:
    start = utc(2027, 3, 8, 11, 0)
    new = [session(f"n{i}", f"Session {i}", start + timedelta(days=i)) for i in range(12)]
    text = render_diff(diff_timetable([], new), SHANGHAI, "en", limit=5)
    lines = text.splitlines()
    assert lines[0] == "12 new"
    assert [line for line in lines if line.startswith("New: ")] == [
        f"New: Session {i}: {8 + i} Mar 2027, 19:00" for i in range(5)
    ]
    assert lines[-1] == "… and 7 more"


def test_render_uses_the_locale_and_zone() -> None:
    new = [session("n", "Opening", utc(2027, 3, 8, 11, 0))]
    text = render_diff(diff_timetable([], new), ZoneInfo("Europe/Belgrade"), "ru")
    assert "Новое: Opening: 8 мар. 2027 г., 12:00" in text.replace("\u202f", " ")


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.tuples(*[st.integers(min_value=0, max_value=300)] * 3),
    title=st.text(min_size=0, max_size=400),
    limit=st.integers(min_value=0, max_value=200),
)
def test_render_always_fits(sizes: tuple[int, int, int], title: str, limit: int) -> None:
    start = utc(2027, 3, 8, 11, 0)
    kept, dropped, added = sizes
    old = [session(f"o{i}", title, start) for i in range(kept + dropped)]
    new = [replace(s, starts_at=s.starts_at + timedelta(hours=1)) for s in old[:kept]]
    new += [session(f"n{i}", title, start) for i in range(added)]
    text = render_diff(diff_timetable([snapshot(s) for s in old], new), SHANGHAI, "en", limit)
    assert len(text) < MAX_RENDERED_CHARS
