"""A campaign survives a sender dying mid-way, and two senders never send a row twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import build_bot
from bot.clock import ManualClock
from bot.db.models import OutboxMessage
from bot.delivery.sender import Sender, SenderConfig
from bot.delivery.transport import AiogramTransport
from bot.services import announcements as ann
from sandbox import Sandbox
from tests.delivery.conftest import add_cohort, add_programme, add_trainee
from tests.support.settings import make_settings

TEXT = "Timetable changed"


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    bot = build_bot(make_settings(telegram_api_url=sandbox.url))
    yield bot
    await bot.session.close()


def fast(**overrides: object) -> SenderConfig:
    config = SenderConfig(
        rate=500, private_interval=0.0, group_interval=0.0, flush_interval=0.02, batch=20
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


async def campaign_for(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock, people: list[int]
) -> int:
    async with session_factory() as session:
        programme = await add_programme(session, "P")
        cohort = await add_cohort(session, programme, "P-1")
        for user_id in people:
            await add_trainee(session, cohort, user_id)
        await session.commit()
        report = await ann.create_campaign(
            session,
            scope=ann.EVERYTHING,
            audience=ann.Audience(cohort_ids=(cohort.id or 0,)),
            content={"en": {"text": TEXT}},
            clock=clock,
        )
    return report.campaign_id


async def outbox_rows(session_factory: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with session_factory() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def test_interrupted_campaign_resumes_without_sending_twice(
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    sandbox: Sandbox,
    bot: Bot,
) -> None:
    people = list(range(20_001, 20_041))
    await campaign_for(session_factory, clock, people)
    sandbox.faults.latency = 0.01

    # The first sender works for a while, records some results, then dies without a word:
    # nothing more is written, rows stay claimed (held) or sending (handed to Telegram).
    dying = Sender(session_factory, AiogramTransport(bot), clock, fast(rate=50), worker_id="dying")
    await dying.recover()
    while len(sandbox.delivered) < 8:
        await dying.step()
        await asyncio.sleep(0.005)
    await dying.flush()
    for _ in range(3):
        await dying.step()
        await asyncio.sleep(0.005)
    await sandbox.settle(quiet=0.1)
    before = await outbox_rows(session_factory)
    assert {r.status for r in before} >= {"sent", "claimed"}
    assert "sending" in {r.status for r in before}

    clock.advance(timedelta(minutes=2))  # the dead sender's claims are now stale
    restarted = Sender(session_factory, AiogramTransport(bot), clock, fast(), worker_id="again")
    await restarted.run_until_idle()

    after = {r.chat_id: r for r in await outbox_rows(session_factory)}
    assert {r.status for r in after.values()} <= {"sent", "failed"}
    for chat in people:
        got = sandbox.delivered.get(chat, [])
        assert len(got) <= 1, f"{chat} got the announcement {len(got)} times"
        row = after[chat]
        if row.status == "sent":
            assert got == [TEXT]
        else:
            # Handed to Telegram when the sender died: reported, never sent again.
            assert row.last_error == "interrupted by a restart; delivery unknown"
    interrupted = [c for c, r in after.items() if r.status == "failed"]
    assert interrupted, "the dead sender left rows that were being sent"
    assert sum(1 for c in people if sandbox.delivered.get(c)) >= len(people) - len(interrupted)


async def test_two_senders_on_postgresql_never_send_a_row_twice(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    sandbox: Sandbox,
    bot: Bot,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent senders need PostgreSQL's row locks; SQLite has one writer")
    people = list(range(30_001, 30_201))
    campaign_id = await campaign_for(session_factory, clock, people)
    sandbox.faults.latency = 0.002
    first = Sender(session_factory, AiogramTransport(bot), clock, fast(), worker_id="first")
    second = Sender(session_factory, AiogramTransport(bot), clock, fast(), worker_id="second")

    await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    assert first.sent_count > 0
    assert second.sent_count > 0
    assert first.sent_count + second.sent_count == len(people)
    for chat in people:
        assert sandbox.delivered.get(chat) == [TEXT], chat
    async with session_factory() as session:
        statuses = (
            await session.exec(
                select(OutboxMessage.status).where(col(OutboxMessage.campaign_id) == campaign_id)
            )
        ).all()
    assert set(statuses) == {"sent"}
