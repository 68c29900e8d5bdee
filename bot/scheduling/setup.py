"""The APScheduler 3 scheduler of the elected replica: planning jobs on fixed intervals.

Job ids are stable and added with ``replace_existing``, so a restart (or a persistent job
store later) never doubles a job. Every job runs once at start-up: reminders due while the
bot was down are planned at once if still true, and the sender expires what is too late.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.delivery.sender import Sender
from bot.scheduling import jobs
from bot.services import reminders

PLAN_REMINDERS_ID: Final = "plan_reminders"
PLAN_DIGESTS_ID: Final = "plan_digests"
PLAN_REMINDERS_EVERY: Final = timedelta(minutes=5)
PLAN_DIGESTS_EVERY: Final = timedelta(minutes=10)
PLAN_FEEDBACK_ID: Final = "plan_feedback"
PLAN_FEEDBACK_EVERY: Final = timedelta(minutes=5)
PLAN_QUIZZES_ID: Final = "plan_quizzes"
PLAN_QUIZZES_EVERY: Final = timedelta(minutes=5)
RAISE_QUESTIONS_ID: Final = "raise_questions_again"
RAISE_QUESTIONS_EVERY: Final = timedelta(minutes=15)
PURGE_ID: Final = "purge_expired"
PURGE_EVERY: Final = timedelta(days=1)


def build_scheduler(
    session_factory: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender | None,
    *,
    rate: float = reminders.DEFAULT_RATE,
    raise_after: timedelta = timedelta(hours=4),
    retention_months: int = 0,
    keep: Collection[int] = (),
) -> AsyncIOScheduler:
    """The scheduler with the planning jobs added (not started: call ``start()`` when leading).

    ``rate`` is the sender's pace, which the reminder planner spreads large cohorts by;
    ``raise_after`` how long a trainee's question may wait before it is raised again;
    ``retention_months`` (0: off) adds the daily purge of cohorts that ended that long ago,
    never erasing the accounts in ``keep`` entirely.
    """
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 120},
    )
    # APScheduler waits by the machine's clock, so the first run is set on that clock (a demo's
    # or a test's clock may stand anywhere); what the jobs do asks ``clock``.
    first_run = datetime.now(UTC)
    scheduler.add_job(
        jobs.plan_reminders,
        trigger=IntervalTrigger(seconds=PLAN_REMINDERS_EVERY.total_seconds(), timezone=UTC),
        id=PLAN_REMINDERS_ID,
        name="plan reminders before sessions",
        kwargs={"session_factory": session_factory, "clock": clock, "sender": sender, "rate": rate},
        replace_existing=True,
        next_run_time=first_run,
    )
    scheduler.add_job(
        jobs.plan_digests,
        trigger=IntervalTrigger(seconds=PLAN_DIGESTS_EVERY.total_seconds(), timezone=UTC),
        id=PLAN_DIGESTS_ID,
        name="plan the 08:00 digests",
        kwargs={"session_factory": session_factory, "clock": clock, "sender": sender},
        replace_existing=True,
        next_run_time=first_run,
    )
    scheduler.add_job(
        jobs.plan_feedback,
        trigger=IntervalTrigger(seconds=PLAN_FEEDBACK_EVERY.total_seconds(), timezone=UTC),
        id=PLAN_FEEDBACK_ID,
        name="send, nudge and close feedback forms",
        kwargs={"session_factory": session_factory, "clock": clock, "sender": sender},
        replace_existing=True,
        next_run_time=first_run,
    )
    scheduler.add_job(
        jobs.plan_quizzes,
        trigger=IntervalTrigger(seconds=PLAN_QUIZZES_EVERY.total_seconds(), timezone=UTC),
        id=PLAN_QUIZZES_ID,
        name="open quizzes and send their first questions",
        kwargs={"session_factory": session_factory, "clock": clock, "sender": sender},
        replace_existing=True,
        next_run_time=first_run,
    )
    scheduler.add_job(
        jobs.raise_questions_again,
        trigger=IntervalTrigger(seconds=RAISE_QUESTIONS_EVERY.total_seconds(), timezone=UTC),
        id=RAISE_QUESTIONS_ID,
        name="raise unanswered questions again",
        kwargs={
            "session_factory": session_factory,
            "clock": clock,
            "sender": sender,
            "after": raise_after,
        },
        replace_existing=True,
        next_run_time=first_run,
    )
    if retention_months > 0:
        scheduler.add_job(
            jobs.purge_expired,
            trigger=IntervalTrigger(seconds=PURGE_EVERY.total_seconds(), timezone=UTC),
            id=PURGE_ID,
            name="erase the personal data of cohorts that ended long ago",
            kwargs={
                "session_factory": session_factory,
                "clock": clock,
                "months": retention_months,
                "keep": tuple(keep),
            },
            replace_existing=True,
            next_run_time=first_run,
        )
    return scheduler
