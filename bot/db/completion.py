"""Completion: exceptions a coordinator recorded, and batched figures for a cohort's table.

An exception says a trainee completed the programme whatever the rule says, with who set it,
when and why. The figures are read for a whole cohort at once (a handful of queries), never
one trainee at a time.

The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint, case, delete, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.attendance import ATTENDED, AttendanceMark
from bot.db.feedback import FeedbackRequest, RequestStatus
from bot.db.models import Cohort, Enrolment, RosterEntry, TrainingSession, User, utcnow
from bot.db.status import EnrolmentStatus
from bot.db.types import UTCDateTime


class CompletionException(SQLModel, table=True):
    """A trainee marked as completed by exception, with the coordinator's reason."""

    __tablename__ = "completion_exceptions"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id", name="uq_completion_exception"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohorts.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_type=BigInteger, index=True)
    reason: str = Field(max_length=1000)
    #: Who recorded it (a Telegram id); None from the command line.
    set_by: int | None = Field(default=None, sa_type=BigInteger)
    #: ``telegram`` or ``cli``.
    interface: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def exceptions_of_cohort(
    session: AsyncSession, cohort_id: int
) -> dict[int, CompletionException]:
    """The cohort's exceptions by user id."""
    rows = await session.exec(
        select(CompletionException).where(col(CompletionException.cohort_id) == cohort_id)
    )
    return {int(row.user_id): row for row in rows.all()}


async def exceptions_of_user(session: AsyncSession, user_id: int) -> list[CompletionException]:
    """A person's exceptions, every cohort."""
    rows = await session.exec(
        select(CompletionException)
        .where(col(CompletionException.user_id) == user_id)
        .order_by(col(CompletionException.created_at))
    )
    return list(rows.all())


async def find_exception(
    session: AsyncSession, cohort_id: int, user_id: int
) -> CompletionException | None:
    """The trainee's exception in this cohort, if any."""
    rows = await session.exec(
        select(CompletionException).where(
            col(CompletionException.cohort_id) == cohort_id,
            col(CompletionException.user_id) == user_id,
        )
    )
    return rows.first()


async def set_exception(
    session: AsyncSession,
    *,
    cohort_id: int,
    user_id: int,
    reason: str,
    set_by: int | None,
    interface: str,
    now: datetime,
) -> CompletionException:
    """Record (or replace) the trainee's exception (flushed)."""
    row = await find_exception(session, cohort_id, user_id)
    if row is None:
        row = CompletionException(
            cohort_id=cohort_id, user_id=user_id, reason=reason, interface=interface
        )
    row.reason = reason
    row.set_by = set_by
    row.interface = interface
    row.created_at = now
    session.add(row)
    await session.flush()
    return row


async def remove_exception(session: AsyncSession, cohort_id: int, user_id: int) -> bool:
    """Drop the trainee's exception; whether there was one."""
    row = await find_exception(session, cohort_id, user_id)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def erase_user(
    session: AsyncSession, user_id: int, cohort_ids: Collection[int] | None = None
) -> int:
    """Remove the person's exceptions (in ``cohort_ids`` only, when given); with every
    cohort, those they recorded for others keep no trace of them."""
    query = delete(CompletionException).where(col(CompletionException.user_id) == user_id)
    if cohort_ids is not None:
        query = query.where(col(CompletionException.cohort_id).in_(list(cohort_ids)))
    result = await session.exec(query)
    if cohort_ids is not None:
        await session.flush()
        return int(getattr(result, "rowcount", 0) or 0)
    await session.exec(
        update(CompletionException)
        .where(col(CompletionException.set_by) == user_id)
        .values(set_by=None)
    )
    await session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


async def form_counts(
    session: AsyncSession, cohort_id: int, user_ids: Collection[int], now: datetime
) -> dict[int, tuple[int, int, int]]:
    """Per user: (forms that reached them, answered, still open) in the cohort, by ``now``.

    A form reached a person once it opened (cancelled requests do not count); it is still
    open while planned or open and before its closing time.
    """
    if not user_ids:
        return {}
    answered = func.sum(case((col(FeedbackRequest.status) == RequestStatus.ANSWERED, 1), else_=0))
    still_open = func.sum(
        case(
            (
                col(FeedbackRequest.status).in_([RequestStatus.PLANNED, RequestStatus.OPEN])
                & (col(FeedbackRequest.closes_at) > now),
                1,
            ),
            else_=0,
        )
    )
    rows = await session.exec(
        select(FeedbackRequest.user_id, func.count(), answered, still_open)
        .where(
            col(FeedbackRequest.cohort_id) == cohort_id,
            col(FeedbackRequest.status) != RequestStatus.CANCELLED,
            col(FeedbackRequest.opens_at) <= now,
            col(FeedbackRequest.user_id).is_not(None),
        )
        .group_by(col(FeedbackRequest.user_id))
    )
    wanted = set(user_ids)
    out: dict[int, tuple[int, int, int]] = {}
    for user_id, sent, done, open_ in rows.all():
        if user_id is not None and int(user_id) in wanted:
            out[int(user_id)] = (int(sent or 0), int(done or 0), int(open_ or 0))
    return out


async def sessions_of_programme(session: AsyncSession, programme_id: int) -> list[TrainingSession]:
    """Every session of the programme's cohorts."""
    rows = await session.exec(
        select(TrainingSession)
        .join(Cohort, col(Cohort.id) == col(TrainingSession.cohort_id))
        .where(col(Cohort.programme_id) == programme_id)
    )
    return list(rows.all())


@dataclass(frozen=True, slots=True)
class Member:
    """An active trainee as the completion table needs them."""

    user_id: int
    enrolment_id: int
    name: str
    email: str | None


async def active_trainees(session: AsyncSession, cohort_id: int) -> list[Member]:
    """The cohort's active trainees (not trainers), by name: the roster's, else Telegram's."""
    rows = await session.exec(
        select(  # type: ignore[call-overload]
            Enrolment.id,
            Enrolment.user_id,
            User.first_name,
            User.last_name,
            RosterEntry.full_name,
            RosterEntry.email,
        )
        .join(User, col(User.id) == col(Enrolment.user_id))
        .outerjoin(RosterEntry, col(RosterEntry.id) == col(Enrolment.roster_entry_id))
        .where(
            col(Enrolment.cohort_id) == cohort_id,
            col(Enrolment.status) == EnrolmentStatus.ACTIVE,
            col(Enrolment.role) == "trainee",
        )
    )
    out = []
    for enrolment_id, user_id, first, last, full_name, email in rows.all():
        telegram_name = " ".join(part for part in (first, last) if part)
        out.append(
            Member(
                user_id=int(user_id),
                enrolment_id=int(enrolment_id),
                name=full_name or telegram_name or str(user_id),
                email=email,
            )
        )
    out.sort(key=lambda member: (member.name.casefold(), member.user_id))
    return out


async def attended_pairs(
    session: AsyncSession, session_ids: Collection[int]
) -> set[tuple[int, int]]:
    """(user id, session id) for every mark that counts as attended in these sessions."""
    if not session_ids:
        return set()
    rows = await session.exec(
        select(AttendanceMark.user_id, AttendanceMark.session_id).where(
            col(AttendanceMark.session_id).in_(list(session_ids)),
            col(AttendanceMark.status).in_(list(ATTENDED)),
        )
    )
    return {(int(user_id), int(session_id)) for user_id, session_id in rows.all()}
