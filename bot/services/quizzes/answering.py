"""A trainee's quizzes (``/quiz``) and sending their current question again.

Votes are recorded by ``bot.services.quizzes.votes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import quizzes as quiz_db
from bot.db import registration as registration_db
from bot.db import timetable as timetable_db
from bot.db.models import Programme, User
from bot.db.quizzes import Quiz, QuizPoll, QuizRun
from bot.db.status import EnrolmentStatus
from bot.delivery.outbox import Envelope, enqueue
from bot.services.quizzes.library import quiz_title
from bot.services.quizzes.sending import POLL_KIND, poll_key, poll_payload, viewer_of

CONTINUE_PREFIX: Final = "qz:c:"


async def _reader(
    session: AsyncSession, user_id: int, programme: Programme
) -> tuple[str, str | None]:
    user = await session.get(User, user_id)
    viewer = viewer_of(
        user.locale if user else None,
        user.language_code if user else None,
        user.timezone if user else None,
        programme,
    )
    return viewer.locale, viewer.zone


async def _queue_question(
    session: AsyncSession,
    run: QuizRun,
    quiz: Quiz,
    poll: QuizPoll,
    programme: Programme,
    now: datetime,
) -> None:
    assert run.id is not None
    locale, _zone = await _reader(session, poll.user_id, programme)
    await enqueue(
        session,
        [
            Envelope(
                chat_id=poll.user_id,
                user_id=poll.user_id,
                kind=POLL_KIND,
                dedupe_key=poll_key(run.id, poll.user_id, poll.question, poll.sends),
                due_at=now,
                not_after=run.closes_at,
                payload=poll_payload(
                    quiz,
                    poll.question,
                    locale,
                    programme.default_locale,
                    run_id=run.id,
                    user_id=poll.user_id,
                    sends=poll.sends,
                ),
            )
        ],
        now,
    )


@dataclass(frozen=True, slots=True)
class QuizLine:
    """One quiz as a trainee sees it in ``/quiz``."""

    run_id: int
    title: str
    questions: int
    answered: int
    points: float
    max_points: float
    closes_at: datetime
    open: bool


async def quizzes_of_trainee(
    session: AsyncSession, user_id: int, now: datetime, locale: str
) -> list[QuizLine]:
    """The quizzes of a trainee's cohorts that have opened, newest first."""
    pairs = await timetable_db.cohorts_of_user(session, user_id)
    cohorts = {cohort.id: programme for cohort, programme in pairs if cohort.id}
    runs = [r for r in await quiz_db.runs_of_cohorts(session, cohorts) if r.opens_at <= now]
    quizzes = await quiz_db.quizzes_by_id(session, {run.quiz_id for run in runs})
    polls = await quiz_db.polls_of_user(session, user_id)
    lines = []
    for run in sorted(runs, key=lambda r: r.opens_at, reverse=True):
        quiz = quizzes.get(run.quiz_id)
        if quiz is None or run.id is None:
            continue
        mine = [p for p in polls if p.run_id == run.id and p.answered_at is not None]
        lines.append(
            QuizLine(
                run_id=run.id,
                title=quiz_title(quiz, locale, cohorts[run.cohort_id].default_locale),
                questions=len(quiz.questions),
                answered=len(mine),
                points=sum(p.points for p in mine),
                max_points=sum(float(q.get("points", 1)) for q in quiz.questions),
                closes_at=run.closes_at,
                open=now < run.closes_at and len(mine) < len(quiz.questions),
            )
        )
    return lines


async def resend_current(session: AsyncSession, user_id: int, run_id: int, now: datetime) -> bool:
    """Send again the question a trainee is on (``/quiz``'s Continue); commits. False when
    the quiz is closed, finished or not theirs."""
    run = await quiz_db.get_run(session, run_id)
    if run is None or now >= run.closes_at or run.opens_at > now:
        return False
    enrolment = await registration_db.find_enrolment(session, user_id, run.cohort_id)
    quiz = await session.get(Quiz, run.quiz_id)
    if enrolment is None or enrolment.status != EnrolmentStatus.ACTIVE or quiz is None:
        return False
    polls = [p for p in await quiz_db.polls_of_user(session, user_id) if p.run_id == run_id]
    pending = [p for p in polls if p.answered_at is None]
    if pending:
        poll = pending[-1]
        poll.sends += 1
        # The question's earlier poll may never be answered: the new one is bound on its vote.
        poll.poll_id = None
        poll.queued_at = now
    elif len(polls) < len(quiz.questions):
        poll = QuizPoll(
            run_id=run_id,
            quiz_id=run.quiz_id,
            cohort_id=run.cohort_id,
            user_id=user_id,
            question=len(polls),
            queued_at=now,
        )
    else:
        return False
    session.add(poll)
    await session.flush()
    pair = await timetable_db.cohort_with_programme(session, run.cohort_id)
    assert pair is not None
    await _queue_question(session, run, quiz, poll, pair[1], now)
    await session.commit()
    return True
