"""Fixtures for the sandbox's own tests: a running sandbox and clients to talk to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox import Limits, Sandbox, SandboxChat, SandboxUser

TOKEN = "123456:TEST-sandbox-token"
BOT_ID = 123456


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RawClient:
    """Posts Bot API calls the way different clients do, and returns status and body."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def call(self, method: str, *, encoding: str = "form", **params: Any):
        url = f"{self.base}/{method}"
        if encoding == "json":
            response = await self.session.post(url, json=params)
        elif encoding == "query":
            response = await self.session.get(url, params=_as_strings(params))
        elif encoding == "multipart":
            form = aiohttp.FormData()
            for key, value in params.items():
                if isinstance(value, tuple):
                    filename, content = value
                    form.add_field(key, content, filename=filename)
                else:
                    form.add_field(key, _as_string(value))
            response = await self.session.post(url, data=form)
        else:
            response = await self.session.post(url, data=_as_strings(params))
        async with response:
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert status == 200, body
        return body["result"]


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _as_strings(params: dict[str, Any]) -> dict[str, str]:
    return {key: _as_string(value) for key, value in params.items()}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(limits=Limits(enabled=False), token=TOKEN)
    await sb.start()
    yield sb
    await sb.stop()
    assert sb.internal_errors == []


@pytest.fixture
async def raw(sandbox: Sandbox) -> AsyncIterator[RawClient]:
    async with aiohttp.ClientSession() as session:
        yield RawClient(session, f"{sandbox.url}/bot{TOKEN}")


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    instance = Bot(TOKEN, session=session)
    yield instance
    await session.close()


@pytest.fixture
def ann() -> SandboxUser:
    return SandboxUser(id=1001, first_name="Ann", last_name="Lee", username="ann_lee")


@pytest.fixture
def bob() -> SandboxUser:
    return SandboxUser(id=1002, first_name="Bob", language_code="de")


@pytest.fixture
def cohort() -> SandboxChat:
    return SandboxChat(id=-1001234567890, type="supergroup", title="Cohort 2026")


@pytest.fixture
def staff() -> SandboxChat:
    return SandboxChat(id=-1009876543210, type="supergroup", title="Staff inbox")


@pytest.fixture
async def forum(
    sandbox: Sandbox, raw: RawClient, ann: SandboxUser, staff: SandboxChat
) -> SandboxChat:
    """A forum supergroup owned by Ann with the bot as an administrator that manages topics;
    the updates about it are already fetched."""
    await sandbox.create_forum(ann, staff)
    pending = await raw.ok("getUpdates")
    await raw.ok("getUpdates", offset=pending[-1]["update_id"] + 1)
    return staff


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limited(fake_clock: FakeClock) -> AsyncIterator[tuple[Sandbox, RawClient]]:
    """A sandbox with Telegram's default flood limits on a clock that stands still."""
    sb = Sandbox(limits=Limits(), token=TOKEN, clock=fake_clock)
    await sb.start()
    async with aiohttp.ClientSession() as session:
        yield sb, RawClient(session, f"{sb.url}/bot{TOKEN}")
    await sb.stop()
    assert sb.internal_errors == []
