"""A trainer's sheet: the current or last session of a cohort, its trainees and their marks.

The session a trainer marks is the current one (its check-in opened and it ended less than
:data:`GRACE` ago), else the last one that started. Pressing a person cycles their mark
present -> late -> absent -> excused -> present (unmarked starts at present); "everyone
present" marks everyone whom no trainer marked yet (a trainee who checked in late stays
late), so the trainer then only touches the exceptions. Trainer marks have source
``trainer`` and beat every other source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import attendance as attendance_db
from bot.db import timetable as timetable_db
from bot.db.attendance import MarkSource as MarkSource  # re-exported for the handlers
from bot.db.attendance import Presence as Presence  # re-exported for the handlers
from bot.db.models import Cohort, Programme, TrainingSession
from bot.services.attendance.rules import OPENS_BEFORE
from bot.services.attendance.trainers import Access
from bot.services.timetable.views import pick_title

#: A session stays "current" this long after its end, so the trainer can finish marking.
GRACE: Final = timedelta(minutes=30)
#: What pressing a person makes of their mark.
CYCLE: Final[dict[str | None, Presence]] = {
    None: Presence.PRESENT,
    Presence.PRESENT: Presence.LATE,
    Presence.LATE: Presence.ABSENT,
    Presence.ABSENT: Presence.EXCUSED,
    Presence.EXCUSED: Presence.PRESENT,
}


def markable(row: TrainingSession) -> bool:
    """Sessions that take attendance: scheduled, with a time (not all day)."""
    return row.status == timetable_db.SCHEDULED and not row.all_day


async def held_sessions(
    session: AsyncSession, cohort_id: int, now: datetime
) -> list[TrainingSession]:
    """The cohort's sessions that have started (held or being held), in time order."""
    rows = await timetable_db.sessions_of_cohort(session, cohort_id)
    return [row for row in rows if markable(row) and row.starts_at <= now]


async def current_session(
    session: AsyncSession, cohort_id: int, now: datetime
) -> TrainingSession | None:
    """The session being held now (check-in open, not ended :data:`GRACE` ago), else the
    last one that started; None before the first."""
    rows = [r for r in await timetable_db.sessions_of_cohort(session, cohort_id) if markable(r)]
    running = [r for r in rows if r.starts_at - OPENS_BEFORE <= now < r.ends_at + GRACE]
    if running:
        return running[-1]
    started = [r for r in rows if r.starts_at <= now]
    return started[-1] if started else None


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One trainee on the sheet."""

    user_id: int
    name: str
    status: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A session's marks as the trainer sees them."""

    session_id: int
    cohort_id: int
    cohort_code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    home_zone: str
    rows: list[SheetRow] = field(default_factory=list)

    def count(self, status: str | None) -> int:
        """How many trainees have this status (None: unmarked)."""
        return sum(1 for row in self.rows if row.status == status)


class MarkOutcome(StrEnum):
    """Why a trainer's mark was not made."""

    DONE = "done"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"  # no such session (or not one that takes attendance)
    FORBIDDEN = "forbidden"  # not the person's cohort
    NOT_TRAINEE = "not_trainee"  # the person is not an active trainee of the cohort


async def session_and_cohort(
    session: AsyncSession, session_id: int
) -> tuple[TrainingSession, Cohort, Programme] | None:
    """A session that takes attendance, with its cohort and programme; None otherwise."""
    row = await timetable_db.get_session(session, session_id)
    if row is None or row.id is None or not markable(row):
        return None
    pair = await timetable_db.cohort_with_programme(session, row.cohort_id)
    if pair is None:
        return None
    return row, pair[0], pair[1]


async def sheet(
    session: AsyncSession, session_id: int, locale: str, access: Access | None = None
) -> Sheet | MarkOutcome:
    """The sheet of a session; UNKNOWN or FORBIDDEN (``access`` None: the command line)."""
    found = await session_and_cohort(session, session_id)
    if found is None:
        return MarkOutcome.UNKNOWN
    row, cohort, programme = found
    if access is not None and not access.covers(cohort):
        return MarkOutcome.FORBIDDEN
    trainees = await attendance_db.cohort_trainees(session, row.cohort_id)
    marks = await attendance_db.marks_of_session(session, session_id)
    return Sheet(
        session_id=session_id,
        cohort_id=row.cohort_id,
        cohort_code=cohort.code,
        title=pick_title(row.titles, locale, programme.default_locale),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        home_zone=programme.home_timezone,
        rows=[
            SheetRow(
                user_id=t.user_id,
                name=t.name,
                status=marks[t.user_id].status if t.user_id in marks else None,
                source=marks[t.user_id].source if t.user_id in marks else None,
            )
            for t in trainees
        ],
    )


async def mark(
    session: AsyncSession,
    *,
    session_id: int,
    user_id: int,
    status: Presence,
    actor_id: int | None,
    now: datetime,
    access: Access | None = None,
) -> MarkOutcome:
    """A trainer (or the command line, ``actor_id`` None) marks one trainee, and commits."""
    found = await session_and_cohort(session, session_id)
    if found is None:
        return MarkOutcome.UNKNOWN
    row, cohort, _programme = found
    if access is not None and not access.covers(cohort):
        return MarkOutcome.FORBIDDEN
    trainees = {t.user_id for t in await attendance_db.cohort_trainees(session, row.cohort_id)}
    if user_id not in trainees:
        return MarkOutcome.NOT_TRAINEE
    _mark, changed = await attendance_db.set_mark(
        session,
        session_id=session_id,
        cohort_id=row.cohort_id,
        user_id=user_id,
        status=status,
        source=MarkSource.TRAINER,
        set_by=actor_id,
        now=now,
    )
    await session.commit()
    return MarkOutcome.DONE if changed else MarkOutcome.UNCHANGED


async def toggle(
    session: AsyncSession,
    *,
    session_id: int,
    user_id: int,
    actor_id: int,
    now: datetime,
    access: Access,
) -> MarkOutcome:
    """The next mark in :data:`CYCLE` for one trainee, by a trainer; commits."""
    current = await attendance_db.get_mark(session, session_id, user_id)
    after = CYCLE.get(current.status if current is not None else None, Presence.PRESENT)
    return await mark(
        session,
        session_id=session_id,
        user_id=user_id,
        status=after,
        actor_id=actor_id,
        now=now,
        access=access,
    )


async def everyone_present(
    session: AsyncSession, *, session_id: int, actor_id: int, now: datetime, access: Access
) -> MarkOutcome | int:
    """Everyone no trainer marked yet is present (late when they checked in late); commits.

    Returns how many marks changed, or why nothing could be done.
    """
    found = await session_and_cohort(session, session_id)
    if found is None:
        return MarkOutcome.UNKNOWN
    row, cohort, _programme = found
    if not access.covers(cohort):
        return MarkOutcome.FORBIDDEN
    marks = await attendance_db.marks_of_session(session, session_id)
    changed = 0
    for trainee in await attendance_db.cohort_trainees(session, row.cohort_id):
        current = marks.get(trainee.user_id)
        if current is not None and current.source == MarkSource.TRAINER:
            continue
        late = current is not None and current.status == Presence.LATE
        _mark, did = await attendance_db.set_mark(
            session,
            session_id=session_id,
            cohort_id=row.cohort_id,
            user_id=trainee.user_id,
            status=Presence.LATE if late else Presence.PRESENT,
            source=MarkSource.TRAINER,
            set_by=actor_id,
            now=now,
        )
        changed += did
    await session.commit()
    return changed
