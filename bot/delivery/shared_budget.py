"""The counts that several replicas share: sliding logs in Redis.

With one process the :class:`~bot.delivery.budget.RateBudget` counts alone. Replicas each
have their own budget (who goes first, and a private chat's own limit, stay local), and every
call let out also takes its place in one log in Redis, pyrate-limiter's ``RedisBucket`` (a
sorted set checked and written by one Lua script, so two replicas never both take the last
place): at most ``per_second`` calls in any window of ``1 + grant_margin`` seconds across
all replicas (counted from the grant: the log cannot know when a call reached Telegram).
Background calls (the sender's) may use only ``BACKGROUND_SHARE`` of that window, so a
broadcast sent by the leader leaves room for the answers other replicas give.

A group's own limit (``group_per_minute`` in any ``60 * (1 + grant_margin)`` seconds) is
shared the same way, one log per group: the leader's announcement to a cohort's group and the
answers other replicas give in it count together. Each group's log is trimmed as it is written and
expires when the group falls quiet. A private chat's limit stays per replica: a person's
updates are handled one at a time on one replica (event isolation) and only the leader
broadcasts, so two replicas rarely write to one person in the same second, and Telegram's
answer to that (a 429) is obeyed like any other.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Final

from pyrate_limiter import Limiter, Rate, RateItem
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
        self._script: str | None = None
        self._ready_lock = asyncio.Lock()

    async def _ready(self) -> tuple[Limiter, Limiter, Redis, str]:
        """The overall and background limiters, the connection and the check-and-insert
        script's hash (loaded once, for the groups' logs too)."""
        async with self._ready_lock:
            if (
                self._all is None
                or self._background is None
                or self._redis is None
                or self._script is None
            ):
                self._redis = Redis.from_url(self._url)
                interval = round(self._limits.grant_window * 1000)
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
                self._script = all_bucket.script_hash
            return self._all, self._background, self._redis, self._script

    async def take(self, urgent: bool) -> None:
        """Wait until the replicas together may let one more call out, and count it."""
        overall, background, _, _ = await self._ready()
        if not urgent:
            await background.try_acquire_async("background")
        await overall.try_acquire_async("all")

    async def take_group(self, chat_id: int) -> None:
        """Wait until the replicas together may send one more message to group ``chat_id``,
        and count it."""
        per_minute = self._limits.group_per_minute
        if chat_id >= 0 or per_minute <= 0:
            return
        _, _, redis, script = await self._ready()
        key = f"{self._key}:group:{chat_id}"
        interval = round(60 * self._limits.grant_window * 1000)
        rates = [Rate(per_minute, interval)]
        while True:
            # A bucket object per attempt: it is only a handle on the log in Redis, and its
            # last verdict must not be read by another caller's attempt.
            bucket = RedisBucket(rates, redis, key, script)
            now = time.time_ns() // 1_000_000  # the bucket's own clock: milliseconds
            pending = bucket.put_decision(RateItem(str(chat_id), now))
            decision = await pending if inspect.isawaitable(pending) else pending
            if decision.allowed:
                break
            wait_ms = decision.retry_after_ms if decision.retry_after_ms else 50
            await asyncio.sleep(max(wait_ms, 5) / 1000)
        pipe = redis.pipeline(transaction=False)
        pipe.zremrangebyscore(key, 0, now - interval)
        pipe.pexpire(key, interval)
        await pipe.execute()

    async def close(self) -> None:
        for limiter in (self._all, self._background):
            if limiter is not None:
                limiter.close()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
