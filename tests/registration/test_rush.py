"""A registration rush against Telegram's limits: the links go out, everyone opens theirs.

The sandbox counts strictly (30 calls in any sliding second, every write included; one
message a second per person with a burst of three), as Telegram may.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlmodel import col, select

from bot.db.models import Enrolment, RosterEntry
from sandbox import Limits, Sandbox, SandboxUser
from tests.registration.conftest import PROGRAMME_YAML, import_roster_bytes, import_yaml
from tests.support.e2e import RunningBot

pytestmark = pytest.mark.e2e

TRAINEES = 60
AT_A_TIME = 20
COUNTRIES = ["Uganda", "Kenya", "Pakistan", "Uzbekistan", "Egypt", "Nepal", "Peru", "Serbia"]


def roster(count: int) -> bytes:
    lines = ["Full name,Country,Organisation,Email,Preferred language"]
    for n in range(count):
        country = COUNTRIES[n % len(COUNTRIES)]
        lines.append(f"Rush Trainee {n},{country},Ministry {n % 7},rush{n}@example.org,English")
    return ("\n".join(lines) + "\n").encode()


async def register(
    sandbox: Sandbox, person: SandboxUser, code: str, gate: asyncio.Semaphore
) -> str:
    async with gate:
        await sandbox.send_text(person, f"/start {code}")
        question = await sandbox.next_bot_message(person.id, timeout=60)
        assert question.buttons, question.text
        await sandbox.press_button(
            person, question.message_id, question.buttons[0][0].callback_data or ""
        )
        welcome = await sandbox.next_bot_message(person.id, timeout=60)
        return welcome.text or ""


async def test_a_rush_of_trainees_all_registered_and_welcomed(
    running_bot: RunningBot, sandbox: Sandbox, clock, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot.session_factory() as session:
        await import_yaml(session, PROGRAMME_YAML, clock)
        await import_roster_bytes(session, "A-ROSTER", roster(TRAINEES), clock)
        entries = (await session.exec(select(RosterEntry).order_by(col(RosterEntry.id)))).all()
    sandbox.limits = Limits(strict=True)
    people = [SandboxUser(id=600_000 + n, first_name=f"R{n}") for n in range(TRAINEES)]
    gate = asyncio.Semaphore(AT_A_TIME)
    with caplog.at_level(logging.WARNING):
        welcomes = await asyncio.gather(
            *(
                register(sandbox, person, entry.personal_code, gate)
                for person, entry in zip(people, entries, strict=True)
            )
        )
        await sandbox.settle()

    assert all("Welcome" in text for text in welcomes)
    async with running_bot.session_factory() as session:
        bound = (
            await session.exec(select(Enrolment).where(col(Enrolment.user_id).is_not(None)))
        ).all()
    assert {e.user_id for e in bound} == {p.id for p in people}
    # Nothing failed, and the bot kept inside the limits instead of learning them from 429s.
    assert "failed" not in caplog.text
    assert sandbox.rate_limited == []
    for person in people:
        texts = [m.text or "" for m in sandbox.bot_messages(person.id)]
        assert sum("Welcome" in t for t in texts) == 1
