"""Queueing messages: what services call to have something sent, now or later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import outbox as outbox_db


class Waker(Protocol):
    """The part of the sender that queueing needs: a nudge that new rows are due now."""

    def wake(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message for one chat, as it will sit in the outbox."""

    chat_id: int
    kind: str
    dedupe_key: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    not_after: datetime | None = None
    user_id: int | None = None
    campaign_id: int | None = None


async def enqueue(session: AsyncSession, envelopes: Sequence[Envelope], now: datetime) -> int:
    """Queue envelopes (idempotent by ``dedupe_key``); returns how many were new.

    Flushes only: the calling service commits, so the messages are queued together with the
    change that caused them, or not at all.
    """
    rows = []
    for envelope in envelopes:
        if envelope.due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        rows.append(
            {
                "chat_id": envelope.chat_id,
                "user_id": envelope.user_id,
                "kind": envelope.kind,
                "payload": envelope.payload,
                "dedupe_key": envelope.dedupe_key[:255],
                "due_at": envelope.due_at,
                "not_after": envelope.not_after,
                "status": outbox_db.PENDING,
                "attempts": 0,
                "campaign_id": envelope.campaign_id,
                "created_at": now,
            }
        )
    return await outbox_db.insert_many(session, rows)


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next queued message falls due (None when nothing waits)."""
    return await outbox_db.next_due_at(session)


async def count_unsettled_due(session: AsyncSession, now: datetime) -> int:
    """Messages due by ``now`` that are still waiting or on their way."""
    return await outbox_db.count_unsettled_due(session, now)
