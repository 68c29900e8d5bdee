"""Update handling: our bot against a bare aiogram echo bot, on the same sandbox.

Simulated trainees send commands through the sandbox (rate limits off, and our bot's rate
budget too, as the echo bot has none). Two measurements for
each bot:
- throughput: 100 trainees each send 20 messages as fast as the bot answers (closed loop),
  after one warm-up run; the median of three runs, each with new trainees;
- latency at a steady 200 updates/s for 10 seconds (open loop): p50 and p99 from the moment
  the update is queued to the moment the bot's answer reaches the sandbox.
Targets: ours at least half the echo bot's throughput; p99 under 100 ms at 200 updates/s.

The sandbox and the simulated trainees run in a process of their own (a fresh one for each
bot), so the bot's process is charged only with the bot's work and the load keeps its pace
whatever the bot does. ``BENCH_SANDBOX=inline`` runs everything in one process instead.
Both bots run in the same arrangement, one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import statistics
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol, cast

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from benchmarks.common import percentile, running_bot
from bot.app import Application
from bot.telegram_models import keep_response_models
from sandbox import Limits, Sandbox, SandboxUser

COMMANDS = ["/help", "/settings", "/start", "hello", "/language"]
ECHO_TOKEN = "2000002:echo-bot-token-for-the-benchmark-00000000"  # noqa: S105 (not a secret)

#: A load to run next to the sandbox: ``scenario(sandbox, *args)``; a module-level function,
#: so that it can be handed to the sandbox's process.
Scenario = Callable[..., Awaitable[Any]]


class SandboxHost(Protocol):
    """A running sandbox and a way to run loads next to it."""

    url: str

    async def run(self, scenario: Scenario, *args: Any) -> Any: ...


class _InlineHost:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.url = sandbox.url

    async def run(self, scenario: Scenario, *args: Any) -> Any:
        return await scenario(self.sandbox, *args)


class _ProcessHost:
    def __init__(self, conn: Connection, process: BaseProcess) -> None:
        self._conn = conn
        self._process = process
        self.url = ""

    async def receive(self) -> Any:
        """The next message from the sandbox's process; fails if that process died."""
        while not await asyncio.to_thread(self._conn.poll, 0.5):
            if not self._process.is_alive():
                raise RuntimeError("the sandbox's process ended unexpectedly")
        return self._conn.recv()

    async def run(self, scenario: Scenario, *args: Any) -> Any:
        self._conn.send((scenario, args))
        ok, value = await self.receive()
        if not ok:
            raise RuntimeError(f"the load failed in the sandbox's process:\n{value}")
        return value


def _sandbox_process(conn: Connection, limits: Limits) -> None:
    asyncio.run(_serve_loads(conn, limits))


async def _serve_loads(conn: Connection, limits: Limits) -> None:
    async with Sandbox(limits=limits) as sandbox:
        conn.send(sandbox.url)
        while (job := await asyncio.to_thread(conn.recv)) is not None:
            scenario, args = job
            try:
                conn.send((True, await scenario(sandbox, *args)))
            except Exception:  # the parent re-raises it with this traceback
                conn.send((False, traceback.format_exc()))


def inline_sandbox() -> bool:
    """Whether ``BENCH_SANDBOX=inline`` asks for the sandbox in the bot's own process."""
    return os.environ.get("BENCH_SANDBOX", "").lower() == "inline"


@asynccontextmanager
async def sandbox_host(limits: Limits | None = None) -> AsyncIterator[SandboxHost]:
    """A fresh sandbox (limits off unless given), in its own process unless
    :func:`inline_sandbox`."""
    limits = limits or Limits(enabled=False)
    if inline_sandbox():
        async with Sandbox(limits=limits) as sandbox:
            yield _InlineHost(sandbox)
        return
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_sandbox_process, args=(theirs, limits), daemon=True)
    process.start()
    host = _ProcessHost(ours, process)
    try:
        host.url = await host.receive()
        yield host
    finally:
        with contextlib.suppress(OSError):
            ours.send(None)
        await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.terminate()
        ours.close()


@asynccontextmanager
async def our_bot(host: SandboxHost, **settings: Any) -> AsyncIterator[Application]:
    """Our bot (fresh SQLite file) polling the sandbox at ``host.url``."""
    # running_bot reads nothing but the sandbox's URL.
    async with running_bot(cast(Sandbox, host), **settings) as app:
        yield app


@asynccontextmanager
async def echo_bot(host: SandboxHost) -> AsyncIterator[None]:
    """The smallest aiogram bot there is: answers every message with its text.

    It gets our aiogram set-up too (the Bot API answer models built once), so the two bots
    differ only in what they do.
    """
    keep_response_models()
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    bot = Bot(ECHO_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(host.url)))
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


def _row(name: str, runs: list[float], latencies: list[float]) -> str:
    each = " / ".join(f"{run:.0f}" for run in runs)
    return (
        f"{name:<10} {statistics.median(runs):8.0f} upd/s ({each})"
        f"   p50 {percentile(latencies, 50) * 1000:6.1f} ms"
        f"   p99 {percentile(latencies, 99) * 1000:6.1f} ms"
    )


#: Throughput runs per bot, after a warm-up run; the median is reported.
RUNS = 3


async def _measure(host: SandboxHost) -> tuple[list[float], list[float]]:
    """A bot's throughput (median of :data:`RUNS` closed loops after a warm-up one, each with
    new trainees) and its latencies at 200 updates/s.

    The warm-up run is not counted: a bot runs for hours, and what its first seconds cost
    (caches filled, code paths taken once) is not what a programme day sees.
    """
    await host.run(closed_loop, 10_000, 100, 4)
    runs = [await host.run(closed_loop, 100_000 * (n + 1)) for n in range(RUNS)]
    latencies = await host.run(open_loop, 900_000)
    return runs, latencies


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    # Neither bot holds back for Telegram's limits here (the sandbox has none): this measures
    # the update path, not the rate budget (benchmarks/rush.py measures under the limits).
    async with sandbox_host() as host, our_bot(host, rate_budget=False):
        ours_runs, ours_lat = await _measure(host)
    async with sandbox_host() as host, echo_bot(host):
        echo_runs, echo_lat = await _measure(host)
    where = "in the bot's process" if inline_sandbox() else "in a process of its own"
    print(f"updates benchmark (SQLite, sandbox limits off, sandbox {where})")
    print(_row("ours", ours_runs, ours_lat))
    print(_row("echo bot", echo_runs, echo_lat))
    ratio = statistics.median(ours_runs) / statistics.median(echo_runs)
    print(f"throughput ratio ours/echo: {ratio:.2f} (target >= 0.5)")
    print(f"p99 at 200 updates/s: {percentile(ours_lat, 99) * 1000:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    asyncio.run(main())
