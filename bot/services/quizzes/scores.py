"""Quiz scores per trainee, for the completion rule and the reports.

:func:`cohort_quiz_scores` reads a whole cohort in two queries, whatever its size: the cohort's
runs with their quizzes, and every active trainee's points and answers per quiz.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import quizzes as quiz_db
from bot.db.quizzes import Quiz, QuizRun


@dataclass(frozen=True, slots=True)
class QuizScore:
    """One trainee's result in one quiz."""

    quiz_id: int
    quiz_key: str
    points: float  # earned
    max_points: float
    answered: int  # questions answered
    questions: int
    closed: bool  # the window is over at `now`


async def cohort_quiz_scores(
    session: AsyncSession, cohort_id: int, now: datetime
) -> dict[int, list[QuizScore]]:
    """user_id -> one QuizScore per quiz of the cohort that has opened by `now` (also for
    trainees who answered nothing: points 0)."""
    rows = await session.exec(
        select(QuizRun, Quiz)
        .join(Quiz, col(Quiz.id) == col(QuizRun.quiz_id))
        .where(QuizRun.cohort_id == cohort_id, col(QuizRun.opens_at) <= now)
        .order_by(col(QuizRun.opens_at), col(QuizRun.id))
    )
    opened = [(run, quiz) for run, quiz in rows.all() if quiz.id is not None]
    tallies = await quiz_db.cohort_tallies(session, cohort_id)
    earned: dict[tuple[int, int], tuple[float, int]] = {}
    people: dict[int, None] = {}
    for tally in tallies:
        people.setdefault(tally.user_id, None)
        if tally.quiz_id is not None:
            earned[(tally.user_id, tally.quiz_id)] = (tally.points, tally.answered)
    result: dict[int, list[QuizScore]] = {}
    for user_id in people:
        scores = []
        for run, quiz in opened:
            assert quiz.id is not None
            points, answered = earned.get((user_id, quiz.id), (0.0, 0))
            scores.append(
                QuizScore(
                    quiz_id=quiz.id,
                    quiz_key=quiz.key,
                    points=points,
                    max_points=sum(float(q.get("points", 1)) for q in quiz.questions),
                    answered=answered,
                    questions=len(quiz.questions),
                    closed=now >= run.closes_at,
                )
            )
        result[user_id] = scores
    return result
