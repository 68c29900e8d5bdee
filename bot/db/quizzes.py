"""Quizzes (knowledge checks sent as Telegram quiz polls), their runs and the polls sent.

A **quiz** belongs to a programme and keeps its questions as one JSON list, each
``{"texts": {lang: {"q", "options": [...], "explanation"}}, "correct": <0-based>, "points"}``:
read whole, replaced whole by an import. A **run** is one quiz in one cohort: when it opens
(the attached session's end, or the cohort's last session's end) and closes. A **poll** is one
question sent to one trainee in one run; it holds Telegram's poll id once known and the answer.

The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, UniqueConstraint, and_, delete, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, Enrolment, Programme, utcnow
from bot.db.status import EnrolmentStatus
from bot.db.types import UTCDateTime

#: What a quiz is attached to.
ATTACH_SESSION = "session"
ATTACH_END = "end"


class Quiz(SQLModel, table=True):
    """A programme's quiz: its questions in each language and when it opens."""

    __tablename__ = "quizzes"
    __table_args__ = (UniqueConstraint("programme_id", "key", name="uq_quiz_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=64)
    titles: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    #: ``session`` or ``end``.
    attach: str = Field(max_length=16)
    #: The session's key or title (``session``).
    session_ref: str | None = Field(default=None, max_length=255)
    #: Minutes after the session's end the quiz opens.
    delay_minutes: int = 0
    open_hours: int = 48
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuizRun(SQLModel, table=True):
    """One quiz in one cohort: its window."""

    __tablename__ = "quiz_runs"
    __table_args__ = (UniqueConstraint("quiz_id", "cohort_id", name="uq_quiz_run"),)

    id: int | None = Field(default=None, primary_key=True)
    quiz_id: int = Field(foreign_key="quizzes.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuizPoll(SQLModel, table=True):
    """One question of one run sent to one trainee, and their answer."""

    __tablename__ = "quiz_polls"
    __table_args__ = (UniqueConstraint("run_id", "user_id", "question", name="uq_quiz_poll"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="quiz_runs.id", index=True, ondelete="CASCADE")
    quiz_id: int = Field(foreign_key="quizzes.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_type=BigInteger, index=True)
    #: The question's index (0-based).
    question: int
    #: Telegram's poll id, once known (bound when the poll is sent, or by the first answer
    #: to it when that comes before the sender wrote it down).
    poll_id: str | None = Field(default=None, max_length=64, unique=True)
    #: How many times the question was (re)sent.
    sends: int = 1
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: The chosen option (0-based), once answered.
    option: int | None = None
    correct: bool | None = None
    points: float = 0.0
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --------------------------------------------------------------------------------------------
# Quizzes


async def quizzes_of_programme(session: AsyncSession, programme_id: int) -> list[Quiz]:
    """A programme's quizzes in file order."""
    rows = await session.exec(
        select(Quiz)
        .where(Quiz.programme_id == programme_id)
        .order_by(col(Quiz.position), col(Quiz.id))
    )
    return list(rows.all())


async def all_quizzes(session: AsyncSession) -> list[Quiz]:
    """Every quiz (the planner reads them all; there are few)."""
    rows = await session.exec(select(Quiz).order_by(col(Quiz.id)))
    return list(rows.all())


async def quizzes_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, Quiz]:
    """These quizzes by id."""
    if not ids:
        return {}
    rows = await session.exec(select(Quiz).where(col(Quiz.id).in_(sorted(ids))))
    return {quiz.id: quiz for quiz in rows.all() if quiz.id is not None}


# --------------------------------------------------------------------------------------------
# Runs


async def runs_of_cohorts(session: AsyncSession, cohort_ids: Collection[int]) -> list[QuizRun]:
    """Every run of these cohorts."""
    if not cohort_ids:
        return []
    rows = await session.exec(
        select(QuizRun)
        .where(col(QuizRun.cohort_id).in_(sorted(cohort_ids)))
        .order_by(col(QuizRun.opens_at), col(QuizRun.id))
    )
    return list(rows.all())


async def open_runs(session: AsyncSession, now: datetime) -> list[QuizRun]:
    """Runs whose window holds ``now``."""
    rows = await session.exec(
        select(QuizRun).where(col(QuizRun.opens_at) <= now, col(QuizRun.closes_at) > now)
    )
    return list(rows.all())


async def get_run(session: AsyncSession, run_id: int) -> QuizRun | None:
    """A run by id."""
    return await session.get(QuizRun, run_id)


# --------------------------------------------------------------------------------------------
# Polls


async def started_users(session: AsyncSession, run_ids: Collection[int]) -> set[tuple[int, int]]:
    """``(run, person)`` pairs that were sent the first question already."""
    if not run_ids:
        return set()
    rows = await session.exec(
        select(QuizPoll.run_id, QuizPoll.user_id).where(
            col(QuizPoll.run_id).in_(sorted(run_ids)), QuizPoll.question == 0
        )
    )
    return {(int(run), int(user)) for run, user in rows.all()}


async def poll_by_telegram_id(session: AsyncSession, poll_id: str) -> QuizPoll | None:
    """The poll Telegram knows as ``poll_id``, if bound."""
    rows = await session.exec(select(QuizPoll).where(QuizPoll.poll_id == poll_id))
    return rows.first()


async def unbound_polls_of_user(session: AsyncSession, user_id: int) -> list[QuizPoll]:
    """A person's unanswered polls whose Telegram id is not known yet, newest first."""
    rows = await session.exec(
        select(QuizPoll)
        .where(
            QuizPoll.user_id == user_id,
            col(QuizPoll.poll_id).is_(None),
            col(QuizPoll.answered_at).is_(None),
        )
        .order_by(col(QuizPoll.queued_at).desc(), col(QuizPoll.id).desc())
    )
    return list(rows.all())


@dataclass(slots=True)
class VoteContext:
    """What a batch of ``poll_answer`` updates needs to know, read in one query."""

    #: The polls Telegram knows by the answers' ids, whoever they were sent to.
    bound: dict[str, QuizPoll]
    #: Each voter's polls, oldest first, each with the voter's enrolment status in its cohort
    #: (``None`` when not enrolled there).
    mine: dict[int, list[tuple[QuizPoll, str | None]]]


async def vote_context(
    session: AsyncSession, poll_ids: Collection[str], user_ids: Collection[int]
) -> VoteContext:
    """The polls bound to ``poll_ids`` and all the voters' polls with their enrolment, at once.

    Quiz answers are the busiest writes of a programme day (a cohort answering together): one
    query for a whole batch keeps each answer short.
    """
    context = VoteContext({}, {user_id: [] for user_id in user_ids})
    if not poll_ids and not user_ids:
        return context
    rows = await session.exec(
        select(QuizPoll, Enrolment.status)
        .outerjoin(
            Enrolment,
            and_(
                col(Enrolment.user_id) == col(QuizPoll.user_id),
                col(Enrolment.cohort_id) == col(QuizPoll.cohort_id),
            ),
        )
        .where(
            or_(
                col(QuizPoll.poll_id).in_(sorted(poll_ids)),
                col(QuizPoll.user_id).in_(sorted(user_ids)),
            )
        )
        .order_by(col(QuizPoll.id))
    )
    for poll, status in rows.all():
        if poll.poll_id is not None and poll.poll_id in poll_ids:
            context.bound[poll.poll_id] = poll
        if poll.user_id in context.mine:
            context.mine[poll.user_id].append((poll, status))
    return context


async def runs_with_quizzes(
    session: AsyncSession, run_ids: Collection[int]
) -> dict[int, tuple[QuizRun, Quiz, Programme]]:
    """Runs by id, each with its quiz and the programme of its cohort, in one query."""
    if not run_ids:
        return {}
    rows = await session.exec(
        select(QuizRun, Quiz, Programme)
        .join(Quiz, col(Quiz.id) == col(QuizRun.quiz_id))
        .join(Cohort, col(Cohort.id) == col(QuizRun.cohort_id))
        .join(Programme, col(Programme.id) == col(Cohort.programme_id))
        .where(col(QuizRun.id).in_(sorted(run_ids)))
    )
    return {run.id: (run, quiz, programme) for run, quiz, programme in rows.all() if run.id}


async def bind_sent_poll(
    session: AsyncSession,
    *,
    run_id: int,
    user_id: int,
    question: int,
    sends: int,
    poll_id: str,
) -> None:
    """Write Telegram's id of a question's poll just sent (unless a vote bound it first, or the
    question was sent again since)."""
    bound = aliased(QuizPoll)
    await session.execute(
        update(QuizPoll)
        .where(
            col(QuizPoll.run_id) == run_id,
            col(QuizPoll.user_id) == user_id,
            col(QuizPoll.question) == question,
            col(QuizPoll.sends) == sends,
            col(QuizPoll.poll_id).is_(None),
            # One statement: the id is not bound to another question already (by a vote).
            ~sa_select(col(bound.id)).where(col(bound.poll_id) == poll_id[:64]).exists(),
        )
        .values(poll_id=poll_id[:64])
    )


async def polls_of_user(session: AsyncSession, user_id: int) -> list[QuizPoll]:
    """A person's polls (``/quiz``, ``/mydata``), oldest first."""
    rows = await session.exec(
        select(QuizPoll).where(QuizPoll.user_id == user_id).order_by(col(QuizPoll.id))
    )
    return list(rows.all())


async def polls_of_run(session: AsyncSession, run_id: int) -> list[QuizPoll]:
    """Every poll of a run (the report)."""
    rows = await session.exec(
        select(QuizPoll).where(QuizPoll.run_id == run_id).order_by(col(QuizPoll.id))
    )
    return list(rows.all())


async def erase_user(
    session: AsyncSession, user_id: int, cohort_ids: Collection[int] | None = None
) -> int:
    """Delete a person's polls and answers (``/forgetme``, the purge); returns how many."""
    statement = delete(QuizPoll).where(col(QuizPoll.user_id) == user_id)
    if cohort_ids is not None:
        statement = statement.where(col(QuizPoll.cohort_id).in_(list(cohort_ids)))
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def erase_cohort_answers(session: AsyncSession, cohort_id: int) -> int:
    """Delete every poll and answer of a cohort (retention); returns how many."""
    result = await session.exec(delete(QuizPoll).where(col(QuizPoll.cohort_id) == cohort_id))
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Tally:
    """A person's answers to one quiz, counted by the database."""

    user_id: int
    quiz_id: int | None
    points: float
    answered: int


async def cohort_tallies(session: AsyncSession, cohort_id: int) -> list[Tally]:
    """Every active trainee of a cohort with their points and answers per quiz, in one query
    (a trainee who answered nothing comes back once with ``quiz_id`` None)."""
    answered = func.count(col(QuizPoll.answered_at))
    statement = (
        sa_select(
            col(Enrolment.user_id),
            col(QuizPoll.quiz_id),
            func.coalesce(func.sum(col(QuizPoll.points)), 0.0),
            answered,
        )
        .select_from(Enrolment)
        .outerjoin(
            QuizPoll,
            (col(QuizPoll.user_id) == col(Enrolment.user_id))
            & (col(QuizPoll.cohort_id) == col(Enrolment.cohort_id)),
        )
        .where(
            col(Enrolment.cohort_id) == cohort_id,
            col(Enrolment.status) == EnrolmentStatus.ACTIVE,
            col(Enrolment.role) != "trainer",
        )
        .group_by(col(Enrolment.user_id), col(QuizPoll.quiz_id))
    )
    rows = await session.execute(statement)
    return [
        Tally(int(user), None if quiz is None else int(quiz), float(points or 0), int(count))
        for user, quiz, points, count in rows.all()
    ]
