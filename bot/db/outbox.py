"""Query functions for the outbox. They flush; the caller (service or sender) commits."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, delete, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import OutboxMessage
from bot.db.status import OutboxStatus

PENDING = OutboxStatus.PENDING
CLAIMED = OutboxStatus.CLAIMED
SENDING = OutboxStatus.SENDING
SENT = OutboxStatus.SENT
FAILED = OutboxStatus.FAILED
EXPIRED = OutboxStatus.EXPIRED
CANCELLED = OutboxStatus.CANCELLED
FINAL_STATUSES = (SENT, FAILED, EXPIRED, CANCELLED)

#: Parameter sets per executed batch of :func:`insert_many`.
_INSERT_CHUNK = 1000


class Failure(StrEnum):
    """Why a row was not delivered: the stable code at the start of its ``last_error``."""

    BLOCKED = "blocked"  # the person blocked the bot
    DEACTIVATED = "deactivated"  # the person's account was deleted
    REMOVED = "removed"  # the bot was removed from the group
    CHAT_NOT_FOUND = "chat_not_found"
    SERVER_ERROR = "server_error"  # Telegram's 5xx or the network, retried in vain
    INTERRUPTED = "interrupted"  # caught mid-send by a restart
    EXPIRED = "expired"  # too late to be true
    OTHER = "other"


#: Failures that may pass when tried again: Telegram's 5xx or the network gave up, or a restart
#: caught the row mid-send (delivery unknown). Blocked, deleted, removed, a chat not found and
#: "too late" stay as they are; so does "other" (a refused text, a bug): trying again would fail
#: the same way.
RETRYABLE: Final = (Failure.SERVER_ERROR, Failure.INTERRUPTED)

#: What a row caught mid-send by a restart says (kept as it always was; classified by itself).
INTERRUPTED_TEXT: Final = "interrupted by a restart; delivery unknown"
_EXPIRED_TEXT: Final = "too late to be true"
#: How the dedupe key of a row emptied by erasure begins (it has no chat or text left to send).
_ERASED_KEY: Final = "erased:"
_CODE = re.compile(r"\[([a-z_]+)\] ")
#: How rows written before the codes existed begin (the sender's own words, never Telegram's).
_LEGACY_PREFIXES: Final = (
    ("chat not found", Failure.CHAT_NOT_FOUND),
    ("gave up after", Failure.SERVER_ERROR),
    ("interrupted by a restart", Failure.INTERRUPTED),
    ("too late to be true", Failure.EXPIRED),
)


def _retryable_prefixes() -> list[str]:
    codes = [f"[{failure.value}] " for failure in RETRYABLE]
    return codes + [prefix for prefix, failure in _LEGACY_PREFIXES if failure in RETRYABLE]


def failure_text(failure: Failure, detail: str) -> str:
    """A ``last_error`` value: ``[code] detail``, cut to fit the column."""
    return f"[{failure.value}] {detail}"[:500]


def failure_of(last_error: str | None) -> Failure:
    """The reason code of a ``last_error`` value, also of rows written before codes existed."""
    text = last_error or ""
    match = _CODE.match(text)
    if match is not None:
        try:
            return Failure(match.group(1))
        except ValueError:
            return Failure.OTHER
    if text.startswith("recipient unreachable"):
        detail = text.lower()
        if "deactivated" in detail:
            return Failure.DEACTIVATED
        if "kicked" in detail or "not a member" in detail:
            return Failure.REMOVED
        return Failure.BLOCKED
    for prefix, failure in _LEGACY_PREFIXES:
        if text.startswith(prefix):
            return failure
    return Failure.OTHER


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Queue rows, skipping any whose ``dedupe_key`` is already queued; returns how many were new.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, compiled once and executed for
    chunks of parameter sets (SQLAlchemy batches them into multi-row statements), so
    enqueueing 10,000 rows is a few statements, and enqueueing the same thing twice (a retried
    job, a second replica) is harmless. The returned ids count the new rows: ``rowcount`` is
    not reliable for batched executions.
    """
    if not rows:
        return 0
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    )
    added = 0
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = list(rows[start : start + _INSERT_CHUNK])
        result = await session.execute(statement, chunk)
        added += len(result.all())
    return added


async def claim_due(
    session: AsyncSession, *, now: datetime, worker: str, limit: int
) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows for ``worker`` (status ``claimed``) and return them.

    On PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so that two
    senders never take the same row; the ``status = pending`` guard on the update makes the
    claim safe on SQLite too, where writers are serialised anyway.
    """
    candidates = (
        select(OutboxMessage.id)
        .where(col(OutboxMessage.status) == PENDING, col(OutboxMessage.due_at) <= now)
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await session.exec(candidates)).all())
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == PENDING)
        .values(status=CLAIMED, claimed_by=worker, claimed_at=now)
    )
    claimed = await session.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(ids),
            col(OutboxMessage.status) == CLAIMED,
            col(OutboxMessage.claimed_by) == worker,
        )
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    )
    return list(claimed.all())


async def expire_overdue(session: AsyncSession, now: datetime) -> int:
    """Mark pending rows whose ``not_after`` has passed as expired; returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == PENDING,
            col(OutboxMessage.not_after).is_not(None),
            col(OutboxMessage.not_after) <= now,
        )
        .values(status=EXPIRED, last_error=failure_text(Failure.EXPIRED, _EXPIRED_TEXT))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recover_interrupted(session: AsyncSession, *, older_than: datetime) -> int:
    """Rows a dead sender held: claimed ones go back to the queue, sending ones fail.

    A ``claimed`` row was never handed to Telegram, so it is simply queued again. A ``sending``
    row may or may not have been delivered when its sender died; sending it again could make
    a trainee see it twice, so it is reported as failed instead. Returns how many failed.
    """
    await session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == CLAIMED,
            or_(
                col(OutboxMessage.claimed_at).is_(None),
                col(OutboxMessage.claimed_at) <= older_than,
            ),
        )
        .values(status=PENDING, claimed_by=None, claimed_at=None)
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == SENDING,
            or_(
                col(OutboxMessage.claimed_at).is_(None),
                col(OutboxMessage.claimed_at) <= older_than,
            ),
        )
        .values(status=FAILED, last_error=INTERRUPTED_TEXT)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def fail_pending_for_chat(session: AsyncSession, chat_id: int, reason: str) -> int:
    """Give up every pending row for a chat that can no longer be written to."""
    result = await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.chat_id) == chat_id, col(OutboxMessage.status) == PENDING)
        .values(status=FAILED, last_error=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def move_chat(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """Re-address pending rows after a group became a supergroup."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.chat_id) == old_chat_id, col(OutboxMessage.status) == PENDING)
        .values(chat_id=new_chat_id)
    )


async def cancel_pending(
    session: AsyncSession, *, campaign_id: int | None = None, key_prefix: str | None = None
) -> int:
    """Cancel queued rows of a campaign, or whose dedupe key starts with ``key_prefix``."""
    statement = update(OutboxMessage).where(col(OutboxMessage.status) == PENDING)
    if campaign_id is not None:
        statement = statement.where(col(OutboxMessage.campaign_id) == campaign_id)
    if key_prefix is not None:
        statement = statement.where(col(OutboxMessage.dedupe_key).startswith(key_prefix))
    result = await session.execute(statement.values(status=CANCELLED, last_error="cancelled"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def counts_by_status(session: AsyncSession, campaign_id: int | None = None) -> dict[str, int]:
    """How many rows are in each status (for one campaign, or all)."""
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if campaign_id is not None:
        statement = statement.where(col(OutboxMessage.campaign_id) == campaign_id)
    return {status: int(n) for status, n in (await session.exec(statement)).all()}


async def failures_by_reason(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """Failed rows of a campaign grouped by their reason."""
    statement = (
        select(OutboxMessage.last_error, func.count())
        .where(col(OutboxMessage.campaign_id) == campaign_id, col(OutboxMessage.status) == FAILED)
        .group_by(OutboxMessage.last_error)
    )
    return {str(reason): int(n) for reason, n in (await session.exec(statement)).all()}


def _retryable_of(*campaign_ids: int) -> list[ColumnElement[bool]]:
    """The failed rows of these campaigns worth trying again (see :data:`RETRYABLE`)."""
    return [
        col(OutboxMessage.campaign_id).in_(campaign_ids),
        col(OutboxMessage.status) == FAILED,
        or_(
            *(
                col(OutboxMessage.last_error).startswith(prefix, autoescape=True)
                for prefix in _retryable_prefixes()
            )
        ),
        # An erased person's row keeps its reason but has no chat or text left.
        ~col(OutboxMessage.dedupe_key).startswith(_ERASED_KEY, autoescape=True),
    ]


async def retryable_by_campaign(
    session: AsyncSession, campaign_ids: Sequence[int]
) -> dict[int, int]:
    """How many failed rows of each of these campaigns are worth trying again (one query;
    campaigns with none are left out)."""
    if not campaign_ids:
        return {}
    statement = (
        select(OutboxMessage.campaign_id, func.count())
        .where(*_retryable_of(*campaign_ids))
        .group_by(col(OutboxMessage.campaign_id))
    )
    return {int(c): int(n) for c, n in (await session.exec(statement)).all() if c is not None}


async def retryable_counts(session: AsyncSession, campaign_id: int) -> dict[Failure, int]:
    """How many failed rows of a campaign are worth trying again, by kind of reason."""
    statement = (
        select(OutboxMessage.last_error, func.count())
        .where(*_retryable_of(campaign_id))
        .group_by(OutboxMessage.last_error)
    )
    counts: dict[Failure, int] = {}
    for reason, n in (await session.exec(statement)).all():
        failure = failure_of(reason)
        counts[failure] = counts.get(failure, 0) + int(n)
    return counts


async def requeue_retryable(session: AsyncSession, campaign_id: int, now: datetime) -> int:
    """Queue the campaign's rows worth trying again, as new, due now; returns how many.

    One ``UPDATE`` guarded by the status and the reason: a row queued already is no longer
    ``failed``, so a second call, here or on another replica, queues nothing more.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(*_retryable_of(campaign_id))
        .values(
            status=PENDING,
            due_at=now,
            attempts=0,
            last_error=None,
            claimed_by=None,
            claimed_at=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest pending row falls due (None when nothing is pending)."""
    result = await session.exec(
        select(func.min(OutboxMessage.due_at)).where(col(OutboxMessage.status) == PENDING)
    )
    value = result.one()
    if value is None:
        return None
    from datetime import UTC

    if isinstance(value, str):  # SQLite aggregates lose the column type
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def mark_sending(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Record that these rows are about to be handed to Telegram (see recover_interrupted).

    Only rows the sender still holds (``claimed``, or ``sending`` again after Telegram asked to
    wait) move on; returns their ids. A row erased while the sender held it (see
    :func:`erase_rows`) is cancelled, so it is never handed to Telegram.
    """
    if not ids:
        return set()
    result = await session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(list(ids)),
            # Sending already: a row Telegram asked to wait for, whose outcome is not written yet.
            col(OutboxMessage.status).in_([CLAIMED, SENDING]),
        )
        .values(status=SENDING)
        .returning(col(OutboxMessage.id))
    )
    return {int(row_id) for row_id in result.scalars().all()}


async def apply_results(
    session: AsyncSession, updates: Iterable[tuple[int, dict[str, Any]]]
) -> None:
    """Write the outcome of sends: ``(row id, column values)`` pairs, in the order given.

    Consecutive pairs that set the same columns go out as one batched ``UPDATE ... WHERE id``
    (an executemany), so a flush of a few hundred outcomes is a few statements, and two
    outcomes of one row still land in the order they happened.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    run: list[dict[str, Any]] = []
    columns: tuple[str, ...] = ()
    for row_id, values in updates:
        names = tuple(sorted(values))
        if run and names != columns:
            await _update_run(session, table, columns, run)
            run = []
        columns = names
        run.append({"b_row_id": row_id, **{f"b_{name}": values[name] for name in names}})
    if run:
        await _update_run(session, table, columns, run)


async def _update_run(
    session: AsyncSession, table: Any, columns: Sequence[str], params: list[dict[str, Any]]
) -> None:
    # A row erased while the sender held it stays cancelled and blank, whatever came of it.
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_row_id"), table.c.status != CANCELLED)
        .values({name: bindparam(f"b_{name}") for name in columns})
    )
    await session.execute(statement, params)


async def count_unsettled_due(session: AsyncSession, now: datetime) -> int:
    """Rows due by ``now`` that are still waiting or on their way (not yet settled)."""
    from sqlalchemy import func, or_

    statement = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            or_(
                (col(OutboxMessage.status) == PENDING) & (col(OutboxMessage.due_at) <= now),
                col(OutboxMessage.status).in_([CLAIMED, SENDING]),
            )
        )
    )
    return int((await session.exec(statement)).one())


async def sent_row(session: AsyncSession, chat_id: int, message_id: int) -> OutboxMessage | None:
    """The queued message that became Telegram's message ``message_id`` in ``chat_id``."""
    result = await session.exec(
        select(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.telegram_message_id == message_id
        )
    )
    return result.first()


async def latest_with_key_prefix(
    session: AsyncSession, chat_id: int, prefix: str
) -> OutboxMessage | None:
    """The newest message queued for ``chat_id`` whose dedupe key starts with ``prefix``."""
    result = await session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.chat_id == chat_id,
            col(OutboxMessage.dedupe_key).startswith(prefix, autoescape=True),
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    return result.first()


#: ``last_error`` of a row that erasure stopped before it was sent.
ERASED_TEXT: Final = "cancelled: erased at the person's request"


@dataclass(frozen=True, slots=True)
class ErasedRows:
    """What :func:`erase_rows` did: queued rows deleted, rows kept but emptied."""

    deleted: int = 0
    blanked: int = 0


def _blank(row_id: int) -> dict[str, Any]:
    return {
        "chat_id": 0,
        "user_id": None,
        "payload": {},
        "dedupe_key": f"{_ERASED_KEY}{row_id}",
        "telegram_message_id": None,
    }


async def erase_rows(
    session: AsyncSession, *, user_id: int, key_prefixes: Sequence[str] = ()
) -> ErasedRows:
    """Empty every row to the person (or whose dedupe key starts with one of ``key_prefixes``:
    the staff's copies of their questions).

    A queued row outside a campaign is deleted, so it can never be sent. Any other row stays,
    so a campaign's counts still add up, but loses its chat, person, text, Telegram message
    id and a dedupe key that may name the person: a row still waiting, or held by a sender
    right now (``claimed``, ``sending``), becomes ``cancelled`` (the sender then neither sends
    it nor writes over it: see :func:`mark_sending` and :func:`apply_results`); a finished
    one keeps its status and only the reason code of its error.
    """
    match = [col(OutboxMessage.user_id) == user_id, col(OutboxMessage.chat_id) == user_id]
    match += [
        col(OutboxMessage.dedupe_key).startswith(prefix, autoescape=True) for prefix in key_prefixes
    ]
    found = (
        await session.exec(
            select(
                OutboxMessage.id,
                OutboxMessage.status,
                OutboxMessage.campaign_id,
                OutboxMessage.last_error,
            ).where(or_(*match))
        )
    ).all()
    doomed = [
        int(row_id)
        for row_id, status, campaign_id, _error in found
        if status == PENDING and campaign_id is None and row_id is not None
    ]
    if doomed:
        await session.execute(delete(OutboxMessage).where(col(OutboxMessage.id).in_(doomed)))
    updates: list[tuple[int, dict[str, Any]]] = []
    for row_id, status, _campaign, error in found:
        if row_id is None or row_id in doomed:
            continue
        values = _blank(int(row_id))
        if status in (PENDING, CLAIMED, SENDING):
            values |= {"status": CANCELLED, "last_error": ERASED_TEXT}
        elif status == FAILED and error is not None:
            # Telegram's words may quote the chat; the reason's code is all the report needs.
            values["last_error"] = failure_text(failure_of(error), "erased")
        updates.append((int(row_id), values))
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    for row_id, values in updates:
        await session.execute(update(table).where(table.c.id == row_id).values(values))
    return ErasedRows(deleted=len(doomed), blanked=len(updates))


async def rows_of_user(session: AsyncSession, user_id: int) -> list[OutboxMessage]:
    """Every row to the person, newest first (``/mydata``)."""
    rows = await session.exec(
        select(OutboxMessage)
        .where(or_(col(OutboxMessage.user_id) == user_id, col(OutboxMessage.chat_id) == user_id))
        .order_by(col(OutboxMessage.id).desc())
    )
    return list(rows.all())
