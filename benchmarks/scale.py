"""Replicas: updates per second with 1, 2 and 3 replicas in webhook mode, and the takeover.

Each replica is a real ``trainee-bot run`` process on one PostgreSQL and one Redis (throw-away
servers), behind a round-robin proxy; the sandbox pushes every update to the proxy as
Telegram pushes to a webhook. Two measurements per replica count:
- throughput: 200 trainees each send 10 commands, each waiting for the bot's answer (closed
  loop); updates answered per second;
- latency at a rising push rate (open loop, 4 s each): p50/p99 from the moment the update is
  queued to the moment the bot's answer reaches the sandbox, and the share answered.
Then the takeover: two replicas, the leader killed with SIGKILL, the seconds until the other
leads (target < 15 s).

On a 2-core machine the replicas, PostgreSQL, Redis, the sandbox and the proxy share two
cores, so the ratio says how far the work spreads, not what more machines would give.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from benchmarks.common import percentile
from bot.db import migrate
from sandbox import Limits, Sandbox, SandboxUser
from tests.support.postgres import PostgresServer, find_bindir
from tests.support.redis import RedisServer, find_redis_server
from tests.support.replicas import (
    free_port,
    leads,
    replica_env,
    round_robin_proxy,
    start_replica,
    stop_replicas,
    wait_for,
)

_ids = itertools.count(70_000_001)
RATES = (50, 100, 200, 400)


async def _exchange(sandbox: Sandbox, user: SandboxUser, text: str) -> float:
    started = time.perf_counter()
    await sandbox.send_text(user, text)
    await sandbox.next_bot_message(user.id, timeout=30)
    return time.perf_counter() - started


async def _closed_loop(sandbox: Sandbox, people: int = 200, each: int = 10) -> float:
    users = [SandboxUser(id=next(_ids), first_name="T", language_code="en") for _ in range(people)]

    async def one(user: SandboxUser) -> None:
        for _ in range(each):
            await _exchange(sandbox, user, "/help")

    started = time.perf_counter()
    await asyncio.gather(*(one(user) for user in users))
    return people * each / (time.perf_counter() - started)


async def _open_loop(
    sandbox: Sandbox, rate: float, seconds: float = 4.0
) -> tuple[float, float, float]:
    count = int(rate * seconds)
    users = [SandboxUser(id=next(_ids), first_name="T", language_code="en") for _ in range(count)]
    started = time.perf_counter()

    async def one(n: int, user: SandboxUser) -> float | None:
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        try:
            return await _exchange(sandbox, user, "/help")
        except TimeoutError:
            return None

    results = await asyncio.gather(*(one(n, user) for n, user in enumerate(users)))
    answered = [r for r in results if r is not None]
    return percentile(answered, 50), percentile(answered, 99), len(answered) / count


async def _with_replicas(
    count: int, database_url: str, redis_url: str, folder: Path
) -> tuple[float, list[tuple[float, float, float, float]]]:
    sandbox = Sandbox(limits=Limits(enabled=False))
    await sandbox.start()
    sandbox.world.loopback_webhooks = True
    ports = [free_port() for _ in range(count)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        async with round_robin_proxy([f"http://127.0.0.1:{p}" for p in ports]) as proxy:
            env = replica_env(
                sandbox_url=sandbox.url,
                database_url=database_url,
                redis_url=redis_url,
                proxy_port=proxy,
                replicas=count,
                RATE_BUDGET="false",
            )
            for n, port in enumerate(ports):
                processes.append(start_replica(env, port, folder / f"r{count}-{n}.log"))
            async with aiohttp.ClientSession() as http:

                async def up() -> bool:
                    states = [await leads(http, port) for port in ports]
                    return None not in states and sandbox.world.webhook is not None

                await wait_for(up, 90, f"{count} replicas to serve")
            await _closed_loop(sandbox, people=50, each=4)  # warm-up
            throughput = await _closed_loop(sandbox)
            rising = []
            for rate in RATES:
                p50, p99, share = await _open_loop(sandbox, rate)
                rising.append((float(rate), p50, p99, share))
            return throughput, rising
    finally:
        stop_replicas(processes)
        await sandbox.stop()


async def _takeover(database_url: str, redis_url: str, folder: Path) -> float:
    sandbox = Sandbox(limits=Limits(enabled=False))
    await sandbox.start()
    sandbox.world.loopback_webhooks = True
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        async with round_robin_proxy([f"http://127.0.0.1:{p}" for p in ports]) as proxy:
            env = replica_env(
                sandbox_url=sandbox.url,
                database_url=database_url,
                redis_url=redis_url,
                proxy_port=proxy,
                replicas=2,
            )
            for n, port in enumerate(ports):
                processes.append(start_replica(env, port, folder / f"takeover-{n}.log"))
            async with aiohttp.ClientSession() as http:

                async def one_leads() -> bool:
                    states = [await leads(http, port) for port in ports]
                    return None not in states and states.count(True) == 1

                await wait_for(one_leads, 90, "one leader")
                leader = 0 if await leads(http, ports[0]) else 1
                processes[leader].send_signal(signal.SIGKILL)
                killed = time.perf_counter()

                async def other_leads() -> bool:
                    return bool(await leads(http, ports[1 - leader]))

                await wait_for(other_leads, 30, "the takeover")
                return time.perf_counter() - killed
    finally:
        stop_replicas(processes)
        await sandbox.stop()


async def main() -> None:
    bindir, program = find_bindir(), find_redis_server()
    if bindir is None or program is None:
        print("needs PostgreSQL (initdb) and redis-server installed; skipped")
        return
    postgres, redis = PostgresServer(bindir), RedisServer(program)
    postgres.start()
    redis.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        await postgres.aexecute("CREATE DATABASE bench")
        url = postgres.url("bench")
        await migrate.upgrade(url)
        figures = {}
        for count in (1, 2, 3):
            figures[count] = await _with_replicas(count, url, redis.url(), folder)
        base = figures[1][0]
        print(
            "replicas  updates/s  ratio   "
            + "  ".join(f"{r}/s: p50 p99 ms, answered" for r in RATES)
        )
        for count, (throughput, rising) in figures.items():
            cells = "  ".join(
                f"{p50 * 1000:5.0f} {p99 * 1000:5.0f} {share:4.0%}" for _, p50, p99, share in rising
            )
            print(f"{count:8d}  {throughput:9.0f}  {throughput / base:5.2f}   {cells}")
        takeover = await _takeover(url, redis.url(), folder)
        print(f"takeover after SIGKILL of the leader: {takeover:.1f} s (target < 15 s)")
    finally:
        redis.stop()
        postgres.stop()
