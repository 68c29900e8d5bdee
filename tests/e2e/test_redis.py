"""Redis shared by replicas: a conversation moves between them, one person's updates queue.

Against a real ``redis-server`` (started for the test run) and the real bot over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import REDIS_PREFIX, Application, application
from bot.clock import ManualClock
from bot.config import Settings
from sandbox import Sandbox, SandboxUser
from tests.support.settings import make_settings


@asynccontextmanager
async def replica(
    settings: Settings, clock: ManualClock, *, poll: bool
) -> AsyncIterator[Application]:
    async with application(settings, clock=clock, migrate_first=False) as app:
        await app.prepare()
        if not poll:
            yield app
            return
        polling = asyncio.create_task(app.run_polling())
        try:
            yield app
        finally:
            await app.stop_polling()
            await asyncio.wait_for(polling, timeout=10)


async def test_a_conversation_survives_a_restart_and_moves_to_another_replica(
    database_url: str, redis_url: str, sandbox: Sandbox, clock: ManualClock, trainee: SandboxUser
) -> None:
    settings = make_settings(
        database_url=database_url, telegram_api_url=sandbox.url, redis_url=redis_url
    )
    async with replica(settings, clock, poll=True) as first:
        assert isinstance(first.dp.storage, RedisStorage)
        await sandbox.send_text(trainee, "/timezone")
        ask = await sandbox.next_bot_message(trainee.id)
        assert "Where are you?" in (ask.text or "")
        await sandbox.settle()
    # The first replica is gone; the next message reaches another one, which knows that the
    # trainee was asked where they are.
    async with replica(settings, clock, poll=True):
        await sandbox.send_text(trainee, "Tashkent")
        answer = await sandbox.next_bot_message(trainee.id)
        assert "Is this your local time?" in (answer.text or "")
        assert "Tashkent" in (answer.text or "")
        await sandbox.settle()

    redis = RedisStorage.from_url(redis_url)
    try:
        keys = await redis.redis.keys("*")
        assert keys
        assert all(key.decode().startswith(REDIS_PREFIX + ":") for key in keys)
        # Conversations expire; the shared rate budget's log (trainee:budget:...) keeps only
        # the last window's entries and needs no expiry.
        conversations = [key for key in keys if b":budget:" not in key]
        assert conversations
        for key in conversations:
            ttl = await redis.redis.ttl(key)
            assert 0 < ttl <= 48 * 3600, key
    finally:
        await redis.close()


def a_command(update_id: int, user: SandboxUser, text: str) -> dict[str, object]:
    person = {"id": user.id, "is_bot": False, "first_name": user.first_name, "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_800_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_one_persons_updates_are_never_handled_at_once_on_two_replicas(
    database_url: str, redis_url: str, sandbox: Sandbox, clock: ManualClock, trainee: SandboxUser
) -> None:
    settings = make_settings(
        database_url=database_url, telegram_api_url=sandbox.url, redis_url=redis_url
    )
    await sandbox.send_text(trainee, "hello")  # the sandbox knows the trainee's chat
    async with (
        replica(settings, clock, poll=False) as first,
        replica(settings, clock, poll=False) as second,
    ):
        key = StorageKey(bot_id=first.bot.id, chat_id=trainee.id, user_id=trainee.id)
        before = len(sandbox.requests)
        # The first replica is in the middle of one of the trainee's updates...
        async with first.dp.fsm.events_isolation.lock(key):
            handling = asyncio.create_task(
                second.dp.feed_raw_update(second.bot, a_command(800_001, trainee, "/timezone"))
            )
            await asyncio.sleep(1.0)
            # ...so the second waits with the next one rather than handling it alongside.
            assert [r for r in sandbox.requests[before:] if r.method == "sendMessage"] == []
            assert not handling.done()
        await asyncio.wait_for(handling, timeout=10)
        sent = [r for r in sandbox.requests[before:] if r.method == "sendMessage"]
        assert len(sent) == 1
        assert "Where are you?" in sent[0].params["text"]
