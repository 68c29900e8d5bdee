"""Reminders at scale: planning cost, and a large cohort reminded on time through the sandbox.

1. Planning: 5,000 trainees in 50 cohorts, 40 sessions each, two offsets (1 day, 15 min).
   The planner runs every hour of simulated time over four days: time per tick (first and
   steady), rows planned, peak memory (target < 300 MB) and database size.
2. Delivery: 3,000 trainees of one session reminded 15 minutes before, through the sandbox
   with Telegram's limits on. The clock runs with real time from just before the reminders'
   spread window. Share delivered by the mark and before the start (targets 100% and 100%),
   and after the start (target 0). ``--quick`` (default) runs at 300/s with a matching
   sandbox limit; ``--real`` at Telegram's 30/s (about two minutes).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from benchmarks.common import peak_rss_mb, percentile, running_bot
from bot.db import migrate
from bot.db import outbox as outbox_db
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import Cohort, Enrolment, OutboxMessage, Programme, TrainingSession, User
from bot.services import reminders
from sandbox import Limits, Sandbox

ZONES = [
    "Asia/Tashkent",
    "Africa/Kampala",
    "America/Havana",
    "Europe/Belgrade",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/Lima",
    "Pacific/Fiji",
]
LOCALES = ["en", "zh", "ru", "fr", "es", "ar"]
START = datetime(2027, 3, 8, 0, 0, tzinfo=UTC)


class RunningClock:
    """Real time passing, from a chosen instant (the scenario's "now")."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("plan.db*")) / 1024 / 1024


async def planning(cohorts: int = 50, per_cohort: int = 100, sessions: int = 40) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.db"
        url = f"sqlite+aiosqlite:///{path}"
        await migrate.upgrade(url)
        engine = create_engine(url)
        factory = create_session_factory(engine)
        async with factory() as session:
            programme = Programme(
                code="BENCH", titles={"en": "Benchmark programme"}, home_timezone="Asia/Shanghai"
            )
            session.add(programme)
            await session.flush()
            user_id = 1_000_000
            for c in range(cohorts):
                cohort = Cohort(
                    programme_id=programme.id or 0, code=f"C{c:02d}", reminder_offsets=[1440, 15]
                )
                session.add(cohort)
                await session.flush()
                for s in range(sessions):
                    starts = START + timedelta(days=s, hours=(c % 12))
                    session.add(
                        TrainingSession(
                            cohort_id=cohort.id or 0,
                            key=f"s{s}",
                            titles={"en": f"Session {s}"},
                            speaker="Dr. Speaker",
                            starts_at=starts,
                            ends_at=starts + timedelta(hours=2),
                            join_url=f"https://example.org/join/{c}/{s}",
                        )
                    )
                for _ in range(per_cohort):
                    user_id += 1
                    session.add(
                        User(
                            id=user_id,
                            first_name="T",
                            locale=LOCALES[user_id % 6],
                            timezone=ZONES[user_id % len(ZONES)],
                        )
                    )
                    session.add(Enrolment(user_id=user_id, cohort_id=cohort.id or 0))
            await session.commit()

        now = START - timedelta(days=1)
        times: list[float] = []
        planned = 0
        for _tick in range(96):
            started = time.perf_counter()
            async with factory() as session:
                planned += await reminders.plan_reminders(session, now)
            times.append(time.perf_counter() - started)
            now += timedelta(hours=1)
        async with factory() as session:
            rows = len((await session.exec(select(OutboxMessage.id))).all())
        await engine.dispose()
        size_mb = await asyncio.to_thread(_size_mb, Path(folder))
    people = cohorts * per_cohort
    print(f"planning: {people} trainees, {cohorts} cohorts x {sessions} sessions, 2 offsets")
    print(
        f"  ticks: {len(times)} (one per simulated hour), rows planned: {planned} ({rows} stored)"
    )
    print(
        f"  first tick: {times[0] * 1000:.0f} ms; "
        f"steady p50 {percentile(times[1:], 50) * 1000:.0f} ms,"
        f" p99 {percentile(times[1:], 99) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )
    print(f"  peak memory: {peak_rss_mb():.0f} MB (target < 300); database: {size_mb:.1f} MB")


async def delivery(trainees: int = 3000, rate: float = 300.0) -> None:
    session_start = datetime(2027, 3, 8, 11, 0, tzinfo=UTC)
    mark = session_start - timedelta(minutes=15)
    window = timedelta(seconds=trainees / (rate * reminders.SPREAD_MARGIN))
    clock = RunningClock(mark - window - timedelta(seconds=2))
    limits = Limits(enabled=True, global_per_second=max(rate, 30.0))
    sandbox = Sandbox(limits=limits)
    await sandbox.start()
    try:
        async with running_bot(sandbox, clock=clock, send_rate=rate) as app:
            async with app.session_factory() as session:
                programme = Programme(code="ONE", home_timezone="Asia/Shanghai")
                session.add(programme)
                await session.flush()
                cohort = Cohort(programme_id=programme.id or 0, code="ONE", reminder_offsets=[15])
                session.add(cohort)
                await session.flush()
                session.add(
                    TrainingSession(
                        cohort_id=cohort.id or 0,
                        key="one",
                        titles={"en": "The big session"},
                        starts_at=session_start,
                        ends_at=session_start + timedelta(hours=1),
                        join_url="https://example.org/join",
                    )
                )
                for i in range(trainees):
                    session.add(User(id=2_000_000 + i, first_name="T", timezone=ZONES[i % 8]))
                    session.add(Enrolment(user_id=2_000_000 + i, cohort_id=cohort.id or 0))
                await session.commit()
                planned = await reminders.plan_reminders(session, clock.now(), rate=rate)
            app.sender.wake()
            started = time.perf_counter()
            deadline = started + window.total_seconds() + 120
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.5)
                async with app.session_factory() as session:
                    counts = await outbox_db.counts_by_status(session)
                if not any(counts.get(s) for s in ("pending", "claimed", "sending")):
                    break
            elapsed = time.perf_counter() - started
            async with app.session_factory() as session:
                rows = (
                    await session.exec(
                        select(OutboxMessage).where(col(OutboxMessage.kind) == "reminder")
                    )
                ).all()
    finally:
        await sandbox.stop()
    sent = [r for r in rows if r.status == "sent" and r.sent_at is not None]
    by_mark = sum(
        1 for r in sent if r.sent_at is not None and r.sent_at <= mark + timedelta(seconds=1)
    )
    before_start = sum(1 for r in sent if r.sent_at is not None and r.sent_at < session_start)
    after_start = sum(1 for r in sent if r.sent_at is not None and r.sent_at >= session_start)
    print(f"delivery: {trainees} trainees, one session, 15 min before, {rate:.0f}/s, limits on")
    print(
        f"  planned {planned}; sent {len(sent)} in {elapsed:.1f} s; 429s seen: "
        f"{len(sandbox.rate_limited)}"
    )
    print(
        f"  by the mark (+1 s): {by_mark / trainees:.1%}; inside the reminder window (before the "
        f"start): {before_start / trainees:.1%} (target 100%); after the start: {after_start} "
        f"(target 0)"
    )


async def main() -> None:
    real = "--real" in sys.argv
    await planning()
    await delivery(rate=30.0 if real else 300.0)


if __name__ == "__main__":
    asyncio.run(main())
