"""Clean names and clear answers at the edges, walked through the sandbox: a trainee renames
themselves with hidden characters, sends a file, uses a command in the wrong kind of chat; an
organiser names a cohort of another programme. The real bot, polling over HTTP."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from bot.db.models import RosterEntry
from sandbox import Sandbox, SandboxChat, SandboxUser
from tests.registration.conftest import import_yaml
from tests.registration.e2e_support import (
    AMINA_EMAIL,
    ROSTER_CSV,
    _code_of,
    _grant,
    _press,
    _register,
    _say,
    _setup,
)
from tests.support.e2e import RunningBot

RLO = "\u202e"
ZWSP = "\u200b"

THIRD_PROGRAMME_YAML = """
code: PROG-C
titles: {en: Port Logistics}
cohorts:
  - {code: C-ONE, name: Ports cohort, registration: open}
"""


async def test_a_name_with_a_direction_override_is_stored_and_exported_clean(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))

    profile = await _say(sandbox, trainee, "/profile")
    await _press(sandbox, trainee, profile, "Full name")
    await sandbox.next_bot_message(trainee.id)
    # Shown as "Amina Nakato fdp.exe" in a chat that obeys the override; stored as typed.
    saved = await _say(sandbox, trainee, f"Amina{ZWSP} Nakato {RLO}exe.pdf")
    assert "Saved." in (saved.text or "")
    assert "Amina Nakato exe.pdf" in (saved.text or "")
    assert RLO not in (saved.text or "")

    async with running_bot.session_factory() as session:
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.email == AMINA_EMAIL))
        ).one()
    assert entry.full_name == "Amina Nakato exe.pdf"

    export = await _say(sandbox, admin, "/roster A-ROSTER")
    assert export.document_bytes is not None
    rows = list(csv.reader(io.StringIO(export.document_bytes.decode("utf-8-sig"))))
    names = [row[0] for row in rows[1:]]
    assert "Amina Nakato exe.pdf" in names
    assert not any(RLO in name or ZWSP in name for name in names)


async def test_a_name_of_hidden_characters_only_is_refused(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    profile = await _say(sandbox, trainee, "/profile")
    await _press(sandbox, trainee, profile, "Full name")
    await sandbox.next_bot_message(trainee.id)
    refused = await _say(sandbox, trainee, f"{RLO}{ZWSP}\u2066 \ufeff")
    assert refused.text == "Please write your full name as in your passport."
    kept = await _say(sandbox, trainee, "/profile")
    assert "Amina Nakato" in (kept.text or "")


async def test_a_file_from_a_trainee_is_answered_with_who_imports_files(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    for name in ("roster.csv", "timetable.xlsx", "faq.yaml", "photo.pdf"):
        await sandbox.send_document(trainee, name, ROSTER_CSV)
        answer = await sandbox.next_bot_message(trainee.id)
        assert "Only the programme's organisers can import files." in (answer.text or ""), name
        assert "did not understand" not in (answer.text or "")


async def test_group_commands_in_private_and_private_commands_in_a_group(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    link = await _say(sandbox, admin, "/link A-ROSTER")
    assert "Use /link in the cohort's group chat" in (link.text or "")
    assert "send /link COHORT_CODE there" in (link.text or "")
    staff = await _say(sandbox, admin, "/link_staff")
    assert "Use /link_staff in the staff group" in (staff.text or "")
    mine = await _say(sandbox, trainee, "/link")
    assert "Use /link in the cohort's group chat" in (mine.text or "")
    unknown = await _say(sandbox, trainee, "/frobnicate")
    assert "I do not know the command /frobnicate" in (unknown.text or "")

    group = SandboxChat(-100700, "supergroup", "Cohort A chat")
    await sandbox.add_bot_to_group(admin, group)
    await sandbox.next_bot_message(group.id)  # the bot's hello
    sandbox.set_chat_member(group.id, trainee, "member")
    await sandbox.send_text(trainee, "/profile", chat=group)
    pointer = await sandbox.next_bot_message(group.id)
    assert pointer.text == (
        "/profile works in a private chat with me: open the chat and send it there."
    )
    await sandbox.send_text(trainee, "/progress@trainee_assistant_bot", chat=group)
    pointer = await sandbox.next_bot_message(group.id)
    assert "/progress works in a private chat" in (pointer.text or "")
    # Another bot's command, or one that is not ours, is the group's business.
    before = len(sandbox.bot_messages(group.id))
    await sandbox.send_text(trainee, "/profile@some_other_bot", chat=group)
    await sandbox.send_text(trainee, "/frobnicate", chat=group)
    await sandbox.send_text(trainee, "hello everyone", chat=group)
    await sandbox.settle()
    assert len(sandbox.bot_messages(group.id)) == before


async def test_a_cohort_of_another_programme_names_the_organisers_programmes(
    running_bot: RunningBot, sandbox: Sandbox, clock
) -> None:
    await _setup(running_bot, clock)
    async with running_bot.session_factory() as session:
        await import_yaml(session, THIRD_PROGRAMME_YAML, clock)
    organiser = SandboxUser(id=8300, first_name="Bea", language_code="en")
    await _grant(running_bot, organiser.id, "PROG-B", "admin", clock)
    await _grant(running_bot, organiser.id, "PROG-C", "coordinator", clock)
    for command in ("/roster A-ROSTER", "/invite A-ROSTER", "/results A-ROSTER"):
        answer = await _say(sandbox, organiser, command)
        text = answer.text or ""
        assert answer.document_name is None, command
        assert (
            "There is no cohort A-ROSTER among the programmes you organise (PROG-B and PROG-C)"
            in text
        ), command
        assert "Cohort A" not in text, command
        assert "PROG-A" not in text, command
    report = await _say(sandbox, organiser, "/attendance_report A-ROSTER")
    assert report.text == "A-ROSTER is not one of your cohorts. Yours: B-ONE and C-ONE."
    # Their own cohort still answers as before.
    own = await _say(sandbox, organiser, "/invite B-ONE")
    assert "There is no cohort" not in (own.text or "")
