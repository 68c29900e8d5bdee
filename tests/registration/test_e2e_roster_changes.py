"""Organisers correct what changed, walked through the sandbox: a roster re-imported as a diff
(people gone from the file withdrawn and told once), one person moved to another cohort,
withdrawn or replaced with /trainee, and /audit showing each change. The real bot, polling
over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.db.models import Cohort, RosterEntry, User
from bot.scheduling.jobs import fast_forward_to
from bot.services import timetable
from handlers.trainees import TraineeMove
from sandbox import Sandbox, SandboxUser, TranscriptEntry
from tests.registration.e2e_support import (
    AMINA_EMAIL,
    BILAL_EMAIL,
    ROSTER_CSV,
    TIMETABLE_CSV,
    _code_of,
    _enrolment,
    _grant,
    _press,
    _register,
    _say,
    _setup,
)
from tests.support.e2e import RunningBot

pytestmark = pytest.mark.e2e

AIGERIM_EMAIL = "a.zhaksylykova@qaztrade.kz"
OFF_THE_LIST = "taken you off the list of trainees"


def _roster_without(*emails: str) -> bytes:
    """The sample roster without the people of ``emails``."""
    lines = ROSTER_CSV.decode("utf-8-sig").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if not any(e in line for e in emails)]
    return ("\n".join(kept) + "\n").encode()


async def _now_reads(sb: Sandbox, user: SandboxUser, entry: TranscriptEntry) -> TranscriptEntry:
    """The message as it reads after the bot edited it."""
    await sb.settle()
    [now] = [m for m in sb.bot_messages(user.id) if m.message_id == entry.message_id]
    return now


async def _admin_reads_english(bot: RunningBot, admin: SandboxUser) -> None:
    async with bot.session_factory() as session:
        session.add(User(id=admin.id, first_name=admin.first_name, locale="en"))
        await session.commit()


def _texts(sb: Sandbox, user: SandboxUser) -> list[str]:
    return [m.text or "" for m in sb.unread_bot_messages(user.id)]


async def test_reimported_roster_shows_the_diff_and_withdraws_those_gone_once(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _admin_reads_english(running_bot, admin)
    bilal = SandboxUser(id=7002, first_name="Bilal", language_code="en")
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    await _register(sandbox, bilal, await _code_of(running_bot, BILAL_EMAIL))
    unbound_code = await _code_of(running_bot, AIGERIM_EMAIL)

    new_roster = _roster_without(AMINA_EMAIL, BILAL_EMAIL).replace(
        b"QazTrade Trade Policy Development Centre", b"Ministry B"
    )
    await sandbox.send_document(admin, "roster.csv", new_roster, caption="A-ROSTER")
    preview = await sandbox.next_bot_message(admin.id)
    text = preview.text or ""
    assert "No longer in the file: 2" in text
    assert "Amina Nakato" in text
    assert "Muhammad Bilal Qureshi" in text
    assert (
        "Aigerim Zhaksylykova: organisation QazTrade Trade Policy Development Centre → Ministry B"
        in text
    )
    assert "On Confirm they are withdrawn and told." in text
    assert len(text) <= 4096
    assert "☑ Tell them" in [b.text for row in preview.buttons for b in row]
    # Nothing changed before Confirm.
    enrolment = await _enrolment(running_bot, trainee.id, "A-ROSTER")
    assert enrolment is not None
    assert enrolment.status == "active"

    await _press(sandbox, admin, preview, "Confirm")
    links = await sandbox.next_bot_message(admin.id, timeout=10)
    assert links.document_name == "links-A-ROSTER.csv"
    done = await _now_reads(sandbox, admin, preview)
    assert "2 people withdrawn, 2 told." in (done.text or "")

    for person in (trainee, bilal):
        told = await sandbox.next_bot_message(person.id)
        assert OFF_THE_LIST in (told.text or "")
        assert "Cohort A" in (told.text or "")
        status = await _enrolment(running_bot, person.id, "A-ROSTER")
        assert status is not None
        assert status.status == "withdrawn"
    # The one who was changed keeps their link.
    still = await _say(sandbox, SandboxUser(id=7003, first_name="Ai"), f"/start {unbound_code}")
    assert "Are you Aigerim Zhaksylykova, Ministry B" in (still.text or "")

    # The same file again: nobody is gone any more, and nobody is told twice.
    await sandbox.send_document(admin, "roster.csv", new_roster, caption="A-ROSTER")
    again = await sandbox.next_bot_message(admin.id)
    assert "No longer in the file" not in (again.text or "")
    assert "Unchanged: 38" in (again.text or "")
    await _press(sandbox, admin, again, "Confirm")
    await sandbox.next_bot_message(admin.id, timeout=10)
    await sandbox.settle()
    for person in (trainee, bilal):
        assert not any(OFF_THE_LIST in t for t in _texts(sandbox, person))

    # Their personal links are dead; the audit log has both, from the import.
    dead = await _say(sandbox, trainee, f"/start {await _code_of(running_bot, AMINA_EMAIL)}")
    assert "no longer valid" in (dead.text or "")
    audit = await _say(sandbox, admin, "/audit A-ROSTER")
    log = audit.text or ""
    assert "Amina Nakato withdrawn: no longer in the roster file (told)" in log
    assert "Muhammad Bilal Qureshi withdrawn: no longer in the roster file (told)" in log
    assert "by a roster import" in log


async def test_unticking_tell_them_withdraws_without_a_word(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _admin_reads_english(running_bot, admin)
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    await sandbox.send_document(
        admin, "roster.csv", _roster_without(AMINA_EMAIL), caption="A-ROSTER"
    )
    preview = await sandbox.next_bot_message(admin.id)
    await _press(sandbox, admin, preview, "Tell them")
    unticked = await _now_reads(sandbox, admin, preview)
    assert "withdrawn without being told" in (unticked.text or "")
    assert "☐ Tell them" in [b.text for row in unticked.buttons for b in row]
    await _press(sandbox, admin, unticked, "Confirm")
    await sandbox.next_bot_message(admin.id, timeout=10)
    done = await _now_reads(sandbox, admin, preview)
    assert "1 person withdrawn, 0 told." in (done.text or "")
    enrolment = await _enrolment(running_bot, trainee.id, "A-ROSTER")
    assert enrolment is not None
    assert enrolment.status == "withdrawn"
    assert _texts(sandbox, trainee) == []


def _opening(cohort: str) -> bytes:
    """The sample timetable, its sessions named after the cohort."""
    return TIMETABLE_CSV.replace(b"Opening Ceremony", f"{cohort} Opening".encode())


async def test_a_trainee_moved_gets_the_other_cohorts_timetable_and_reminders(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _admin_reads_english(running_bot, admin)
    async with running_bot.session_factory() as session:
        for code in ("A-ROSTER", "A-OPEN"):
            await timetable.apply_import(
                session, data=_opening(code), filename="t.csv", clock=clock, cohort_code=code
            )
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    before = await _say(sandbox, trainee, "/next")
    assert "A-ROSTER Opening" in before.content

    # The day before the opening, the 24-hour reminder of A-ROSTER's session is queued.
    clock.set(datetime(2027, 3, 7, 10, 0, tzinfo=UTC))
    await fast_forward_to(
        running_bot.session_factory,
        clock,
        running_bot.app.sender,
        datetime(2027, 3, 7, 10, 5, tzinfo=UTC),
    )
    sandbox.unread_bot_messages(trainee.id)

    card = await _say(sandbox, admin, f"/trainee {AMINA_EMAIL}")
    text = card.text or ""
    assert "Amina Nakato" in text
    assert "Cohort: A-ROSTER" in text
    assert "Status: registered" in text
    assert "Reachable: yes" in text
    assert "Language: en" in text
    await _press(sandbox, admin, card, "Move to cohort")
    choose = await _now_reads(sandbox, admin, card)
    assert "A-OPEN" in [b.text for row in choose.buttons for b in row]
    await _press(sandbox, admin, choose, "A-OPEN")
    moved = await _now_reads(sandbox, admin, card)
    assert "Amina Nakato moved from A-ROSTER to A-OPEN" in (moved.text or "")

    told = await sandbox.next_bot_message(trainee.id)
    assert "moved you from Cohort A (A-ROSTER) to Open cohort (A-OPEN)" in (told.text or "")
    after = await _say(sandbox, trainee, "/next")
    assert "A-OPEN Opening" in after.content
    assert "A-ROSTER Opening" not in after.content

    # Time runs to the reminder: it is the new cohort's session, not the old one's.
    await fast_forward_to(
        running_bot.session_factory,
        clock,
        running_bot.app.sender,
        datetime(2027, 3, 7, 11, 30, tzinfo=UTC),
    )
    reminders = [t for t in _texts(sandbox, trainee) if t.startswith("⏰")]
    assert reminders
    assert all("A-OPEN Opening" in t for t in reminders)

    audit = await _say(sandbox, admin, "/audit")
    assert "Amina Nakato moved from A-ROSTER to A-OPEN" in (audit.text or "")
    assert "in Telegram" in (audit.text or "")


async def test_a_replaced_nominees_link_dies_and_the_new_one_works(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _admin_reads_english(running_bot, admin)
    old_code = await _code_of(running_bot, BILAL_EMAIL)
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))

    several = await _say(sandbox, admin, "/trainee qu")
    assert "Several people match" in (several.text or "")
    await _press(sandbox, admin, several, "Muhammad Bilal Qureshi")
    card = await _now_reads(sandbox, admin, several)
    assert "Status: invited, not joined yet" in (card.text or "")
    await _press(sandbox, admin, card, "Replace by")
    ask = await sandbox.next_bot_message(admin.id)
    assert "Who replaces Muhammad Bilal Qureshi" in (ask.text or "")
    wrong = await _say(sandbox, admin, "Ana Silva, not an address, Brazil")
    assert "Send the line again" in (wrong.text or "")
    done = await _say(
        sandbox, admin, "Ana Silva, ana.silva@economia.gov.br, Brazil, Ministry of Economy"
    )
    text = done.text or ""
    assert "Ana Silva replaces Muhammad Bilal Qureshi in A-ROSTER" in text
    found = re.search(r"https://t\.me/\w+\?start=([\w-]+)", text)
    assert found is not None
    new_code = found.group(1)

    dead = await _say(sandbox, SandboxUser(id=7401, first_name="Bilal"), f"/start {old_code}")
    assert "This personal link is no longer valid" in (dead.text or "")
    ana = SandboxUser(id=7402, first_name="Ana", language_code="en")
    ask_ana = await _say(sandbox, ana, f"/start {new_code}")
    assert "Are you Ana Silva, Ministry of Economy, Brazil" in (ask_ana.text or "")
    await _press(sandbox, ana, ask_ana, "Yes")
    welcome = await _now_reads(sandbox, ana, ask_ana)
    assert "you are registered" in (welcome.text or "")
    enrolment = await _enrolment(running_bot, ana.id, "A-ROSTER")
    assert enrolment is not None
    assert enrolment.status == "active"

    # Withdrawing a registered trainee: confirmed, told, link dead, the card says so.
    card = await _say(sandbox, admin, f"/trainee {AMINA_EMAIL}")
    await _press(sandbox, admin, card, "Withdraw")
    confirm = await _now_reads(sandbox, admin, card)
    assert "Withdraw Amina Nakato from A-ROSTER?" in (confirm.text or "")
    await _press(sandbox, admin, confirm, "Yes, withdraw")
    withdrawn = await _now_reads(sandbox, admin, card)
    assert "Amina Nakato is withdrawn from A-ROSTER" in (withdrawn.text or "")
    told = await sandbox.next_bot_message(trainee.id)
    assert OFF_THE_LIST in (told.text or "")
    again = await _say(sandbox, admin, f"/trainee {AMINA_EMAIL}")
    assert "Status: withdrawn" in (again.text or "")
    assert again.buttons == []

    audit = await _say(sandbox, admin, "/audit A-ROSTER")
    log = audit.text or ""
    assert "Muhammad Bilal Qureshi replaced by Ana Silva" in log
    assert "Amina Nakato withdrawn (told)" in log
    assert "by Li Na (" in log


async def test_trainee_and_audit_refused_outside_the_organisers_programmes(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    refused = await _say(sandbox, trainee, f"/trainee {AMINA_EMAIL}")
    assert "only for the programme's organisers" in (refused.text or "")
    refused = await _say(sandbox, trainee, "/audit")
    assert "only for the programme's organisers" in (refused.text or "")

    other = SandboxUser(id=8200, first_name="Bea", language_code="en")
    await _grant(running_bot, other.id, "PROG-B", "admin", clock)
    nobody = await _say(sandbox, other, f"/trainee {AMINA_EMAIL}")
    assert "Nobody matching" in (nobody.text or "")
    log = await _say(sandbox, other, "/audit A-ROSTER")
    assert "There is no cohort A-ROSTER" in (log.text or "")
    # A forged Move button from them moves nobody.
    async with running_bot.session_factory() as session:
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.email == AMINA_EMAIL))
        ).one()
        other_cohort = (await session.exec(select(Cohort).where(Cohort.code == "A-OPEN"))).one()
    forged = TraineeMove(entry_id=entry.id or 0, cohort_id=other_cohort.id or 0).pack()
    await sandbox.press_button(other, nobody.message_id, forged)
    await sandbox.settle()
    enrolment = await _enrolment(running_bot, trainee.id, "A-ROSTER")
    assert enrolment is not None
    assert enrolment.status == "active"
