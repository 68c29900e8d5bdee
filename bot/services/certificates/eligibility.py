"""Who of a cohort may have a certificate."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import timetable as timetable_db
from bot.services.attendance.report import cohort_report


async def completed_users(
    session: AsyncSession, cohort_id: int, now: datetime
) -> dict[int, str | None]:
    """The cohort's trainees who completed, by user id, each with the exception that let them
    complete (None when they met the rule).

    For now the rule is attendance only: a trainee completed when their share of the held
    sessions attended meets the programme's ``min_share`` (and at least one session was
    held); nobody carries an exception. The full completion rule
    (``bot.services.completion.standings.cohort_standings``) replaces this function's body.
    """
    pair = await timetable_db.cohort_with_programme(session, cohort_id)
    if pair is None:
        return {}
    cohort, programme = pair
    report = await cohort_report(session, cohort, programme, now, programme.default_locale)
    return {
        row.user_id: None
        for row in report.trainees
        if row.share is not None and row.share >= report.min_share
    }
