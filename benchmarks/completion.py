"""Completion at scale (``python -m benchmarks completion``).

1. The table of a cohort of 500 trainees, 20 held sessions with their attendance marks (about
   85% present), 20 feedback forms each (about 80% answered) and 5 quizzes of 4 questions
   (about 70% right): the time to build every trainee's standing (``cohort_standings``,
   target < 1 s), and to lay the table out as text and as a workbook; on SQLite, and on
   PostgreSQL when it is installed.
2. 500 certificates rendered in mixed scripts (``benchmarks.certificates``: target < 60 s on
   two cores, peak memory < 300 MB).
3. 10,000 quiz poll answers at 200/s through the dispatcher (``benchmarks.quiz_answers``:
   target p99 < 100 ms).
"""

from __future__ import annotations

import logging
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import peak_rss_mb
from benchmarks.feedback import database
from bot.db import migrate
from bot.db.attendance import AttendanceMark
from bot.db.engine import create_engine, create_session_factory
from bot.db.feedback import FeedbackForm, FeedbackRequest, FormTrigger, RequestStatus
from bot.db.models import Cohort, Enrolment, Programme, TrainingSession, User
from bot.db.quizzes import ATTACH_END, Quiz, QuizPoll, QuizRun
from bot.services.completion import report
from bot.services.completion.standings import cohort_completion, cohort_standings

START = datetime(2027, 3, 8, 2, 0, tzinfo=UTC)
RULE = {
    "min_attendance": 0.8,
    "forms": 0.8,
    "min_quiz_score": 0.6,
    "required_sessions": ["s1", "Lecture 10"],
}
QUIZZES, QUESTIONS = 5, 4


async def _seed(url: str, trainees: int, sessions: int) -> tuple[int, datetime]:
    """The cohort; returns its id and a moment after its last session."""
    rng = random.Random(7)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            programme = Programme(
                code="COMPLETION", titles={"en": "Bench"}, rules={"completion": RULE}
            )
            session.add(programme)
            await session.flush()
            cohort = Cohort(programme_id=programme.id or 0, code="COMPLETION")
            session.add(cohort)
            await session.flush()
            cohort_id = cohort.id or 0
            form = FeedbackForm(
                programme_id=programme.id or 0,
                key="after",
                titles={"en": "After"},
                trigger=FormTrigger.AFTER_KIND,
                trigger_values=["lecture"],
            )
            session.add(form)
            rows = [
                TrainingSession(
                    cohort_id=cohort_id,
                    key=f"s{n}",
                    titles={"en": f"Lecture {n}"},
                    kind="lecture",
                    starts_at=START + timedelta(days=n),
                    ends_at=START + timedelta(days=n, minutes=90),
                )
                for n in range(1, sessions + 1)
            ]
            session.add_all(rows)
            await session.flush()
            user_ids = [500_000 + n for n in range(trainees)]
            session.add_all(User(id=u, first_name=f"Trainee {u}", locale="en") for u in user_ids)
            await session.flush()
            session.add_all(
                Enrolment(user_id=u, cohort_id=cohort_id, status="active") for u in user_ids
            )
            marks = []
            requests = []
            for row in rows:
                for user_id in user_ids:
                    marks.append(
                        AttendanceMark(
                            session_id=row.id or 0,
                            cohort_id=cohort_id,
                            user_id=user_id,
                            status="present" if rng.random() < 0.85 else "absent",
                            source="trainer",
                        )
                    )
                    requests.append(
                        FeedbackRequest(
                            form_id=form.id or 0,
                            cohort_id=cohort_id,
                            session_id=row.id,
                            occasion=f"s:{row.id}",
                            user_id=user_id,
                            status=RequestStatus.ANSWERED
                            if rng.random() < 0.8
                            else RequestStatus.CLOSED,
                            opens_at=row.ends_at + timedelta(minutes=15),
                            closes_at=row.ends_at + timedelta(hours=48),
                        )
                    )
            session.add_all(marks)
            session.add_all(requests)
            polls = []
            for q in range(QUIZZES):
                quiz = Quiz(
                    programme_id=programme.id or 0,
                    key=f"quiz{q}",
                    titles={"en": f"Quiz {q}"},
                    attach=ATTACH_END,
                    questions=[
                        {"texts": {"en": {"q": "?", "options": ["a", "b"]}}, "correct": 0}
                        for _ in range(QUESTIONS)
                    ],
                )
                session.add(quiz)
                await session.flush()
                opens = START + timedelta(days=4 * (q + 1))
                run = QuizRun(
                    quiz_id=quiz.id or 0,
                    cohort_id=cohort_id,
                    opens_at=opens,
                    closes_at=opens + timedelta(hours=48),
                )
                session.add(run)
                await session.flush()
                for user_id in user_ids:
                    for question in range(QUESTIONS):
                        right = rng.random() < 0.7
                        polls.append(
                            QuizPoll(
                                run_id=run.id or 0,
                                quiz_id=quiz.id or 0,
                                cohort_id=cohort_id,
                                user_id=user_id,
                                question=question,
                                queued_at=opens,
                                option=0 if right else 1,
                                correct=right,
                                points=1.0 if right else 0.0,
                                answered_at=opens + timedelta(minutes=5),
                            )
                        )
            session.add_all(polls)
            await session.commit()
        return cohort_id, START + timedelta(days=sessions + 3)
    finally:
        await engine.dispose()


async def run(url: str, label: str, trainees: int = 500, sessions: int = 20) -> None:
    cohort_id, now = await _seed(url, trainees, sessions)
    engine = create_engine(url)
    try:
        factory = create_session_factory(engine)
        timings = []
        for _attempt in range(5):
            async with factory() as session:
                started = time.perf_counter()
                standings = await cohort_standings(session, cohort_id, now)
                timings.append(time.perf_counter() - started)
        assert len(standings) == trainees
        async with factory() as session:
            cohort = await session.get(Cohort, cohort_id)
            programme = await session.get(Programme, cohort.programme_id if cohort else 0)
            assert cohort is not None
            assert programme is not None
            table = await cohort_completion(session, cohort, programme, now)
        started = time.perf_counter()
        text = report.fit_message(report.table_lines(table))
        laid_out = time.perf_counter() - started
        started = time.perf_counter()
        data = report.workbook(table)
        drawn = time.perf_counter() - started
        done = sum(1 for s in standings if s.completed)
        print(
            f"{label}: {trainees} trainees, {sessions} sessions, {sessions} forms and "
            f"{QUIZZES} quizzes each: "
            f"standings median {statistics.median(timings) * 1000:.0f} ms, "
            f"worst {max(timings) * 1000:.0f} ms (target < 1000 ms); "
            f"{done} completed; message {len(text)} chars in {laid_out * 1000:.0f} ms; "
            f"workbook {len(data) // 1024} KB in {drawn * 1000:.0f} ms",
            flush=True,
        )
    finally:
        await engine.dispose()


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'completion.db'}"
        await migrate.upgrade(url)
        await run(url, "SQLite")
    async with database("postgres") as pg_url:
        if pg_url is None:
            print("PostgreSQL: not installed, skipped")
        else:
            await migrate.upgrade(pg_url)
            await run(pg_url, "PostgreSQL")
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB", flush=True)
    from benchmarks import certificates, quiz_answers

    print("\n--- certificates ---", flush=True)
    await certificates.main()
    print("\n--- quiz poll answers ---", flush=True)
    await quiz_answers.main()
