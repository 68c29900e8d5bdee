"""Writing the sender's outcomes in batches, and reading back why a row failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import outbox as outbox_db
from bot.db.models import OutboxMessage
from bot.delivery.outbox import Envelope, enqueue

Failure = outbox_db.Failure


@pytest.fixture
def updates_run(engine: AsyncEngine) -> Iterator[list[int]]:
    """How many rows each UPDATE of the outbox sent to the database wrote (one per statement)."""
    runs: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            runs.append(len(params) if isinstance(params, list) else 1)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    yield runs
    event.remove(engine.sync_engine, "before_cursor_execute", count)


async def three_rows(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock
) -> list[int]:
    async with session_factory() as session:
        await enqueue(
            session,
            [
                Envelope(chat_id=c, kind="test", dedupe_key=f"r:{c}", due_at=clock.now())
                for c in (1, 2, 3)
            ],
            clock.now(),
        )
        await session.commit()
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return [r.id for r in rows if r.id is not None]


async def test_consecutive_outcomes_end_in_the_last_one_per_row(
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    updates_run: list[int],
) -> None:
    first, second, third = await three_rows(session_factory, clock)
    now = clock.now()
    later = now + timedelta(seconds=2)
    blocked = outbox_db.failure_text(Failure.BLOCKED, "Forbidden: bot was blocked by the user")
    retry = outbox_db.failure_text(Failure.SERVER_ERROR, "Internal Server Error")
    outcomes: list[tuple[int, dict[str, Any]]] = [
        (first, {"status": "sending"}),
        (second, {"status": "sending"}),
        (third, {"status": "sending"}),
        # A 5xx: back to the queue for later.
        (
            first,
            {
                "status": "pending",
                "attempts": 1,
                "due_at": later,
                "claimed_by": None,
                "last_error": retry,
            },
        ),
        (second, {"status": "sent", "attempts": 1, "sent_at": now, "telegram_message_id": 11,
                  "last_error": None}),
        (third, {"status": "sent", "attempts": 1, "sent_at": now, "telegram_message_id": 12,
                 "last_error": None}),
        # Claimed again, a 429 put it back (same columns, one statement), then a 403.
        (first, {"status": "claimed"}),
        (first, {"status": "sending"}),
        (first, {"status": "failed", "attempts": 2, "last_error": blocked}),
    ]  # fmt: skip
    async with session_factory() as session:
        await outbox_db.apply_results(session, outcomes)
        await session.commit()
    async with session_factory() as session:
        rows = {
            r.id: r for r in (await session.exec(select(OutboxMessage))).all() if r.id is not None
        }

    one, two, three = rows[first], rows[second], rows[third]
    assert (one.status, one.attempts, one.last_error) == ("failed", 2, blocked)
    assert one.due_at == later  # kept from the retry
    assert one.claimed_by is None
    assert outbox_db.failure_of(one.last_error) is Failure.BLOCKED
    assert (two.status, two.attempts, two.telegram_message_id, two.last_error) == (
        "sent", 1, 11, None,
    )  # fmt: skip
    assert (three.status, three.telegram_message_id) == ("sent", 12)
    assert two.sent_at == now
    # Runs of outcomes that set the same columns went out as one statement each.
    assert updates_run == [3, 1, 2, 2, 1]


async def test_nothing_to_write_sends_nothing(
    session_factory: async_sessionmaker[AsyncSession], updates_run: list[int]
) -> None:
    async with session_factory() as session:
        await outbox_db.apply_results(session, [])
        await session.commit()
    assert updates_run == []


@pytest.mark.parametrize(
    ("last_error", "failure"),
    [
        ("[blocked] Forbidden: bot was blocked by the user", Failure.BLOCKED),
        ("[deactivated] Forbidden: user is deactivated", Failure.DEACTIVATED),
        ("[chat_not_found] Bad Request: chat not found", Failure.CHAT_NOT_FOUND),
        ("[server_error] gave up after 5 attempts: Bad Gateway", Failure.SERVER_ERROR),
        ("[expired] too late to be true", Failure.EXPIRED),
        ("[other] Bad Request: message text is empty", Failure.OTHER),
        ("[no_such_code] something", Failure.OTHER),
        # Rows written before the reason codes:
        ("recipient unreachable: Forbidden: bot was blocked by the user", Failure.BLOCKED),
        ("recipient unreachable: Forbidden: user is deactivated", Failure.DEACTIVATED),
        ("recipient unreachable: Forbidden: bot was kicked from the group chat", Failure.REMOVED),
        ("recipient unreachable", Failure.BLOCKED),
        ("chat not found: Bad Request: chat not found", Failure.CHAT_NOT_FOUND),
        ("gave up after 5 attempts: Internal Server Error", Failure.SERVER_ERROR),
        ("interrupted by a restart; delivery unknown", Failure.INTERRUPTED),
        ("too late to be true", Failure.EXPIRED),
        ("Bad Request: can't parse entities", Failure.OTHER),
        ("internal error: KeyError", Failure.OTHER),
        (None, Failure.OTHER),
    ],
)
def test_why_a_row_failed(last_error: str | None, failure: Failure) -> None:
    assert outbox_db.failure_of(last_error) is failure


def test_failure_text_fits_the_column() -> None:
    text = outbox_db.failure_text(Failure.OTHER, "x" * 1000)
    assert len(text) <= 512
    assert outbox_db.failure_of(text) is Failure.OTHER
