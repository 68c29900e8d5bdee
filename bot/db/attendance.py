"""Attendance: one mark per trainee and session, every change kept, and the cohorts' trainers.

A mark says present, late, absent or excused, and which source set it: the trainee's own
check-in (``self``, or ``code`` when they typed the session's code), the online classroom's
participant report (``classroom``), or a trainer (``trainer``). A more certain source
overrides a less certain one and never the other way round (:data:`SOURCE_RANK`); every
attempt that changed the mark is kept in ``attendance_changes``.

The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import BigInteger, Index, UniqueConstraint, delete, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Enrolment, RosterEntry, TrainingSession, User, utcnow
from bot.db.status import EnrolmentStatus
from bot.db.types import UTCDateTime


class Presence(StrEnum):
    """What a mark says."""

    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"


#: The marks that count as attended.
ATTENDED: Final = (Presence.PRESENT, Presence.LATE)


class MarkSource(StrEnum):
    """Who or what set a mark."""

    SELF = "self"  # "I'm here"
    CODE = "code"  # "I'm here" with the code read aloud in the session
    CLASSROOM = "classroom"  # the online classroom's participant report
    TRAINER = "trainer"  # a trainer or an organiser


#: How certain each source is: a mark is only replaced by a source at least as certain.
SOURCE_RANK: Final = {
    MarkSource.SELF: 1,
    MarkSource.CODE: 2,
    MarkSource.CLASSROOM: 3,
    MarkSource.TRAINER: 4,
}


class AttendanceMark(SQLModel, table=True):
    """The current mark of one person for one session."""

    __tablename__ = "attendance_marks"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_attendance_mark"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_sessions.id", index=True, ondelete="CASCADE")
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_type=BigInteger, index=True)
    #: A :class:`Presence`.
    status: str = Field(max_length=16)
    #: A :class:`MarkSource`.
    source: str = Field(max_length=16)
    #: Who set it (the trainee, a trainer); None for an imported report or the command line.
    set_by: int | None = Field(default=None, sa_type=BigInteger)
    #: Minutes present, when the classroom's report said.
    minutes: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttendanceChange(SQLModel, table=True):
    """One change of a mark: what it became, from which source, by whom, when."""

    __tablename__ = "attendance_changes"
    __table_args__ = (Index("ix_attendance_changes_session_user", "session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_sessions.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(max_length=16)
    source: str = Field(max_length=16)
    set_by: int | None = Field(default=None, sa_type=BigInteger)
    #: What it was before (None for the first mark).
    previous: str | None = Field(default=None, max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CohortTrainer(SQLModel, table=True):
    """A trainer of one cohort: may mark its attendance and read its session codes."""

    __tablename__ = "cohort_trainers"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id", name="uq_cohort_trainer"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_type=BigInteger, index=True)
    granted_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --------------------------------------------------------------------------------------------
# Marks


async def get_mark(session: AsyncSession, session_id: int, user_id: int) -> AttendanceMark | None:
    """The person's mark for the session, if any."""
    rows = await session.exec(
        select(AttendanceMark).where(
            AttendanceMark.session_id == session_id, AttendanceMark.user_id == user_id
        )
    )
    return rows.first()


async def marks_of_session(session: AsyncSession, session_id: int) -> dict[int, AttendanceMark]:
    """Every mark of a session by person."""
    rows = await session.exec(select(AttendanceMark).where(AttendanceMark.session_id == session_id))
    return {mark.user_id: mark for mark in rows.all()}


async def marks_of_sessions(
    session: AsyncSession, session_ids: Collection[int]
) -> list[AttendanceMark]:
    """Every mark of the given sessions."""
    if not session_ids:
        return []
    rows = await session.exec(
        select(AttendanceMark).where(col(AttendanceMark.session_id).in_(list(session_ids)))
    )
    return list(rows.all())


async def marks_of_user(session: AsyncSession, user_id: int) -> Sequence[AttendanceMark]:
    """A person's marks (``/progress``, ``/mydata``)."""
    rows = await session.exec(
        select(AttendanceMark)
        .where(AttendanceMark.user_id == user_id)
        .order_by(col(AttendanceMark.session_id))
    )
    return rows.all()


async def set_mark(
    session: AsyncSession,
    *,
    session_id: int,
    cohort_id: int,
    user_id: int,
    status: str,
    source: str,
    set_by: int | None,
    now: datetime,
    minutes: int | None = None,
) -> tuple[AttendanceMark, bool]:
    """Set a mark unless a more certain source already did; returns the mark and if it changed.

    The same status from the same source is no change; a less certain source than the
    current one is ignored (a trainee's late "I'm here" after the trainer marked them absent).
    """
    mark = await get_mark(session, session_id, user_id)
    if mark is not None:
        if SOURCE_RANK[MarkSource(source)] < SOURCE_RANK[MarkSource(mark.source)]:
            return mark, False
        if mark.status == status and mark.source == source and mark.minutes == minutes:
            return mark, False
        previous: str | None = mark.status
        mark.status, mark.source, mark.set_by, mark.minutes = status, source, set_by, minutes
        mark.updated_at = now
    else:
        previous = None
        mark = AttendanceMark(
            session_id=session_id,
            cohort_id=cohort_id,
            user_id=user_id,
            status=status,
            source=source,
            set_by=set_by,
            minutes=minutes,
            updated_at=now,
        )
    session.add(mark)
    session.add(
        AttendanceChange(
            session_id=session_id,
            user_id=user_id,
            status=status,
            source=source,
            set_by=set_by,
            previous=previous,
            at=now,
        )
    )
    await session.flush()
    return mark, True


async def changes_of_session(
    session: AsyncSession, session_id: int, user_id: int | None = None
) -> list[AttendanceChange]:
    """The history of a session's marks (of one person), oldest first."""
    query = select(AttendanceChange).where(AttendanceChange.session_id == session_id)
    if user_id is not None:
        query = query.where(AttendanceChange.user_id == user_id)
    rows = await session.exec(query.order_by(col(AttendanceChange.id)))
    return list(rows.all())


async def erase_user(
    session: AsyncSession, user_id: int, cohort_ids: Collection[int] | None = None
) -> None:
    """``/forgetme``: the marks go; the history keeps the counts without the person.

    With ``cohort_ids`` only the marks (and history) of those cohorts' sessions; the marks the
    person set for others as a trainer lose their name everywhere only when it is all of them.
    """
    marks = await marks_of_user(session, user_id)
    for mark in marks:
        if cohort_ids is None or mark.cohort_id in cohort_ids:
            await session.delete(mark)
    history = update(AttendanceChange).where(col(AttendanceChange.user_id) == user_id)
    if cohort_ids is not None:
        sessions = select(TrainingSession.id).where(
            col(TrainingSession.cohort_id).in_(list(cohort_ids))
        )
        history = history.where(col(AttendanceChange.session_id).in_(sessions))
    await session.exec(history.values(user_id=None, set_by=None))
    if cohort_ids is None:
        await session.exec(
            update(AttendanceChange)
            .where(col(AttendanceChange.set_by) == user_id)
            .values(set_by=None)
        )
        await session.exec(
            update(AttendanceMark).where(col(AttendanceMark.set_by) == user_id).values(set_by=None)
        )
        await session.exec(delete(CohortTrainer).where(col(CohortTrainer.user_id) == user_id))
        await session.exec(
            update(CohortTrainer)
            .where(col(CohortTrainer.granted_by) == user_id)
            .values(granted_by=None)
        )
    await session.flush()


# --------------------------------------------------------------------------------------------
# Trainers


async def trainer_cohort_ids(session: AsyncSession, user_id: int) -> set[int]:
    """The cohorts a person trains."""
    rows = await session.exec(
        select(CohortTrainer.cohort_id).where(CohortTrainer.user_id == user_id)
    )
    return set(rows.all())


async def trainers_of_cohort(session: AsyncSession, cohort_id: int) -> list[int]:
    """The trainers of a cohort, by user id."""
    rows = await session.exec(
        select(CohortTrainer.user_id)
        .where(CohortTrainer.cohort_id == cohort_id)
        .order_by(col(CohortTrainer.id))
    )
    return [int(user_id) for user_id in rows.all()]


async def find_trainer(session: AsyncSession, cohort_id: int, user_id: int) -> CohortTrainer | None:
    """The grant making ``user_id`` a trainer of the cohort, if any."""
    rows = await session.exec(
        select(CohortTrainer).where(
            CohortTrainer.cohort_id == cohort_id, CohortTrainer.user_id == user_id
        )
    )
    return rows.first()


async def is_any_trainer(session: AsyncSession, user_id: int) -> bool:
    """Whether the person trains any cohort."""
    rows = await session.exec(
        select(CohortTrainer.id).where(CohortTrainer.user_id == user_id).limit(1)
    )
    return rows.first() is not None


async def add_trainer(
    session: AsyncSession, cohort_id: int, user_id: int, granted_by: int | None, now: datetime
) -> CohortTrainer:
    """Make ``user_id`` a trainer of the cohort (the caller checked there was no grant)."""
    grant = CohortTrainer(
        cohort_id=cohort_id, user_id=user_id, granted_by=granted_by, created_at=now
    )
    session.add(grant)
    await session.flush()
    return grant


# --------------------------------------------------------------------------------------------
# The people marked


@dataclass(frozen=True, slots=True)
class Trainee:
    """An active trainee of a cohort as attendance needs them."""

    user_id: int
    cohort_id: int
    name: str
    email: str | None
    phone: str | None
    roster_entry_id: int | None


async def cohort_trainees(session: AsyncSession, cohort_id: int) -> list[Trainee]:
    """The cohort's active trainees, by name: the roster's name, else Telegram's."""
    rows = await session.exec(
        select(Enrolment, User, RosterEntry)
        .join(User, col(User.id) == col(Enrolment.user_id))
        .outerjoin(RosterEntry, col(RosterEntry.id) == col(Enrolment.roster_entry_id))
        .where(
            col(Enrolment.cohort_id) == cohort_id,
            col(Enrolment.status) == EnrolmentStatus.ACTIVE,
            col(Enrolment.role) == "trainee",
        )
    )
    out: list[Trainee] = []
    for enrolment, user, entry in rows.all():
        telegram_name = " ".join(part for part in (user.first_name, user.last_name) if part)
        out.append(
            Trainee(
                user_id=int(enrolment.user_id),
                cohort_id=cohort_id,
                name=(entry.full_name if entry is not None and entry.full_name else "")
                or telegram_name
                or str(enrolment.user_id),
                email=entry.email if entry is not None else None,
                phone=entry.phone if entry is not None else None,
                roster_entry_id=entry.id if entry is not None else None,
            )
        )
    out.sort(key=lambda trainee: (trainee.name.casefold(), trainee.user_id))
    return out


async def roster_entries(
    session: AsyncSession, *, exclude_cohort_id: int | None = None
) -> list[RosterEntry]:
    """Every roster entry (of every cohort but ``exclude_cohort_id``), to tell cohorts apart."""
    query = select(RosterEntry)
    if exclude_cohort_id is not None:
        query = query.where(col(RosterEntry.cohort_id) != exclude_cohort_id)
    rows = await session.exec(query.order_by(col(RosterEntry.id)))
    return list(rows.all())
