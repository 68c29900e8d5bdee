"""Telegram's flood control as the sandbox counts it: token buckets, or sliding windows.

By default the overall and per-group limits are token buckets that refill evenly (a full
bucket lets a burst through). ``Limits.strict`` counts the overall and group limits over
sliding windows instead (no more than N in any second, or minute, however the sends are
spread): what an independent stand-in, or Telegram, may do.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from sandbox.models import Limits


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


class SlidingWindow:
    """At most ``limit`` events in any window of ``seconds``."""

    __slots__ = ("events", "limit", "seconds")

    def __init__(self, limit: float, seconds: float) -> None:
        self.limit = max(int(limit), 1)
        self.seconds = seconds
        self.events: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        events = self.events
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.seconds - now

    def take(self, now: float) -> None:
        """Count one event; call only after :meth:`wait` returned 0."""
        self.events.append(now)


class _Counter:
    """A token bucket or a sliding window behind one interface."""

    __slots__ = ("bucket", "window")

    def __init__(self, bucket: TokenBucket | None, window: SlidingWindow | None) -> None:
        self.bucket = bucket
        self.window = window

    def wait(self, now: float) -> float:
        if self.window is not None:
            return self.window.wait(now)
        return self.bucket.wait(now) if self.bucket is not None else 0.0

    def take(self, now: float) -> None:
        if self.window is not None:
            self.window.take(now)
        elif self.bucket is not None:
            self.bucket.take()


class RateLimiter:
    """Global, paid-global, per-private-chat and per-group buckets for one set of limits."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        now = clock()
        self._global = self._overall(limits.global_per_second, now)
        self._paid = self._overall(limits.paid_global_per_second, now)
        self._chats: dict[int, _Counter] = {}

    def _overall(self, per_second: float, now: float) -> _Counter:
        if self.limits.strict:
            return _Counter(None, SlidingWindow(per_second, 1.0))
        return _Counter(TokenBucket(per_second, per_second, now), None)

    def acquire(self, chat_id: int | None, *, paid: bool = False) -> int | None:
        """Count one call to ``chat_id`` (None: the overall limit only); return
        ``retry_after`` seconds if over the limit.
        """
        if not self.limits.enabled:
            return None
        now = self._clock()
        chat = None
        if chat_id is not None:
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._new_chat_counter(chat_id, now)
                self._chats[chat_id] = chat
        overall = self._paid if paid else self._global
        wait = max(chat.wait(now) if chat is not None else 0.0, overall.wait(now))
        if wait > 0:
            return max(1, math.ceil(wait))
        if chat is not None:
            chat.take(now)
        overall.take(now)
        return None

    def _new_chat_counter(self, chat_id: int, now: float) -> _Counter:
        limits = self.limits
        if chat_id > 0:
            return _Counter(TokenBucket(limits.private_per_second, limits.private_burst, now), None)
        per_minute = limits.group_per_minute
        if limits.strict:
            return _Counter(None, SlidingWindow(per_minute, 60.0))
        return _Counter(TokenBucket(per_minute / 60.0, per_minute, now), None)
