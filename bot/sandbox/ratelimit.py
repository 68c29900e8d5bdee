"""Token buckets approximating Telegram's flood control for sending methods."""

from __future__ import annotations

import math
from collections.abc import Callable

from bot.sandbox.models import Limits


class TokenBucket:
    """Holds up to ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend one token; call only after :meth:`wait` returned 0."""
        self.tokens -= 1.0


class RateLimiter:
    """Global, paid-global, per-private-chat and per-group buckets for one set of limits."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        now = clock()
        self._global = TokenBucket(limits.global_per_second, limits.global_per_second, now)
        self._paid = TokenBucket(limits.paid_global_per_second, limits.paid_global_per_second, now)
        self._chats: dict[int, TokenBucket] = {}

    def acquire(self, chat_id: int, *, paid: bool = False) -> int | None:
        """Count one send to ``chat_id``; return ``retry_after`` seconds if over the limit."""
        if not self.limits.enabled:
            return None
        now = self._clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._new_chat_bucket(chat_id, now)
            self._chats[chat_id] = chat
        overall = self._paid if paid else self._global
        wait = max(chat.wait(now), overall.wait(now))
        if wait > 0:
            return max(1, math.ceil(wait))
        chat.take()
        overall.take()
        return None

    def _new_chat_bucket(self, chat_id: int, now: float) -> TokenBucket:
        if chat_id > 0:
            return TokenBucket(self.limits.private_per_second, self.limits.private_burst, now)
        per_minute = self.limits.group_per_minute
        return TokenBucket(per_minute / 60.0, per_minute, now)
