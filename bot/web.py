"""The bot's own HTTP face: Telegram's pushes (webhook mode), ``/healthz`` and ``/metrics``.

In webhook mode one aiohttp server on ``WEBHOOK_HOST:WEBHOOK_PORT`` serves all three; in
polling mode, ``METRICS_PORT`` (when set) serves the last two. A push must carry the
``X-Telegram-Bot-Api-Secret-Token`` Telegram was given in ``setWebhook``; aiogram's request
handler answers anything else with 401 and hands nothing to the dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.config import Settings
from bot.db import outbox as outbox_db

log = logging.getLogger(__name__)

#: How long /healthz waits for the database before it calls it down.
HEALTH_TIMEOUT = 3.0
#: Pushes Telegram may have in flight to one replica at once.
MAX_CONNECTIONS = 40


class Served(Protocol):
    """What is served: the running application (:class:`bot.app.Application`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]: ...

    bot: Bot
    dp: Dispatcher


async def check_health(app: Served) -> list[str]:
    """What does not answer: an empty list when everything does."""
    failed = []
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), app.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means the same to a load balancer: not healthy
        log.warning("health check: the database does not answer: %s", exc)
        failed.append("database")
    storage = app.dp.storage
    ping = getattr(getattr(storage, "redis", None), "ping", None)
    if ping is not None:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await ping()
        except Exception as exc:
            log.warning("health check: Redis does not answer: %s", exc)
            failed.append("redis")
    return failed


def build_web_app(app: Served, *, webhook: bool) -> web.Application:
    """The aiohttp application: the webhook (when ``webhook``), /healthz and /metrics."""
    web_app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        failed = await check_health(app)
        if failed:
            return web.Response(status=503, text=f"unavailable: {', '.join(failed)}\n")
        return web.Response(text="ok\n")

    async def metrics_page(_: web.Request) -> web.Response:
        try:
            async with app.session_factory() as session:
                metrics.set_outbox_rows(await outbox_db.counts_by_status(session))
        except Exception as exc:  # the rest of the figures are still worth having
            log.warning("metrics: the outbox could not be counted: %s", exc)
        body, content_type = metrics.exposition()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_page)
    if webhook:
        secret = app.settings.webhook_secret
        SimpleRequestHandler(
            dispatcher=app.dp,
            bot=app.bot,
            handle_in_background=True,
            secret_token=secret.get_secret_value() if secret else None,
        ).register(web_app, path=app.settings.webhook_path)
    return web_app


async def serve(app: Served, host: str, port: int, *, webhook: bool) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (clean it up to stop) and the port bound."""
    runner = web.AppRunner(build_web_app(app, webhook=webhook), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)
