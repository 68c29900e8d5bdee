"""Query functions for timetables, cohorts' audiences and queued reminders.

They flush, never commit: the calling service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import outbox as outbox_db
from bot.db.models import Cohort, Enrolment, OutboxMessage, Programme, TrainingSession, User
from bot.db.status import EnrolmentStatus, SessionStatus

SCHEDULED = SessionStatus.SCHEDULED
CANCELLED = SessionStatus.CANCELLED
ACTIVE = EnrolmentStatus.ACTIVE
#: The outbox ``kind`` of reminders (the planner and /reminders use it to find them).
REMINDER_KIND = "reminder"
#: The outbox ``kind`` of the morning digest (``bot.services.reminders.DIGEST_KIND``).
DIGEST_KIND = "digest"


@dataclass(frozen=True, slots=True)
class Member:
    """A person of a cohort as reminders and notices need them (no ORM object leaks out)."""

    user_id: int
    cohort_id: int
    locale: str | None
    language_code: str | None
    timezone: str | None
    reminder_offsets: list[int] | None
    daily_digest: bool


async def cohort_by_code(session: AsyncSession, code: str) -> Cohort | None:
    """The cohort with this code (codes are compared as given, then case-insensitively)."""
    cohort = (await session.exec(select(Cohort).where(col(Cohort.code) == code))).first()
    if cohort is not None:
        return cohort
    folded = code.strip().casefold()
    for candidate in (await session.exec(select(Cohort))).all():
        if candidate.code.casefold() == folded:
            return candidate
    return None


async def cohort_with_programme(
    session: AsyncSession, cohort_id: int
) -> tuple[Cohort, Programme] | None:
    """The cohort and its programme, or ``None`` when the cohort does not exist."""
    row = (
        await session.exec(
            select(Cohort, Programme)
            .join(Programme, col(Programme.id) == col(Cohort.programme_id))
            .where(col(Cohort.id) == cohort_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def list_cohorts(session: AsyncSession, limit: int = 50) -> list[tuple[Cohort, Programme]]:
    """Cohorts with their programmes, the most recently created first."""
    rows = await session.exec(
        select(Cohort, Programme)
        .join(Programme, col(Programme.id) == col(Cohort.programme_id))
        .order_by(col(Cohort.created_at).desc(), col(Cohort.id).desc())
        .limit(limit)
    )
    return [(cohort, programme) for cohort, programme in rows.all()]


async def cohorts_of_user(session: AsyncSession, user_id: int) -> list[tuple[Cohort, Programme]]:
    """The cohorts a person is actively enrolled in, with their programmes."""
    rows = await session.exec(
        select(Cohort, Programme)
        .join(Enrolment, col(Enrolment.cohort_id) == col(Cohort.id))
        .join(Programme, col(Programme.id) == col(Cohort.programme_id))
        .where(col(Enrolment.user_id) == user_id, col(Enrolment.status) == ACTIVE)
        .order_by(col(Cohort.id))
    )
    return [(cohort, programme) for cohort, programme in rows.all()]


async def sessions_of_cohort(session: AsyncSession, cohort_id: int) -> list[TrainingSession]:
    """Every session of a cohort (cancelled ones too), in time order."""
    rows = await session.exec(
        select(TrainingSession)
        .where(col(TrainingSession.cohort_id) == cohort_id)
        .order_by(col(TrainingSession.starts_at), col(TrainingSession.id))
    )
    return list(rows.all())


async def sessions_between(
    session: AsyncSession,
    cohort_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    include_cancelled: bool = True,
) -> list[TrainingSession]:
    """Sessions of these cohorts that overlap ``[start, end)``, in time order."""
    if not cohort_ids:
        return []
    statement = select(TrainingSession).where(
        col(TrainingSession.cohort_id).in_(list(cohort_ids)),
        col(TrainingSession.starts_at) < end,
        col(TrainingSession.ends_at) > start,
    )
    if not include_cancelled:
        statement = statement.where(col(TrainingSession.status) == SCHEDULED)
    rows = await session.exec(
        statement.order_by(col(TrainingSession.starts_at), col(TrainingSession.id))
    )
    return list(rows.all())


async def next_sessions(
    session: AsyncSession, cohort_ids: Sequence[int], now: datetime, limit: int = 1
) -> list[TrainingSession]:
    """Scheduled sessions not yet over (one running now comes first), in time order."""
    if not cohort_ids:
        return []
    rows = await session.exec(
        select(TrainingSession)
        .where(
            col(TrainingSession.cohort_id).in_(list(cohort_ids)),
            col(TrainingSession.status) == SCHEDULED,
            col(TrainingSession.ends_at) > now,
        )
        .order_by(col(TrainingSession.starts_at), col(TrainingSession.id))
        .limit(limit)
    )
    return list(rows.all())


async def scheduled_starting_between(
    session: AsyncSession, start: datetime, end: datetime
) -> list[TrainingSession]:
    """Scheduled sessions of every cohort starting in ``(start, end]``, in time order."""
    rows = await session.exec(
        select(TrainingSession)
        .where(
            col(TrainingSession.status) == SCHEDULED,
            col(TrainingSession.starts_at) > start,
            col(TrainingSession.starts_at) <= end,
        )
        .order_by(col(TrainingSession.starts_at), col(TrainingSession.id))
    )
    return list(rows.all())


async def programmes_of_cohorts(
    session: AsyncSession, cohort_ids: Iterable[int]
) -> dict[int, tuple[Cohort, Programme]]:
    """Cohort id -> (cohort, programme) for the given cohorts."""
    ids = sorted(set(cohort_ids))
    if not ids:
        return {}
    rows = await session.exec(
        select(Cohort, Programme)
        .join(Programme, col(Programme.id) == col(Cohort.programme_id))
        .where(col(Cohort.id).in_(ids))
    )
    return {cohort.id: (cohort, programme) for cohort, programme in rows.all() if cohort.id}


async def members_of_cohorts(
    session: AsyncSession,
    cohort_ids: Iterable[int],
    *,
    user_ids: Sequence[int] | None = None,
    digest_only: bool = False,
) -> list[Member]:
    """Reachable people actively enrolled in these cohorts (optionally only ``user_ids``)."""
    ids = sorted(set(cohort_ids))
    if not ids:
        return []
    # Seven columns: more than sqlmodel's typed select() takes, so SQLAlchemy's own.
    statement = (
        sa_select(
            col(Enrolment.cohort_id),
            col(User.id),
            col(User.locale),
            col(User.language_code),
            col(User.timezone),
            col(User.reminder_offsets),
            col(User.daily_digest),
        )
        .join(User, col(User.id) == col(Enrolment.user_id))
        .where(
            col(Enrolment.cohort_id).in_(ids),
            col(Enrolment.status) == ACTIVE,
            col(User.is_reachable).is_(True),
        )
    )
    if user_ids is not None:
        statement = statement.where(col(User.id).in_(list(user_ids)))
    if digest_only:
        statement = statement.where(col(User.daily_digest).is_(True))
    rows = await session.execute(statement.order_by(col(Enrolment.cohort_id), col(User.id)))
    return [
        Member(
            user_id=int(user_id),
            cohort_id=int(cohort_id),
            locale=locale,
            language_code=language_code,
            timezone=timezone,
            reminder_offsets=list(offsets) if offsets is not None else None,
            daily_digest=bool(digest),
        )
        for cohort_id, user_id, locale, language_code, timezone, offsets, digest in rows.all()
    ]


async def digest_cohort_ids(session: AsyncSession) -> list[int]:
    """Cohorts with at least one active member who asked for the daily digest."""
    rows = await session.exec(
        select(Enrolment.cohort_id)
        .join(User, col(User.id) == col(Enrolment.user_id))
        .where(
            col(Enrolment.status) == ACTIVE,
            col(User.daily_digest).is_(True),
            col(User.is_reachable).is_(True),
        )
        .distinct()
    )
    return [int(cohort_id) for cohort_id in rows.all()]


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys are already in the outbox (in any status)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        rows = await session.exec(
            select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(chunk))
        )
        found.update(rows.all())
    return found


async def cancel_session_reminders(session: AsyncSession, session_id: int) -> int:
    """Cancel the queued reminders of one session (every version); returns how many."""
    return await outbox_db.cancel_pending(session, key_prefix=f"reminder:{session_id}:")


async def drop_pending_reminders(session: AsyncSession, user_id: int) -> int:
    """Delete a person's reminders that are still waiting, so they can be planned afresh.

    They were never sent, so nothing is lost; deleting (rather than cancelling) frees their
    dedupe keys for the re-planned reminders with the person's new choice.
    """
    result = await session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.user_id) == user_id,
            col(OutboxMessage.kind) == REMINDER_KIND,
            col(OutboxMessage.status) == outbox_db.PENDING,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def drop_cohort_pending_reminders(session: AsyncSession, cohort_id: int) -> int:
    """Delete the waiting reminders of a cohort's sessions (its offsets changed), so the
    planner queues them afresh; nothing was sent, so nothing is lost."""
    return await _drop_cohort_reminders(session, cohort_id, None)


async def drop_user_cohort_reminders(session: AsyncSession, user_id: int, cohort_id: int) -> int:
    """Delete a person's waiting reminders of one cohort's sessions (they left the cohort).

    Reminders of the person's other cohorts stay. Nothing was sent, so nothing is lost; the
    planner queues reminders only for active members, so none come back.
    """
    return await _drop_cohort_reminders(session, cohort_id, user_id)


async def _drop_cohort_reminders(session: AsyncSession, cohort_id: int, user_id: int | None) -> int:
    """Delete pending reminders of a cohort's sessions: everyone's, or one person's."""
    ids = list(
        (
            await session.exec(
                select(TrainingSession.id).where(col(TrainingSession.cohort_id) == cohort_id)
            )
        ).all()
    )
    person = "" if user_id is None else f"{user_id}:"
    dropped = 0
    for start in range(0, len(ids), 100):
        prefixes = [
            col(OutboxMessage.dedupe_key).startswith(f"reminder:{sid}:{person}")
            for sid in ids[start : start + 100]
        ]
        statement = delete(OutboxMessage).where(
            col(OutboxMessage.kind) == REMINDER_KIND,
            col(OutboxMessage.status) == outbox_db.PENDING,
            or_(*prefixes),
        )
        if user_id is not None:
            statement = statement.where(col(OutboxMessage.user_id) == user_id)
        result = await session.execute(statement)
        dropped += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return dropped


async def drop_pending_digests(session: AsyncSession, user_id: int) -> int:
    """Delete a person's morning digests that are still waiting; returns how many.

    Deleting frees their dedupe keys, so the digest planner writes the day's digest afresh
    from the cohorts the person is still active in (and writes none when there are none).
    """
    result = await session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.user_id) == user_id,
            col(OutboxMessage.kind) == DIGEST_KIND,
            col(OutboxMessage.status) == outbox_db.PENDING,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def get_session(session: AsyncSession, session_id: int) -> TrainingSession | None:
    """One training session by id."""
    return await session.get(TrainingSession, session_id)


async def add_session(session: AsyncSession, row: TrainingSession) -> TrainingSession:
    """Store a new session and give it its id."""
    session.add(row)
    await session.flush()
    return row


async def set_user_reminders(
    session: AsyncSession,
    user_id: int,
    *,
    offsets: list[int] | None,
    daily_digest: bool,
    now: datetime,
) -> User | None:
    """Store a person's reminder choice (``None`` = the cohort's, ``[]`` = none)."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    user.reminder_offsets = offsets
    user.daily_digest = daily_digest
    user.updated_at = now
    await session.flush()
    return user
