"""Query functions that take a person out of the tables no feature module erases itself.

The cohorts' ends and their people, for the retention purge. The organisers' side of a
person (their roles, the campaigns they started, the staff groups they linked, the questions
they took) and the audit log. Each feature's own rows are erased by its module
(``attendance.erase_user``, ``feedback.erase_user``, ``faq.erase_questions_of_user``,
``outbox.erase_rows``); :mod:`bot.services.erasure` calls them all. The functions flush at
most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.attendance import CohortTrainer
from bot.db.audit import AuditEntry
from bot.db.faq import StaffChat, StaffQuestion
from bot.db.models import (
    Campaign,
    Cohort,
    Enrolment,
    Programme,
    RoleGrant,
    RosterEntry,
    TrainingSession,
)

#: Keys of an audit row's details that hold a person's name or contact, whoever it is.
PERSONAL_KEYS = frozenset(
    {"name", "full_name", "first_name", "last_name", "username", "email", "phone"}
)
#: What a personal value in the audit log's details becomes.
REDACTED = "—"


async def forget_organiser(session: AsyncSession, user_id: int) -> int:
    """Drop the person's roles; their name goes from what they did as an organiser (the roles
    they granted, campaigns they started, staff groups they linked, questions they took).
    Returns how many roles went."""
    result = await session.exec(delete(RoleGrant).where(col(RoleGrant.user_id) == user_id))
    await session.exec(
        update(RoleGrant).where(col(RoleGrant.granted_by) == user_id).values(granted_by=None)
    )
    await session.exec(
        update(Campaign).where(col(Campaign.created_by) == user_id).values(created_by=None)
    )
    await session.exec(
        update(Campaign)
        .where(col(Campaign.progress_chat_id) == user_id)
        .values(progress_chat_id=None, progress_message_id=None)
    )
    await session.exec(
        update(StaffChat).where(col(StaffChat.linked_by) == user_id).values(linked_by=None)
    )
    await session.exec(
        update(StaffQuestion)
        .where(col(StaffQuestion.claimed_by) == user_id)
        .values(claimed_by=None)
    )
    await session.flush()
    return int(result.rowcount or 0)


def scrub(value: Any, needles: Collection[str]) -> Any:
    """``value`` (JSON) without personal keys, and with every text containing one of
    ``needles`` (names, addresses, numbers; compared case-blind) replaced by :data:`REDACTED`."""
    if isinstance(value, dict):
        return {
            key: REDACTED if key in PERSONAL_KEYS else scrub(item, needles)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, needles) for item in value]
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).casefold()
        if any(needle and needle in text for needle in needles):
            return REDACTED
    return value


def scrub_mentions(value: Any, needles: Collection[str]) -> Any:
    """``value`` (JSON) with every text that is one of ``needles`` (a name, an address, as
    stored; case-blind) replaced by :data:`REDACTED`; someone else's details are kept."""
    if isinstance(value, dict):
        return {key: scrub_mentions(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_mentions(item, needles) for item in value]
    if isinstance(value, str) and value.strip().casefold() in needles:
        return REDACTED
    return value


async def _cohorts_of(session: AsyncSession, roster_entry_ids: Collection[int]) -> set[int]:
    if not roster_entry_ids:
        return set()
    rows = await session.exec(
        select(RosterEntry.cohort_id).where(col(RosterEntry.id).in_(sorted(roster_entry_ids)))
    )
    return {int(cohort_id) for cohort_id in rows.all() if cohort_id is not None}


async def forget_in_audit(
    session: AsyncSession,
    *,
    user_id: int | None,
    roster_entry_ids: Collection[int],
    needles: Collection[str],
    cohort_ids: Collection[int] | None = None,
) -> int:
    """Keep the audit rows about the person (what was done, when, in which cohort) but empty
    whom (``user_id``, ``roster_entry_id``) and any name or contact in the details; rows they
    made as an organiser lose ``actor_id``. With ``cohort_ids`` only rows of those cohorts.
    Returns how many rows were about them."""
    about = []
    if user_id is not None:
        about.append(col(AuditEntry.user_id) == user_id)
    if roster_entry_ids:
        about.append(col(AuditEntry.roster_entry_id).in_(list(roster_entry_ids)))
    if not about:
        return 0
    query = select(AuditEntry).where(or_(*about))
    if cohort_ids is not None:
        query = query.where(col(AuditEntry.cohort_id).in_(list(cohort_ids)))
    folded = [needle.casefold() for needle in needles if needle]
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.user_id = None
        row.roster_entry_id = None
        row.details = scrub(row.details, folded)
        session.add(row)
    # Rows about someone else may name the person too ("replaced by ..."): their mentions go,
    # the other person's details stay.
    seen = {row.id for row in rows}
    places = (
        set(cohort_ids) if cohort_ids is not None else await _cohorts_of(session, roster_entry_ids)
    )
    places |= {row.cohort_id for row in rows if row.cohort_id is not None}
    if places and folded:
        others = await session.exec(
            select(AuditEntry).where(col(AuditEntry.cohort_id).in_(sorted(places)))
        )
        for row in others.all():
            if row.id in seen:
                continue
            cleaned = scrub_mentions(row.details, set(folded))
            if cleaned != row.details:
                row.details = cleaned
                session.add(row)
    if user_id is not None and cohort_ids is None:
        await session.exec(
            update(AuditEntry).where(col(AuditEntry.actor_id) == user_id).values(actor_id=None)
        )
    await session.flush()
    return len(rows)


async def cohort_ends(session: AsyncSession) -> list[tuple[Cohort, date | None]]:
    """Every cohort with the day it ended: its end date, else its last session's day, else
    its programme's end date; None when nothing says."""
    last = (
        select(TrainingSession.cohort_id, func.max(TrainingSession.ends_at).label("last"))
        .group_by(col(TrainingSession.cohort_id))
        .subquery()
    )
    rows = await session.exec(
        select(Cohort, col(Programme.ends_on), last.c.last)
        .join(Programme, col(Programme.id) == col(Cohort.programme_id))
        .outerjoin(last, last.c.cohort_id == col(Cohort.id))
        .order_by(col(Cohort.id))
    )
    out: list[tuple[Cohort, date | None]] = []
    for cohort, programme_end, last_session in rows.all():
        if isinstance(last_session, str):  # SQLite's aggregates lose the column type
            last_session = date.fromisoformat(last_session[:10])
        elif last_session is not None:
            last_session = last_session.date()
        out.append((cohort, cohort.ends_on or last_session or programme_end))
    return out


async def people_of_cohorts(session: AsyncSession, cohort_ids: Collection[int]) -> set[int]:
    """The Telegram accounts enrolled in, bound to an entry of, or training these cohorts."""
    ids = list(cohort_ids)
    if not ids:
        return set()
    found: set[int] = set()
    for column, cohort in (
        (Enrolment.user_id, Enrolment.cohort_id),
        (RosterEntry.user_id, RosterEntry.cohort_id),
        (CohortTrainer.user_id, CohortTrainer.cohort_id),
    ):
        rows = await session.exec(select(column).where(col(cohort).in_(ids)))
        # An erased enrolment's placeholder (below zero) is nobody.
        found |= {int(user_id) for user_id in rows.all() if user_id is not None and user_id > 0}
    return found


async def cohorts_of_person(session: AsyncSession, user_id: int) -> set[int]:
    """Every cohort the person is enrolled in, has an entry in or trains."""
    found: set[int] = set()
    for column, cohort in (
        (Enrolment.user_id, Enrolment.cohort_id),
        (RosterEntry.user_id, RosterEntry.cohort_id),
        (CohortTrainer.user_id, CohortTrainer.cohort_id),
    ):
        rows = await session.exec(select(cohort).where(col(column) == user_id))
        found |= {int(cohort_id) for cohort_id in rows.all()}
    return found


async def has_roles(session: AsyncSession, user_id: int) -> bool:
    """Whether the person organises any programme."""
    rows = await session.exec(
        select(RoleGrant.id).where(col(RoleGrant.user_id) == user_id).limit(1)
    )
    return rows.first() is not None
