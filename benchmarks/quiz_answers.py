"""Quiz poll answers: 10,000 ``poll_answer`` updates through the real dispatcher at 200/s.

10,000 trainees of one cohort each have the one question of an open quiz in front of them (the
polls as the planner leaves them: sent, their Telegram id not known yet). Their answers are fed
to our Dispatcher (the middlewares, the router tree, the service that binds the poll, scores it
and queues the score message) at a steady 200 a second, open loop; each update's handling time
is measured from the moment it was due to the moment the dispatcher is done with it.
Target: p99 under 100 ms.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram.types import PollAnswer, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.common import bench_settings, peak_rss_mb, percentile
from benchmarks.feedback import database
from bot.app import application
from bot.clock import ManualClock
from bot.db.models import Cohort, Enrolment, Programme, User
from bot.db.quizzes import ATTACH_END, Quiz, QuizPoll, QuizRun
from sandbox import Limits, Sandbox

#: ``BENCH_QUIZ_ANSWERS`` and ``BENCH_QUIZ_RATE`` change the load (for a quick look).
ANSWERS = int(os.environ.get("BENCH_QUIZ_ANSWERS", "10000"))
RATE = float(os.environ.get("BENCH_QUIZ_RATE", "200"))
FIRST_USER = 5_000_000


async def _seed(session_factory: async_sessionmaker[AsyncSession], now: datetime) -> None:
    async with session_factory() as session:
        programme = Programme(code="BENCH-QUIZ", titles={"en": "Benchmark"})
        session.add(programme)
        await session.flush()
        cohort = Cohort(programme_id=programme.id or 0, code="BQ-1", name="Bench")
        session.add(cohort)
        await session.flush()
        quiz = Quiz(
            programme_id=programme.id or 0,
            key="q",
            titles={"en": "Quiz"},
            attach=ATTACH_END,
            questions=[
                {
                    "texts": {"en": {"q": "2+2?", "options": ["3", "4"], "explanation": None}},
                    "correct": 1,
                    "points": 1.0,
                }
            ],
        )
        session.add(quiz)
        await session.flush()
        run = QuizRun(
            quiz_id=quiz.id or 0,
            cohort_id=cohort.id or 0,
            opens_at=now - timedelta(minutes=5),
            closes_at=now + timedelta(days=2),
        )
        session.add(run)
        await session.flush()
        for n in range(ANSWERS):
            uid = FIRST_USER + n
            session.add(User(id=uid, first_name=f"T{n}", locale="en"))
            session.add(Enrolment(user_id=uid, cohort_id=cohort.id or 0, status="active"))
            session.add(
                QuizPoll(
                    run_id=run.id or 0,
                    quiz_id=quiz.id or 0,
                    cohort_id=cohort.id or 0,
                    user_id=uid,
                    question=0,
                    queued_at=now,
                )
            )
            if n % 2000 == 1999:
                await session.flush()
        await session.commit()


async def main() -> None:
    """Print the figures."""
    now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    logging.getLogger("bot.errors").setLevel(logging.CRITICAL)
    for kind in ("sqlite", "postgres"):
        async with database(kind) as pg_url:
            if kind == "postgres" and pg_url is None:
                print("PostgreSQL: not installed, skipped")
                continue
            async with Sandbox(limits=Limits(enabled=False)) as sandbox:
                await _measure(sandbox, ManualClock(now), now, pg_url)


async def _measure(sandbox: Sandbox, clock: ManualClock, now: datetime, pg_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = pg_url or f"sqlite+aiosqlite:///{Path(folder) / 'quiz.db'}"
        settings = bench_settings(sandbox.url, url)
        async with application(settings, clock=clock) as app:
            await app.prepare()
            await _seed(app.session_factory, now)
            latencies: list[float] = []
            tasks: list[asyncio.Task[None]] = []

            async def one(n: int, due: float) -> None:
                uid = FIRST_USER + n
                update = Update(
                    update_id=n + 1,
                    poll_answer=PollAnswer(
                        poll_id=f"bench-{n}",
                        user=TgUser(id=uid, is_bot=False, first_name=f"T{n}"),
                        option_ids=[n % 2],
                        option_persistent_ids=[str(n % 2)],
                    ),
                )
                await app.dp.feed_update(app.bot, update)
                latencies.append((time.perf_counter() - due) * 1000)

            start = time.perf_counter()
            for n in range(ANSWERS):
                due = start + n / RATE
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(n, due)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
            async with app.session_factory() as session:
                answered = (
                    await session.exec(
                        select(func.count(col(QuizPoll.id))).where(
                            col(QuizPoll.answered_at).is_not(None)
                        )
                    )
                ).one()
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    where = "PostgreSQL" if pg_url else "SQLite"
    print(
        f"quiz answers on {where}: {ANSWERS} poll_answer updates at {RATE:.0f}/s in {elapsed:.1f} s"
    )
    print(f"  recorded: {answered} of {ANSWERS}")
    print(f"  handling latency p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 100 ms)")
    print(f"  peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
