"""Keeping personal data no longer than needed: the purge of cohorts that ended long ago.

A cohort ends on its end date, else on its last session's day, else on its programme's end
date; a cohort with none of these never expires (the purge names it). Once it ended more than
``months`` months ago, its people's personal data goes, with the same erasure as ``/forgetme``
(:func:`bot.services.erasure.erase_person`):

* a person whose every cohort has expired, and who organises nothing (no role, not a
  super-admin), is erased entirely: the account, the messages, everything;
* a person still in a newer cohort, or an organiser, keeps the account and what belongs to
  the newer cohorts; only the expired cohorts' entries, enrolments, marks, feedback, questions
  and audit rows lose them;
* roster entries nobody registered with lose their details too.

The cohorts, their sessions and every figure stay. Running it again finds nothing more to do.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import erasure as erasure_db
from bot.db import quizzes as quiz_db
from bot.services import erasure


@dataclass(slots=True)
class PurgeReport:
    """What a purge erased (or, in a dry run, would erase)."""

    months: int
    cutoff: date
    dry_run: bool
    #: Codes of the cohorts that ended before ``cutoff``.
    cohorts: list[str] = field(default_factory=list)
    #: Codes of the cohorts that say nowhere when they end, so never expire.
    undated: list[str] = field(default_factory=list)
    people_erased: int = 0
    people_kept: int = 0
    entries: int = 0
    enrolments: int = 0
    messages: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "months": self.months,
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "cohorts": self.cohorts,
            "undated_cohorts": self.undated,
            "people_erased": self.people_erased,
            "people_kept": self.people_kept,
            "roster_entries": self.entries,
            "enrolments": self.enrolments,
            "messages": self.messages,
        }


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has 28 days


async def purge(
    session: AsyncSession,
    *,
    months: int,
    now: datetime,
    keep: Collection[int] = (),
    dry_run: bool = False,
) -> PurgeReport:
    """Erase the personal data of cohorts that ended more than ``months`` months before
    ``now``; ``keep`` are accounts never erased entirely (the super-admins). Commits, or in a
    dry run rolls everything back."""
    report = PurgeReport(months=months, cutoff=months_before(now.date(), months), dry_run=dry_run)
    expired: set[int] = set()
    for cohort, ended in await erasure_db.cohort_ends(session):
        if ended is None:
            report.undated.append(cohort.code)
        elif ended < report.cutoff and cohort.id is not None:
            expired.add(cohort.id)
            report.cohorts.append(cohort.code)
    for user_id in sorted(await erasure_db.people_of_cohorts(session, expired)):
        theirs = await erasure_db.cohorts_of_person(session, user_id)
        whole = (
            theirs <= expired
            and user_id not in keep
            and not await erasure_db.has_roles(session, user_id)
        )
        done = await erasure.erase_person(
            session, user_id, now, cohort_ids=None if whole else theirs & expired
        )
        report.people_erased += int(whole)
        report.people_kept += int(not whole)
        report.entries += done.entries
        report.enrolments += done.enrolments
        report.messages += done.messages
    for cohort_id in sorted(expired):
        report.entries += await erasure.erase_unbound_entries(session, cohort_id, now)
        await quiz_db.erase_cohort_answers(session, cohort_id)
    if dry_run:
        await session.rollback()
    else:
        await session.commit()
    return report
