"""The audit log: every change an organiser makes to a person's place, kept.

One row per change: who made it (``actor_id``; None for the command line), from which
interface (``telegram``, ``cli``, ``import``), what (``action``: ``withdraw``, ``move``,
``replace``, ``rename``, ``roster_withdraw``, ...), whom (``user_id`` and/or
``roster_entry_id``), in which cohort, and the details as JSON (``{"from": "DT27-A", "to":
"DT27-B"}``). ``/audit`` shows it; the roster export carries it. ``/forgetme`` keeps the rows
(what was done) but empties the person's ids and any name in the details.

The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import utcnow
from bot.db.types import UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One change made by an organiser (or an import) to a trainee's record or place."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_cohort_at", "cohort_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: Who did it (a Telegram id); None for the command line or an import without a person.
    actor_id: int | None = Field(default=None, sa_type=BigInteger)
    #: ``telegram``, ``cli`` or ``import``.
    interface: str = Field(max_length=16)
    action: str = Field(max_length=32)
    cohort_id: int | None = Field(
        default=None, foreign_key="cohorts.id", index=True, ondelete="SET NULL"
    )
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    roster_entry_id: int | None = Field(
        default=None, foreign_key="roster_entries.id", ondelete="SET NULL"
    )
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


async def record(
    session: AsyncSession,
    *,
    action: str,
    interface: str,
    now: datetime,
    actor_id: int | None = None,
    cohort_id: int | None = None,
    user_id: int | None = None,
    roster_entry_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one row to the log (flushed)."""
    entry = AuditEntry(
        at=now,
        actor_id=actor_id,
        interface=interface,
        action=action,
        cohort_id=cohort_id,
        user_id=user_id,
        roster_entry_id=roster_entry_id,
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries_of_cohorts(
    session: AsyncSession, cohort_ids: Sequence[int], limit: int = 50
) -> list[AuditEntry]:
    """The latest rows of these cohorts, newest first."""
    if not cohort_ids:
        return []
    rows = await session.exec(
        select(AuditEntry)
        .where(col(AuditEntry.cohort_id).in_(list(cohort_ids)))
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    return list(rows.all())


async def entries_of_user(session: AsyncSession, user_id: int) -> list[AuditEntry]:
    """Every row about a person (``/mydata``), oldest first."""
    rows = await session.exec(
        select(AuditEntry).where(AuditEntry.user_id == user_id).order_by(col(AuditEntry.id))
    )
    return list(rows.all())
