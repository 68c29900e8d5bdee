"""Telegram's side of webhook mode: pushing updates to the URL ``setWebhook`` gave.

As Telegram does, the pusher POSTs each update as JSON with the secret in the
``X-Telegram-Bot-Api-Secret-Token`` header, up to ``max_connections`` at once; an update is
forgotten only once the bot answered it with a 2xx, anything else is tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from sandbox.core import SandboxCore

_log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header's name)
#: How long the pusher waits after a failed push before trying that update again.
RETRY_DELAY = 0.5


@dataclass(frozen=True, slots=True)
class Push:
    """One POST of one update to the webhook, and how the bot answered it."""

    update_id: int
    url: str
    status: int  # 0: no answer (refused connection, timeout)
    at: float


class WebhookPusher:
    """Delivers the update queue to the webhook while one is set."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core
        self.pushes: list[Push] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._in_flight: set[int] = set()

    @property
    def busy(self) -> bool:
        """Whether an update is on its way to the webhook or waits to be pushed."""
        world = self._core.world
        return bool(self._in_flight) or (world.webhook is not None and len(world.updates) > 0)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        queue = self._core.world.updates
        while True:
            hook = self._core.world.webhook
            if hook is None:
                # No webhook: the queue belongs to getUpdates, whose long poll a waiter of
                # ours would end; look again shortly.
                await asyncio.sleep(0.05)
                continue
            if not len(queue):
                waiter = queue.new_waiter()
                try:
                    await asyncio.wait({waiter}, timeout=0.2)
                finally:
                    queue.drop_waiter(waiter)
                continue
            batch = [
                update
                for update in queue.take(int(hook.get("max_connections", 40)))
                if int(update["update_id"]) not in self._in_flight
            ]
            results = await asyncio.gather(*(self._post(hook, update) for update in batch))
            done = {int(u["update_id"]) for u, ok in zip(batch, results, strict=True) if ok}
            queue.forget(done)
            if not all(results):
                await asyncio.sleep(RETRY_DELAY)

    async def _post(self, hook: dict[str, Any], update: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"Content-Type": "application/json"}
        secret = hook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = str(secret)
        update_id = int(update["update_id"])
        self._in_flight.add(update_id)
        status = 0
        try:
            async with self._session.post(hook["url"], json=update, headers=headers) as answer:
                status = answer.status
                await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.info("webhook push of update %s failed: %s", update_id, exc)
        finally:
            self._in_flight.discard(update_id)
            self.pushes.append(Push(update_id, str(hook["url"]), status, time.monotonic()))
            self._core.changed()
        return 200 <= status < 300
