"""The overall count that several replicas share: a sliding log in Redis.

With one process the :class:`~bot.delivery.budget.RateBudget` counts alone. Replicas each
have their own budget (a chat's own limits and who goes first stay local), and every call
let out also takes its place in one log in Redis, pyrate-limiter's ``RedisBucket`` (a sorted
set checked and written by one Lua script, so two replicas never both take the last place):
at most ``per_second`` calls in any window of ``1 + margin`` seconds across all replicas.
Background calls (the sender's) may use only ``BACKGROUND_SHARE`` of that window, so a
broadcast sent by the leader leaves room for the answers other replicas give.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from pyrate_limiter import Limiter, Rate
from pyrate_limiter.buckets import RedisBucket
from redis.asyncio import Redis

from bot.delivery.budget import BudgetLimits

log = logging.getLogger(__name__)

#: The share of the shared window broadcasts may take; the rest is kept for answers.
BACKGROUND_SHARE: Final = 0.8


class RedisWindow:
    """The replicas' shared overall window; connects on first use."""

    def __init__(self, url: str, limits: BudgetLimits, key: str) -> None:
        self._url = url
        self._limits = limits
        self._key = key
        self._redis: Redis | None = None
        self._all: Limiter | None = None
        self._background: Limiter | None = None
        self._ready_lock = asyncio.Lock()

    async def _ready(self) -> tuple[Limiter, Limiter]:
        async with self._ready_lock:
            if self._all is None or self._background is None:
                self._redis = Redis.from_url(self._url)
                interval = round(self._limits.window * 1000)
                overall = max(1, int(self._limits.per_second))
                background = max(1, int(overall * BACKGROUND_SHARE))
                all_bucket = await RedisBucket.init(
                    [Rate(overall, interval)], self._redis, f"{self._key}:all"
                )
                background_bucket = await RedisBucket.init(
                    [Rate(background, interval)], self._redis, f"{self._key}:background"
                )
                self._all = Limiter(all_bucket, buffer_ms=5)
                self._background = Limiter(background_bucket, buffer_ms=5)
            return self._all, self._background

    async def take(self, urgent: bool) -> None:
        """Wait until the replicas together may let one more call out, and count it."""
        overall, background = await self._ready()
        if not urgent:
            await background.try_acquire_async("background")
        await overall.try_acquire_async("all")

    async def close(self) -> None:
        for limiter in (self._all, self._background):
            if limiter is not None:
                limiter.close()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
