"""Handler tests: the production-built Dispatcher fed updates, with a recording bot."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import build_bot, build_dispatcher
from bot.clock import ManualClock
from bot.config import Settings
from tests.support.recording import RecordingSession
from tests.support.settings import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def recorder() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def bot(settings: Settings, recorder: RecordingSession) -> Bot:
    return build_bot(settings, recorder)


@pytest.fixture
def dp(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
) -> Dispatcher:
    return build_dispatcher(settings=settings, session_factory=session_factory, clock=clock)


class Feeder:
    def __init__(self, dp: Dispatcher, bot: Bot) -> None:
        self.dp = dp
        self.bot = bot

    async def __call__(self, update: dict[str, Any]) -> None:
        parsed = Update.model_validate(update, context={"bot": self.bot})
        await self.dp.feed_update(self.bot, parsed)


@pytest.fixture
def feed(dp: Dispatcher, bot: Bot) -> Feeder:
    return Feeder(dp, bot)
