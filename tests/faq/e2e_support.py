"""What the FAQ's walk-throughs share: a cohort with trainees and the sample FAQ, the staff
forum linked, a question asked, what the sender owes delivered."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.scheduling import jobs
from bot.services.faq import library
from sandbox import Sandbox, SandboxChat, SandboxUser
from sandbox.models import TranscriptEntry
from tests.faq.import_support import FAQ_YAML, PROGRAMME
from tests.support.e2e import RunningBot
from tests.timetable.support import add_trainee, make_cohort


def button(entry: TranscriptEntry, text: str) -> str:
    """The data of the button whose label holds ``text``."""
    for row in entry.buttons:
        for found in row:
            if text in found.text:
                return found.callback_data or ""
    raise AssertionError(f"no button {text!r} in {entry.buttons}")


async def setup(bot: RunningBot, clock: ManualClock, *people: tuple[SandboxUser, str]) -> None:
    """Cohort DT27-A of the sample programme, these trainees (each with a locale), its FAQ."""
    async with bot.session_factory() as session:
        cohort = await make_cohort(session, "DT27-A", programme_code=PROGRAMME)
        for person, locale in people:
            await add_trainee(
                session, person.id, cohort, locale=locale, first_name=person.first_name
            )
        outcome = await library.import_faq(
            session, PROGRAMME, FAQ_YAML.read_bytes(), "faq.yaml", clock.now()
        )
        assert outcome.ok


async def link_staff(sandbox: Sandbox, admin: SandboxUser, staff: SandboxChat) -> None:
    """The admin makes ``staff`` a forum and links it as the programme's staff group."""
    await sandbox.create_forum(admin, staff)
    await sandbox.settle()
    sandbox.unread_bot_messages(staff.id)
    await sandbox.send_text(admin, f"/link_staff {PROGRAMME}", chat=staff)
    done = await sandbox.next_bot_message(staff.id)
    assert "one topic per trainee" in done.content


async def delivered(bot: RunningBot, clock: ManualClock) -> None:
    """Until the sender sent what is due: a group gets one message every few seconds."""
    await jobs.wait_until_delivered(bot.session_factory, clock, bot.app.sender)
    await bot.sandbox.settle()


async def ask(sandbox: Sandbox, user: SandboxUser, text: str) -> TranscriptEntry:
    """``user`` types ``text``; the bot's next message to them."""
    await sandbox.send_text(user, text)
    return await sandbox.next_bot_message(user.id)
