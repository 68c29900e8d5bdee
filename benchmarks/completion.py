"""Completion at scale: the table of a cohort of 500 trainees, 20 held sessions with their
attendance marks (about 85% present) and 20 feedback forms each (about 80% answered).

Figures: the time to build every trainee's standing (``cohort_standings``, target < 1 s),
and to lay the table out as text and as a workbook; on SQLite, and on PostgreSQL when it is
installed.
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
from bot.services.completion import report
from bot.services.completion.standings import cohort_completion, cohort_standings

START = datetime(2027, 3, 8, 2, 0, tzinfo=UTC)
RULE = {"min_attendance": 0.8, "forms": 0.8, "required_sessions": ["s1", "Lecture 10"]}


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
            f"{label}: {trainees} trainees, {sessions} sessions, {sessions} forms each: "
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
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB")
