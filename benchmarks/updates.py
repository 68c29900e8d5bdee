"""Update handling: our bot against a bare aiogram echo bot, on the same sandbox.

Simulated trainees send commands through the sandbox (rate limits off). Two measurements for
each bot:
- throughput: 100 trainees each send 20 messages as fast as the bot answers (closed loop);
- latency at a steady 200 updates/s for 10 seconds (open loop): p50 and p99 from the moment
  the update is queued to the moment the bot's answer reaches the sandbox.
Targets: ours at least half the echo bot's throughput; p99 under 100 ms at 200 updates/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from benchmarks.common import percentile, running_bot
from bot.sandbox import Limits, Sandbox, SandboxUser

COMMANDS = ["/help", "/settings", "/start", "hello", "/language"]
ECHO_TOKEN = "2000002:echo-bot-token-for-the-benchmark-00000000"  # noqa: S105 (not a secret)


@asynccontextmanager
async def echo_bot(sandbox: Sandbox) -> AsyncIterator[None]:
    """The smallest aiogram bot there is: answers every message with its text."""
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    bot = Bot(ECHO_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    await asyncio.sleep(0.2)
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, timeout=10)
        await bot.session.close()


async def _one(sandbox: Sandbox, user: SandboxUser, text: str) -> float:
    started = time.perf_counter()
    await sandbox.send_text(user, text)
    await sandbox.next_bot_message(user.id, timeout=30)
    return time.perf_counter() - started


async def closed_loop(sandbox: Sandbox, base_id: int, users: int = 100, each: int = 20) -> float:
    """Updates per second with ``users`` trainees each waiting for an answer before going on."""
    people = [SandboxUser(id=base_id + i, first_name=f"T{i}") for i in range(users)]

    async def walk(user: SandboxUser) -> None:
        for text in itertools.islice(itertools.cycle(COMMANDS), each):
            await _one(sandbox, user, text)

    for user in people:  # warm-up: everyone known to the bot
        await _one(sandbox, user, "/start")
    started = time.perf_counter()
    await asyncio.gather(*(walk(u) for u in people))
    return users * each / (time.perf_counter() - started)


async def open_loop(
    sandbox: Sandbox, base_id: int, rate: float = 200, seconds: float = 10
) -> list[float]:
    """Latencies of updates injected at a steady ``rate`` per second."""
    people = [SandboxUser(id=base_id + i, first_name=f"R{i}") for i in range(int(rate))]
    for user in people:
        await _one(sandbox, user, "/start")
    latencies: list[float] = []
    tasks = []
    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        user = people[n % len(people)]

        async def record(u: SandboxUser = user, text: str = COMMANDS[n % 2]) -> None:
            latencies.append(await _one(sandbox, u, text))

        tasks.append(asyncio.create_task(record()))
    await asyncio.gather(*tasks)
    return latencies


def _row(name: str, throughput: float, latencies: list[float]) -> str:
    return (
        f"{name:<10} {throughput:8.0f} upd/s   p50 {percentile(latencies, 50) * 1000:6.1f} ms"
        f"   p99 {percentile(latencies, 99) * 1000:6.1f} ms"
    )


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    async with Sandbox(limits=Limits(enabled=False)) as sandbox:
        async with running_bot(sandbox):
            ours_tp = await closed_loop(sandbox, 100_000)
            ours_lat = await open_loop(sandbox, 200_000)
        async with echo_bot(sandbox):
            echo_tp = await closed_loop(sandbox, 300_000)
            echo_lat = await open_loop(sandbox, 400_000)
    print("updates benchmark (SQLite, sandbox limits off)")
    print(_row("ours", ours_tp, ours_lat))
    print(_row("echo bot", echo_tp, echo_lat))
    print(f"throughput ratio ours/echo: {ours_tp / echo_tp:.2f} (target >= 0.5)")
    print(f"p99 at 200 updates/s: {percentile(ours_lat, 99) * 1000:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    asyncio.run(main())
