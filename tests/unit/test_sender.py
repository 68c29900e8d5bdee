"""The sender against a scripted transport: every row ends sent, failed, expired; never twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import OutboxMessage, User
from bot.delivery.outbox import Envelope, enqueue
from bot.delivery.sender import Sender, SenderConfig
from bot.delivery.transport import Outcome, SendResult


class ScriptedTransport:
    """Answers per chat from a script; records every delivery."""

    def __init__(self, script: dict[int, list[SendResult]] | None = None) -> None:
        self.script = script or {}
        self.delivered: list[tuple[int, str]] = []
        self.calls: Counter[int] = Counter()

    async def deliver(self, chat_id: int, payload: dict[str, Any]) -> SendResult:
        self.calls[chat_id] += 1
        queue = self.script.get(chat_id)
        if queue:
            result = queue.pop(0)
            if result.outcome is not Outcome.SENT:
                return result
        self.delivered.append((chat_id, payload["text"]))
        return SendResult(Outcome.SENT, message_id=len(self.delivered))


def fast() -> SenderConfig:
    return SenderConfig(rate=1000, private_interval=0.0, group_interval=0.0, flush_interval=0.01)


async def queue(
    session_factory: async_sessionmaker[AsyncSession], clock: ManualClock, chats: list[int], **kw
) -> None:
    async with session_factory() as session:
        await enqueue(
            session,
            [
                Envelope(
                    chat_id=c,
                    kind="test",
                    dedupe_key=f"t:{c}",
                    due_at=clock.now(),
                    payload={"text": f"hello {c}"},
                    user_id=c if c > 0 else None,
                    **kw,
                )
                for c in chats
            ],
            clock.now(),
        )
        await session.commit()


async def statuses(session_factory) -> dict[int, tuple[str, str | None]]:
    async with session_factory() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {r.chat_id: (r.status, r.last_error) for r in rows}


async def test_enqueue_is_idempotent_and_each_row_sent_once(session_factory, clock) -> None:
    await queue(session_factory, clock, [1, 2, 3])
    await queue(session_factory, clock, [1, 2, 3, 4])
    transport = ScriptedTransport()
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    assert sorted(transport.delivered) == [(c, f"hello {c}") for c in (1, 2, 3, 4)]
    assert {s for s, _e in (await statuses(session_factory)).values()} == {"sent"}


async def test_blocked_user_marked_unreachable_and_not_retried(
    session_factory, clock, session: AsyncSession
) -> None:
    session.add(User(id=5, first_name="B"))
    await session.commit()
    await queue(session_factory, clock, [5, 6])
    transport = ScriptedTransport(
        {5: [SendResult(Outcome.UNREACHABLE, error="Forbidden: bot was blocked by the user")]}
    )
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    result = await statuses(session_factory)
    assert result[5][0] == "failed"
    assert "blocked" in (result[5][1] or "")
    assert result[6][0] == "sent"
    assert transport.calls[5] == 1
    async with session_factory() as fresh:
        user = await fresh.get(User, 5)
    assert user is not None
    assert user.is_reachable is False


async def test_server_errors_retried_with_backoff_then_given_up(session_factory, clock) -> None:
    await queue(session_factory, clock, [7, 8])
    transient = SendResult(Outcome.TRANSIENT, error="Internal Server Error")
    transport = ScriptedTransport({7: [transient], 8: [transient] * 10})
    sender = Sender(session_factory, transport, clock, fast())
    for _ in range(6):
        await sender.run_until_idle()
        clock.advance(timedelta(minutes=10))
    result = await statuses(session_factory)
    assert result[7][0] == "sent"
    assert result[8][0] == "failed"
    assert "gave up after 5 attempts" in (result[8][1] or "")
    assert transport.calls[8] == 5
    assert [c for c, _t in transport.delivered] == [7]


async def test_too_late_rows_expire_instead_of_going_out(session_factory, clock) -> None:
    await queue(session_factory, clock, [9], not_after=clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    transport = ScriptedTransport()
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    assert (await statuses(session_factory))[9][0] == "expired"
    assert transport.delivered == []


async def test_rate_limit_pause_then_delivered_once(session_factory, clock) -> None:
    await queue(session_factory, clock, [10])
    transport = ScriptedTransport({10: [SendResult(Outcome.RETRY_AFTER, retry_after=1)]})
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    assert transport.delivered == [(10, "hello 10")]
    assert transport.calls[10] == 2


async def test_migrated_group_followed(session_factory, clock) -> None:
    await queue(session_factory, clock, [-100])
    transport = ScriptedTransport({-100: [SendResult(Outcome.MIGRATED, migrate_to=-1009)]})
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    assert transport.delivered == [(-1009, "hello -100")]
    assert (await statuses(session_factory))[-1009][0] == "sent"


async def test_interrupted_rows_reported_not_resent(session_factory, clock) -> None:
    await queue(session_factory, clock, [11, 12])
    async with session_factory() as session:
        rows = (
            await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.chat_id)))
        ).all()
        rows[0].status, rows[0].claimed_at = "sending", clock.now()
        rows[1].status, rows[1].claimed_at = "claimed", clock.now()
        await session.commit()
    clock.advance(timedelta(minutes=5))
    transport = ScriptedTransport()
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    result = await statuses(session_factory)
    assert result[11] == ("failed", "interrupted by a restart; delivery unknown")
    assert result[12][0] == "sent"
    assert transport.delivered == [(12, "hello 12")]
