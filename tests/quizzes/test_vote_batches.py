"""A cohort answering at once: the votes that arrive together are written together, each one
stored before it is reported handled; a double vote inside a batch counts once, and a vote that
cannot be recorded fails alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import OutboxMessage
from bot.db.quizzes import QuizPoll
from bot.services.quizzes.sending import POLL_KIND, plan_quizzes
from bot.services.quizzes.votes import Outcome, Vote, VoteWriter
from tests.quizzes.support import cohort_with_quiz
from tests.timetable.support import add_trainee

FIRST = 9100


async def _answered(factory: async_sessionmaker[AsyncSession]) -> dict[int, int | None]:
    async with factory() as fresh:
        rows = await fresh.exec(select(QuizPoll).where(QuizPoll.question == 0))
        return {poll.user_id: poll.option for poll in rows.all() if poll.answered_at}


async def _second_questions(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as fresh:
        statement = select(func.count(col(OutboxMessage.id))).where(
            OutboxMessage.kind == POLL_KIND, col(OutboxMessage.dedupe_key).endswith(":q1")
        )
        return int((await fresh.exec(statement)).one())


async def test_a_cohort_voting_at_once_is_written_in_a_few_transactions(
    session: AsyncSession, session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    cohort, _lecture = await cohort_with_quiz(
        session, clock.now() - timedelta(hours=3), clock.now()
    )
    for n in range(60):
        await add_trainee(session, FIRST + n, cohort, locale="en")
    assert (await plan_quizzes(session, clock.now())).started == 60
    writer = VoteWriter(session_factory)
    commits: list[object] = []
    engine = session.bind.sync_engine  # type: ignore[union-attr]

    def count(*_args: Any) -> None:
        commits.append(True)

    event.listen(engine, "commit", count)
    now = clock.now()
    try:
        votes = [Vote(f"tg-{n}", FIRST + n, [n % 3], now) for n in range(60)]
        votes.append(Vote("tg-7", FIRST + 7, [1], now))  # Telegram sends a vote twice
        votes.append(Vote("tg-stranger", 12345, [0], now))
        outcomes = await asyncio.gather(*(writer.record(vote) for vote in votes))
    finally:
        event.remove(engine, "commit", count)
    assert outcomes[:60] == [Outcome.RECORDED] * 60
    assert outcomes[60:] == [Outcome.ALREADY, Outcome.UNKNOWN]
    assert len(commits) <= 3  # one per batch, not one per vote
    # Each vote was stored before it was reported: a fresh session sees all 60, once each.
    answered = await _answered(session_factory)
    assert len(answered) == 60
    assert answered[FIRST + 7] == 7 % 3  # the first of the two votes
    assert await _second_questions(session_factory) == 60
    await writer.close()


async def test_a_vote_that_cannot_be_recorded_fails_alone(
    session: AsyncSession, session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    cohort, _lecture = await cohort_with_quiz(
        session, clock.now() - timedelta(hours=3), clock.now()
    )
    for n in range(5):
        await add_trainee(session, FIRST + n, cohort, locale="en")
    await plan_quizzes(session, clock.now())
    writer = VoteWriter(session_factory)
    now = clock.now()
    broken = Vote("tg-0", FIRST, cast(list[int], ["not a number"]), now)
    good = [Vote(f"tg-{n}", FIRST + n, [0], now) for n in range(1, 5)]
    results = await asyncio.gather(
        writer.record(broken), *(writer.record(vote) for vote in good), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError)
    assert results[1:] == [Outcome.RECORDED] * 4
    answered = await _answered(session_factory)
    assert sorted(answered) == [FIRST + n for n in range(1, 5)]
    # The broken vote changed nothing: its trainee can still answer.
    assert await writer.record(Vote("tg-0", FIRST, [0], now)) == Outcome.RECORDED
    await writer.close()


@pytest.mark.parametrize("retracted_first", [True, False])
async def test_a_retraction_in_the_same_batch_follows_the_vote(
    session: AsyncSession,
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    retracted_first: bool,
) -> None:
    cohort, _lecture = await cohort_with_quiz(
        session, clock.now() - timedelta(hours=3), clock.now()
    )
    await add_trainee(session, FIRST, cohort, locale="en")
    await plan_quizzes(session, clock.now())
    writer = VoteWriter(session_factory)
    now = clock.now()
    vote, retraction = Vote("tg-0", FIRST, [0], now), Vote("tg-0", FIRST, [], now)
    order = [retraction, vote] if retracted_first else [vote, retraction]
    outcomes = await asyncio.gather(*(writer.record(v) for v in order))
    if retracted_first:
        # Nothing was bound yet: the retraction is of no poll we know; the vote counts.
        assert outcomes == [Outcome.UNKNOWN, Outcome.RECORDED]
    else:
        assert outcomes == [Outcome.RECORDED, Outcome.RETRACTED]
    assert await _answered(session_factory) == {FIRST: 0}
    await writer.close()
