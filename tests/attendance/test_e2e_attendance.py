"""Attendance walked through the sandbox over HTTP: "I'm here" on /next, a trainer's sheet,
the code typed wrong then right, and someone who is no trainer refused. The real bot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.clock import ManualClock
from bot.db import attendance as attendance_db
from bot.db.attendance import MarkSource
from bot.db.models import Programme, TrainingSession, User
from sandbox import Sandbox, SandboxUser, TranscriptEntry
from tests.support.e2e import RunningBot
from tests.timetable.support import TIMETABLE_CSV, add_trainee, at, make_cohort

pytestmark = pytest.mark.e2e

TRAINER = SandboxUser(id=7300, first_name="Chen", language_code="en")
SECOND = SandboxUser(id=7002, first_name="Bilal", language_code="en")
#: The sample timetable's first session, the Opening Ceremony (19:00 Shanghai).
OPENING = at("2027-03-08 11:00")


def _button(entry: TranscriptEntry, text: str) -> str:
    for row in entry.buttons:
        for found in row:
            if text in found.text:
                return found.callback_data or ""
    raise AssertionError(f"no button {text!r} in {entry.buttons}")


async def _setup(
    bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser, trainee: SandboxUser
) -> int:
    """Cohort DT27A with two trainees and the sample timetable; the admin makes a trainer."""
    from bot.services import timetable

    async with bot.session_factory() as session:
        cohort = await make_cohort(session)
        await add_trainee(session, trainee.id, cohort, first_name="Amina")
        await add_trainee(session, SECOND.id, cohort, first_name="Bilal")
        session.add(User(id=admin.id, first_name="Li", locale="en"))
        await session.commit()
        await timetable.apply_import(
            session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code="DT27A"
        )
        opening = (
            await session.exec(
                select(TrainingSession).where(col(TrainingSession.starts_at) == OPENING)
            )
        ).first()
    assert opening is not None
    assert opening.id is not None
    await sandbox.next_bot_message(trainee.id)  # the "timetable is out" notices
    await sandbox.next_bot_message(SECOND.id)
    await sandbox.send_text(admin, f"/grant {TRAINER.id} trainer DT27A")
    done = await sandbox.next_bot_message(admin.id)
    assert f"Done: {TRAINER.id} is now a trainer of DT27A." in done.content
    return opening.id


async def _press(sandbox: Sandbox, user: SandboxUser, entry: TranscriptEntry, data: str) -> str:
    query = await sandbox.press_button(user, entry.message_id, data)
    await sandbox.settle()
    return str(sandbox.callback_answers[query].get("text", ""))


def _edited(sandbox: Sandbox, user: SandboxUser, entry: TranscriptEntry) -> TranscriptEntry:
    [now] = [m for m in sandbox.bot_messages(user.id) if m.message_id == entry.message_id]
    return now


async def test_check_in_on_next_and_the_trainers_sheet(
    running_bot: RunningBot,
    sandbox: Sandbox,
    trainee: SandboxUser,
    admin: SandboxUser,
    clock: ManualClock,
) -> None:
    session_id = await _setup(running_bot, sandbox, clock, admin, trainee)
    clock.set(datetime(2027, 3, 8, 10, 40, tzinfo=UTC))
    await sandbox.send_text(trainee, "/next")
    early = await sandbox.next_bot_message(trainee.id)
    assert all("I'm here" not in b.text for row in early.buttons for b in row)
    too_early = await _press(sandbox, trainee, early, f"atin:{session_id}")
    assert too_early.startswith("Check-in is not open yet: it opens at 18:50 Shanghai")

    clock.set(datetime(2027, 3, 8, 10, 55, tzinfo=UTC))
    await sandbox.send_text(trainee, "/next")
    upcoming = await sandbox.next_bot_message(trainee.id)
    answer = await _press(sandbox, trainee, upcoming, _button(upcoming, "I'm here"))
    assert answer == "✅ You are checked in: present."
    again = await _press(sandbox, trainee, upcoming, _button(upcoming, "I'm here"))
    assert again == "You have already checked in (present); nothing changed."

    await sandbox.send_text(TRAINER, "/attendance")
    sheet = await sandbox.next_bot_message(TRAINER.id)
    assert "Opening Ceremony" in sheet.content
    assert "Amina Nakato — present" in sheet.content
    assert "Bilal — not marked" in sheet.content
    # Bilal: present, late, absent.
    for _press_count in range(3):
        await _press(sandbox, TRAINER, sheet, _button(sheet, "Bilal"))
    assert "Bilal — absent" in _edited(sandbox, TRAINER, sheet).content

    # Bilal's own "I'm here" later changes nothing: the trainer's mark stays.
    clock.set(datetime(2027, 3, 8, 11, 5, tzinfo=UTC))
    await sandbox.send_text(SECOND, "/next")
    his = await sandbox.next_bot_message(SECOND.id)
    told = await _press(sandbox, SECOND, his, _button(his, "I'm here"))
    assert told == "Your attendance is already marked (absent); nothing changed."

    note = await _press(sandbox, TRAINER, sheet, _button(sheet, "Everyone present"))
    assert note == "1 marked present."
    final = _edited(sandbox, TRAINER, sheet).content
    assert "Amina Nakato — present" in final
    assert "Bilal — absent" in final
    async with running_bot.session_factory() as session:
        marks = await attendance_db.marks_of_session(session, session_id)
    assert marks[trainee.id].source == MarkSource.TRAINER
    assert (marks[SECOND.id].status, marks[SECOND.id].source) == ("absent", MarkSource.TRAINER)


async def test_the_code_typed_wrong_then_right(
    running_bot: RunningBot,
    sandbox: Sandbox,
    trainee: SandboxUser,
    admin: SandboxUser,
    clock: ManualClock,
) -> None:
    session_id = await _setup(running_bot, sandbox, clock, admin, trainee)
    async with running_bot.session_factory() as session:
        programme = (await session.exec(select(Programme))).first()
        assert programme is not None
        programme.rules = {"attendance": {"check_in": "code"}}
        await session.commit()
    clock.set(datetime(2027, 3, 8, 11, 3, 10, tzinfo=UTC))
    await sandbox.send_text(trainee, "/next")
    upcoming = await sandbox.next_bot_message(trainee.id)
    await _press(sandbox, trainee, upcoming, _button(upcoming, "I'm here"))
    asked = await sandbox.next_bot_message(trainee.id)
    assert "Type the 4-digit code" in asked.content

    await sandbox.send_text(TRAINER, "/code")
    shown = await sandbox.next_bot_message(TRAINER.id)
    assert "Check-in code for Opening Ceremony and Programme Briefing (DT27A):" in shown.content
    code = shown.content.splitlines()[1]
    assert len(code) == 4
    assert code.isdigit()
    assert "next at 19:04" in shown.content
    wrong = "0000" if code != "0000" else "1111"

    await sandbox.send_text(trainee, wrong)
    retry = await sandbox.next_bot_message(trainee.id)
    assert "not the session's code. Type it again" in retry.content
    await sandbox.send_text(trainee, code)
    done = await sandbox.next_bot_message(trainee.id)
    assert done.content == "✅ You are checked in: present."
    async with running_bot.session_factory() as session:
        mark = await attendance_db.get_mark(session, session_id, trainee.id)
    assert mark is not None
    assert mark.source == MarkSource.CODE
    # The code is not taken for a question afterwards, nor is it asked again.
    assert sandbox.unread_bot_messages(trainee.id) == []


async def test_someone_who_trains_nothing_is_refused(
    running_bot: RunningBot,
    sandbox: Sandbox,
    trainee: SandboxUser,
    admin: SandboxUser,
    clock: ManualClock,
) -> None:
    await _setup(running_bot, sandbox, clock, admin, trainee)
    refused = "Only a cohort's trainers and its programme's organisers can do this."
    for command in ("/attendance", "/code", "/attendance_report"):
        await sandbox.send_text(trainee, command)
        answer = await sandbox.next_bot_message(trainee.id)
        assert answer.content == refused
    # The trainer's report.
    clock.set(datetime(2027, 3, 8, 13, 0, tzinfo=UTC))
    await sandbox.send_text(TRAINER, "/attendance_report")
    summary = await sandbox.next_bot_message(TRAINER.id)
    assert "Attendance of DT27A" in summary.content
    assert "0 present, 0 late, 0 absent, 0 excused, 2 unmarked" in summary.content
