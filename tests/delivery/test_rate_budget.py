"""Direct answers under Telegram's limits: a 429 is waited out, a 403 marks the person.

The bot answers through the sandbox over HTTP; the sandbox enforces the limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from bot.app import SANDBOX_TOKEN, Application, application
from bot.clock import ManualClock
from bot.db.models import User
from bot.delivery.budget import BudgetLimits, RateBudget, interactive
from bot.delivery.requests import BudgetMiddleware
from sandbox import Limits, Sandbox, SandboxUser
from tests.support.settings import make_settings

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def bot_with(
    sandbox: Sandbox, database_url: str, clock: ManualClock, **settings: object
) -> AsyncIterator[Application]:
    values = {"database_url": database_url, "telegram_api_url": sandbox.url, **settings}
    async with application(make_settings(**values), clock=clock, migrate_first=False) as app:
        await app.prepare()
        sandbox.busy_checks.append(lambda: app.budget.waiting > 0)
        polling = asyncio.create_task(app.run_polling())
        try:
            yield app
        finally:
            await app.stop_polling()
            await asyncio.wait_for(polling, timeout=10)


async def test_answers_refused_with_429_are_sent_again_once(
    sandbox: Sandbox, database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram allows 4 a second here; the bot believes it may send 30: every answer past the
    # fourth meets a 429 and must still arrive, exactly once.
    people = [SandboxUser(id=8100 + n, first_name=f"P{n}") for n in range(12)]
    async with bot_with(sandbox, database_url, clock):
        sandbox.limits = Limits(global_per_second=4, strict=True)
        with caplog.at_level(logging.WARNING):
            await asyncio.gather(*(sandbox.send_text(p, "/help") for p in people))
            for person in people:
                await sandbox.next_bot_message(person.id, timeout=30)
            await sandbox.settle()
    assert sandbox.rate_limited != []
    for person in people:
        answers = sandbox.bot_messages(person.id)
        assert len(answers) == 1
        assert "/schedule" in (answers[0].text or "")
    assert "failed" not in caplog.text


async def test_answer_to_someone_who_blocked_the_bot_marks_them_quietly(
    sandbox: Sandbox, database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    person = SandboxUser(id=8200, first_name="Gone")
    async with bot_with(sandbox, database_url, clock) as app:
        await sandbox.send_text(person, "/start")
        await sandbox.next_bot_message(person.id)
        sandbox.faults.block(person.id)
        with caplog.at_level(logging.WARNING):
            await sandbox.send_text(person, "/help")
            await sandbox.settle()
            async with app.session_factory() as session:
                user = await session.get(User, person.id)
    assert user is not None
    assert user.is_reachable is False
    records = [r for r in caplog.records if r.name.startswith("bot")]
    assert any("cannot be reached" in r.getMessage() for r in records)
    assert all(r.levelno < logging.ERROR for r in records)
    assert all(r.exc_info is None for r in records)


async def test_a_flood_wait_longer_than_the_bound_is_given_up_and_logged_once(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.limits = Limits(global_per_second=1, strict=True)
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    unlimited = RateBudget(BudgetLimits(enabled=False))
    session.middleware(BudgetMiddleware(unlimited, max_retry_wait=0.5))
    bot = Bot(SANDBOX_TOKEN, session=session)
    try:
        person = SandboxUser(id=8300, first_name="Q")
        await sandbox.send_text(person, "hello")  # the chat exists
        with interactive():
            await bot.send_message(person.id, "first")
            with caplog.at_level(logging.WARNING), pytest.raises(TelegramRetryAfter):
                await bot.send_message(person.id, "second")
    finally:
        await bot.session.close()
    assert sandbox.delivered[person.id] == ["first"]
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert len(given_up) == 1
