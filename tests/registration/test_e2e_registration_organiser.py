"""Registration walked through the sandbox, the organisers' side: admin commands and their
scope, roles, roster files, personal data, and cohort group chats. The real bot, polling over
HTTP."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.db.models import Cohort, Enrolment, OutboxMessage, RosterEntry, User
from bot.scheduling import jobs
from sandbox import Sandbox, SandboxChat, SandboxUser
from tests.registration.conftest import (
    EXAMPLES,
    row_counts,
)
from tests.registration.e2e_support import (
    AMINA_EMAIL,
    ROSTER_CSV,
    _code_of,
    _enrolment,
    _fill_form,
    _grant,
    _press,
    _register,
    _say,
    _setup,
)
from tests.support.e2e import RunningBot

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
    assert user is None  # the account is forgotten
    assert await _enrolment(running_bot, trainee.id, "A-ROSTER") is None
    async with running_bot.session_factory() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.code == "A-ROSTER"))).one()
        kept = (await session.exec(select(Enrolment).where(Enrolment.cohort_id == cohort.id))).all()
    # The place stays in the cohort's figures, withdrawn, without the person.
    assert [(e.status, e.user_id < 0) for e in kept] == [("withdrawn", True)]
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
