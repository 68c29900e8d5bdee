"""Fixtures for end-to-end tests: the real bot, long polling over HTTP, against the sandbox.

After every test the sandbox must have seen no request that breaks the Bot API spec or
Telegram's limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Application, application
from bot.clock import ManualClock
from bot.config import Settings
from sandbox import Limits, Sandbox, SandboxUser
from tests.support.settings import ADMIN_ID, make_settings


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(limits=Limits(enabled=False))
    await sb.start(host="127.0.0.1", port=0)
    try:
        yield sb
    finally:
        await sb.stop()
    assert sb.violations == [], f"requests that break the Bot API spec: {sb.violations}"
    assert sb.internal_errors == [], f"the sandbox itself failed: {sb.internal_errors}"


@pytest.fixture
def e2e_settings(database_url: str, sandbox: Sandbox) -> Settings:
    return make_settings(database_url=database_url, telegram_api_url=sandbox.url)


@dataclass
class RunningBot:
    app: Application
    sandbox: Sandbox

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.app.session_factory


@pytest.fixture
async def running_bot(
    e2e_settings: Settings, sandbox: Sandbox, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    async with application(e2e_settings, clock=clock, migrate_first=False) as app:
        await app.prepare()
        # Settling waits for updates still being handled and for answers the bot holds back
        # for Telegram's limits.
        sandbox.busy_checks.append(lambda: app.budget.waiting > 0 or app.updates_in_progress() > 0)
        polling = asyncio.create_task(app.run_polling())
        try:
            yield RunningBot(app=app, sandbox=sandbox)
        finally:
            await app.stop_polling()
            await asyncio.wait_for(polling, timeout=10)


@pytest.fixture
def trainee() -> SandboxUser:
    return SandboxUser(id=7001, first_name="Amina", last_name="Nakato", language_code="en")


@pytest.fixture
def admin() -> SandboxUser:
    return SandboxUser(id=ADMIN_ID, first_name="Li", last_name="Na", language_code="en")
