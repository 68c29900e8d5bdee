"""Completion walked through the sandbox: a trainee's /progress, the organiser's /completion,
an exception recorded and shown, and the bad inputs. The real bot."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.clock import ManualClock
from bot.db.audit import AuditEntry
from bot.db.completion import CompletionException
from bot.db.models import User
from sandbox import Sandbox, SandboxUser
from tests.completion.support import ALL_MET, BEHIND, FORMS_LATE, NOW, story
from tests.support.e2e import RunningBot

pytestmark = pytest.mark.e2e

AMINA = SandboxUser(id=ALL_MET, first_name="Amina", language_code="en")
BILAL = SandboxUser(id=BEHIND, first_name="Muhammad", language_code="en")


async def _ask(sandbox: Sandbox, user: SandboxUser, text: str) -> str:
    await sandbox.send_text(user, text)
    return (await sandbox.next_bot_message(user.id)).content


async def test_progress_completion_and_an_exception(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock: ManualClock
) -> None:
    clock.set(NOW)
    async with running_bot.session_factory() as session:
        setup = await story(session)
        session.add(User(id=admin.id, first_name="Li", locale="en"))
        await session.commit()
    names = setup.names

    # The trainee sees each part, and keeps the attendance and forms figures.
    mine = await _ask(sandbox, AMINA, "/progress")
    assert "Attendance: 4 of 4 sessions (100%)" in mine
    assert "Feedback forms: 2 of 2 answered" in mine
    assert "✅ Attendance: 100% / 75%" in mine
    assert "✅ Feedback forms: 100% / 50%" in mine
    assert "✅ Session Lecture s2: attended" in mine
    assert "You meet every part so far." in mine
    behind = await _ask(sandbox, BILAL, "/progress")
    assert "⚠️ Attendance: 50% / 75%" in behind
    assert "⚠️ Session Lecture s2: missed" in behind
    assert "You are at risk of not completing" in behind

    # A trainee is refused the organisers' commands, and nothing changes.
    assert "Only the organisers" in await _ask(sandbox, BILAL, "/completion DT27-A")
    refused = await _ask(sandbox, BILAL, f"/completion_except DT27-A {names[BEHIND]} | please")
    assert "Only the organisers" in refused

    # The organiser's table: those at risk first.
    table = await _ask(sandbox, admin, "/completion DT27-A")
    assert table.startswith("Completion of DT27-A: 2 of 4 completed, 2 at risk.")
    lines = table.splitlines()
    first = [line for line in lines if line.startswith("• ")]
    assert {first[0].split(" — ")[0], first[1].split(" — ")[0]} == {
        f"• {names[BEHIND]}",
        f"• {names[FORMS_LATE]}",
    }
    assert "at risk" in first[0]
    assert "(Medical leave; followed the recordings)" in table
    assert "There is no cohort NOPE" in await _ask(sandbox, admin, "/completion NOPE")
    assert "Usage: /completion [COHORT]" in await _ask(sandbox, admin, "/completion A B")

    # Bad exceptions: no reason, nobody of that name, no such cohort.
    no_reason = await _ask(sandbox, admin, f"/completion_except DT27-A {names[BEHIND]}")
    assert "A reason is required" in no_reason
    nobody = await _ask(sandbox, admin, "/completion_except DT27-A Nobody Known | ill")
    assert "No active trainee of this cohort is called Nobody Known." in nobody
    assert "Usage:" in await _ask(sandbox, admin, "/completion_except DT27-A")
    assert "There is no cohort XX" in await _ask(sandbox, admin, "/completion_except XX A | b")
    async with running_bot.session_factory() as session:
        assert len((await session.exec(select(CompletionException))).all()) == 1

    # An exception recorded: the trainee completes, the log says who and why.
    done = await _ask(
        sandbox, admin, f"/completion_except DT27-A {names[BEHIND]} | Joined from the field office"
    )
    assert done == f"{names[BEHIND]} completes DT27-A by exception: Joined from the field office"
    table = await _ask(sandbox, admin, "/completion DT27-A")
    assert table.startswith("Completion of DT27-A: 3 of 4 completed, 1 at risk.")
    assert f"• {names[BEHIND]} — completed (exception):" in table
    async with running_bot.session_factory() as session:
        [entry] = (
            await session.exec(
                select(AuditEntry).where(col(AuditEntry.action) == "completion_exception")
            )
        ).all()
        assert (entry.actor_id, entry.user_id, entry.interface) == (admin.id, BEHIND, "telegram")
        assert entry.details["reason"] == "Joined from the field office"
    audit = await _ask(sandbox, admin, "/audit DT27-A")
    assert f"{names[BEHIND]} completes by exception: Joined from the field office" in audit

    # Removed again.
    gone = await _ask(sandbox, admin, f"/completion_unexcept DT27-A {names[BEHIND]}")
    assert gone == f"{names[BEHIND]}'s exception in DT27-A was removed."
    again = await _ask(sandbox, admin, f"/completion_unexcept DT27-A {names[BEHIND]}")
    assert again == f"{names[BEHIND]} has no exception to remove."


async def test_a_long_list_fits_one_message(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock: ManualClock
) -> None:
    from bot.db.models import Enrolment

    clock.set(NOW)
    async with running_bot.session_factory() as session:
        setup = await story(session)
        assert setup.cohort.id is not None
        for offset in range(300):
            user_id = 90000 + offset
            session.add(User(id=user_id, first_name=f"Trainee number {offset:03}", locale="en"))
            session.add(Enrolment(user_id=user_id, cohort_id=setup.cohort.id, status="active"))
        await session.commit()
    table = await _ask(sandbox, admin, "/completion DT27-A")
    assert len(table) <= 4096
    last = table.splitlines()[-1]
    assert last.startswith("…and ")
    assert last.endswith(" more")
    shown = sum(1 for line in table.splitlines() if line.startswith("• "))
    assert shown + int(last.split()[1]) == 304
