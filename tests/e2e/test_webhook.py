"""Webhook mode: Telegram (the sandbox) pushes updates; a push without the secret is refused.

The bot serves its webhook, /healthz and /metrics on one port, as it would behind a reverse
proxy; the sandbox plays Telegram, POSTing each update with the secret the bot gave it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from sqlmodel import select

from bot.app import Application, application
from bot.clock import ManualClock
from bot.db.models import User
from bot.web import serve
from sandbox import Sandbox, SandboxUser
from tests.support.settings import make_settings

SECRET = "s3cret-Token_for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    app: Application
    base: str  # http://127.0.0.1:PORT

    @property
    def hook(self) -> str:
        return self.base + self.app.settings.webhook_path


@pytest.fixture
async def served(database_url: str, sandbox: Sandbox, clock: ManualClock) -> AsyncIterator[Served]:
    sandbox.world.loopback_webhooks = True
    port = free_port()
    settings = make_settings(
        database_url=database_url,
        telegram_api_url=sandbox.url,
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        webhook_secret=SECRET,
        webhook_port=port,
    )
    async with application(settings, clock=clock, migrate_first=False) as app:
        await app.prepare()
        sandbox.busy_checks.append(lambda: app.budget.waiting > 0 or app.updates_in_progress() > 0)
        serving = asyncio.create_task(app.run_webhook())
        try:
            await asyncio.wait_for(app._polling.wait(), timeout=10)
            yield Served(app, f"http://127.0.0.1:{port}")
        finally:
            await app.stop_serving()
            await asyncio.wait_for(serving, timeout=10)


def a_message_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    person = {"id": user_id, "is_bot": False, "first_name": "Forged", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_800_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Forged"},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_pushes_are_served_with_the_secret_telegram_was_given(
    served: Served, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    hooks = [r for r in sandbox.requests if r.method == "setWebhook"]
    assert hooks
    assert hooks[-1].status == 200
    given = hooks[-1].params
    assert given["url"] == served.hook
    assert given["secret_token"] == SECRET
    assert {"message", "callback_query", "my_chat_member"} <= set(given["allowed_updates"])

    await sandbox.send_text(trainee, "/start")
    welcome = await sandbox.next_bot_message(trainee.id)
    assert "Welcome, Amina!" in (welcome.text or "")
    assert sandbox.webhook_pushes
    assert {p.status for p in sandbox.webhook_pushes} == {200}
    # Long polling is off while the webhook is set, as in Telegram.
    assert not [r for r in sandbox.requests if r.method == "getUpdates"]


@pytest.mark.parametrize("header", [None, "wrong-secret"])
async def test_a_push_without_the_right_secret_is_refused_and_nothing_is_handled(
    served: Served, sandbox: Sandbox, header: str | None
) -> None:
    forger = 5_550_001
    headers = {} if header is None else {"X-Telegram-Bot-Api-Secret-Token": header}
    before = len(sandbox.requests)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            served.hook, json=a_message_update(900_001, forger, "/start"), headers=headers
        ) as answer,
    ):
        assert answer.status in (401, 403)
    await asyncio.sleep(0.3)
    await sandbox.settle()
    assert [r for r in sandbox.requests[before:] if r.method.startswith("send")] == []
    async with served.app.session_factory() as session:
        assert (await session.exec(select(User).where(User.id == forger))).first() is None


async def test_health_and_metrics_on_the_same_port(
    served: Served, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/start")
    await sandbox.next_bot_message(trainee.id)
    await sandbox.settle()
    async with aiohttp.ClientSession() as http:
        async with http.get(served.base + "/healthz") as health:
            assert health.status == 200
            assert (await health.text()).strip() == "ok"
        async with http.get(served.base + "/metrics") as page:
            assert page.status == 200
            assert page.headers["Content-Type"].startswith("text/plain")
            body = await page.text()
    assert 'trainee_updates_total{result="ok",type="message"}' in body
    assert 'trainee_outbox_rows{status="pending"}' in body
    assert "trainee_handler_seconds_bucket" in body
    assert 'trainee_leader{replica="' in body


async def test_healthz_is_503_naming_the_database_when_it_does_not_answer(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    # A PostgreSQL that is down: nothing listens on its port.
    settings = make_settings(
        database_url=f"postgresql+asyncpg://bot:bot@127.0.0.1:{free_port()}/bot",
        telegram_api_url=sandbox.url,
    )
    async with application(settings, clock=clock, migrate_first=False) as app:
        runner, port = await serve(app, "127.0.0.1", 0, webhook=False)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                    assert health.status == 503
                    assert "database" in await health.text()
                async with http.get(f"http://127.0.0.1:{port}/metrics") as page:
                    assert page.status == 200  # the figures it has are still served
        finally:
            await runner.cleanup()
