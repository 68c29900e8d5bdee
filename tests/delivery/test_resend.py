"""Sending a finished announcement again, on SQLite and PostgreSQL: only failures that may pass
are queued again, once, and only by someone who may act on the campaign."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import announcements as cli_delivery
from bot.clock import ManualClock
from bot.db import announcements as announcements_db
from bot.db import outbox as outbox_db
from bot.db.models import Campaign, OutboxMessage
from bot.services import announcements as ann
from tests.delivery.conftest import add_cohort, add_programme, add_trainee, grant
from tests.support.settings import make_settings

ORGANISER = 42
OTHER_ORGANISER = 43
SENT, INTERRUPTED, SERVER_ERROR, BLOCKED, REFUSED, ERASED = 801, 802, 803, 804, 805, 806


@dataclass
class Finished:
    campaign_id: int
    mark: str
    ours: ann.Scope
    theirs: ann.Scope


async def statuses(session: AsyncSession, campaign_id: int) -> dict[int, str]:
    found = await session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.campaign_id) == campaign_id)
        .execution_options(populate_existing=True)
    )
    return {r.chat_id: r.status for r in found.all()}


async def settle(session: AsyncSession, chat_id: int, status: str, error: str | None) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.chat_id) == chat_id)
        .values(status=status, last_error=error)
    )


async def finished_campaign(session: AsyncSession, clock: ManualClock) -> Finished:
    """A campaign that ended with one row sent and one failed for each kind of reason."""
    ours = await add_programme(session, "OURS")
    theirs = await add_programme(session, "THEIRS")
    cohort = await add_cohort(session, ours, "OURS-1")
    for user_id in (SENT, INTERRUPTED, SERVER_ERROR, BLOCKED, REFUSED, ERASED):
        await add_trainee(session, cohort, user_id)
    await grant(session, ORGANISER, ours)
    await grant(session, OTHER_ORGANISER, theirs)
    await session.commit()
    our_scope = await ann.scope_of(session, ORGANISER, admin_ids=[1])
    their_scope = await ann.scope_of(session, OTHER_ORGANISER, admin_ids=[1])
    assert our_scope is not None
    assert their_scope is not None
    report = await ann.create_campaign(
        session,
        scope=our_scope,
        audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
        content={"en": {"text": "Exam on Friday"}},
        clock=clock,
    )
    await settle(session, SENT, "sent", None)
    # Handed to Telegram when the sender died: delivery unknown.
    for chat in (INTERRUPTED, ERASED):
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.chat_id) == chat)
            .values(status="sending", claimed_at=clock.now() - timedelta(minutes=5))
        )
    assert await outbox_db.recover_interrupted(session, older_than=clock.now()) == 2
    server_error = outbox_db.failure_text(
        outbox_db.Failure.SERVER_ERROR, "gave up after 5 attempts: Internal Server Error"
    )
    await settle(session, SERVER_ERROR, "failed", server_error)
    blocked = outbox_db.failure_text(outbox_db.Failure.BLOCKED, "Forbidden: bot was blocked")
    await settle(session, BLOCKED, "failed", blocked)
    refused = outbox_db.failure_text(outbox_db.Failure.OTHER, "Bad Request: message is too long")
    await settle(session, REFUSED, "failed", refused)
    # The person asked to be erased: the row keeps its reason but has no chat or text left.
    await outbox_db.erase_rows(session, user_id=ERASED)
    await session.commit()
    campaign = await session.get(Campaign, report.campaign_id)
    assert campaign is not None
    assert await ann.finish_if_done(session, campaign, clock)
    return Finished(
        report.campaign_id, announcements_db.report_mark(campaign), our_scope, their_scope
    )


async def test_only_failures_that_may_pass_are_queued_again_and_only_once(
    session: AsyncSession, clock: ManualClock
) -> None:
    done = await finished_campaign(session, clock)

    offer = await ann.resend_offer(session, done.campaign_id, done.ours, done.mark)
    assert (offer.count, offer.interrupted, offer.not_retried) == (2, 1, 3)

    clock.advance(timedelta(hours=1))
    queued = await ann.resend_failed(session, done.campaign_id, done.ours, done.mark, clock)
    assert queued == 2
    after = await statuses(session, done.campaign_id)
    assert after == {
        SENT: "sent",
        INTERRUPTED: "pending",
        SERVER_ERROR: "pending",
        BLOCKED: "failed",
        REFUSED: "failed",
        0: "failed",  # the erased person's row, emptied
    }
    again = (
        await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.status) == "pending")
            .execution_options(populate_existing=True)
        )
    ).all()
    # As new: due now, with the sender's whole budget of attempts.
    assert {(r.due_at, r.attempts, r.last_error) for r in again} == {(clock.now(), 0, None)}
    campaign = await session.get(Campaign, done.campaign_id, populate_existing=True)
    assert campaign is not None
    assert (campaign.status, campaign.finished_at) == ("running", None)

    # Pressed a second time: nothing more is queued, nothing changes.
    assert await ann.resend_failed(session, done.campaign_id, done.ours, done.mark, clock) == 0
    assert (await ann.resend_offer(session, done.campaign_id, done.ours, done.mark)).count == 0
    assert await statuses(session, done.campaign_id) == after

    # The second round: one delivered, the server fails again; the campaign closes anew.
    await settle(session, INTERRUPTED, "sent", None)
    await settle(
        session,
        SERVER_ERROR,
        "failed",
        outbox_db.failure_text(outbox_db.Failure.SERVER_ERROR, "gave up after 5 attempts"),
    )
    await session.commit()
    clock.advance(timedelta(minutes=5))
    assert await ann.finish_if_done(session, campaign, clock)
    new_mark = announcements_db.report_mark(campaign)
    assert new_mark != done.mark
    # The first report's confirmation no longer stands; the new report's does.
    assert await ann.resend_failed(session, done.campaign_id, done.ours, done.mark, clock) == 0
    assert await ann.resend_failed(session, done.campaign_id, done.ours, new_mark, clock) == 1


async def test_an_organiser_of_another_programme_may_not_send_it_again(
    session: AsyncSession, clock: ManualClock
) -> None:
    done = await finished_campaign(session, clock)
    before = await statuses(session, done.campaign_id)

    with pytest.raises(ann.NotAllowed):
        await ann.resend_offer(session, done.campaign_id, done.theirs, done.mark)
    with pytest.raises(ann.NotAllowed):
        await ann.resend_failed(session, done.campaign_id, done.theirs, done.mark, clock)
    with pytest.raises(ann.CampaignNotFound):
        await ann.resend_failed(session, done.campaign_id + 1, done.ours, done.mark, clock)

    assert await statuses(session, done.campaign_id) == before
    campaign = await session.get(Campaign, done.campaign_id, populate_existing=True)
    assert campaign is not None
    assert campaign.status == "done"
    # A super-admin may.
    assert await ann.resend_failed(session, done.campaign_id, ann.Scope(1, None), done.mark, clock)


async def test_two_replicas_confirming_at_once_queue_the_rows_once(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL's row locks; SQLite has one writer")
    async with session_factory() as session:
        done = await finished_campaign(session, clock)

    async def confirm() -> int:
        async with session_factory() as session:
            return await ann.resend_failed(session, done.campaign_id, done.ours, done.mark, clock)

    assert sorted(await asyncio.gather(confirm(), confirm())) == [0, 2]


async def test_the_command_line_sends_again_after_a_dry_run(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with session_factory() as session:
        done = await finished_campaign(session, clock)
    settings = make_settings(database_url=database_url)

    def resend(*extra: str, campaign: int = done.campaign_id) -> argparse.Namespace:
        parser = argparse.ArgumentParser()
        cli_delivery.add_commands(parser.add_subparsers(dest="command"))
        return parser.parse_args(["outbox", "resend", "--campaign", str(campaign), *extra])

    assert await cli_delivery.run_command(resend("--dry-run"), settings) == 0
    out = capsys.readouterr().out
    assert "send it again to the 2 chats it failed for?" in out
    assert "1 of them was being sent when the bot restarted" in out
    assert "3 other failures (blocked the bot, account deleted…) are not tried again." in out
    async with session_factory() as session:
        assert (await statuses(session, done.campaign_id))[INTERRUPTED] == "failed"

    assert await cli_delivery.run_command(resend(), settings) == 0
    assert "Queued again: 2 messages." in capsys.readouterr().out
    async with session_factory() as session:
        after = await statuses(session, done.campaign_id)
    assert (after[INTERRUPTED], after[SERVER_ERROR], after[BLOCKED]) == (
        "pending",
        "pending",
        "failed",
    )

    # The campaign is open again: nothing more to send again until it has finished.
    assert await cli_delivery.run_command(resend(), settings) == 1
    assert "Nothing to send again." in capsys.readouterr().err
    assert await cli_delivery.run_command(resend(campaign=999), settings) == 1
    assert "No campaign 999." in capsys.readouterr().err
