"""Sending an announcement again from its final report, with the running bot and the sandbox:
those a restart caught mid-send get it (once more), the blocked are left alone, and only the
organisers of the campaign may do it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.clock import ManualClock
from bot.db import outbox as outbox_db
from bot.db.models import Campaign, OutboxMessage, RoleGrant
from bot.services import announcements as ann
from sandbox import Sandbox, SandboxUser
from sandbox.models import TranscriptEntry
from tests.delivery.conftest import add_cohort, add_programme, add_trainee
from tests.delivery.test_delivery_e2e import drain, press
from tests.support.e2e import RunningBot
from tests.support.settings import ADMIN_ID

TEXT = "Exam moved to Friday"
CAUGHT = (9601, 9602)  # handed to Telegram when the sender died
BLOCKED = 9603
FINE = (9604, 9605)


@pytest.fixture
def organiser() -> SandboxUser:
    return SandboxUser(id=ADMIN_ID, first_name="Li", last_name="Na", language_code="en")


@dataclass
class Finished:
    campaign_id: int
    report_id: int
    programme_id: int


def message(sandbox: Sandbox, chat_id: int, message_id: int) -> TranscriptEntry:
    [found] = [m for m in sandbox.bot_messages(chat_id) if m.message_id == message_id]
    return found


def labels(entry: TranscriptEntry) -> list[str]:
    return [b.text for row in entry.buttons for b in row]


def data_of(entry: TranscriptEntry, label_start: str) -> str:
    buttons = [b for row in entry.buttons for b in row]
    [data] = [b.callback_data or "" for b in buttons if b.text.startswith(label_start)]
    return data


def sends_to(sandbox: Sandbox, chat_id: int) -> int:
    return sum(
        1 for r in sandbox.requests if r.method == "sendMessage" and r.params["chat_id"] == chat_id
    )


async def statuses(running_bot: RunningBot) -> dict[int, str]:
    async with running_bot.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {r.chat_id: r.status for r in rows}


async def finished_after_a_restart(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, organiser: SandboxUser
) -> Finished:
    """An announcement that went out while its sender died mid-send to two people, and that
    one trainee had blocked; the organiser's message shows its final report."""
    await sandbox.send_text(organiser, "/start")
    await sandbox.next_bot_message(organiser.id)
    progress = await running_bot.app.bot.send_message(organiser.id, "📣 Announcement queued")
    async with running_bot.session_factory() as session:
        programme = await add_programme(session, "DIGI")
        cohort = await add_cohort(session, programme, "DIGI-1")
        for user_id in (*CAUGHT, BLOCKED, *FINE):
            await add_trainee(session, cohort, user_id, locale="en")
        await session.commit()
        report = await ann.create_campaign(
            session,
            scope=ann.Scope(user_id=ADMIN_ID, programme_ids=None),
            audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
            content={"en": {"text": TEXT}},
            clock=clock,
            scheduled_at=clock.now() + timedelta(minutes=30),
            progress_chat_id=organiser.id,
            progress_message_id=progress.message_id,
        )
        programme_id = programme.id or 0
    # A sender handed these two to Telegram, which delivered them, and died before it could
    # write so: at its restart they are reported as interrupted, delivery unknown.
    for chat in CAUGHT:
        await running_bot.app.bot.send_message(chat, TEXT)
    async with running_bot.session_factory() as session:
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.chat_id).in_(CAUGHT))
            .values(status="sending", claimed_at=clock.now())
        )
        assert await outbox_db.recover_interrupted(session, older_than=clock.now()) == 2
        await session.commit()
    sandbox.faults.block(BLOCKED)

    clock.advance(timedelta(minutes=31))
    running_bot.app.sender.wake()
    await drain(running_bot.session_factory, clock, running_bot.app.sender)
    await sandbox.wait_for(
        lambda: "finished" in (message(sandbox, organiser.id, progress.message_id).text or ""),
        timeout=15,
        what="the final report",
    )
    await sandbox.settle(quiet=0.2)
    return Finished(report.campaign_id, progress.message_id, programme_id)


async def test_sent_again_to_those_a_restart_caught_and_only_once(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, organiser: SandboxUser
) -> None:
    done = await finished_after_a_restart(running_bot, sandbox, clock, organiser)
    report = message(sandbox, organiser.id, done.report_id)
    assert "Delivered: 2 of 5" in (report.text or "")
    assert "• interrupted by a restart: 2" in (report.text or "")
    assert "• blocked the bot: 1" in (report.text or "")
    assert labels(report) == ["↻ Send again to 2"]
    assert sends_to(sandbox, BLOCKED) == 1

    await press(sandbox, organiser, data_of(report, "↻"))
    confirmation = sandbox.bot_messages(organiser.id)[-1]
    assert confirmation.message_id != done.report_id
    assert "send it again to the 2 chats it failed for?" in (confirmation.text or "")
    assert "they may already have it (Telegram cannot tell us)" in (confirmation.text or "")
    assert "1 other failure (blocked the bot, account deleted…) is not tried again" in (
        confirmation.text or ""
    )
    assert labels(confirmation) == ["✅ Send again", "✖ Cancel"]
    confirm = data_of(confirmation, "✅")
    assert len(confirm.encode()) <= 64

    await press(sandbox, organiser, confirm)
    [answer] = [a for a in sandbox.callback_answers.values() if "Queued again" in a.get("text", "")]
    assert answer["text"] == "Queued again: 2 messages."
    queued = message(sandbox, organiser.id, confirmation.message_id)
    assert "2 messages queued again" in (queued.text or "")
    assert labels(queued) == []

    await drain(running_bot.session_factory, clock, running_bot.app.sender)
    # The same message becomes the new final report; only the blocked one failed, for good.
    await sandbox.wait_for(
        lambda: "Delivered: 4 of 5" in (message(sandbox, organiser.id, done.report_id).text or ""),
        timeout=15,
        what="the new final report",
    )
    await sandbox.settle(quiet=0.2)
    report = message(sandbox, organiser.id, done.report_id)
    assert "finished" in (report.text or "")
    assert "interrupted" not in (report.text or "")
    assert labels(report) == []
    for chat in CAUGHT:
        assert sandbox.delivered[chat] == [TEXT, TEXT], chat  # once more, as the warning said
    for chat in FINE:
        assert sandbox.delivered[chat] == [TEXT], chat
    assert BLOCKED not in sandbox.delivered
    assert sends_to(sandbox, BLOCKED) == 1  # never tried again

    # Confirm pressed again (a double tap, or another replica's copy of the update).
    query_id = await sandbox.press_button(organiser, confirmation.message_id, confirm)
    await sandbox.settle(quiet=0.3)
    assert sandbox.callback_answers[query_id] == {
        "text": "Nothing to send again.",
        "show_alert": True,
    }
    await drain(running_bot.session_factory, clock, running_bot.app.sender)
    await sandbox.settle(quiet=0.3)
    for chat in CAUGHT:
        assert sandbox.delivered[chat] == [TEXT, TEXT], chat  # no third copy
    async with running_bot.session_factory() as session:
        campaign = await session.get(Campaign, done.campaign_id)
    assert campaign is not None
    assert campaign.status == "done"


async def test_others_are_refused_and_cancel_changes_nothing(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, organiser: SandboxUser
) -> None:
    done = await finished_after_a_restart(running_bot, sandbox, clock, organiser)
    report = message(sandbox, organiser.id, done.report_id)
    offer = data_of(report, "↻")
    confirm = offer.replace("an:rs:", "an:rsy:")
    async with running_bot.session_factory() as session:
        theirs = await add_programme(session, "AGRI")
        assert theirs.id is not None
        session.add(RoleGrant(user_id=8601, programme_id=theirs.id, role="programme_admin"))
        await session.commit()
    before = await statuses(running_bot)

    other_organiser = SandboxUser(id=8601, first_name="Aziz", language_code="en")
    trainee = SandboxUser(id=FINE[0], first_name="Amina", language_code="en")
    for person in (other_organiser, trainee):
        await sandbox.send_text(person, "/start")
        await sandbox.next_bot_message(person.id)
    for data in (offer, confirm):
        query_id = await sandbox.press_button(
            other_organiser, sandbox.bot_messages(other_organiser.id)[-1].message_id, data
        )
        await sandbox.settle(quiet=0.2)
        assert sandbox.callback_answers[query_id] == {
            "text": "You may not send this announcement again.",
            "show_alert": True,
        }
        query_id = await sandbox.press_button(
            trainee, sandbox.bot_messages(trainee.id)[-1].message_id, data
        )
        await sandbox.settle(quiet=0.2)
        assert sandbox.callback_answers[query_id]["text"] == "This button is no longer active."
    assert [m.text for m in sandbox.bot_messages(other_organiser.id)][1:] == []

    # The organiser thinks better of it.
    await press(sandbox, organiser, offer)
    confirmation = sandbox.bot_messages(organiser.id)[-1]
    await press(sandbox, organiser, data_of(confirmation, "✖"))
    assert message(sandbox, organiser.id, confirmation.message_id).text == (
        "Nothing was sent again."
    )

    running_bot.app.sender.wake()
    await sandbox.settle(quiet=0.5)
    assert await statuses(running_bot) == before
    for chat in CAUGHT:
        assert sandbox.delivered[chat] == [TEXT], chat
    async with running_bot.session_factory() as session:
        campaign = await session.get(Campaign, done.campaign_id)
    assert campaign is not None
    assert campaign.status == "done"
    assert labels(message(sandbox, organiser.id, done.report_id)) == ["↻ Send again to 2"]


async def campaigns_list(sandbox: Sandbox, organiser: SandboxUser) -> TranscriptEntry:
    await sandbox.send_text(organiser, "/campaigns")
    await sandbox.wait_for(
        lambda: (sandbox.bot_messages(organiser.id)[-1].text or "").startswith("Announcements"),
        timeout=10,
        what="the list of announcements",
    )
    return sandbox.bot_messages(organiser.id)[-1]


async def test_the_list_of_announcements_offers_it_too(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, organiser: SandboxUser
) -> None:
    done = await finished_after_a_restart(running_bot, sandbox, clock, organiser)
    listing = await campaigns_list(sandbox, organiser)
    assert f"#{done.campaign_id} · finished" in (listing.text or "")
    assert labels(listing) == [f"↻ Send again #{done.campaign_id}"]
    # The same offer as the report's button, and the same confirmation.
    assert data_of(listing, "↻") == data_of(message(sandbox, organiser.id, done.report_id), "↻")
    await press(sandbox, organiser, data_of(listing, "↻"))
    confirmation = sandbox.bot_messages(organiser.id)[-1]
    assert "send it again to the 2 chats it failed for?" in (confirmation.text or "")
    await press(sandbox, organiser, data_of(confirmation, "✅"))
    await drain(running_bot.session_factory, clock, running_bot.app.sender)
    await sandbox.wait_for(
        lambda: "Delivered: 4 of 5" in (message(sandbox, organiser.id, done.report_id).text or ""),
        timeout=15,
        what="the new final report",
    )
    await sandbox.settle(quiet=0.2)

    # Sent again and finished: nothing is left that may pass, so the list offers nothing.
    listing = await campaigns_list(sandbox, organiser)
    assert f"#{done.campaign_id} · finished" in (listing.text or "")
    assert labels(listing) == []
