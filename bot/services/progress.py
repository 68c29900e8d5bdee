"""A trainee's own figures for ``/progress``: attendance against the programme's rule, forms,
and where they stand against each part of the completion rule.

Per cohort the person is active in: sessions attended of those held (and the share the
programme asks for), feedback forms answered of those that reached them, with how many are
still open, and their standing (each part met, not yet, or at risk; the verdict once the
cohort has ended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import timetable as timetable_db
from bot.db.feedback import RequestStatus
from bot.services.attendance.report import trainee_attendance
from bot.services.completion.standings import Standing, cohort_completion


@dataclass(frozen=True, slots=True)
class CohortProgress:
    """Where a trainee stands in one cohort."""

    cohort_code: str
    attended: int
    held: int
    share: float | None
    min_share: float
    below_threshold: bool
    forms_answered: int
    forms_sent: int
    forms_open: int
    #: Their standing against the completion rule; None if they are no trainee here.
    standing: Standing | None = None
    ended: bool = False


async def progress_of(session: AsyncSession, user_id: int, now: datetime) -> list[CohortProgress]:
    """The person's figures in each cohort they are active in."""
    requests = [
        request
        for request in await feedback_db.requests_of_user(session, user_id)
        if request.status != RequestStatus.CANCELLED and request.opens_at <= now
    ]
    out = []
    for figures in await trainee_attendance(session, user_id, now):
        mine = [r for r in requests if r.cohort_id == figures.cohort_id]
        pair = await timetable_db.cohort_with_programme(session, figures.cohort_id)
        standing, ended = None, False
        if pair is not None:
            table = await cohort_completion(session, pair[0], pair[1], now, only_user=user_id)
            standing = table.standings[0] if table.standings else None
            ended = table.ended
        out.append(
            CohortProgress(
                cohort_code=figures.cohort_code,
                attended=figures.attended,
                held=figures.held,
                share=figures.share,
                min_share=figures.min_share,
                below_threshold=figures.below_threshold,
                forms_answered=sum(1 for r in mine if r.status == RequestStatus.ANSWERED),
                forms_sent=len(mine),
                forms_open=sum(
                    1
                    for r in mine
                    if r.status in (RequestStatus.PLANNED, RequestStatus.OPEN) and now < r.closes_at
                ),
                standing=standing,
                ended=ended,
            )
        )
    return out
