"""What the registration walk-throughs share: the programmes and roster set up, a trainee's
personal code, a role granted, buttons pressed, the cohort form filled in."""

from __future__ import annotations

from sqlmodel import select

from bot.db.models import Cohort, Enrolment, RosterEntry
from bot.services import roles
from sandbox import Sandbox, SandboxUser, TranscriptEntry
from tests.registration.conftest import (
    EXAMPLES,
    OTHER_PROGRAMME_YAML,
    PROGRAMME_YAML,
    import_roster_bytes,
    import_yaml,
)
from tests.support.e2e import RunningBot
from tests.support.settings import make_settings

ROSTER_CSV = (EXAMPLES / "roster.csv").read_bytes()
TIMETABLE_CSV = (EXAMPLES / "timetable.csv").read_bytes()
AMINA_EMAIL = "amina.nakato@mtic.go.ug"
BILAL_EMAIL = "bilal.qureshi@tdap.gov.pk"


async def _setup(bot: RunningBot, clock, roster: bytes | None = ROSTER_CSV) -> None:
    async with bot.session_factory() as session:
        await import_yaml(session, PROGRAMME_YAML, clock)
        await import_yaml(session, OTHER_PROGRAMME_YAML, clock)
        if roster is not None:
            await import_roster_bytes(session, "A-ROSTER", roster, clock)


async def _code_of(bot: RunningBot, email: str) -> str:
    async with bot.session_factory() as session:
        entry = (await session.exec(select(RosterEntry).where(RosterEntry.email == email))).one()
        return entry.personal_code


async def _grant(bot: RunningBot, user_id: int, programme: str, role: str, clock) -> None:
    async with bot.session_factory() as session:
        result = await roles.change_grant(
            session,
            actor_id=None,
            user_id=user_id,
            programme_code=programme,
            role_word=role,
            grant=True,
            settings=make_settings(),
            now=clock.now(),
        )
        assert result.outcome == roles.GrantOutcome.DONE


def _button(entry: TranscriptEntry, text: str) -> str:
    for row in entry.buttons:
        for button in row:
            if text in button.text:
                return button.callback_data or ""
    raise AssertionError(f"no button {text!r} in {entry.buttons}")


async def _press(sb: Sandbox, user: SandboxUser, entry: TranscriptEntry, text: str) -> None:
    await sb.press_button(user, entry.message_id, _button(entry, text))


async def _say(sb: Sandbox, user: SandboxUser, text: str) -> TranscriptEntry:
    await sb.send_text(user, text)
    return await sb.next_bot_message(user.id)


async def _enrolment(bot: RunningBot, user_id: int, cohort_code: str) -> Enrolment | None:
    async with bot.session_factory() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.code == cohort_code))).one()
        return (
            await session.exec(
                select(Enrolment).where(
                    Enrolment.user_id == user_id, Enrolment.cohort_id == cohort.id
                )
            )
        ).first()


# --- personal links -------------------------------------------------------------------------


async def _fill_form(
    sb: Sandbox, user: SandboxUser, cohort: str, email: str, country: str = "Узбекистан"
) -> TranscriptEntry:
    intro = await _say(sb, user, f"/start {cohort}")
    assert "Five short questions" in (intro.text or "")
    ask_name = await sb.next_bot_message(user.id)
    assert "full name" in (ask_name.text or "")
    ask_country = await _say(sb, user, f"{user.first_name} Testova")
    assert "country" in (ask_country.text or "")
    ask_org = await _say(sb, user, country)
    assert "organisation" in (ask_org.text or "")
    ask_email = await _say(sb, user, "Ministry of Trade")
    assert "e-mail" in (ask_email.text or "")
    consent = await _say(sb, user, email)
    assert "Privacy notice" in (consent.text or "")
    await _press(sb, user, consent, "I agree")
    return await sb.next_bot_message(user.id)


async def _register(sb: Sandbox, user: SandboxUser, code: str) -> None:
    """Open a personal link, answer Yes, and read what the bot said."""
    ask = await _say(sb, user, f"/start {code}")
    await _press(sb, user, ask, "Yes")
    await sb.settle()
    sb.unread_bot_messages(user.id)
