"""The sender against a scripted transport: every row ends sent, failed, expired; never twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import outbox as outbox_db
from bot.db.models import Cohort, OutboxMessage, User
from bot.delivery.outbox import Envelope, enqueue
from bot.delivery.sender import Sender, SenderConfig
from bot.delivery.transport import Outcome, SendResult
from bot.services import people
from tests.delivery.conftest import add_cohort, add_programme

BLOCKED = SendResult(Outcome.UNREACHABLE, error="Forbidden: bot was blocked by the user")


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
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    chats: list[int],
    *,
    text: str = "hello",
    **kw: Any,
) -> None:
    due_at = kw.pop("due_at", clock.now())
    async with session_factory() as session:
        await enqueue(
            session,
            [
                Envelope(
                    chat_id=c,
                    kind="test",
                    dedupe_key=f"{text}:{c}",
                    due_at=due_at,
                    payload={"text": f"{text} {c}"},
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
    told: list[set[int]] = []
    await Sender(
        session_factory, transport, clock, fast(), on_unreachable=told.append
    ).run_until_idle()
    assert told == [{5}]
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


class SteppingTime:
    """The sender's monotonic time: moves on by ``step`` at every reading (no wall time)."""

    def __init__(self, step: float) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def remember(
    session_factory: async_sessionmaker[AsyncSession],
    user_id: int,
    clock,
    recent: people.RecentSenders | None = None,
) -> None:
    """The person writes to the bot in their private chat."""
    async with session_factory() as session:
        await people.remember(session, people.TelegramProfile(user_id, "B"), clock, recent=recent)


async def reachable(session_factory: async_sessionmaker[AsyncSession], user_id: int) -> bool:
    async with session_factory() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user.is_reachable


async def test_person_who_unblocks_and_writes_again_gets_the_next_message(
    session_factory, clock
) -> None:
    async with session_factory() as session:
        session.add(User(id=5, first_name="B"))
        await session.commit()
    await queue(session_factory, clock, [5])
    transport = ScriptedTransport({5: [BLOCKED]})
    sender = Sender(session_factory, transport, clock, fast())
    await sender.run_until_idle()
    assert await reachable(session_factory, 5) is False

    await remember(session_factory, 5, clock)
    assert await reachable(session_factory, 5) is True
    await queue(session_factory, clock, [5], text="welcome back")
    await sender.run_until_idle()
    assert transport.delivered == [(5, "welcome back 5")]
    result = await statuses(session_factory)
    assert result[5] == ("sent", None)


async def test_person_seen_moments_before_the_block_is_read_again_when_back(
    session_factory, clock
) -> None:
    # Two updates in a row: the second one is answered from the recently-seen copy.
    recent = people.RecentSenders()
    recent.watch(session_factory)
    await remember(session_factory, 6, clock, recent)
    await remember(session_factory, 6, clock, recent)
    await queue(session_factory, clock, [6])
    # Wired as the application wires it: the sender tells who it found unreachable.
    await Sender(
        session_factory,
        ScriptedTransport({6: [BLOCKED]}),
        clock,
        fast(),
        on_unreachable=recent.forget,
    ).run_until_idle()
    assert await reachable(session_factory, 6) is False

    await remember(session_factory, 6, clock, recent)
    assert await reachable(session_factory, 6) is True


async def test_updates_about_a_block_or_from_a_group_are_honoured(session_factory, clock) -> None:
    profile = people.TelegramProfile(7, "B")
    recent = people.RecentSenders()
    recent.watch(session_factory)
    async with session_factory() as session:
        await people.remember(session, profile, clock, recent=recent)
        await people.remember(session, profile, clock, recent=recent)
        await people.remember(session, profile, clock, reachable=False, recent=recent)
    assert await reachable(session_factory, 7) is False
    async with session_factory() as session:
        await people.remember(session, profile, clock, reachable=None, recent=recent)
    assert await reachable(session_factory, 7) is False
    async with session_factory() as session:
        await people.remember(session, profile, clock, recent=recent)
    assert await reachable(session_factory, 7) is True


async def test_rows_already_held_for_a_blocked_chat_are_not_tried(session_factory, clock) -> None:
    await queue(session_factory, clock, [5])
    await queue(session_factory, clock, [5], text="second")
    transport = ScriptedTransport({5: [BLOCKED]})
    # One message a second per private chat, in the sender's own time moving 10 s a reading:
    # the second row is taken in the same claim and comes up after the first one failed.
    time = SteppingTime(10.0)
    config = fast()
    config.private_interval = 50.0
    sender = Sender(session_factory, transport, clock, config, monotonic=time, sleep=time.sleep)
    await sender.run_until_idle()
    assert transport.calls[5] == 1
    async with session_factory() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [r.status for r in rows] == ["failed", "failed"]
    assert {outbox_db.failure_of(r.last_error) for r in rows} == {outbox_db.Failure.BLOCKED}


@pytest.mark.parametrize(
    ("answer", "failure"),
    [
        (
            SendResult(Outcome.CHAT_GONE, error="Bad Request: chat not found"),
            outbox_db.Failure.CHAT_NOT_FOUND,
        ),
        (
            SendResult(Outcome.UNREACHABLE, error="Forbidden: bot was kicked from the group chat"),
            outbox_db.Failure.REMOVED,
        ),
    ],
)
async def test_group_gone_marks_the_chat_dead_and_unlinks_the_cohort(
    session_factory, clock, answer: SendResult, failure: outbox_db.Failure
) -> None:
    async with session_factory() as session:
        programme = await add_programme(session, "P")
        cohort = await add_cohort(session, programme, "P-1", group_chat_id=-500)
        await session.commit()
        cohort_id = cohort.id
    await queue(session_factory, clock, [-500, 1])
    # Queued for later: failed at once too, the group is gone.
    await queue(
        session_factory, clock, [-500], text="later", due_at=clock.now() + timedelta(hours=1)
    )
    transport = ScriptedTransport({-500: [answer]})
    await Sender(session_factory, transport, clock, fast()).run_until_idle()

    assert transport.calls[-500] == 1
    assert transport.delivered == [(1, "hello 1")]
    async with session_factory() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.chat_id) == -500))
        ).all()
        unlinked = await session.get(Cohort, cohort_id)
    assert [r.status for r in rows] == ["failed", "failed"]
    assert {outbox_db.failure_of(r.last_error) for r in rows} == {failure}
    assert unlinked is not None
    assert unlinked.group_chat_id is None


async def test_account_deleted_is_told_apart_from_a_block(session_factory, clock) -> None:
    await queue(session_factory, clock, [8, 9])
    transport = ScriptedTransport(
        {8: [BLOCKED], 9: [SendResult(Outcome.UNREACHABLE, error="Forbidden: user is deactivated")]}
    )
    await Sender(session_factory, transport, clock, fast()).run_until_idle()
    result = await statuses(session_factory)
    assert outbox_db.failure_of(result[8][1]) is outbox_db.Failure.BLOCKED
    assert outbox_db.failure_of(result[9][1]) is outbox_db.Failure.DEACTIVATED
    assert "user is deactivated" in (result[9][1] or "")


# --- the pace: a token bucket, in the sender's own (injected) time ----------------------------


async def test_a_change_written_through_the_watched_factory_is_seen_at_once(
    session_factory, clock
) -> None:
    recent = people.RecentSenders()
    recent.watch(session_factory)
    profile = people.TelegramProfile(8, "B")
    await remember(session_factory, 8, clock, recent)
    await remember(session_factory, 8, clock, recent)
    async with session_factory() as session:
        await people.choose_locale(session, 8, "ru", clock)
    async with session_factory() as session:
        user = await people.remember(session, profile, clock, recent=recent)
    assert user.locale == "ru"


async def test_kept_people_belong_to_one_application_not_to_every_session(
    session_factory, clock
) -> None:
    # A cache that does not watch this factory hears nothing of its writes: listeners are the
    # application's own, not installed on every session of the process.
    unwatched = people.RecentSenders()
    profile = people.TelegramProfile(9, "B")
    await remember(session_factory, 9, clock, unwatched)
    await remember(session_factory, 9, clock, unwatched)
    async with session_factory() as session:
        await people.choose_locale(session, 9, "ru", clock)
    async with session_factory() as session:
        user = await people.remember(session, profile, clock, recent=unwatched)
    assert user.locale != "ru"
