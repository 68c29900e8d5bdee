"""Query functions that take a person out of the tables no feature module erases itself.

The organisers' side of a person (their roles, the campaigns they started, the staff groups
they linked, the questions they took) and the audit log. Each feature's own rows are erased by
its module (``attendance.erase_user``, ``feedback.erase_user``, ``faq.erase_questions_of_user``,
``outbox.erase_rows``); :mod:`bot.services.erasure` calls them all. The functions flush at
most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.audit import AuditEntry
from bot.db.faq import StaffChat, StaffQuestion
from bot.db.models import Campaign, RoleGrant

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
    if user_id is not None and cohort_ids is None:
        await session.exec(
            update(AuditEntry).where(col(AuditEntry.actor_id) == user_id).values(actor_id=None)
        )
    await session.flush()
    return len(rows)
