"""Registration walked through the sandbox, the trainee's side: personal and cohort links,
approval and the waiting list, and what follows registration. The real bot, polling over
HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.db.models import OutboxMessage, RosterEntry, User
from bot.scheduling import jobs
from bot.services import timetable
from sandbox import Sandbox, SandboxUser
from tests.registration.conftest import (
    row_counts,
)
from tests.registration.e2e_support import (
    AMINA_EMAIL,
    BILAL_EMAIL,
    TIMETABLE_CSV,
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


# --- what happens after registration ---------------------------------------------------------


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
