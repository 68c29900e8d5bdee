"""The sender: drains due outbox rows within Telegram's limits, and settles every row.

Limits: every send waits for the process's one rate budget (:mod:`bot.delivery.budget`,
shared with the handlers' answers, which go first), and the sender keeps one message per
second to a private chat and 20 a minute to a group in its own order. A 429 pauses every
send, the handlers' too, for ``retry_after``. 403 marks the person
unreachable; "chat not found" marks the chat dead; a migrated group is followed; 5xx and
network errors are retried with back-off up to ``max_attempts``. Every row ends ``sent``,
``failed`` (with the reason, a :class:`~bot.db.outbox.Failure` code first), ``expired`` or
``cancelled``.

A chat found unreachable refuses the rows this sender already held for it, not later ones:
its pending rows are failed in the database at once, and what is queued afterwards (reminders
and announcements skip people marked unreachable) is tried, so a person who unblocked the bot
and wrote to it again gets their messages.

Crash safety: rows are claimed in batches (``claimed``) and marked ``sending`` in small groups
just before they go out. After a crash, claimed rows return to the queue and sending rows are
reported failed (never sent twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.clock import Clock
from bot.db import outbox as outbox_db
from bot.db import quizzes as quizzes_db
from bot.db.models import Cohort, OutboxMessage, User
from bot.delivery.budget import BudgetLimits, Priority, RateBudget
from bot.delivery.transport import Outcome, SendResult, Transport

log = logging.getLogger(__name__)

SideEffect = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class SenderConfig:
    """Tuning of the sender; the defaults are Telegram's documented limits."""

    rate: float = 30.0
    private_interval: float = 1.0
    group_interval: float = 3.0
    batch: int = 200
    max_in_flight: int = 64
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    idle_poll: float = 0.5
    flush_interval: float = 0.2
    stale_after: timedelta = timedelta(seconds=60)

    def budget_limits(self) -> BudgetLimits:
        """The limits of a budget of the sender's own (when none is shared with it)."""
        return BudgetLimits(
            per_second=self.rate,
            private_per_second=1.0 / self.private_interval if self.private_interval > 0 else 0,
            private_burst=1,
            group_per_minute=int(60 / self.group_interval) if self.group_interval > 0 else 0,
        )


@dataclass(order=True)
class _Held:
    ready_at: float
    seq: int
    row: OutboxMessage = field(compare=False)
    #: Which claim took the row (see ``Sender._dead_chats``).
    claim: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class _DeadChat:
    failure: outbox_db.Failure
    #: Rows taken by this claim or earlier ones are refused; later claims are tried.
    claim: int


class Sender:
    """Runs in one process (the elected one); a second sender on PostgreSQL is harmless."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        transport: Transport,
        clock: Clock,
        config: SenderConfig | None = None,
        worker_id: str | None = None,
        *,
        budget: RateBudget | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        on_unreachable: Callable[[set[int]], object] | None = None,
    ) -> None:
        """``budget``: the rate budget every call of this process shares (else one of its own,
        from ``config``); ``monotonic`` and ``sleep`` are the pace's time (tests pass a fake);
        ``on_unreachable`` hears the people just recorded as unreachable (the application drops
        what it keeps of them).
        """
        self._on_unreachable = on_unreachable
        self._sf = session_factory
        self._transport = transport
        self._clock = clock
        self.config = config or SenderConfig()
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._monotonic = monotonic
        self.budget = budget or RateBudget(
            self.config.budget_limits(), monotonic=monotonic, sleep=sleep
        )
        self._held: list[_Held] = []
        self._seq = itertools.count()
        self._chat_next: dict[int, float] = {}
        self._results: list[tuple[int, dict[str, Any]]] = []
        self._effects: list[SideEffect] = []
        #: People found unreachable since the last flush (their kept copies are dropped).
        self._unreachable: set[int] = set()
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claims = 0
        self._dead_chats: dict[int, _DeadChat] = {}
        self.sent_count = 0

    # -- control ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due rows now (called after something was queued in this process)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish what is in flight and return from :meth:`run`."""
        self._stopping = True
        self._wake.set()

    async def recover(self, *, everything: bool = False) -> int:
        """Settle rows a dead sender left behind; returns how many were reported failed.

        ``everything`` is for the elected sender at start: no other sender is alive then, so
        every held row is a dead one's, however recent.
        """
        older_than = self._clock.now() - (timedelta(0) if everything else self.config.stale_after)
        async with self._sf() as session:
            failed = await outbox_db.recover_interrupted(session, older_than=older_than)
            await session.commit()
        if failed:
            log.warning("%s outbox rows were interrupted by a restart and marked failed", failed)
        return failed

    async def run(self, *, sole: bool = False) -> None:
        """Deliver until :meth:`stop`; ``sole`` when this process holds the leadership lock."""
        await self.recover(everything=sole)
        flusher = asyncio.create_task(self._flush_loop())
        try:
            while not self._stopping:
                worked = await self.step()
                if not worked:
                    await self._idle()
        finally:
            await self._drain_in_flight()
            flusher.cancel()
            await asyncio.gather(flusher, return_exceptions=True)
            await self._release_held()
            await self.flush()

    async def run_until_idle(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 (a budget, not a cancel)
        """Deliver everything due now and return (tests, the CLI, benchmarks)."""
        deadline = time.monotonic() + timeout
        await self.recover()
        while time.monotonic() < deadline:
            worked = await self.step()
            if not worked and not self._held and not self._in_flight:
                await self.flush()
                async with self._sf() as session:
                    due = await outbox_db.next_due_at(session)
                if due is None or due > self._clock.now():
                    return
            elif not worked:
                await asyncio.sleep(0.01)
        await self._drain_in_flight()
        await self._release_held()
        await self.flush()

    # -- one step -----------------------------------------------------------------------------

    async def step(self) -> bool:
        """Claim due rows if few are held, then send what is ready; True if anything moved."""
        worked = False
        if len(self._held) < self.config.batch // 2:
            worked = await self._claim() or worked
        worked = await self._send_ready() or worked
        return worked

    async def _claim(self) -> bool:
        self._claims += 1
        claim = self._claims
        async with self._sf() as session:
            now = self._clock.now()
            await outbox_db.expire_overdue(session, now)
            rows = await outbox_db.claim_due(
                session, now=now, worker=self.worker_id, limit=self.config.batch
            )
            await session.commit()
        start = self._monotonic()
        for row in rows:
            heapq.heappush(
                self._held,
                _Held(self._chat_ready(row.chat_id, start), next(self._seq), row, claim),
            )
        self._forget_dead_chats()
        return bool(rows)

    def _forget_dead_chats(self) -> None:
        """Drop dead chats that no held row was claimed early enough to be refused by."""
        if not self._dead_chats:
            return
        oldest = min((held.claim for held in self._held), default=self._claims + 1)
        self._dead_chats = {c: d for c, d in self._dead_chats.items() if d.claim >= oldest}

    def _chat_ready(self, chat_id: int, now: float) -> float:
        return max(self._chat_next.get(chat_id, 0.0), now)

    async def _send_ready(self) -> bool:
        """Send the held rows whose chat is ready, pacing them; marks each group ``sending``."""
        now = self._monotonic()
        if not self._held or self._held[0].ready_at > now:
            return False
        # Small groups: should this process die, only the group marked ``sending`` and not yet
        # sent is left in doubt (reported failed, never sent twice); a fiftieth of a second's
        # worth costs one small write per group and no pace.
        group_size = max(1, int(self.config.rate / 50))
        group: list[OutboxMessage] = []
        claims: dict[int, int] = {}
        while self._held and self._held[0].ready_at <= now and len(group) < group_size:
            held = heapq.heappop(self._held)
            row = held.row
            ready = self._chat_ready(row.chat_id, now)
            if ready > now:  # another row for this chat went first: wait its turn
                heapq.heappush(self._held, _Held(ready, next(self._seq), row, held.claim))
                continue
            dead = self._dead_chats.get(row.chat_id)
            if dead is not None and held.claim <= dead.claim:
                self._settle(
                    row,
                    status=outbox_db.FAILED,
                    last_error=outbox_db.failure_text(dead.failure, "recipient unreachable"),
                )
                continue
            if row.not_after is not None and row.not_after <= self._clock.now():
                self._settle(
                    row,
                    status=outbox_db.EXPIRED,
                    last_error=outbox_db.failure_text(
                        outbox_db.Failure.EXPIRED, "too late to be true"
                    ),
                )
                continue
            interval = (
                self.config.group_interval if row.chat_id < 0 else self.config.private_interval
            )
            self._chat_next[row.chat_id] = now + interval
            group.append(row)
            claims[id(row)] = held.claim
        if not group:
            return True
        async with self._sf() as session:
            moving = await outbox_db.mark_sending(
                session, [r.id for r in group if r.id is not None]
            )
            await session.commit()
        # A row erased since it was claimed is dropped here, unsent.
        group = [row for row in group if row.id in moving]
        for row in group:
            await self.budget.acquire(row.chat_id, Priority.BACKGROUND, hold=True)
            task = asyncio.create_task(self._send_one(row, claims[id(row)]))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            while len(self._in_flight) >= self.config.max_in_flight:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        self._prune_chats(now)
        return True

    async def _send_one(self, row: OutboxMessage, claim: int) -> None:
        try:
            result = await self._transport.deliver(row.chat_id, row.payload)
        except Exception as exc:
            log.exception("outbox row %s could not be sent", row.id)
            result = SendResult(Outcome.REJECTED, error=f"internal error: {type(exc).__name__}")
        finally:
            self.budget.release()
        self._handle(row, result, claim)

    # -- outcomes -----------------------------------------------------------------------------

    def _handle(self, row: OutboxMessage, result: SendResult, claim: int = 0) -> None:
        attempts = row.attempts + 1
        now = self._clock.now()
        metrics.SENDS.labels(metrics.send_result(result.outcome.value)).inc()
        if result.outcome is Outcome.RETRY_AFTER:
            metrics.RETRY_AFTER_SECONDS.inc(result.retry_after)
        elif result.outcome is Outcome.SENT and row.kind.startswith("reminder"):
            metrics.REMINDER_LATENESS.observe(max(0.0, (now - row.due_at).total_seconds()))
        if result.outcome is Outcome.SENT:
            self.sent_count += 1
            bind = row.payload.get("bind_poll") if isinstance(row.payload, dict) else None
            if result.poll_id and isinstance(bind, dict):
                self._effects.append(_bind_poll(bind, result.poll_id))
            self._settle(
                row,
                status=outbox_db.SENT,
                sent_at=now,
                attempts=attempts,
                telegram_message_id=result.message_id,
                last_error=None,
            )
        elif result.outcome is Outcome.RETRY_AFTER:
            resume = self._monotonic() + max(result.retry_after, 1.0)
            self.budget.pause(max(result.retry_after, 1.0))
            log.warning("Telegram asked to wait %.0f s; every send paused", result.retry_after)
            self._settle(row, status=outbox_db.CLAIMED)
            heapq.heappush(self._held, _Held(resume, next(self._seq), row, claim))
        elif result.outcome is Outcome.MIGRATED and result.migrate_to is not None:
            old, new = row.chat_id, result.migrate_to
            self._effects.append(_follow_migration(old, new))
            row.chat_id = new
            self._settle(row, status=outbox_db.CLAIMED, chat_id=new)
            heapq.heappush(self._held, _Held(self._monotonic(), next(self._seq), row, claim))
        elif result.outcome in (Outcome.UNREACHABLE, Outcome.CHAT_GONE):
            failure = _dead_failure(row.chat_id, result)
            reason = outbox_db.failure_text(failure, result.error or failure.value)
            # Rows already held for this chat are refused; the ones claimed from now on were
            # queued after its pending rows were failed, and are tried.
            self._dead_chats[row.chat_id] = _DeadChat(failure, self._claims)
            self._effects.append(_mark_dead(row.chat_id, reason))
            if row.chat_id > 0:
                self._unreachable.add(row.chat_id)
            self._settle(row, status=outbox_db.FAILED, attempts=attempts, last_error=reason)
        elif result.outcome is Outcome.TRANSIENT and attempts < self.config.max_attempts:
            delay = min(self.config.backoff_base**attempts, self.config.backoff_cap)
            self._settle(
                row,
                status=outbox_db.PENDING,
                attempts=attempts,
                due_at=now + timedelta(seconds=delay),
                claimed_by=None,
                last_error=outbox_db.failure_text(
                    outbox_db.Failure.SERVER_ERROR, result.error or "temporary error"
                ),
            )
        else:
            detail = result.error or result.outcome.value
            failure = outbox_db.Failure.OTHER
            if result.outcome is Outcome.TRANSIENT:
                detail = f"gave up after {attempts} attempts: {detail}"
                failure = outbox_db.Failure.SERVER_ERROR
            self._settle(
                row,
                status=outbox_db.FAILED,
                attempts=attempts,
                last_error=outbox_db.failure_text(failure, detail),
            )

    def _settle(self, row: OutboxMessage, **values: Any) -> None:
        if row.id is not None:
            self._results.append((row.id, values))

    # -- writing results ----------------------------------------------------------------------

    async def flush(self) -> None:
        """Write the outcomes gathered so far in one transaction."""
        # One writer at a time, so two outcomes of one row are never committed out of order.
        async with self._flush_lock:
            if not self._results and not self._effects:
                return
            results, self._results = self._results, []
            effects, self._effects = self._effects, []
            unreachable, self._unreachable = self._unreachable, set()
            async with self._sf() as session:
                await outbox_db.apply_results(session, results)
                for effect in effects:
                    await effect(session)
                await session.commit()
            if unreachable and self._on_unreachable is not None:
                # A copy read before the commit would say they are reachable; their next
                # update must read the row, and so mark them reachable again.
                self._on_unreachable(unreachable)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_interval)
            try:
                await self.flush()
            except Exception:
                log.exception("could not record outbox results; will retry")

    async def _idle(self) -> None:
        await self.flush()
        timeout = self.config.idle_poll
        if self._held:
            timeout = min(timeout, max(self._held[0].ready_at - self._monotonic(), 0.001))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _drain_in_flight(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _release_held(self) -> None:
        """On stop, give back what this sender claimed but did not send."""
        ids = [held.row.id for held in self._held if held.row.id is not None]
        self._held.clear()
        for row_id in ids:
            self._results.append(
                (row_id, {"status": outbox_db.PENDING, "claimed_by": None, "claimed_at": None})
            )

    def _prune_chats(self, now: float) -> None:
        if len(self._chat_next) > 50_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}


def _dead_failure(chat_id: int, result: SendResult) -> outbox_db.Failure:
    """Why a chat can no longer be written to, from Telegram's answer."""
    if result.outcome is Outcome.CHAT_GONE:
        return outbox_db.Failure.CHAT_NOT_FOUND
    if chat_id < 0:
        return outbox_db.Failure.REMOVED
    if "deactivated" in (result.error or "").lower():
        return outbox_db.Failure.DEACTIVATED
    return outbox_db.Failure.BLOCKED


def _mark_dead(chat_id: int, reason: str) -> SideEffect:
    async def effect(session: AsyncSession) -> None:
        await outbox_db.fail_pending_for_chat(session, chat_id, reason[:500])
        if chat_id > 0:
            await session.execute(
                update(User).where(col(User.id) == chat_id).values(is_reachable=False)
            )
        else:
            await session.execute(
                update(Cohort)
                .where(col(Cohort.group_chat_id) == chat_id)
                .values(group_chat_id=None)
            )

    return effect


def _follow_migration(old: int, new: int) -> SideEffect:
    async def effect(session: AsyncSession) -> None:
        await session.execute(
            update(Cohort).where(col(Cohort.group_chat_id) == old).values(group_chat_id=new)
        )
        await outbox_db.move_chat(session, old, new)

    return effect


def _bind_poll(bind: dict[str, Any], poll_id: str) -> SideEffect:
    """A quiz question's poll is bound to its Telegram id as soon as it is sent, so that a
    vote is matched by id alone (and a vote in a forwarded copy, by someone else, is not
    taken for that person's own question)."""

    async def effect(session: AsyncSession) -> None:
        await quizzes_db.bind_sent_poll(
            session,
            run_id=int(bind["run"]),
            user_id=int(bind["user"]),
            question=int(bind["question"]),
            sends=int(bind.get("sends", 1)),
            poll_id=poll_id,
        )

    return effect


__all__ = ["OutboxMessage", "Sender", "SenderConfig"]
