"""Announcements delivered by the running bot through the sandbox, with Telegram's limits on
and faults injected: nothing lost, nothing sent twice."""

from __future__ import annotations

import argparse
import asyncio
import operator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import announcements as cli_delivery
from bot.clock import ManualClock
from bot.db.models import Campaign, Cohort, OutboxMessage, RoleGrant, User
from bot.delivery.outbox import Envelope, enqueue
from bot.services import announcements as ann
from sandbox import Limits, Sandbox, SandboxChat, SandboxUser
from tests.delivery.conftest import add_cohort, add_programme, add_trainee
from tests.support.e2e import RunningBot
from tests.support.settings import ADMIN_ID

IN_FLIGHT = ("pending", "claimed", "sending")


async def drain(
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    wake: object,
    timeout: float = 40.0,  # noqa: ASYNC109 (a budget for the background sender)
) -> None:
    """Wait until no outbox row is left to send, moving the clock on for retries."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with session_factory() as session:
            left = (
                await session.exec(
                    select(OutboxMessage).where(col(OutboxMessage.status).in_(IN_FLIGHT))
                )
            ).all()
        if not left:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"rows still in flight: {[(r.chat_id, r.status) for r in left]}")
        if all(r.status == "pending" and r.due_at > clock.now() for r in left):
            clock.advance(timedelta(minutes=10))  # back-off of a retried row
            wake_fn = getattr(wake, "wake", None)
            if callable(wake_fn):
                wake_fn()
        await asyncio.sleep(0.1)


async def test_limits_and_faults_nothing_lost_nothing_twice(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    sandbox.limits = Limits(enabled=True, global_per_second=5)
    owner = SandboxUser(id=8100, first_name="Owner")
    group = SandboxChat(id=-4100, type="group", title="Cohort chat")
    await sandbox.send_text(owner, "/start")  # known to the bot before the group updates
    await sandbox.settle()
    await sandbox.add_bot_to_group(owner, group, as_admin=True)
    await sandbox.settle()
    supergroup = await sandbox.migrate_group(group, -1004100)
    await sandbox.settle()
    trainees = list(range(8001, 8013))
    blocked, flaky, broken = 8001, 8002, 8003
    sandbox.faults.block(blocked)
    sandbox.faults.server_error(chat_id=flaky, times=2)
    sandbox.faults.server_error(chat_id=broken, times=50)

    async with running_bot.session_factory() as session:
        programme = await add_programme(session, "P")
        cohort = await add_cohort(session, programme, "P-1", group_chat_id=group.id)
        for user_id in trainees:
            await add_trainee(session, cohort, user_id)
        await session.commit()
        report = await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=ann.Audience(cohort_ids=(cohort.id or 0,), groups=True),
            content={"en": {"text": "Exam on <b>Friday</b> &amp; Saturday"}},
            clock=clock,
            pin=True,
        )
        # A reminder that is already too late to be true.
        await enqueue(
            session,
            [
                Envelope(
                    chat_id=8004,
                    kind="reminder",
                    dedupe_key="late:8004",
                    due_at=clock.now(),
                    not_after=clock.now() - timedelta(minutes=1),
                    payload={"text": "starts in 15 minutes"},
                )
            ],
            clock.now(),
        )
        await session.commit()
    running_bot.app.sender.wake()
    await drain(running_bot.session_factory, clock, running_bot.app.sender)
    await sandbox.settle()

    text = "Exam on Friday & Saturday"
    for chat in trainees:
        got = sandbox.delivered.get(chat, [])
        if chat in (blocked, broken):
            assert got == [], chat
        else:
            assert got == [text], chat  # exactly once, despite 429s and 5xx
    assert text not in sandbox.delivered.get(group.id, [])
    assert sandbox.delivered[supergroup.id] == [text]
    assert sandbox.bot_messages(supergroup.id)[-1].pinned
    assert sandbox.rate_limited, "the sandbox's limits should have answered 429 at least once"

    async with running_bot.session_factory() as session:
        outbox = {
            r.chat_id: r
            for r in (
                await session.exec(
                    select(OutboxMessage).where(
                        col(OutboxMessage.campaign_id) == report.campaign_id
                    )
                )
            ).all()
        }
        late = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == "reminder"))
        ).one()
        moved = await session.get(Cohort, cohort.id)
        blocked_user = await session.get(User, blocked)
    assert outbox[blocked].status == "failed"
    assert "blocked" in (outbox[blocked].last_error or "")
    assert blocked_user is not None
    assert blocked_user.is_reachable is False
    assert outbox[flaky].status == "sent"
    assert outbox[flaky].attempts == 3
    assert outbox[broken].status == "failed"
    assert "gave up after 5 attempts" in (outbox[broken].last_error or "")
    assert outbox[supergroup.id].status == "sent"
    assert moved is not None
    assert moved.group_chat_id == supergroup.id
    assert late.status == "expired"
    assert "starts in 15 minutes" not in sandbox.delivered.get(8004, [])
    assert {r.status for r in outbox.values()} <= {"sent", "failed"}


@pytest.fixture
def organiser() -> SandboxUser:
    return SandboxUser(id=ADMIN_ID, first_name="Li", last_name="Na", language_code="en")


async def press(sandbox: Sandbox, user: SandboxUser, data: str) -> None:
    """Press the button with this callback data on the latest bot message that has it."""
    wanted = (data, data + ":")  # actions without a value end with the separator
    for entry in reversed(sandbox.bot_messages(user.id)):
        found = [b.callback_data for row in entry.buttons for b in row if b.callback_data in wanted]
        if found:
            query_id = await sandbox.press_button(user, entry.message_id, found[0] or data)
            # Every step answers its button; then whatever it sends follows at once.
            await sandbox.wait_for(
                partial(operator.contains, sandbox.callback_answers, query_id),
                timeout=10,
                what=f"answer to {data}",
            )
            await sandbox.settle(quiet=0.3)
            return
    raise AssertionError(f"no button {data!r}; chat:\n{sandbox.describe_chat(user.id)}")


async def test_announce_wizard_delivers_in_two_languages_with_a_final_report(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, organiser: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        programme = await add_programme(session, "DIGI", default_locale="en")
        cohort = await add_cohort(session, programme, "DIGI-1")
        await add_trainee(session, cohort, 9101, locale="en", country="UG")
        await add_trainee(session, cohort, 9102, locale="ru", country="UZ")
        await add_trainee(session, cohort, 9103, locale="zh", country="CN")
        await add_trainee(session, cohort, 9104, locale="ru", reachable=False)
        await session.commit()
        cohort_id = cohort.id

    await sandbox.send_text(organiser, "/announce")
    first = await sandbox.next_bot_message(organiser.id)
    assert "Who should receive" in (first.text or "")
    await press(sandbox, organiser, f"an:c:{cohort_id}")
    chosen = sandbox.bot_messages(organiser.id)[-1]
    assert "Trainees: 3" in (chosen.text or "")
    assert "1 more have blocked the bot" in (chosen.text or "")
    await press(sandbox, organiser, "an:done")
    filters = sandbox.bot_messages(organiser.id)[-1]
    assert "Optional" in (filters.text or "")
    countries = [
        b.text
        for row in filters.buttons
        for b in row
        if (b.callback_data or "").startswith("an:ctry")
    ]
    assert countries == ["☐ China 1", "☐ Uganda 1", "☐ Uzbekistan 1"]  # names, in order
    await press(sandbox, organiser, "an:next")
    prompt = sandbox.bot_messages(organiser.id)[-1]
    assert "English version" in (prompt.text or "")

    await sandbox.send_text(organiser, "Exam on Friday & bring your ID")
    await sandbox.settle(quiet=0.15)
    versions = sandbox.bot_messages(organiser.id)[-1]
    assert "No version yet in: 中文, Русский" in (versions.text or "")
    await press(sandbox, organiser, "an:add:ru")
    await sandbox.send_text(organiser, "Экзамен в пятницу")
    await sandbox.settle(quiet=0.15)
    versions = sandbox.bot_messages(organiser.id)[-1]
    assert "No version yet in: 中文." in (versions.text or "")
    assert "English version" in (versions.text or "")

    await press(sandbox, organiser, "an:prev")
    texts = [m.text for m in sandbox.bot_messages(organiser.id)]
    assert "Exam on Friday & bring your ID" in texts
    assert "Экзамен в пятницу" in texts
    await press(sandbox, organiser, "an:now")
    confirm = sandbox.bot_messages(organiser.id)[-1]
    assert "Ready to send" in (confirm.text or "")
    assert "No version in: 中文" in (confirm.text or "")
    await press(sandbox, organiser, "an:send")
    await drain(running_bot.session_factory, clock, running_bot.app.sender)
    # The running bot's progress loop turns the confirmation into the final report.
    await sandbox.wait_for(
        lambda: any(
            "finished" in (m.text or "") and m.message_id == confirm.message_id
            for m in sandbox.bot_messages(organiser.id)
        ),
        timeout=15,
        what="the final report",
    )

    assert sandbox.delivered[9101] == ["Exam on Friday & bring your ID"]
    assert sandbox.delivered[9102] == ["Экзамен в пятницу"]
    assert sandbox.delivered[9103] == ["Exam on Friday & bring your ID"]
    assert 9104 not in sandbox.delivered
    [report] = [m for m in sandbox.bot_messages(organiser.id) if m.message_id == confirm.message_id]
    assert report.edited
    assert "Announcement #" in (report.text or "")
    assert "Delivered: 3 of 3" in (report.text or "")
    async with running_bot.session_factory() as session:
        [campaign] = (await session.exec(select(Campaign))).all()
    assert campaign.status == "done"
    assert campaign.finished_at is not None
    assert campaign.progress_message_id == confirm.message_id


async def test_scheduled_then_cancelled_from_the_list(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, organiser: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        programme = await add_programme(session, "P", zone="Asia/Shanghai")
        cohort = await add_cohort(session, programme, "P-1")
        await add_trainee(session, cohort, 9201)
        await session.commit()
        cohort_id = cohort.id

    await sandbox.send_text(organiser, "/announce")
    await sandbox.next_bot_message(organiser.id)
    await press(sandbox, organiser, f"an:c:{cohort_id}")
    await press(sandbox, organiser, "an:done")
    await sandbox.send_text(organiser, "Later")
    await sandbox.settle(quiet=0.15)
    await press(sandbox, organiser, "an:prev")
    await sandbox.send_text(organiser, "2027-02-01 10:00")
    await sandbox.settle(quiet=0.15)
    assert "already passed" in (sandbox.bot_messages(organiser.id)[-1].text or "")
    await sandbox.send_text(organiser, "2027-03-08 18:00")
    await sandbox.settle(quiet=0.15)
    confirm = sandbox.bot_messages(organiser.id)[-1]
    # Typed in the programme's zone (the organiser has none): 18:00 Shanghai.
    assert "Asia/Shanghai" in (confirm.text or "")
    assert "18:00" in (confirm.text or "")
    await press(sandbox, organiser, "an:send")
    assert "scheduled" in (sandbox.bot_messages(organiser.id)[-1].text or "")

    await sandbox.send_text(organiser, "/campaigns")
    listing = await sandbox.next_bot_message(organiser.id, timeout=5)
    while "Announcements" not in (listing.text or ""):
        listing = await sandbox.next_bot_message(organiser.id, timeout=5)
    cancel = next(
        b for row in listing.buttons for b in row if (b.callback_data or "")[:6] == "an:cx:"
    )
    await press(sandbox, organiser, cancel.callback_data or "")
    async with running_bot.session_factory() as session:
        [campaign] = (await session.exec(select(Campaign))).all()
        [row] = (await session.exec(select(OutboxMessage))).all()
    assert campaign.status == "cancelled"
    assert row.status == "cancelled"
    assert row.due_at == campaign.scheduled_at
    assert 9201 not in sandbox.delivered


async def test_non_organiser_refused(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/announce")
    answer = await sandbox.next_bot_message(trainee.id)
    assert "Sorry, /announce is only for the programme's organisers." in (answer.text or "")
    assert "Who should receive" not in (answer.text or "")
    await sandbox.send_text(trainee, "/campaigns")
    answer = await sandbox.next_bot_message(trainee.id)
    assert "Announcements" not in (answer.text or "")
    query_id = await sandbox.press_button(trainee, answer.message_id, "an:send")
    await sandbox.settle()
    assert sandbox.callback_answers[query_id]["text"] == "This button is no longer active."
    async with running_bot.session_factory() as session:
        assert (await session.exec(select(Campaign))).all() == []


async def test_an_organiser_of_another_programme_reaches_only_their_own(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    async with running_bot.session_factory() as session:
        ours = await add_programme(session, "AGRI")
        theirs = await add_programme(session, "DIGI")
        our_cohort = await add_cohort(session, ours, "AGRI-1")
        their_cohort = await add_cohort(session, theirs, "DIGI-1")
        await add_trainee(session, our_cohort, 9301, locale="en")
        await add_trainee(session, their_cohort, 9302, locale="en")
        assert ours.id is not None
        session.add(RoleGrant(user_id=8501, programme_id=ours.id, role="programme_admin"))
        await session.commit()
        their_id = their_cohort.id
    organiser = SandboxUser(id=8501, first_name="Aziz", language_code="en")

    await sandbox.send_text(organiser, "/announce")
    first = await sandbox.next_bot_message(organiser.id)
    labels = [b.text for row in first.buttons for b in row]
    assert any("AGRI-1" in label for label in labels)
    assert not any("DIGI-1" in label for label in labels)
    # A forged button for the other programme's cohort selects nobody.
    query_id = await sandbox.press_button(organiser, first.message_id, f"an:c:{their_id}")
    await sandbox.settle()
    assert sandbox.callback_answers[query_id]["text"] == "This button is no longer active."
    await sandbox.send_text(organiser, "/status")
    refused = await sandbox.next_bot_message(organiser.id)
    assert "only for" in (refused.text or "")
    async with running_bot.session_factory() as session:
        assert (await session.exec(select(Campaign))).all() == []
    assert 9302 not in sandbox.delivered


async def test_the_running_bot_delivers_what_the_cli_queued(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    async with running_bot.session_factory() as session:
        programme = await add_programme(session, "CLI")
        cohort = await add_cohort(session, programme, "CLI-1")
        await add_trainee(session, cohort, 9401, locale="ru")
        await add_trainee(session, cohort, 9402, locale="en")
        await session.commit()
    # The CLI stamps rows with the wall clock; the bot's clock is moved past it.
    clock.set(datetime.now(UTC) + timedelta(seconds=5))
    parser = argparse.ArgumentParser()
    cli_delivery.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["announce", "--cohort", "CLI-1", "--text", "Room change", "--text-ru", "Смена зала"]
    )
    assert await cli_delivery.run_command(args, running_bot.app.settings) == 0

    russian = await sandbox.next_bot_message(9401, timeout=15)
    english = await sandbox.next_bot_message(9402, timeout=15)
    assert russian.text == "Смена зала"
    assert english.text == "Room change"
