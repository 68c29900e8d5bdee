"""Scheduler jobs: each opens its own database session, plans outbox rows, and wakes the sender.

Jobs take a session factory, the clock and the sender, never ORM or aiogram objects, so the
scheduler can call them at any time in any process; tests and the demo call them directly
with a clock they move by hand. Each row is written in its reader's language (the services
set the locale per recipient).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.delivery import outbox
from bot.delivery.sender import Sender
from bot.services import reminders, retention
from bot.services.faq import inbox
from bot.services.feedback import planning as feedback_planning
from bot.services.quizzes import sending as quiz_sending

log = logging.getLogger(__name__)


async def plan_reminders(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
    rate: float = reminders.DEFAULT_RATE,
) -> int:
    """Queue the reminders of sessions starting soon; returns how many rows are new."""
    async with session_factory() as session:
        added = await reminders.plan_reminders(session, clock.now(), rate=rate)
    if added:
        log.info("planned %s reminders", added)
        if sender is not None:
            sender.wake()
    return added


async def plan_digests(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
) -> int:
    """Queue the 08:00 digests falling due soon; returns how many rows are new."""
    async with session_factory() as session:
        added = await reminders.plan_digests(session, clock.now())
    if added:
        log.info("planned %s daily digests", added)
        if sender is not None:
            sender.wake()
    return added


async def plan_feedback(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
) -> int:
    """Write the feedback forms of sessions that ended, open, nudge and close them."""
    async with session_factory() as session:
        result = await feedback_planning.plan_feedback(session, clock.now())
    if result.queued:
        log.info(
            "feedback: %s forms planned, %s nudges, %s closed",
            result.created,
            result.nudged,
            result.closed,
        )
        if sender is not None:
            sender.wake()
    return result.queued


async def plan_quizzes(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
) -> int:
    """Keep the quizzes' windows, and send the open ones' first questions."""
    async with session_factory() as session:
        result = await quiz_sending.plan_quizzes(session, clock.now())
    if result.started:
        log.info("quizzes: %s trainees sent a quiz", result.started)
        if sender is not None:
            sender.wake()
    return result.started


async def raise_questions_again(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
    after: timedelta = timedelta(hours=4),
) -> int:
    """Raise once more, in the staff group, questions left unanswered for ``after``."""
    async with session_factory() as session:
        added = await inbox.raise_again(session, after, clock)
    if added:
        log.info("raised %s unanswered questions again", added)
        if sender is not None:
            sender.wake()
    return added


async def purge_expired(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    months: int,
    keep: Collection[int] = (),
) -> int:
    """Erase the personal data of cohorts that ended more than ``months`` months ago (the
    daily run of ``trainee-bot privacy purge``); returns how many people were erased."""
    async with session_factory() as session:
        report = await retention.purge(session, months=months, now=clock.now(), keep=keep)
    if report.people_erased or report.people_kept or report.entries:
        log.info(
            "retention: %s people erased, %s kept for newer cohorts, %s roster entries emptied",
            report.people_erased,
            report.people_kept,
            report.entries,
        )
    return report.people_erased


async def run_all(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None = None,
    rate: float = reminders.DEFAULT_RATE,
) -> int:
    """Every planning job once (at start-up, and at each step of a fast-forward)."""
    return (
        await plan_reminders(session_factory, clock, sender, rate)
        + await plan_digests(session_factory, clock, sender)
        + await plan_feedback(session_factory, clock, sender)
        + await plan_quizzes(session_factory, clock, sender)
    )


class MovableClock(Protocol):
    """A clock that can be moved forward (``bot.clock.ManualClock``)."""

    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> datetime: ...


async def wait_until_delivered(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender,
    *,
    background: bool = True,
    timeout: float = 15.0,  # noqa: ASYNC109 (a budget for the running sender, not a cancel)
) -> None:
    """Wait until nothing due now is left in the outbox (the sender took and settled it).

    With ``background`` the sender already runs in this process (the bot's own), so this only
    wakes it and watches; otherwise it delivers here with :meth:`Sender.run_until_idle`.
    """
    if not background:
        await sender.run_until_idle(timeout=timeout)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sender.wake()
        async with session_factory() as session:
            left = await outbox.count_unsettled_due(session, clock.now())
        if left == 0:
            return
        await asyncio.sleep(0.05)
    log.warning("the outbox was not drained within %.0f s", timeout)


#: Demo time between two runs of the planning jobs in :func:`fast_forward_to`. Reminders are
#: planned a whole horizon (34 hours) ahead and time stops at every queued message anyway, so
#: planning every half hour of demo time delivers what planning every five minutes would.
FAST_FORWARD_PLAN_EVERY: Final = timedelta(minutes=30)


async def fast_forward_to(
    session_factory: async_sessionmaker[AsyncSession],
    clock: MovableClock,
    sender: Sender,
    until: datetime,
    *,
    plan_every: timedelta = FAST_FORWARD_PLAN_EVERY,
    rate: float = reminders.DEFAULT_RATE,
    background: bool = True,
) -> int:
    """Move time to ``until``, stopping at every queued message; returns how many were sent.

    Time jumps from one stop to the next instead of going minute by minute, so a few days
    pass in a few hundred steps: a stop is the next message's
    due time or ``plan_every`` later, whichever comes first. At each stop the planning jobs run
    and what fell due is delivered before time moves on, so each message arrives at its own
    time and nothing expires by being skipped.
    """
    sent_before = sender.sent_count
    step = max(plan_every, timedelta(minutes=1))
    while True:
        await run_all(session_factory, clock, sender, rate)
        await wait_until_delivered(session_factory, clock, sender, background=background)
        now = clock.now()
        if now >= until:
            break
        stop = min(until, now + step)
        async with session_factory() as session:
            due = await outbox.next_due_at(session)
        if due is not None and now < due < stop:
            stop = due
        clock.advance(stop - now)
    return sender.sent_count - sent_before
