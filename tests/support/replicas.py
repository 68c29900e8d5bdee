"""Replicas of the bot as real ``trainee-bot run`` processes in webhook mode, and a small
round-robin proxy in front of them (the reverse proxy's part), for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.app import SANDBOX_TOKEN
from tests.support.settings import ADMIN_ID

ROOT = Path(__file__).resolve().parents[2]
SECRET = "replicas-secret_0123456789"
_LEADER = re.compile(r'^trainee_leader\{replica="[^"]+"\} 1\.0$', re.MULTILINE)


def replica_env(
    *,
    sandbox_url: str,
    database_url: str,
    redis_url: str,
    proxy_port: int,
    replicas: int,
    **extra: str,
) -> dict[str, str]:
    """The environment of a replica: our settings only, pushes through the proxy."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": SANDBOX_TOKEN,
        "TELEGRAM_API_URL": sandbox_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REPLICAS": str(replicas),
        "WEBHOOK_URL": f"http://127.0.0.1:{proxy_port}/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
        "ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "WARNING",
        **extra,
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def round_robin_proxy(backends: list[str]) -> AsyncIterator[int]:
    """Forwards each push to the next replica that answers, as a reverse proxy would."""
    turn = itertools.count()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-telegram")}
        headers["Content-Type"] = "application/json"
        start = next(turn)
        for step in range(len(backends)):
            backend = backends[(start + step) % len(backends)]
            try:
                async with session.post(backend + request.path, data=body, headers=headers) as r:
                    return web.Response(status=r.status, body=await r.read())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()
        await session.close()


def start_replica(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """``trainee-bot run`` serving on ``port``, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env={**env, "WEBHOOK_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def leads(http: aiohttp.ClientSession, port: int) -> bool | None:
    """Whether the replica on ``port`` leads; None when it does not answer."""
    try:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as page:
            return bool(_LEADER.search(await page.text()))
    except aiohttp.ClientError:
        return None


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop_replicas(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (a clean stop), then SIGKILL for one that does not stop in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
