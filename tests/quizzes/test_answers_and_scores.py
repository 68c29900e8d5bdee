"""Answers and scores on a real database: an answer that arrives before the poll's outcome is
written still counts; a second vote, a retraction, someone else's vote, an unknown poll and a
withdrawn trainee change nothing; nothing is queued twice; the scores of a cohort come in two
queries, trainees who answered nothing included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import Enrolment, OutboxMessage, Programme
from bot.db.quizzes import QuizPoll
from bot.db.status import EnrolmentStatus
from bot.services.completion.standings import cohort_standings
from bot.services.quizzes.scores import cohort_quiz_scores
from bot.services.quizzes.sending import plan_quizzes
from bot.services.quizzes.votes import Outcome, record_answer
from tests.quizzes.support import cohort_with_quiz
from tests.timetable.support import add_trainee

AMINA, BOB, CARLA, DAN = 8301, 8302, 8303, 8304


async def _outbox_count(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count(col(OutboxMessage.id))))).one())


async def test_answers_count_once_and_only_from_the_recipient(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, _lecture = await cohort_with_quiz(
        session, clock.now() + timedelta(hours=1), clock.now()
    )
    for user_id in (AMINA, BOB, CARLA):
        await add_trainee(session, user_id, cohort, locale="en")
    await add_trainee(session, DAN, cohort, locale="en")
    dan = (await session.exec(select(Enrolment).where(Enrolment.user_id == DAN))).one()
    dan.status = EnrolmentStatus.WITHDRAWN
    session.add(dan)
    await session.commit()

    assert (await plan_quizzes(session, clock.now())).started == 0  # not open yet
    clock.advance(timedelta(hours=3))
    assert (await plan_quizzes(session, clock.now())).started == 3  # not Dan: withdrawn
    queued = await _outbox_count(session)
    assert queued == 6  # an intro and the first question each
    assert (await plan_quizzes(session, clock.now())).started == 0
    assert await _outbox_count(session) == queued  # nothing twice

    # No outcome of the sender is written (it has not even run): the answer still counts.
    now = clock.now()
    assert await record_answer(session, "p-amina-1", AMINA, [0], now) == Outcome.RECORDED
    assert await record_answer(session, "p-amina-1", AMINA, [1], now) == Outcome.ALREADY
    assert await record_answer(session, "p-amina-1", AMINA, [], now) == Outcome.RETRACTED
    assert await record_answer(session, "p-amina-1", BOB, [0], now) == Outcome.NOT_RECIPIENT
    assert await record_answer(session, "p-stranger", 999, [0], now) == Outcome.UNKNOWN
    assert await record_answer(session, "p-bob-1", BOB, [1], now) == Outcome.RECORDED  # wrong
    assert await _outbox_count(session) == queued + 2  # their second questions

    bob = (await session.exec(select(Enrolment).where(Enrolment.user_id == BOB))).one()
    bob.status = EnrolmentStatus.WITHDRAWN
    session.add(bob)
    await session.commit()
    assert await record_answer(session, "p-bob-2", BOB, [0], now) == Outcome.NOT_ENROLLED

    later = now + timedelta(hours=25)
    assert await record_answer(session, "p-carla-1", CARLA, [0], later) == Outcome.CLOSED
    polls = (await session.exec(select(QuizPoll).where(QuizPoll.user_id == CARLA))).all()
    assert [poll.answered_at for poll in polls] == [None]

    scores = await cohort_quiz_scores(session, cohort.id or 0, now)
    assert sorted(scores) == [AMINA, CARLA]  # Bob and Dan withdrew
    [amina] = scores[AMINA]
    assert (amina.quiz_key, amina.points, amina.max_points) == ("rules", 1.0, 3.0)
    assert (amina.answered, amina.questions, amina.closed) == (1, 2, False)
    [carla] = scores[CARLA]
    assert (carla.points, carla.answered) == (0.0, 0)
    assert (await cohort_quiz_scores(session, cohort.id or 0, later))[AMINA][0].closed
    assert await cohort_quiz_scores(session, cohort.id or 0, now - timedelta(hours=3)) == {
        AMINA: [],
        CARLA: [],
    }


async def test_a_cohort_of_many_is_scored_in_two_queries(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, _lecture = await cohort_with_quiz(
        session, clock.now() - timedelta(hours=3), clock.now()
    )
    for n in range(60):
        await add_trainee(session, 9000 + n, cohort, locale="en")
    await plan_quizzes(session, clock.now())
    for n in range(0, 60, 2):
        await record_answer(session, f"p{n}", 9000 + n, [0], clock.now())
    statements: list[str] = []
    engine = session.bind.sync_engine  # type: ignore[union-attr]

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        scores = await cohort_quiz_scores(session, cohort.id or 0, clock.now())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(scores) == 60
    assert sum(score[0].points for score in scores.values()) == 30
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


async def test_the_completion_rule_reads_the_quiz_scores(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort, _lecture = await cohort_with_quiz(
        session, clock.now() + timedelta(hours=1), clock.now()
    )
    for user_id in (AMINA, BOB):
        await add_trainee(session, user_id, cohort, locale="en")
    programme = await session.get(Programme, cohort.programme_id)
    assert programme is not None
    programme.rules = {
        **programme.rules,
        "completion": {"min_attendance": 0, "min_quiz_score": 0.3},
    }
    session.add(programme)
    await session.commit()
    clock.advance(timedelta(hours=3))
    await plan_quizzes(session, clock.now())
    now = clock.now()
    # Amina: the first question right (1 of 3 points); Bob: wrong (0 of 3).
    assert await record_answer(session, "p-amina-1", AMINA, [0], now) == Outcome.RECORDED
    assert await record_answer(session, "p-bob-1", BOB, [1], now) == Outcome.RECORDED

    standings = {s.user_id: s for s in await cohort_standings(session, cohort.id or 0, now)}
    amina = {p.name: p for p in standings[AMINA].parts}["quizzes"]
    bob = {p.name: p for p in standings[BOB].parts}["quizzes"]
    assert amina.actual == pytest.approx(1 / 3)
    assert amina.met
    assert bob.actual == 0.0
    assert not bob.met
    assert standings[AMINA].completed
    assert not standings[BOB].completed
