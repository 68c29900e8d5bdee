"""Registration walked through the sandbox: the real bot, polling over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.db.models import Cohort, Enrolment, OutboxMessage, RosterEntry, User
from bot.scheduling import jobs
from bot.services import roles, timetable
from sandbox import Sandbox, SandboxChat, SandboxUser, TranscriptEntry
from tests.registration.conftest import (
    EXAMPLES,
    OTHER_PROGRAMME_YAML,
    PROGRAMME_YAML,
    import_roster_bytes,
    import_yaml,
    row_counts,
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


async def test_personal_link_binds_once(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    code = await _code_of(running_bot, AMINA_EMAIL)
    ask = await _say(sandbox, trainee, f"/start {code}")
    assert ask.text == (
        "Are you Amina Nakato, Ministry of Trade Industry and Cooperatives, Uganda?"
    )
    await _press(sandbox, trainee, ask, "Yes")
    welcome = await sandbox.next_bot_message(trainee.id)
    assert "Welcome to Cohort A!" in (welcome.text or "")
    assert "8 March 2027 – 2 April 2027" in (welcome.text or "")
    zone = await sandbox.next_bot_message(trainee.id)
    assert "Kampala" in (zone.text or "")
    async with running_bot.session_factory() as session:
        user = await session.get(User, trainee.id)
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.personal_code == code))
        ).one()
    assert user is not None
    assert (user.locale, user.timezone) == ("en", "Africa/Kampala")
    assert entry.user_id == trainee.id
    enrolment = await _enrolment(running_bot, trainee.id, "A-ROSTER")
    assert enrolment is not None
    assert (enrolment.status, enrolment.role) == ("active", "trainee")

    # The same person again: already registered, nothing new.
    again = await _say(sandbox, trainee, f"/start {code}")
    assert "already registered" in (again.text or "")

    # Someone else with the same link is refused, and the organisers hear about it once.
    intruder = SandboxUser(id=7100, first_name="Mallory", username="mallory")
    refusal = await _say(sandbox, intruder, f"/start {code}")
    assert "already been used by another Telegram account" in (refusal.text or "")
    alert = await sandbox.next_bot_message(admin.id, timeout=10)
    assert "Amina Nakato" in (alert.text or "")
    assert "@mallory" in (alert.text or "")
    await _say(sandbox, intruder, f"/start {code}")
    await sandbox.settle()
    assert sandbox.unread_bot_messages(admin.id) == []
    async with running_bot.session_factory() as session:
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.personal_code == code))
        ).one()
    assert entry.user_id == trainee.id


async def test_forged_yes_on_a_bound_code_is_refused(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    code = await _code_of(running_bot, AMINA_EMAIL)
    other = SandboxUser(id=7101, first_name="Eve")
    ask_other = await _say(sandbox, other, f"/start {code}")
    ask = await _say(sandbox, trainee, f"/start {code}")
    await _press(sandbox, trainee, ask, "Yes")
    await sandbox.settle()
    # The other person pressed Yes after Amina: the binding stays hers.
    await _press(sandbox, other, ask_other, "Yes")
    await sandbox.settle()
    [edited] = [m for m in sandbox.bot_messages(other.id) if m.message_id == ask_other.message_id]
    assert "already been used" in (edited.text or "")
    assert await _enrolment(running_bot, other.id, "A-ROSTER") is None


async def test_unknown_code_and_no_answer(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    unknown = await _say(sandbox, trainee, "/start NoSuchCode123")
    assert "I do not know this link" in (unknown.text or "")
    code = await _code_of(running_bot, AMINA_EMAIL)
    ask = await _say(sandbox, trainee, f"/start {code}")
    await _press(sandbox, trainee, ask, "No")
    await sandbox.settle()
    [edited] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == ask.message_id]
    assert "contact the organisers" in (edited.text or "")
    assert await _enrolment(running_bot, trainee.id, "A-ROSTER") is None


async def test_country_with_several_zones_asks_which(
    running_bot: RunningBot, sandbox: Sandbox, clock
) -> None:
    await _setup(running_bot, clock)
    mexican = SandboxUser(id=7200, first_name="Ana", language_code="es")
    async with running_bot.session_factory() as session:
        entry = (await session.exec(select(RosterEntry).where(RosterEntry.country == "MX"))).one()
    ask = await _say(sandbox, mexican, f"/start {entry.personal_code}")
    await _press(sandbox, mexican, ask, "✅")
    await sandbox.next_bot_message(mexican.id)  # welcome
    question = await sandbox.next_bot_message(mexican.id)
    assert question.buttons
    zones = [b.callback_data for row in question.buttons for b in row]
    assert "regtz:America/Mexico_City" in zones
    await sandbox.press_button(mexican, question.message_id, "regtz:America/Mexico_City")
    await sandbox.settle()
    async with running_bot.session_factory() as session:
        user = await session.get(User, mexican.id)
    assert user is not None
    assert user.timezone == "America/Mexico_City"
    assert user.locale == "es"


# --- cohort links, approval, waiting list ---------------------------------------------------


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


async def test_cohort_link_form_with_corrections(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    await _say(sandbox, trainee, "/start A-OPEN")
    ask_name = await sandbox.next_bot_message(trainee.id)
    assert [b.text for b in ask_name.buttons[0]] == ["✖ Cancel"]
    await _say(sandbox, trainee, "Amina Nakato")
    unknown = await _say(sandbox, trainee, "Ugnda")
    assert "Did you mean" in (unknown.text or "")
    await _press(sandbox, trainee, unknown, "Uganda")
    ask_org = await sandbox.next_bot_message(trainee.id)
    assert "organisation" in (ask_org.text or "")
    # Back to the country, then forward again.
    await _press(sandbox, trainee, ask_org, "Back")
    ask_country = await sandbox.next_bot_message(trainee.id)
    assert "country" in (ask_country.text or "")
    await _say(sandbox, trainee, "Ouganda")
    bad = await _say(sandbox, trainee, "Ministry of Trade")
    assert "e-mail" in (bad.text or "")
    retry = await _say(sandbox, trainee, "amina at mtic")
    assert "is not a valid e-mail address" in (retry.text or "")
    consent = await _say(sandbox, trainee, "amina@example.org")
    await _press(sandbox, trainee, consent, "I agree")
    welcome = await sandbox.next_bot_message(trainee.id)
    assert "Welcome to Open cohort!" in (welcome.text or "")
    enrolment = await _enrolment(running_bot, trainee.id, "A-OPEN")
    assert enrolment is not None
    assert enrolment.status == "active"
    assert enrolment.consented_at is not None
    async with running_bot.session_factory() as session:
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.user_id == trainee.id))
        ).one()
    assert (entry.full_name, entry.country, entry.source) == ("Amina Nakato", "UG", "form")


async def test_form_cancel_and_refused_consent_store_nothing(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    before = await row_counts(running_bot.session_factory)
    await _say(sandbox, trainee, "/start A-OPEN")
    ask_name = await sandbox.next_bot_message(trainee.id)
    await _press(sandbox, trainee, ask_name, "Cancel")
    cancelled = await sandbox.next_bot_message(trainee.id)
    assert "cancelled" in (cancelled.text or "")
    other = SandboxUser(id=7300, first_name="Bob")
    await sandbox.send_text(other, "/start A-OPEN")
    await sandbox.next_bot_message(other.id)
    await sandbox.next_bot_message(other.id)
    for answer in ("Bob Builder", "Kenya", "Road agency"):
        await _say(sandbox, other, answer)
    consent = await _say(sandbox, other, "bob@example.org")
    await _press(sandbox, other, consent, "I do not agree")
    refused = await sandbox.next_bot_message(other.id)
    assert "Without your consent" in (refused.text or "")
    assert await row_counts(running_bot.session_factory) == before


async def test_roster_only_cohort_link_is_explained(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    answer = await _say(sandbox, trainee, "/start A-ROSTER")
    assert "personal invitation only" in (answer.text or "")


async def test_approval_flow(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    coordinator = SandboxUser(id=8100, first_name="Coord")
    await _grant(running_bot, coordinator.id, "PROG-A", "coordinator", clock)
    done = await _fill_form(sandbox, trainee, "A-APPROVAL", "amina@example.org")
    assert "goes to the organisers for approval" in (done.text or "")
    request = await sandbox.next_bot_message(coordinator.id, timeout=10)
    assert "New registration request for Observers (A-APPROVAL)" in (request.text or "")
    assert "Amina Testova" in (request.text or "")
    enrolment = await _enrolment(running_bot, trainee.id, "A-APPROVAL")
    assert enrolment is not None
    assert enrolment.status == "pending"

    listing = await _say(sandbox, coordinator, "/pending")
    assert "Amina Testova" in (listing.text or "")
    await _press(sandbox, coordinator, request, "Approve")
    await sandbox.settle()
    [edited] = [
        m for m in sandbox.bot_messages(coordinator.id) if m.message_id == request.message_id
    ]
    assert "Approved" in (edited.text or "")
    told = await sandbox.next_bot_message(trainee.id, timeout=10)
    assert "is approved" in (told.text or "")
    enrolment = await _enrolment(running_bot, trainee.id, "A-APPROVAL")
    assert enrolment is not None
    assert enrolment.status == "active"
    # Pressing again changes nothing.
    await _press(sandbox, coordinator, listing, "Reject")
    await sandbox.settle()
    enrolment = await _enrolment(running_bot, trainee.id, "A-APPROVAL")
    assert enrolment is not None
    assert enrolment.status == "active"


async def test_rejection_is_told(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    await _fill_form(sandbox, trainee, "A-APPROVAL", "amina@example.org")
    request = await sandbox.next_bot_message(admin.id, timeout=10)
    await _press(sandbox, admin, request, "Reject")
    told = await sandbox.next_bot_message(trainee.id, timeout=10)
    assert "was not approved" in (told.text or "")
    enrolment = await _enrolment(running_bot, trainee.id, "A-APPROVAL")
    assert enrolment is not None
    assert enrolment.status == "rejected"


async def test_waiting_list_and_promotion(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    first = await _fill_form(sandbox, trainee, "A-OPEN", "amina@example.org")
    assert "Welcome" in (first.text or "")
    second_user = SandboxUser(id=7400, first_name="Dilshod")
    second = await _fill_form(sandbox, second_user, "A-OPEN", "dilshod@example.org")
    assert "waiting list" in (second.text or "")
    enrolment = await _enrolment(running_bot, second_user.id, "A-OPEN")
    assert enrolment is not None
    assert enrolment.status == "waiting"

    await sandbox.settle()
    sandbox.unread_bot_messages(trainee.id)
    choose = await _say(sandbox, trainee, "/withdraw")
    await _press(sandbox, trainee, choose, "Open cohort")
    await sandbox.settle()
    [confirm] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == choose.message_id]
    await _press(sandbox, trainee, confirm, "Yes, leave")
    told = await sandbox.next_bot_message(second_user.id, timeout=10)
    assert "a place has freed up in Open cohort" in (told.text or "")
    enrolment = await _enrolment(running_bot, second_user.id, "A-OPEN")
    assert enrolment is not None
    assert enrolment.status == "active"
    gone = await _enrolment(running_bot, trainee.id, "A-OPEN")
    assert gone is not None
    assert gone.status == "withdrawn"


# --- admin commands and their scope ---------------------------------------------------------

ADMIN_COMMANDS = [
    "/cohorts",
    "/roster A-ROSTER",
    "/roster A-ROSTER xlsx",
    "/pending",
    "/invite A-OPEN",
    "/grant 7001 PROG-A admin",
    "/revoke 9000001 PROG-A admin",
]


async def test_admin_commands_refused_to_trainees_and_other_programmes(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _fill_form(sandbox, SandboxUser(id=7500, first_name="Pat"), "A-APPROVAL", "p@example.org")
    other_admin = SandboxUser(id=8200, first_name="Bea")
    await _grant(running_bot, other_admin.id, "PROG-B", "admin", clock)
    await sandbox.settle()
    before = await row_counts(running_bot.session_factory)
    for command in ADMIN_COMMANDS:
        refusal = await _say(sandbox, trainee, command)
        assert "only for the programme's organisers" in (refusal.text or ""), command
        answer = await _say(sandbox, other_admin, command)
        text = answer.text or ""
        assert answer.document_name is None, command
        for secret in ("Cohort A", "Amina", "Pat"):
            assert secret not in text, command
        if command.startswith(("/roster", "/invite")):
            assert "There is no cohort" in text, command
        if command.startswith(("/grant", "/revoke")):
            assert "You cannot change roles" in text, command
        if command == "/pending":
            assert text == "No registration requests are waiting.", command
        if command == "/cohorts":
            assert "PROG-B" in text
            assert "PROG-A" not in text
    # A roster file from either of them imports nothing.
    await sandbox.send_document(trainee, "roster.csv", ROSTER_CSV, caption="A-ROSTER")
    await sandbox.send_document(other_admin, "roster.csv", ROSTER_CSV, caption="A-ROSTER")
    await sandbox.settle()
    # A forged decision button from either of them decides nothing.
    pending = await _enrolment(running_bot, 7500, "A-APPROVAL")
    assert pending is not None
    for person in (trainee, other_admin):
        last = sandbox.bot_messages(person.id)[-1]
        await sandbox.press_button(person, last.message_id, f"regdec:a:{pending.id}")
    await sandbox.settle()
    after = await row_counts(running_bot.session_factory)
    assert after == before
    pending = await _enrolment(running_bot, 7500, "A-APPROVAL")
    assert pending is not None
    assert pending.status == "pending"


async def test_cohorts_roster_and_invite_for_admins(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    code = await _code_of(running_bot, AMINA_EMAIL)
    ask = await _say(sandbox, trainee, f"/start {code}")
    await _press(sandbox, trainee, ask, "Yes")
    await sandbox.settle()
    cohorts = await _say(sandbox, admin, "/cohorts")
    text = cohorts.text or ""
    assert "A-ROSTER" in text
    assert "B-ONE" in text
    assert "registered 1 · invited, not joined 39 · pending 0 · waiting 0" in text

    roster = await _say(sandbox, admin, "/roster A-ROSTER")
    assert roster.document_name == "roster-A-ROSTER.csv"
    rows = (roster.document_bytes or b"").decode("utf-8-sig").splitlines()
    assert len(rows) == 41
    amina = next(r for r in rows if "Amina Nakato" in r)
    assert "registered" in amina
    assert ",yes," in amina
    assert "'+256 772 410 118" in amina
    assert sum(1 for r in rows if "invited, not joined yet" in r) == 39
    xlsx = await _say(sandbox, admin, "/roster A-ROSTER xlsx")
    assert xlsx.document_name == "roster-A-ROSTER.xlsx"

    invite = await _say(sandbox, admin, "/invite A-OPEN")
    assert "https://t.me/trainee_assistant_bot?start=A-OPEN" in (invite.text or "")
    roster_only = await _say(sandbox, admin, "/invite A-ROSTER")
    assert "/roster A-ROSTER" in (roster_only.text or "")


async def test_grant_and_revoke_in_telegram(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    prog_admin = SandboxUser(id=8300, first_name="Pa")
    done = await _say(sandbox, admin, f"/grant {prog_admin.id} PROG-A admin")
    assert "is now admin of PROG-A" in (done.text or "")
    by_them = await _say(sandbox, prog_admin, "/grant 8301 PROG-A coordinator")
    assert "is now coordinator of PROG-A" in (by_them.text or "")
    outside = await _say(sandbox, prog_admin, "/grant 8302 PROG-B coordinator")
    assert "You cannot change roles" in (outside.text or "")
    revoked = await _say(sandbox, prog_admin, "/revoke 8301 PROG-A coordinator")
    assert "no longer coordinator" in (revoked.text or "")
    usage = await _say(sandbox, admin, "/grant someone")
    assert "Usage" in (usage.text or "")


# --- roster files sent to the bot -----------------------------------------------------------


async def test_roster_upload_with_cohort_choice_and_confirm(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    await sandbox.send_document(admin, "roster.xlsx", (EXAMPLES / "roster.xlsx").read_bytes())
    which = await sandbox.next_bot_message(admin.id)
    assert "Which cohort" in (which.text or "")
    await _press(sandbox, admin, which, "A-ROSTER")
    summary = await sandbox.next_bot_message(admin.id)
    assert "New: 40" in (summary.text or "")
    async with running_bot.session_factory() as session:
        assert (await session.exec(select(RosterEntry))).all() == []
    await _press(sandbox, admin, summary, "Confirm")
    links = await sandbox.next_bot_message(admin.id, timeout=10)
    assert links.document_name == "links-A-ROSTER.xlsx"
    [done] = [m for m in sandbox.bot_messages(admin.id) if m.message_id == summary.message_id]
    assert "imported" in (done.text or "")
    async with running_bot.session_factory() as session:
        assert len((await session.exec(select(RosterEntry))).all()) == 40


async def test_bad_roster_upload_lists_every_problem(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    before = await row_counts(running_bot.session_factory)
    lines = ROSTER_CSV.decode().splitlines()
    broken = [lines[0]] + [line.replace("@", " at ") for line in lines[1:]] * 20
    await sandbox.send_document(admin, "roster.csv", "\n".join(broken).encode(), caption="A-ROSTER")
    answer = await sandbox.next_bot_message(admin.id)
    text = answer.text or ""
    assert "was not imported" in text
    assert "Line 2:" in text
    assert "more problems" in text
    assert len(text) <= 4096
    assert await row_counts(running_bot.session_factory) == before


# --- profile and personal data --------------------------------------------------------------


async def test_profile_mydata_and_forgetme(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    code = await _code_of(running_bot, AMINA_EMAIL)
    ask = await _say(sandbox, trainee, f"/start {code}")
    await _press(sandbox, trainee, ask, "Yes")
    await sandbox.settle()
    sandbox.unread_bot_messages(trainee.id)

    profile = await _say(sandbox, trainee, "/profile")
    assert "Amina Nakato" in (profile.text or "")
    await _press(sandbox, trainee, profile, "E-mail")
    await sandbox.next_bot_message(trainee.id)
    wrong = await _say(sandbox, trainee, "not an address")
    assert "not a valid e-mail" in (wrong.text or "")
    saved = await _say(sandbox, trainee, "amina@trade.go.ug")
    assert "amina@trade.go.ug" in (saved.text or "")

    data = await _say(sandbox, trainee, "/mydata")
    assert data.document_name == "my-data.json"
    stored = json.loads(data.document_bytes or b"{}")
    assert stored["registrations"][0]["email"] == "amina@trade.go.ug"
    assert stored["enrolments"][0]["status"] == "active"

    confirm = await _say(sandbox, trainee, "/forgetme")
    await _press(sandbox, trainee, confirm, "Yes, erase")
    await sandbox.settle()
    async with running_bot.session_factory() as session:
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.personal_code == code))
        ).first()
        anonymised = (
            await session.exec(select(RosterEntry).where(RosterEntry.country == "UG"))
        ).one()
        user = await session.get(User, trainee.id)
    assert entry is None  # the old link is dead
    assert (anonymised.full_name, anonymised.email, anonymised.phone) == ("", None, None)
    assert anonymised.user_id is None
    assert user is not None
    assert user.first_name == ""
    enrolment = await _enrolment(running_bot, trainee.id, "A-ROSTER")
    assert enrolment is not None
    assert enrolment.status == "withdrawn"
    dead = await _say(sandbox, SandboxUser(id=7600, first_name="X"), f"/start {code}")
    assert "I do not know this link" in (dead.text or "")


# --- cohort group chats ---------------------------------------------------------------------


async def test_group_link_join_requests_and_migration(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    group = SandboxChat(-100500, "group", "Cohort A chat")
    await _say(sandbox, admin, "/help")
    # Added as a member, then promoted: the sandbox's administrator ChatMember update lacks
    # a field aiogram requires (can_send_welcome_messages), which would stall polling.
    await sandbox.add_bot_to_group(admin, group)
    sandbox.world.group_chat(group).bot_status = "administrator"
    hello = await sandbox.next_bot_message(group.id)
    assert "/link COHORT_CODE" in (hello.text or "")

    # A plain member cannot link the group, even an organiser.
    await _grant(running_bot, 8401, "PROG-A", "admin", clock)
    member = SandboxUser(id=8401, first_name="Member")
    sandbox.set_chat_member(group.id, member, "member")
    await sandbox.send_text(member, "/link A-ROSTER", chat=group)
    not_admin = await sandbox.next_bot_message(group.id)
    assert "Only an administrator of this group" in (not_admin.text or "")
    # A group admin who organises nothing cannot link it. ("creator": the sandbox's
    # administrator ChatMember lacks a field aiogram requires.)
    stranger = SandboxUser(id=7700, first_name="Stranger")
    sandbox.set_chat_member(group.id, stranger, "creator")
    await sandbox.send_text(stranger, "/link A-ROSTER", chat=group)
    refused = await sandbox.next_bot_message(group.id)
    assert "Only the programme's organisers" in (refused.text or "")
    other_admin = SandboxUser(id=8400, first_name="Bea")
    await _grant(running_bot, other_admin.id, "PROG-B", "admin", clock)
    sandbox.set_chat_member(group.id, other_admin, "creator")
    await sandbox.send_text(other_admin, "/link A-ROSTER", chat=group)
    outside = await sandbox.next_bot_message(group.id)
    assert "There is no cohort A-ROSTER" in (outside.text or "")

    await sandbox.send_text(admin, "/link A-ROSTER", chat=group)
    linked = await sandbox.next_bot_message(group.id)
    assert "this is now the group of A-ROSTER" in (linked.text or "")
    async with running_bot.session_factory() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.code == "A-ROSTER"))).one()
    assert cohort.group_chat_id == group.id

    code = await _code_of(running_bot, AMINA_EMAIL)
    ask = await _say(sandbox, trainee, f"/start {code}")
    await _press(sandbox, trainee, ask, "Yes")
    welcome = await sandbox.next_bot_message(trainee.id)
    assert "Join your cohort's group chat: https://t.me/+" in (welcome.text or "")
    await sandbox.next_bot_message(trainee.id)  # the time zone
    invite_calls = [r for r in sandbox.requests if r.method == "createChatInviteLink"]
    assert invite_calls[-1].params["member_limit"] == 1
    again = await _say(sandbox, trainee, "/group")
    assert "https://t.me/+" in (again.text or "")

    await sandbox.request_join(trainee, group)
    await sandbox.request_join(stranger_two := SandboxUser(id=7701, first_name="Nope"), group)
    await sandbox.settle()
    methods = [(r.method, r.params.get("user_id")) for r in sandbox.requests]
    assert ("approveChatJoinRequest", trainee.id) in methods
    assert ("declineChatJoinRequest", stranger_two.id) in methods
    assert ("approveChatJoinRequest", stranger_two.id) not in methods

    supergroup = await sandbox.migrate_group(group, -1009999)
    await sandbox.settle()
    async with running_bot.session_factory() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.code == "A-ROSTER"))).one()
        queued = (await session.exec(select(OutboxMessage))).all()
    assert cohort.group_chat_id == supergroup.id
    assert all(m.chat_id != group.id or m.status != "pending" for m in queued)


# --- what happens after registration ---------------------------------------------------------


async def _register(sb: Sandbox, user: SandboxUser, code: str) -> None:
    """Open a personal link, answer Yes, and read what the bot said."""
    ask = await _say(sb, user, f"/start {code}")
    await _press(sb, user, ask, "Yes")
    await sb.settle()
    sb.unread_bot_messages(user.id)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("leaving", ["/withdraw", "/forgetme"])
async def test_no_reminders_or_digest_after_leaving(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock, leaving: str
) -> None:
    await _setup(running_bot, clock)
    async with running_bot.session_factory() as session:
        await timetable.apply_import(
            session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code="A-ROSTER"
        )
    stayer = SandboxUser(id=7800, first_name="Bilal", language_code="en")
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    await _register(sandbox, stayer, await _code_of(running_bot, BILAL_EMAIL))
    async with running_bot.session_factory() as session:
        for person in (trainee, stayer):
            user = await session.get(User, person.id)
            assert user is not None
            user.daily_digest = True
        await session.commit()

    # The morning of the first session (19:00 in Beijing, 11:00 UTC): the day's digest and
    # the reminder 15 minutes before are queued for both trainees.
    clock.set(_utc("2027-03-08 04:30"))
    await jobs.run_all(running_bot.session_factory, clock)
    async with running_bot.session_factory() as session:
        queued = (
            await session.exec(
                select(OutboxMessage.kind).where(
                    col(OutboxMessage.user_id) == trainee.id, col(OutboxMessage.status) == "pending"
                )
            )
        ).all()
    assert set(queued) == {"digest", "reminder"}

    # Amina leaves before any of it is due.
    if leaving == "/withdraw":
        choose = await _say(sandbox, trainee, "/withdraw")
        await _press(sandbox, trainee, choose, "Cohort A")
        await sandbox.settle()
        [confirm] = [
            m for m in sandbox.bot_messages(trainee.id) if m.message_id == choose.message_id
        ]
        await _press(sandbox, trainee, confirm, "Yes, leave")
    else:
        confirm = await _say(sandbox, trainee, "/forgetme")
        await _press(sandbox, trainee, confirm, "Yes, erase")
    # The service has committed once the question is replaced by the answer.
    await sandbox.wait_for(
        lambda: any(
            m.message_id == confirm.message_id
            and m.content.startswith(("You have left", "Your personal data has been erased"))
            for m in sandbox.bot_messages(trainee.id)
        ),
        timeout=10,
    )
    await sandbox.settle()
    sandbox.unread_bot_messages(trainee.id)

    await jobs.fast_forward_to(
        running_bot.session_factory, clock, running_bot.app.sender, _utc("2027-03-08 11:00")
    )
    await sandbox.settle()
    stayed = [m.content for m in sandbox.unread_bot_messages(stayer.id)]
    assert any(text.startswith("☀️ Today") for text in stayed), stayed
    assert any(text.startswith("⏰ Opening Ceremony") for text in stayed), stayed
    assert sandbox.unread_bot_messages(trainee.id) == []


async def test_approved_trainee_gets_the_welcome_and_start_shows_the_cohort(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    await _fill_form(sandbox, trainee, "A-APPROVAL", "amina@example.org")
    request = await sandbox.next_bot_message(admin.id, timeout=10)
    await _press(sandbox, admin, request, "Approve")
    told = await sandbox.next_bot_message(trainee.id, timeout=10)
    text = told.text or ""
    assert text.startswith("Good news: your registration for Observers (A-APPROVAL) is approved.")
    assert "Welcome to Observers!\nDigital Trade Seminar\n\nWhat next:" in text
    assert "/schedule, /today and /next show your sessions" in text
    assert "I set your time zone to Tashkent (Uzbekistan); /timezone changes it." in text
    assert "/start" not in text
    async with running_bot.session_factory() as session:
        user = await session.get(User, trainee.id)
    assert user is not None
    assert user.timezone == "Asia/Tashkent"

    start = await _say(sandbox, trainee, "/start")
    text = start.text or ""
    assert text.startswith("Welcome, Amina!\n\nYour cohorts:\n• Observers\n  Digital Trade Seminar")
    assert "What next:" in text
    assert "I am the assistant of your training programme" not in text
    assert "tell me your time zone" not in text


async def test_promoted_trainee_gets_the_welcome_and_is_asked_for_the_zone(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock, roster=None)
    await _fill_form(sandbox, trainee, "A-OPEN", "amina@example.org")
    ana = SandboxUser(id=7401, first_name="Ana", language_code="en")
    waiting = await _fill_form(sandbox, ana, "A-OPEN", "ana@example.org", country="Mexico")
    assert "waiting list" in (waiting.text or "")
    pending = await _say(sandbox, ana, "/start")
    assert "• Open cohort — on the waiting list" in (pending.text or "")
    assert "I am the assistant of your training programme" in (pending.text or "")

    await sandbox.settle()
    sandbox.unread_bot_messages(trainee.id)
    choose = await _say(sandbox, trainee, "/withdraw")
    await _press(sandbox, trainee, choose, "Open cohort")
    await sandbox.settle()
    [confirm] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == choose.message_id]
    await _press(sandbox, trainee, confirm, "Yes, leave")
    told = await sandbox.next_bot_message(ana.id, timeout=10)
    text = told.text or ""
    assert text.startswith(
        "Good news: a place has freed up in Open cohort (A-OPEN) and it is yours."
    )
    assert "Welcome to Open cohort!" in text
    assert "Dates: 8 March 2027 – 2 April 2027" in text
    assert "Your country has several time zones; send /timezone to choose yours." in text
    async with running_bot.session_factory() as session:
        user = await session.get(User, ana.id)
    assert user is not None
    assert user.timezone is None

    start = await _say(sandbox, ana, "/start")
    text = start.text or ""
    assert "• Open cohort\n  Digital Trade Seminar\n  Dates: 8 March 2027 – 2 April 2027" in text
    assert "What next:" in text
    assert "tell me your time zone" in text
    left = await _say(sandbox, trainee, "/start")
    assert "Your cohorts" not in (left.text or "")


async def test_links_of_an_ended_cohort_are_refused(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    code = await _code_of(running_bot, AMINA_EMAIL)
    # 23:59 on the cohort's last day in Beijing (15:59 UTC): the link still works.
    clock.set(_utc("2027-04-02 15:59"))
    ask = await _say(sandbox, trainee, f"/start {code}")
    assert (ask.text or "").startswith("Are you Amina Nakato")
    # Midnight in Beijing: the cohort is over, although it is still 2 April in UTC.
    clock.set(_utc("2027-04-02 16:00"))
    await _press(sandbox, trainee, ask, "Yes")
    await sandbox.settle()
    [edited] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == ask.message_id]
    ended = "Cohort A ended on 2 April 2027; please contact the organisers."
    assert edited.text == ended
    again = await _say(sandbox, trainee, f"/start {code}")
    assert again.text == ended
    open_link = await _say(sandbox, trainee, "/start A-OPEN")
    assert open_link.text == "Open cohort ended on 2 April 2027; please contact the organisers."
    assert await _enrolment(running_bot, trainee.id, "A-ROSTER") is None
    assert await _enrolment(running_bot, trainee.id, "A-OPEN") is None
    async with running_bot.session_factory() as session:
        entry = (
            await session.exec(select(RosterEntry).where(RosterEntry.personal_code == code))
        ).one()
    assert entry.user_id is None
    # A cohort without an end date still takes registrations.
    form = await _say(sandbox, trainee, "/start A-APPROVAL")
    assert "Five short questions" in (form.text or "")


async def _add_group(sb: Sandbox, admin: SandboxUser, group: SandboxChat) -> None:
    await sb.add_bot_to_group(admin, group)
    sb.world.group_chat(group).bot_status = "administrator"
    await sb.next_bot_message(group.id)  # the bot's hello


async def test_linking_a_group_tells_registered_trainees_once_per_chat(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser, clock
) -> None:
    await _setup(running_bot, clock)
    await _register(sandbox, trainee, await _code_of(running_bot, AMINA_EMAIL))
    await _say(sandbox, admin, "/help")
    group = SandboxChat(-100600, "group", "Cohort A chat")
    await _add_group(sandbox, admin, group)

    await sandbox.send_text(admin, "/link A-ROSTER", chat=group)
    linked = await sandbox.next_bot_message(group.id)
    assert "this is now the group of A-ROSTER" in (linked.text or "")
    told = await sandbox.next_bot_message(trainee.id, timeout=10)
    news = "Cohort A now has a group chat. Send /group for your personal invitation link."
    assert told.text == news

    # The same chat again, then another chat and back: one message per chat.
    await sandbox.send_text(admin, "/link A-ROSTER", chat=group)
    already = await sandbox.next_bot_message(group.id)
    assert "already linked" in (already.text or "")
    other = SandboxChat(-100601, "group", "Cohort A, second chat")
    await _add_group(sandbox, admin, other)
    await sandbox.send_text(admin, "/link A-ROSTER", chat=other)
    await sandbox.next_bot_message(other.id)
    second = await sandbox.next_bot_message(trainee.id, timeout=10)
    assert second.text == news
    await sandbox.send_text(admin, "/link A-ROSTER", chat=group)
    back = await sandbox.next_bot_message(group.id)
    assert "this is now the group of A-ROSTER" in (back.text or "")
    await jobs.wait_until_delivered(running_bot.session_factory, clock, running_bot.app.sender)
    await sandbox.settle()
    assert sandbox.unread_bot_messages(trainee.id) == []

    invite = await _say(sandbox, trainee, "/group")
    assert "https://t.me/+" in (invite.text or "")
