"""Query functions for programmes, cohorts, rosters, enrolments and roles.

They flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, Enrolment, Programme, RoleGrant, RosterEntry
from bot.db.status import EnrolmentStatus

ACTIVE = EnrolmentStatus.ACTIVE
PENDING = EnrolmentStatus.PENDING
WAITING = EnrolmentStatus.WAITING
WITHDRAWN = EnrolmentStatus.WITHDRAWN
REJECTED = EnrolmentStatus.REJECTED
#: Statuses that hold (or may soon hold) a place in the cohort.
HOLDING_PLACE = (ACTIVE, PENDING)


# --- programmes and cohorts ----------------------------------------------------------------


async def get_programme(session: AsyncSession, programme_id: int) -> Programme | None:
    """The programme with this id."""
    return await session.get(Programme, programme_id)


async def get_programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    """The programme with this code."""
    result = await session.exec(select(Programme).where(Programme.code == code))
    return result.first()


async def list_programmes(
    session: AsyncSession, programme_ids: Collection[int] | None = None
) -> list[Programme]:
    """Programmes by code; only ``programme_ids`` when given (None = all)."""
    statement = select(Programme).order_by(col(Programme.code))
    if programme_ids is not None:
        statement = statement.where(col(Programme.id).in_(list(programme_ids)))
    return list((await session.exec(statement)).all())


async def get_cohort(session: AsyncSession, cohort_id: int) -> Cohort | None:
    """The cohort with this id."""
    return await session.get(Cohort, cohort_id)


async def get_cohort_by_code(session: AsyncSession, code: str) -> Cohort | None:
    """The cohort with this code."""
    result = await session.exec(select(Cohort).where(Cohort.code == code))
    return result.first()


async def get_cohort_by_group(session: AsyncSession, chat_id: int) -> Cohort | None:
    """The cohort whose group chat is ``chat_id``."""
    result = await session.exec(select(Cohort).where(Cohort.group_chat_id == chat_id))
    return result.first()


async def list_cohorts(
    session: AsyncSession, programme_ids: Collection[int] | None = None
) -> list[Cohort]:
    """Cohorts by programme and code; only those of ``programme_ids`` when given."""
    statement = select(Cohort).order_by(col(Cohort.programme_id), col(Cohort.code))
    if programme_ids is not None:
        statement = statement.where(col(Cohort.programme_id).in_(list(programme_ids)))
    return list((await session.exec(statement)).all())


async def cohort_counts(
    session: AsyncSession, cohort_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """Per cohort: enrolments per status, and ``invited`` (roster entries nobody bound)."""
    counts: dict[int, dict[str, int]] = {cohort_id: {} for cohort_id in cohort_ids}
    if not counts:
        return counts
    ids = list(counts)
    rows = await session.exec(
        select(Enrolment.cohort_id, Enrolment.status, func.count())
        .where(col(Enrolment.cohort_id).in_(ids))
        .group_by(col(Enrolment.cohort_id), col(Enrolment.status))
    )
    for cohort_id, status, number in rows.all():
        counts[cohort_id][status] = int(number)
    invited = await session.exec(
        select(RosterEntry.cohort_id, func.count())
        .where(
            col(RosterEntry.cohort_id).in_(ids),
            col(RosterEntry.user_id).is_(None),
            col(RosterEntry.source) == "roster",
            col(RosterEntry.email).is_not(None),
        )
        .group_by(col(RosterEntry.cohort_id))
    )
    for cohort_id, number in invited.all():
        counts[cohort_id]["invited"] = int(number)
    entries = await session.exec(
        select(RosterEntry.cohort_id, func.count())
        .where(col(RosterEntry.cohort_id).in_(ids))
        .group_by(col(RosterEntry.cohort_id))
    )
    for cohort_id, number in entries.all():
        counts[cohort_id]["roster"] = int(number)
    return counts


# --- roster entries ------------------------------------------------------------------------


async def roster_of_cohort(session: AsyncSession, cohort_id: int) -> list[RosterEntry]:
    """Every roster entry of a cohort, in the order they were added."""
    result = await session.exec(
        select(RosterEntry).where(RosterEntry.cohort_id == cohort_id).order_by(col(RosterEntry.id))
    )
    return list(result.all())


async def get_entry(session: AsyncSession, entry_id: int) -> RosterEntry | None:
    """The roster entry with this id."""
    return await session.get(RosterEntry, entry_id)


async def get_entry_by_code(session: AsyncSession, code: str) -> RosterEntry | None:
    """The roster entry of a personal invite code."""
    result = await session.exec(select(RosterEntry).where(RosterEntry.personal_code == code))
    return result.first()


async def entries_of_user(session: AsyncSession, user_id: int) -> list[RosterEntry]:
    """The roster entries bound to a person, newest first."""
    result = await session.exec(
        select(RosterEntry)
        .where(RosterEntry.user_id == user_id)
        .order_by(col(RosterEntry.id).desc())
    )
    return list(result.all())


async def codes_in_use(session: AsyncSession, codes: Collection[str]) -> set[str]:
    """Which of ``codes`` already belong to a roster entry."""
    if not codes:
        return set()
    result = await session.exec(
        select(RosterEntry.personal_code).where(col(RosterEntry.personal_code).in_(list(codes)))
    )
    return set(result.all())


# --- enrolments ----------------------------------------------------------------------------


async def get_enrolment(session: AsyncSession, enrolment_id: int) -> Enrolment | None:
    """The enrolment with this id."""
    return await session.get(Enrolment, enrolment_id)


async def find_enrolment(session: AsyncSession, user_id: int, cohort_id: int) -> Enrolment | None:
    """A person's enrolment in a cohort, whatever its status."""
    result = await session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.cohort_id == cohort_id)
    )
    return result.first()


async def enrolments_of_user(
    session: AsyncSession, user_id: int, statuses: Sequence[str] | None = None
) -> list[Enrolment]:
    """A person's enrolments, newest first (only the given statuses when set)."""
    statement = (
        select(Enrolment).where(Enrolment.user_id == user_id).order_by(col(Enrolment.id).desc())
    )
    if statuses is not None:
        statement = statement.where(col(Enrolment.status).in_(list(statuses)))
    return list((await session.exec(statement)).all())


async def enrolments_of_cohort(session: AsyncSession, cohort_id: int) -> list[Enrolment]:
    """Every enrolment of a cohort."""
    result = await session.exec(
        select(Enrolment).where(Enrolment.cohort_id == cohort_id).order_by(col(Enrolment.id))
    )
    return list(result.all())


async def count_holding_place(session: AsyncSession, cohort_id: int) -> int:
    """How many enrolments hold a place (active or awaiting approval)."""
    result = await session.exec(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.cohort_id == cohort_id, col(Enrolment.status).in_(HOLDING_PLACE))
    )
    return int(result.one())


async def first_waiting(session: AsyncSession, cohort_id: int) -> Enrolment | None:
    """The person who has waited longest for a place in the cohort."""
    result = await session.exec(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort_id, Enrolment.status == WAITING)
        .order_by(col(Enrolment.created_at), col(Enrolment.id))
        .limit(1)
    )
    return result.first()


async def pending_enrolments(session: AsyncSession, cohort_ids: Collection[int]) -> list[Enrolment]:
    """Requests awaiting approval in these cohorts, oldest first."""
    if not cohort_ids:
        return []
    result = await session.exec(
        select(Enrolment)
        .where(col(Enrolment.cohort_id).in_(list(cohort_ids)), Enrolment.status == PENDING)
        .order_by(col(Enrolment.created_at), col(Enrolment.id))
    )
    return list(result.all())


# --- roles ---------------------------------------------------------------------------------

#: ``Session.info`` key: ids of people known to hold no role (the sender, checked at the start
#: of the update), so the admin routers' filters need not ask again for every message.
_WITHOUT_ROLES = "people_without_roles"


def note_without_roles(session: AsyncSession, user_id: int) -> None:
    """Remember for the rest of this session that ``user_id`` holds no role."""
    session.info.setdefault(_WITHOUT_ROLES, set()).add(user_id)


def _known_without_roles(session: AsyncSession, user_id: int) -> bool:
    return user_id in session.info.get(_WITHOUT_ROLES, ())


def forget_on_new_grant(session: Session, _context: Any) -> None:
    """After a flush: a role written in this session makes the remembered answer wrong."""
    known: set[int] | None = session.info.get(_WITHOUT_ROLES)
    if known:
        for obj in session.new:
            if isinstance(obj, RoleGrant):
                known.discard(obj.user_id)


async def grants_of_user(session: AsyncSession, user_id: int) -> list[RoleGrant]:
    """Every role a person holds."""
    if _known_without_roles(session, user_id):
        return []
    result = await session.exec(select(RoleGrant).where(RoleGrant.user_id == user_id))
    return list(result.all())


async def find_grant(
    session: AsyncSession, user_id: int, programme_id: int, role: str
) -> RoleGrant | None:
    """One role of a person in a programme."""
    result = await session.exec(
        select(RoleGrant).where(
            RoleGrant.user_id == user_id,
            RoleGrant.programme_id == programme_id,
            RoleGrant.role == role,
        )
    )
    return result.first()


async def staff_of_programme(
    session: AsyncSession, programme_id: int, roles: Sequence[str]
) -> list[int]:
    """Ids of the people holding one of ``roles`` in a programme."""
    result = await session.exec(
        select(RoleGrant.user_id)
        .where(RoleGrant.programme_id == programme_id, col(RoleGrant.role).in_(list(roles)))
        .order_by(col(RoleGrant.user_id))
    )
    return sorted(set(result.all()))


async def has_any_grant(session: AsyncSession, user_id: int) -> bool:
    """Whether a person holds any role at all."""
    if _known_without_roles(session, user_id):
        return False
    result = await session.exec(select(RoleGrant.id).where(RoleGrant.user_id == user_id).limit(1))
    return result.first() is not None
