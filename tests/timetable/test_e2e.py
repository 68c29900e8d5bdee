"""The timetable walked through the sandbox over HTTP, as a trainee and as an organiser."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest
from babel.dates import format_interval
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import RoleGrant, User
from bot.i18n import babel_locale
from bot.scheduling.jobs import fast_forward_to
from bot.services import timetable
from handlers.timetable.organiser import PickCohort
from sandbox import Sandbox, SandboxUser, TranscriptEntry
from tests.support.e2e import RunningBot
from tests.timetable.support import TIMETABLE_CSV, add_trainee, at, changed_csv, make_cohort

pytestmark = pytest.mark.e2e


async def _setup(running_bot: RunningBot, clock: ManualClock, trainee_id: int) -> None:
    async with running_bot.session_factory() as session:
        cohort = await make_cohort(session)
        await add_trainee(session, trainee_id, cohort, zone="Asia/Tashkent", first_name="Amina")
        await _apply(session, clock, TIMETABLE_CSV)


async def _apply(session: AsyncSession, clock: ManualClock, data: bytes) -> None:
    await timetable.apply_import(
        session, data=data, filename="t.csv", clock=clock, cohort_code="DT27A"
    )


def _week(first_day: str) -> str:
    start = date.fromisoformat(first_day)
    return str(
        format_interval(start, start + timedelta(days=6), "yMMMd", locale=babel_locale("en"))
    )


def _buttons(entry: TranscriptEntry) -> list[str]:
    return [b.text for row in entry.buttons for b in row]


async def test_trainee_views_calendar_and_reminders(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock: ManualClock
) -> None:
    await _setup(running_bot, clock, trainee.id)
    await sandbox.next_bot_message(trainee.id)  # the "timetable is out" notice
    clock.set(at("2027-03-08 09:00"))

    await sandbox.send_text(trainee, "/schedule")
    week = await sandbox.next_bot_message(trainee.id)
    # The week's range as Babel writes it for this reader (CLDR's spacing around the dash
    # changes between releases; the dates are what the trainee reads).
    assert _week("2027-03-08") in week.content
    assert "14 Mar 2027" in week.content
    assert "19:00 Shanghai / 16:00 your time — Opening Ceremony" in week.content
    assert _buttons(week) == ["◀ Previous week", "Next week ▶"]
    await sandbox.press_button(trainee, week.message_id, week.buttons[0][1].callback_data or "")
    await sandbox.settle()
    [edited] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == week.message_id]
    assert _week("2027-03-15") in edited.content
    assert "21 Mar 2027" in edited.content
    assert "Digital Payment" in edited.content

    await sandbox.send_text(trainee, "/today")
    today = await sandbox.next_bot_message(trainee.id)
    assert "Today, Mon 8 Mar" in today.content
    assert "Opening Ceremony" in today.content
    assert today.buttons[0][0].url == "https://www.eeo.cn/live.php?lessonKey=dt27001"

    await sandbox.send_text(trainee, "/next")
    upcoming = await sandbox.next_bot_message(trainee.id)
    assert "Starts in 2 hours." in upcoming.content
    assert "Prof. Chen Wei" in upcoming.content
    assert upcoming.buttons[0][0].url is not None

    await sandbox.send_text(trainee, "/calendar")
    document = await sandbox.next_bot_message(trainee.id)
    assert document.document_name == "DT27A.ics"
    events = list(icalendar.Calendar.from_ical(document.document_bytes or b"").walk("VEVENT"))
    assert len(events) == 20

    await sandbox.send_text(trainee, "/reminders")
    menu = await sandbox.next_bot_message(trainee.id)
    assert "1 day and 15 minutes before (your cohort's default)" in menu.content
    hour = next(b for row in menu.buttons for b in row if b.text == "1 hour")
    await sandbox.press_button(trainee, menu.message_id, hour.callback_data or "")
    await sandbox.settle()
    [edited] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == menu.message_id]
    assert "Reminders: 1 hour before" in edited.content
    assert "✅ 1 hour" in _buttons(edited)
    async with running_bot.session_factory() as session:
        user = await session.get(User, trainee.id)
        assert user is not None
        assert user.reminder_offsets == [60]

    # Time runs on: the one-hour reminder arrives, in the trainee's clock, with the link.
    clock.set(at("2027-03-08 09:55"))
    await fast_forward_to(
        running_bot.session_factory, clock, running_bot.app.sender, at("2027-03-08 10:01")
    )
    reminder = await sandbox.next_bot_message(trainee.id)
    assert reminder.content.startswith("⏰ Opening Ceremony")
    assert "19:00 Shanghai / 16:00 your time" in reminder.content
    assert reminder.buttons[0][0].url == "https://www.eeo.cn/live.php?lessonKey=dt27001"


async def test_admin_uploads_a_changed_timetable_and_the_trainee_is_told(
    running_bot: RunningBot,
    sandbox: Sandbox,
    trainee: SandboxUser,
    admin: SandboxUser,
    clock: ManualClock,
) -> None:
    await _setup(running_bot, clock, trainee.id)
    async with running_bot.session_factory() as session:
        session.add(User(id=admin.id, first_name="Li", locale="en"))  # reads English
        await session.commit()
    await sandbox.next_bot_message(trainee.id)  # the "timetable is out" notice
    clock.advance(timedelta(days=5))
    changed = changed_csv(move=("2027-03-10", "20:00"))

    await sandbox.send_document(admin, "timetable-v2.csv", changed)
    ask = await sandbox.next_bot_message(admin.id)
    assert "Which cohort" in ask.content
    await sandbox.press_button(admin, ask.message_id, ask.buttons[0][0].callback_data or "")
    await sandbox.settle()
    [diff] = [m for m in sandbox.bot_messages(admin.id) if m.message_id == ask.message_id]
    assert "1 moved" in diff.content
    assert "Moved: Cross-border" in diff.content
    assert _buttons(diff) == ["✅ Confirm", "✖ Cancel"]
    await sandbox.press_button(admin, diff.message_id, diff.buttons[0][0].callback_data or "")

    notice = await sandbox.next_bot_message(trainee.id, timeout=10)
    assert "Timetable change" in notice.content
    assert "20:00 Shanghai / 17:00 your time" in notice.content
    [done] = [m for m in sandbox.bot_messages(admin.id) if m.message_id == diff.message_id]
    assert "updated" in done.content
    # The old buttons no longer do anything.
    query = await sandbox.press_button(
        admin, diff.message_id, diff.buttons[0][0].callback_data or ""
    )
    await sandbox.settle()
    assert sandbox.callback_answers[query]["text"] == "This button is no longer active."
    assert sandbox.unread_bot_messages(trainee.id) == []  # nobody is told twice


async def test_caption_names_the_cohort_and_a_bad_file_is_explained(
    running_bot: RunningBot,
    sandbox: Sandbox,
    trainee: SandboxUser,
    admin: SandboxUser,
    clock: ManualClock,
) -> None:
    await _setup(running_bot, clock, trainee.id)
    bad = TIMETABLE_CSV.replace(b"2027-03-09,19:00", b"2027-03-09,19:99")
    await sandbox.send_document(admin, "timetable.csv", bad, caption="DT27A")
    answer = await sandbox.next_bot_message(admin.id)
    assert "was not imported; nothing changed" in answer.content
    assert "3" in answer.content
    assert answer.buttons == []

    # A trainee's file is not taken for a timetable import.
    await sandbox.send_document(trainee, "timetable.csv", TIMETABLE_CSV, caption="DT27A")
    await sandbox.settle()
    assert not any("Apply these changes" in m.content for m in sandbox.bot_messages(trainee.id))


async def test_programme_staff_import_only_into_their_own_cohorts(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock: ManualClock
) -> None:
    await _setup(running_bot, clock, trainee.id)
    coordinator = SandboxUser(id=8101, first_name="Olga", language_code="en")
    outsider = SandboxUser(id=8102, first_name="Ravi", language_code="en")
    async with running_bot.session_factory() as session:
        ours = await make_cohort(session, "DT27B", programme_code="DT27A")
        theirs = await make_cohort(session, "AG27A")
        for person, cohort in ((coordinator, ours), (outsider, theirs)):
            session.add(User(id=person.id, first_name=person.first_name, locale="en"))
            session.add(
                RoleGrant(user_id=person.id, programme_id=cohort.programme_id, role="coordinator")
            )
        await session.commit()
        other_cohort_id = theirs.id
    await sandbox.next_bot_message(trainee.id)  # the "timetable is out" notice
    changed = changed_csv(move=("2027-03-10", "20:00"))

    # An organiser of another programme: DT27A is unknown to them, and their buttons list
    # only their own cohort.
    await sandbox.send_document(outsider, "timetable-v2.csv", changed, caption="DT27A")
    ask = await sandbox.next_bot_message(outsider.id)
    assert "There is no cohort “DT27A”" in ask.content
    assert [b.text for row in ask.buttons for b in row] == ["AG27A — Cohort AG27A"]

    # The coordinator of the programme sees both of its cohorts and applies the change.
    await sandbox.send_document(coordinator, "timetable-v2.csv", changed)
    ask = await sandbox.next_bot_message(coordinator.id)
    assert [b.text for row in ask.buttons for b in row] == [
        "DT27A — Cohort DT27A",
        "DT27B — Cohort DT27B",
    ]
    # A forged button for a cohort outside the programme is refused and changes nothing.
    token = PickCohort.unpack(ask.buttons[0][0].callback_data or "").token
    forged = PickCohort(token=token, cohort_id=other_cohort_id or 0).pack()
    query = await sandbox.press_button(coordinator, ask.message_id, forged)
    await sandbox.settle()
    assert sandbox.callback_answers[query]["text"] == "This button is no longer active."

    await sandbox.press_button(coordinator, ask.message_id, ask.buttons[0][0].callback_data or "")
    await sandbox.settle()
    [diff] = [m for m in sandbox.bot_messages(coordinator.id) if m.message_id == ask.message_id]
    assert "1 moved" in diff.content
    await sandbox.press_button(coordinator, diff.message_id, diff.buttons[0][0].callback_data or "")
    notice = await sandbox.next_bot_message(trainee.id, timeout=10)
    assert "20:00 Shanghai / 17:00 your time" in notice.content
