"""The online classroom's participant report: Zoom's CSV, ClassIn's XLSX, refused files."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from openpyxl import Workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import attendance as attendance_db
from bot.db.attendance import MarkSource, Presence
from bot.services.attendance import checkin, classroom, marking
from bot.services.attendance.classroom_files import column_of, parse_duration, read_report
from tests.attendance.support import ROSTER, START, Setup, cohort_with_people
from tests.support.settings import make_settings

SETTINGS = make_settings()


def zoom_csv(tmp_path: Path) -> Path:
    """Zoom's participant export: the meeting's details, a blank line, then the people."""
    amina, bilal, aigerim, _dilshod, farrukh = ROSTER[:5]
    lines = [
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants",
        '"812 3456 7890",Lecture,03/08/2027 10:55:00 AM,03/08/2027 12:35:00 PM,'
        "host@example.org,100,6",
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,"
        "Recording Consent",
        f"{amina[0]},{amina[1]},03/08/2027 10:58:12 AM,03/08/2027 12:30:00 PM,92,No,Y",
        f"Bilal (Muhammad Bilal Qureshi),{bilal[1].upper()},03/08/2027 11:00:00 AM,"
        "03/08/2027 11:30:00 AM,30,No,Y",
        f"Bilal,{bilal[1]},03/08/2027 11:40:00 AM,03/08/2027 12:05:00 PM,25,No,Y",
        f"{aigerim[0].lower()},,03/08/2027 11:05:00 AM,03/08/2027 11:25:00 AM,20,Yes,Y",
        f"{farrukh[0]},{farrukh[1]},03/08/2027 11:02:00 AM,03/08/2027 12:22:00 PM,80,No,Y",
        "Guest Speaker,guest@example.org,03/08/2027 10:50:00 AM,03/08/2027 12:25:00 PM,95,Yes,Y",
    ]
    path = tmp_path / "participants_81234567890.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def classin_xlsx(tmp_path: Path, people: list[tuple[str, str, str]]) -> Path:
    """A ClassIn-style export: Chinese headers, phone numbers, h:mm:ss durations."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["课堂名称: Lecture 1"])
    sheet.append(["姓名", "手机号", "进教室时间", "出教室时间", "在线时长(分钟)"])
    for index, (name, _email, phone) in enumerate(people):
        digits = "".join(ch for ch in phone if ch.isdigit())
        sheet.append(
            [
                name.split()[0] + " (ClassIn)",
                digits if index % 2 == 0 else "0" + digits[-10:],
                "2027-03-08 11:00:00",
                "2027-03-08 12:10:00",
                "1:10:00" if index % 2 == 0 else "35",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "classin.xlsx"
    path.write_bytes(buffer.getvalue())
    return path


async def _marks(session: AsyncSession, setup: Setup) -> dict[int, tuple[str, str, int | None]]:
    marks = await attendance_db.marks_of_session(session, setup.session_id)
    return {user_id: (m.status, m.source, m.minutes) for user_id, m in marks.items()}


def test_header_spellings_and_durations() -> None:
    assert column_of("Name (Original Name)") == "name"
    assert column_of("User Email") == "email"
    assert column_of("Duration (Minutes)") == "duration"
    assert column_of("进教室时间") == "join"
    assert column_of("Exit time") == "leave"
    assert column_of("Recording Consent") is None
    assert parse_duration("45") == 45
    assert parse_duration("1:05:30") == 65.5
    assert parse_duration("1h 5m") == 65
    assert parse_duration("1小时5分钟") == 65
    assert parse_duration("90", seconds=True) == 1.5
    assert parse_duration("soon") is None


async def test_a_zoom_report(session: AsyncSession, clock: ManualClock, tmp_path: Path) -> None:
    setup = await cohort_with_people(session)
    amina, bilal, aigerim, dilshod, farrukh = setup.user_ids
    clock.set(START + timedelta(minutes=2))
    await checkin.check_in(
        session, user_id=farrukh, session_id=setup.session_id, now=clock.now(), settings=SETTINGS
    )
    await checkin.check_in(
        session, user_id=aigerim, session_id=setup.session_id, now=clock.now(), settings=SETTINGS
    )
    await marking.mark(
        session,
        session_id=setup.session_id,
        user_id=dilshod,
        status=Presence.EXCUSED,
        actor_id=1,
        now=clock.now(),
    )
    clock.set(START + timedelta(hours=3))
    data = zoom_csv(tmp_path).read_bytes()

    dry = await classroom.import_report(
        session, session_id=setup.session_id, data=data, now=clock.now(), dry_run=True
    )
    assert dry.ok
    assert dry.changed == 4
    assert (await _marks(session, setup))[farrukh][1] == MarkSource.SELF

    outcome = await classroom.import_report(
        session, session_id=setup.session_id, data=data, now=clock.now()
    )
    assert outcome.ok, outcome.problems
    assert outcome.threshold == 54  # 60% of 90 minutes
    marks = await _marks(session, setup)
    assert marks[amina] == (Presence.PRESENT, MarkSource.CLASSROOM, 92)
    assert marks[bilal] == (Presence.PRESENT, MarkSource.CLASSROOM, 55)  # 30 + 25, rejoined
    assert marks[aigerim] == (Presence.ABSENT, MarkSource.CLASSROOM, 20)  # by name, too short
    assert marks[farrukh] == (Presence.PRESENT, MarkSource.CLASSROOM, 80)  # replaces "I'm here"
    assert marks[dilshod] == (Presence.EXCUSED, MarkSource.TRAINER, None)  # the trainer's stays
    assert outcome.kept == 1
    assert outcome.changed == 4
    assert [row.name for row in outcome.unmatched] == ["Guest Speaker"]
    assert outcome.unmatched[0].line == 10
    assert outcome.to_json()["unmatched_rows"][0]["email"] == "guest@example.org"

    again = await classroom.import_report(
        session, session_id=setup.session_id, data=data, now=clock.now()
    )
    assert again.ok
    assert again.changed == 0


async def test_a_classin_workbook_and_the_missing_are_absent(
    session: AsyncSession, clock: ManualClock, tmp_path: Path
) -> None:
    setup = await cohort_with_people(session, people=range(0, 4))
    clock.set(START + timedelta(hours=2))
    path = classin_xlsx(tmp_path, ROSTER[:3])
    outcome = await classroom.import_report(
        session, session_id=setup.session_id, data=path.read_bytes(), now=clock.now(), threshold=40
    )
    assert outcome.ok, outcome.problems
    marks = await _marks(session, setup)
    first, second, third, fourth = setup.user_ids
    assert marks[first] == (Presence.PRESENT, MarkSource.CLASSROOM, 70)  # full number
    assert marks[second] == (Presence.ABSENT, MarkSource.CLASSROOM, 35)  # local number
    assert marks[third] == (Presence.PRESENT, MarkSource.CLASSROOM, 70)
    assert marks[fourth] == (Presence.ABSENT, MarkSource.CLASSROOM, 0)  # not in the file
    assert [p.name for p in outcome.missing] == [ROSTER[3][0]]
    assert outcome.unmatched == []


async def test_another_cohorts_report_is_refused_and_nothing_changes(
    session: AsyncSession, clock: ManualClock, tmp_path: Path
) -> None:
    await cohort_with_people(session, "DT27-A", range(0, 5))
    other = await cohort_with_people(session, "DT27-B", range(5, 8), first_user=8101)
    clock.set(START + timedelta(hours=2))
    outcome = await classroom.import_report(
        session,
        session_id=other.session_id,
        data=zoom_csv(tmp_path).read_bytes(),
        now=clock.now(),
    )
    assert not outcome.ok
    assert "DT27-A" in outcome.problems[0]
    assert "DT27-B" in outcome.problems[0]
    assert await _marks(session, other) == {}


async def test_files_without_the_needed_columns_are_refused(
    session: AsyncSession, clock: ManualClock
) -> None:
    setup = await cohort_with_people(session, people=range(0, 2))
    no_minutes = b"Name,User Email\nAmina Nakato,amina.nakato@mtic.go.ug\n"
    outcome = await classroom.import_report(
        session, session_id=setup.session_id, data=no_minutes, now=clock.now()
    )
    assert outcome.problems == ["The file has no duration column, nor both join and leave times."]
    unreadable = b"Name,Duration\nAmina Nakato,a while\n"
    outcome = await classroom.import_report(
        session, session_id=setup.session_id, data=unreadable, now=clock.now()
    )
    assert outcome.problems == ["Line 2: the time in the session cannot be read."]
    assert not read_report(b"just some words\nand more\n").ok
    assert await _marks(session, setup) == {}
    # Join and leave times are enough without a duration.
    times = b"Name,Join Time,Leave Time\nAmina Nakato,2027-03-08 11:00:00,2027-03-08 12:00:00\n"
    outcome = await classroom.import_report(
        session, session_id=setup.session_id, data=times, now=clock.now()
    )
    assert outcome.ok
    assert (await _marks(session, setup))[setup.user_ids[0]][2] == 60
