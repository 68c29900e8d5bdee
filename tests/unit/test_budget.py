"""The rate budget, on a fake clock: Telegram's limits in any sliding window, answers first."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.budget import BudgetLimits, Priority, RateBudget, interactive


class FakeTime:
    """Monotonic time that moves only when someone waits (or the test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def budget(time: FakeTime, **limits: float) -> RateBudget:
    return RateBudget(BudgetLimits(**limits), monotonic=time, sleep=time.sleep)  # type: ignore[arg-type]


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The largest number of ``times`` inside any window of ``seconds`` (closed at its start)."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


async def grants(b: RateBudget, time: FakeTime, count: int, **kwargs: object) -> list[float]:
    out = []
    for _ in range(count):
        await b.acquire(**kwargs)  # type: ignore[arg-type]
        out.append(time.now)
    return out


async def test_background_sends_stay_inside_every_sliding_second_and_use_the_rate() -> None:
    time = FakeTime()
    b = budget(time)
    times = await grants(b, time, 600)  # 20 seconds of a broadcast
    assert most_in_any_window(times, 1.0) <= 30
    rate = (len(times) - 1) / (times[-1] - times[0])
    # All of the rate the budget keeps: 30 in any window widened by its margin.
    assert rate >= 0.98 * 30 / b.limits.window


async def test_a_stall_is_not_made_up_with_a_burst() -> None:
    time = FakeTime()
    b = budget(time)
    times = await grants(b, time, 40)
    time.now += 0.6  # a database write held the sender up
    times += await grants(b, time, 40)
    time.now += 60  # a long pause
    times += await grants(b, time, 40)
    assert most_in_any_window(times, 1.0) <= 30


async def test_answers_may_come_in_a_burst_but_never_over_the_limit() -> None:
    time = FakeTime()
    b = budget(time)
    with interactive():
        first = await grants(b, time, 30)
        assert first == [first[0]] * 30  # thirty people answered at once
        more = await grants(b, time, 5)
    assert more[0] >= first[0] + 1.0  # the 31st waits for the first to leave the window


async def test_a_private_chat_gets_three_at_once_then_one_a_second() -> None:
    time = FakeTime()
    b = budget(time)
    with interactive():
        times = await grants(b, time, 6, chat_id=42)
    assert times[:3] == [times[0]] * 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[2:])]
    assert all(gap >= 1.0 for gap in gaps)
    # Another person is not held up by the first one's chat.
    before = time.now
    with interactive():
        await b.acquire(chat_id=43)
    assert time.now == before


async def test_a_group_gets_twenty_a_minute() -> None:
    time = FakeTime()
    b = budget(time)
    times = await grants(b, time, 25, chat_id=-100)
    assert most_in_any_window(times, 60.0) <= 20
    assert times[20] - times[0] >= 60.0


async def test_a_429_pauses_everyone() -> None:
    time = FakeTime()
    b = budget(time)
    await b.acquire()
    b.pause(30)
    paused_at = time.now
    with interactive():
        await b.acquire(chat_id=7)
    assert time.now >= paused_at + 30
    assert b.paused_for() == 0


async def test_disabled_budget_lets_everything_through() -> None:
    time = FakeTime()
    b = budget(time, enabled=False)
    await grants(b, time, 1000, chat_id=5)
    assert time.now == 1000.0


async def test_answers_go_before_a_waiting_broadcast() -> None:
    # Real time here (the order is what matters, not how long anything took).
    b = RateBudget(BudgetLimits(per_second=20))
    order: list[str] = []

    async def broadcast() -> None:
        for n in range(30):
            await b.acquire(priority=Priority.BACKGROUND)
            order.append(f"b{n}")

    async def answer(n: int) -> None:
        await asyncio.sleep(0.3)
        with interactive():
            await b.acquire(chat_id=500 + n)
        order.append(f"a{n}")

    await asyncio.gather(broadcast(), *(answer(n) for n in range(5)))
    answers = [order.index(f"a{n}") for n in range(5)]
    # The five answers went out together, not one between each of the broadcast's sends.
    assert max(answers) - min(answers) == 4
    assert max(answers) < len(order) - 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=0.2),
            st.booleans(),
            st.sampled_from([None, 1, 2, 3, -5]),
        ),
        min_size=1,
        max_size=150,
    )
)
def test_no_mix_of_calls_ever_breaks_a_limit(calls: list[tuple[float, bool, int | None]]) -> None:
    time = FakeTime()
    b = budget(time)
    granted: dict[int | None, list[float]] = {}
    overall: list[float] = []

    async def run() -> None:
        for gap, urgent, chat in calls:
            time.now += gap
            await b.acquire(chat, Priority.INTERACTIVE if urgent else Priority.BACKGROUND)
            overall.append(time.now)
            granted.setdefault(chat, []).append(time.now)

    asyncio.run(run())
    assert most_in_any_window(overall, 1.0) <= 30
    for chat, times in granted.items():
        if chat is not None and chat > 0:
            # Three at once, then one a second: never four in any second.
            assert most_in_any_window(times, 1.0) <= 3
        elif chat is not None:
            assert most_in_any_window(times, 60.0) <= 20


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_many_callers_at_once_keep_every_limit(seed: int) -> None:
    rng = random.Random(seed)
    time = FakeTime()
    b = budget(time)
    overall: list[float] = []
    per_chat: dict[int, list[float]] = {}

    async def caller(chat: int, urgent: bool) -> None:
        await time.sleep(rng.random())
        await b.acquire(chat, Priority.INTERACTIVE if urgent else Priority.BACKGROUND)
        overall.append(time.now)
        per_chat.setdefault(chat, []).append(time.now)

    await asyncio.gather(*(caller(rng.randint(1, 20), rng.random() < 0.5) for _ in range(200)))
    assert len(overall) == 200
    assert most_in_any_window(overall, 1.0) <= 30
    assert all(most_in_any_window(t, 1.0) <= 3 for t in per_chat.values())


async def test_a_call_on_its_way_counts_until_a_window_after_its_answer() -> None:
    # Three calls a second; they leave at once but take 0.4 s to be answered (a busy loop, a
    # slow network): Telegram may see them as late as that, so the next three may go only a
    # whole window after the answers, never a window after the grants.
    time = FakeTime()
    b = budget(time, per_second=3, margin=0.0)
    for _ in range(3):
        await b.acquire(priority=Priority.INTERACTIVE, hold=True)
    assert b.in_flight == 3
    time.now += 0.4
    for _ in range(3):
        b.release()
    assert b.in_flight == 0
    await b.acquire(priority=Priority.INTERACTIVE, hold=True)
    assert time.now == pytest.approx(1000.0 + 0.4 + 1.0)


async def test_calls_never_answered_hold_back_the_next_until_they_are() -> None:
    time = FakeTime()
    b = budget(time, per_second=2, margin=0.0)
    for _ in range(2):
        await b.acquire(priority=Priority.INTERACTIVE, hold=True)
    waiting = asyncio.create_task(b.acquire(priority=Priority.INTERACTIVE, hold=True))
    for _ in range(50):
        await asyncio.sleep(0)
    assert not waiting.done()  # however much time passes, two are still on their way
    b.release()
    await asyncio.wait_for(waiting, timeout=5)
    assert b.in_flight == 2
