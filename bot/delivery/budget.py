"""The one rate budget: every call the bot makes to Telegram waits here for its turn.

Telegram counts in any sliding second, and does not publish how: the budget therefore keeps
every limit as a count over a sliding window rather than a token bucket whose catch-up could
put more than the limit into some second.

- Overall: ``per_second`` calls in any window of ``1 + margin`` seconds; a call acquired with
  ``hold`` counts from its grant until a window after its answer (:meth:`RateBudget.release`).
  Telegram sees a call between those two moments, so no second of Telegram's can hold more
  than ``per_second`` of them however late they arrive: the margin only absorbs the drift
  between clocks, and is small.
- Counts kept from the grant alone (a chat's own limits, the replicas' shared log) cannot
  know when the call arrived: their windows are widened by ``grant_margin`` for that.
- A private chat: ``private_burst`` at once, then ``private_per_second`` (a token bucket that
  refills ``1 + grant_margin`` times slower than the limit).
- A group: ``group_per_minute`` messages in any window of ``60 * (1 + grant_margin)`` seconds
  (shared by the replicas when there are several, like the overall count).
- After a 429, nothing goes out until ``retry_after`` has passed (:meth:`RateBudget.pause`).

Interactive calls (made while handling the update of the person in front of the bot) go first:
a background call (the sender, the progress bar, jobs) waits while an interactive one is queued
for the overall count, and background calls are spaced evenly, so the answer to a person never
waits long behind a broadcast, and the broadcast takes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

#: Waits shorter than this are no wait (a float's rounding must not keep a caller spinning).
_EPSILON = 1e-9
#: How often a call waiting only for calls on their way looks again.
_IN_FLIGHT_POLL = 0.005


class Priority(IntEnum):
    """Who a call is for: the person in front of the bot, or many people, later."""

    INTERACTIVE = 0
    BACKGROUND = 1


_priority: ContextVar[Priority] = ContextVar("budget_priority", default=Priority.BACKGROUND)


@contextlib.contextmanager
def interactive() -> Iterator[None]:
    """Calls made inside this block answer the person in front of the bot (handling an update)."""
    token = _priority.set(Priority.INTERACTIVE)
    try:
        yield
    finally:
        _priority.reset(token)


_prepaid: ContextVar[bool] = ContextVar("budget_prepaid", default=False)


@contextlib.contextmanager
def prepaid() -> Iterator[None]:
    """Calls made inside this block already waited for the budget (the sender paces itself).

    The caller also handles their outcome (a 429, a 403) itself.
    """
    token = _prepaid.set(True)
    try:
        yield
    finally:
        _prepaid.reset(token)


def is_prepaid() -> bool:
    """Whether calls made here already waited for the budget (:func:`prepaid`)."""
    return _prepaid.get()


def current_priority() -> Priority:
    """The priority of calls made here: interactive inside :func:`interactive`, else background."""
    return _priority.get()


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """Telegram's limits as the budget keeps them; ``enabled=False`` lets everything through."""

    per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    #: The overall window is this share wider than Telegram's second (0.01: 30 calls in any
    #: 1.01 s). Held calls count until their answer, so this covers clock drift only.
    margin: float = 0.01
    #: Windows of counts taken at the grant are this share wider (0.1: 20 in any 66 s), for
    #: the time between a call leaving here and reaching Telegram.
    grant_margin: float = 0.1
    enabled: bool = True

    @property
    def window(self) -> float:
        """Seconds of the overall window."""
        return 1.0 + self.margin

    @property
    def grant_window(self) -> float:
        """Seconds of a window counted from the grant alone (a chat's, the shared log's)."""
        return 1.0 + self.grant_margin


class _ChatBucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.updated = now


class SharedWindow(Protocol):
    """The counts shared with other replicas (:mod:`bot.delivery.shared_budget`)."""

    async def take(self, urgent: bool) -> None: ...

    async def take_group(self, chat_id: int) -> None: ...

    async def close(self) -> None: ...


class RateBudget:
    """The limits of one bot token, shared by every call of one process.

    ``monotonic`` and ``sleep`` are the budget's time (tests pass a fake one); ``shared``,
    when several replicas send with one token, is the overall count they share: a call is
    let out once this process's limits and the shared window both allow it.
    """

    def __init__(
        self,
        limits: BudgetLimits | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        shared: SharedWindow | None = None,
    ) -> None:
        self.limits = limits or BudgetLimits()
        self.shared = shared
        self._monotonic = monotonic
        self._sleep = sleep
        self._grants: deque[float] = deque()
        #: When the next background call may go (even spacing; a late wake-up is made up,
        #: within the overall window, so timer slack does not lower the rate).
        self._background_slot = -math.inf
        self._paused_until = 0.0
        self._in_flight = 0
        self._private: dict[int, _ChatBucket] = {}
        self._groups: dict[int, deque[float]] = {}
        self._lock = asyncio.Lock()
        self._interactive_queued = 0
        self._no_interactive = asyncio.Event()
        self._no_interactive.set()
        #: Calls let out, and 429 pauses taken, since the start (figures for logs and tests).
        self.granted = 0
        self.pauses = 0
        #: Calls waiting for their turn right now.
        self.waiting = 0

    # -- the budget's answers -----------------------------------------------------------------

    async def acquire(
        self, chat_id: int | None = None, priority: Priority | None = None, *, hold: bool = False
    ) -> None:
        """Wait until one call to ``chat_id`` (None: no chat's own limit) may go out now.

        ``chat_id`` > 0 is a private chat, < 0 a group; the priority defaults to the caller's
        context (:func:`interactive`). With ``hold``, the call counts from now until
        :meth:`release` and for a whole window after it: however long it takes to reach
        Telegram (a busy event loop, a slow network), it falls inside the count, so calls
        delayed on their way cannot bunch up in some second of Telegram's.
        """
        if not self.limits.enabled:
            self.granted += 1
            return
        urgent = (priority if priority is not None else _priority.get()) is Priority.INTERACTIVE
        self.waiting += 1
        try:
            await self._take_turn(chat_id, urgent, hold)
        finally:
            self.waiting -= 1

    def release(self) -> None:
        """A call acquired with ``hold`` has been answered: it counts for one more window."""
        if not self.limits.enabled or self._in_flight <= 0:
            return
        self._in_flight -= 1
        self._grants.append(self._monotonic())

    @property
    def in_flight(self) -> int:
        """Calls let out and not answered yet."""
        return self._in_flight

    async def _take_turn(self, chat_id: int | None, urgent: bool, hold: bool) -> None:
        if self.shared is not None and chat_id is not None and chat_id < 0:
            # The group's count across replicas first (it may wait long, and holds nobody
            # else up); then this process's own counts.
            await self._wait_for_chat(chat_id)
            await self.shared.take_group(chat_id)
        while True:
            await self._wait_for_chat(chat_id)
            queued = urgent
            if urgent:
                self._interactive_queued += 1
                self._no_interactive.clear()
            else:
                while self._interactive_queued:
                    await self._no_interactive.wait()
            try:
                async with self._lock:
                    if queued:
                        queued = False
                        self._left_queue()
                    while (wait := self._overall_wait(self._monotonic(), urgent)) > 0:
                        await self._sleep(wait)
                    now = self._monotonic()
                    if self._chat_wait(chat_id, now) > 0:
                        continue  # another call for this chat went first: wait for it again
                    if self.shared is not None:
                        await self.shared.take(urgent)
                        now = self._monotonic()
                    self._record(chat_id, now, urgent, hold)
                    return
            finally:
                if queued:
                    self._left_queue()

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: let nothing out for ``seconds``."""
        self.pauses += 1
        self._paused_until = max(self._paused_until, self._monotonic() + max(seconds, 0.0))

    def paused_for(self) -> float:
        """Seconds left of the current 429 pause (0 when none)."""
        return max(0.0, self._paused_until - self._monotonic())

    # -- the counts ---------------------------------------------------------------------------

    def _left_queue(self) -> None:
        self._interactive_queued -= 1
        if self._interactive_queued == 0:
            self._no_interactive.set()

    def _overall_wait(self, now: float, urgent: bool) -> float:
        limits = self.limits
        window = limits.window
        grants = self._grants
        while grants and grants[0] <= now - window + _EPSILON:
            grants.popleft()
        capacity = max(1, int(limits.per_second))
        used = len(grants) + self._in_flight
        wait = 0.0
        if used >= capacity:
            # This many counted calls must leave the window before one more may go; calls
            # still on their way leave it only a window after they were answered.
            expire = used - capacity
            wait = grants[expire] + window - now if expire < len(grants) else _IN_FLIGHT_POLL
        if not urgent:
            wait = max(wait, self._background_slot - now)
        wait = max(wait, self._paused_until - now)
        return wait if wait > _EPSILON else 0.0

    def _chat_wait(self, chat_id: int | None, now: float) -> float:
        limits = self.limits
        if chat_id is None:
            return 0.0
        if chat_id > 0:
            bucket = self._private.get(chat_id)
            if bucket is None or limits.private_per_second <= 0:
                return 0.0
            rate = limits.private_per_second / limits.grant_window
            bucket.tokens = min(
                float(limits.private_burst), bucket.tokens + (now - bucket.updated) * rate
            )
            bucket.updated = now
            return 0.0 if bucket.tokens >= 1.0 - _EPSILON else (1.0 - bucket.tokens) / rate
        sent = self._groups.get(chat_id)
        if sent is None or limits.group_per_minute <= 0:
            return 0.0
        window = 60.0 * limits.grant_window
        while sent and sent[0] <= now - window + _EPSILON:
            sent.popleft()
        return sent[0] + window - now if len(sent) >= limits.group_per_minute else 0.0

    async def _wait_for_chat(self, chat_id: int | None) -> None:
        while (wait := self._chat_wait(chat_id, self._monotonic())) > 0:
            await self._sleep(wait)

    def _record(self, chat_id: int | None, now: float, urgent: bool, hold: bool = False) -> None:
        self.granted += 1
        if hold:
            self._in_flight += 1
        else:
            self._grants.append(now)
        if not urgent:
            spacing = self.limits.window / self.limits.per_second
            # Up to a tenth of a second of slots missed (a database write held the sender up)
            # may be made up at once; the overall window still caps every second.
            catch_up = max(2 * spacing, 0.1)
            self._background_slot = max(self._background_slot, now - catch_up) + spacing
        if chat_id is None:
            return
        limits = self.limits
        if chat_id > 0 and limits.private_per_second > 0:
            bucket = self._private.get(chat_id)
            if bucket is None:
                if len(self._private) > 50_000:
                    self._forget_idle_chats(now)
                bucket = self._private[chat_id] = _ChatBucket(float(limits.private_burst), now)
            bucket.tokens -= 1.0
        elif chat_id < 0 and limits.group_per_minute > 0:
            self._groups.setdefault(chat_id, deque()).append(now)

    def _forget_idle_chats(self, now: float) -> None:
        """Drop the buckets of chats that are full again (they say nothing a new one would not)."""
        limits = self.limits
        refill = limits.private_burst * limits.grant_window / limits.private_per_second
        self._private = {c: b for c, b in self._private.items() if now - b.updated < refill}


__all__ = [
    "BudgetLimits",
    "Priority",
    "RateBudget",
    "SharedWindow",
    "current_priority",
    "interactive",
    "is_prepaid",
    "prepaid",
]
