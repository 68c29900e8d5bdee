"""Two replicas sending with one token share one overall count through Redis: together they
stay inside Telegram's 30 in any sliding second, on the sandbox's strict count."""

from __future__ import annotations

import asyncio
import bisect
import time

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import build_bot, build_budget
from bot.clock import ManualClock
from bot.delivery.budget import BudgetLimits, Priority, RateBudget
from bot.delivery.sender import Sender, SenderConfig
from bot.delivery.shared_budget import RedisWindow
from bot.delivery.transport import AiogramTransport
from sandbox import Limits, Sandbox, SandboxChat, SandboxUser
from tests.delivery.test_exactly_once import TEXT, campaign_for
from tests.support.settings import make_settings


def most_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    return max(
        (bisect.bisect_left(times, start + 1.0) - i for i, start in enumerate(times)), default=0
    )


async def test_two_budgets_sharing_redis_let_out_at_most_30_in_any_second(
    redis_url: str,
) -> None:
    limits = BudgetLimits()
    budgets = [
        RateBudget(limits, shared=RedisWindow(redis_url, limits, key="test:budget"))
        for _ in range(2)
    ]
    granted: list[float] = []

    async def call(budget: RateBudget, chat: int, priority: Priority) -> None:
        await budget.acquire(chat, priority)
        granted.append(time.monotonic())

    started = time.monotonic()
    try:
        await asyncio.gather(
            *(call(budgets[0], 10_000 + n, Priority.BACKGROUND) for n in range(50)),
            *(call(budgets[1], 20_000 + n, Priority.INTERACTIVE) for n in range(40)),
        )
    finally:
        for budget in budgets:
            assert budget.shared is not None
            await budget.shared.close()
    assert len(granted) == 90
    assert most_in_any_second(granted) <= 30
    # ...and they do use the room: 90 calls in about three windows, not one budget's worth each.
    assert time.monotonic() - started < 90 / 30 * 1.1 + 1.5


async def test_two_replicas_sending_one_campaign_stay_inside_telegrams_limit(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    clock: ManualClock,
    sandbox: Sandbox,
    redis_url: str,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas need PostgreSQL's row locks; SQLite has one writer")
    sandbox.limits = Limits(strict=True)
    people = list(range(40_001, 40_121))
    await campaign_for(session_factory, clock, people)
    settings = make_settings(telegram_api_url=sandbox.url, redis_url=redis_url)
    senders, bots = [], []
    for name in ("replica-1", "replica-2"):
        budget = build_budget(settings)
        assert budget.shared is not None
        bot = build_bot(settings, budget=budget)
        bots.append(bot)
        senders.append(
            Sender(
                session_factory,
                AiogramTransport(bot),
                clock,
                SenderConfig(rate=30, flush_interval=0.05, batch=10),
                budget=budget,
                worker_id=name,
            )
        )
    try:
        await asyncio.gather(*(sender.run_until_idle(timeout=60) for sender in senders))
    finally:
        for sender, bot in zip(senders, bots, strict=True):
            assert sender.budget.shared is not None
            await sender.budget.shared.close()
            await bot.session.close()

    assert all(sender.sent_count > 0 for sender in senders)
    assert sum(sender.sent_count for sender in senders) == len(people)
    for chat in people:
        assert sandbox.delivered.get(chat) == [TEXT], chat
    assert sandbox.rate_limited == []
    sends = [r.at for r in sandbox.requests if r.method == "sendMessage"]
    assert most_in_any_second(sends) <= 30


async def test_two_budgets_sharing_redis_count_a_groups_messages_together(
    redis_url: str,
) -> None:
    limits = BudgetLimits(group_per_minute=3)
    budgets = [
        RateBudget(limits, shared=RedisWindow(redis_url, limits, key="test:group-budget"))
        for _ in range(2)
    ]
    cohort_group, other_group = -1_001_000_000_001, -1_001_000_000_002
    try:
        # The leader announces twice in the cohort's group, another replica answers there once:
        # the group's three messages of the minute are used, by the two together.
        await budgets[0].acquire(cohort_group, Priority.BACKGROUND)
        await budgets[0].acquire(cohort_group, Priority.BACKGROUND)
        await budgets[1].acquire(cohort_group, Priority.INTERACTIVE)
        # Counting alone, the second replica would have two more; together, the fourth waits
        # for the minute to pass.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(budgets[1].acquire(cohort_group, Priority.INTERACTIVE), 1.5)
        # Another group is not held up by it.
        await asyncio.wait_for(budgets[1].acquire(other_group, Priority.INTERACTIVE), 1.5)
        # The group's log holds the minute's messages only, and goes when the group is quiet.
        redis = Redis.from_url(redis_url)
        key = f"test:group-budget:group:{cohort_group}"
        assert await redis.zcard(key) == 3
        assert 0 < await redis.pttl(key) <= 66_000
        await redis.aclose()
    finally:
        for budget in budgets:
            assert budget.shared is not None
            await budget.shared.close()
    assert budgets[1].waiting == 0


async def test_two_replicas_writing_in_one_group_never_meet_its_limit(
    sandbox: Sandbox, redis_url: str
) -> None:
    # Telegram's limit for a group, made small: 3 messages in any minute, strictly counted.
    sandbox.limits = Limits(strict=True, group_per_minute=3)
    organiser = SandboxUser(id=7001, first_name="Amina", language_code="en")
    group = SandboxChat(id=-1_002_000_000_001, type="supergroup", title="Cohort A")
    await sandbox.add_bot_to_group(organiser, group)
    settings = make_settings(telegram_api_url=sandbox.url, redis_url=redis_url)
    limits = BudgetLimits(group_per_minute=3)
    windows = [RedisWindow(redis_url, limits, key="test:groups") for _ in range(2)]
    bots = [build_bot(settings, budget=RateBudget(limits, shared=window)) for window in windows]
    try:
        await bots[0].send_message(group.id, "Session 3 starts in an hour")
        await bots[0].send_message(group.id, "Link: classroom 12")
        await bots[1].send_message(group.id, "Next session: Tuesday")
        # The second replica has sent once itself, but the group's minute is used up: its next
        # message waits instead of meeting Telegram's 429.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(bots[1].send_message(group.id, "One more"), 1.5)
    finally:
        for bot, window in zip(bots, windows, strict=True):
            await bot.session.close()
            await window.close()
    assert sandbox.rate_limited == []
    assert [m.text for m in sandbox.bot_messages(group.id)] == [
        "Session 3 starts in an hour",
        "Link: classroom 12",
        "Next session: Tuesday",
    ]
