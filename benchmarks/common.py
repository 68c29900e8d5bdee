"""Shared pieces of the benchmarks: a running bot on the sandbox, percentiles, peak memory."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import SANDBOX_TOKEN, Application, application
from bot.clock import Clock, SystemClock
from bot.config import Settings
from sandbox import Sandbox


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``; 0 for an empty list."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[max(0, int(q * 10) - 1)]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_settings(sandbox_url: str, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": SANDBOX_TOKEN,
        "telegram_api_url": sandbox_url,
        "database_url": database_url,
        "admin_ids": [1],
        "log_level": "WARNING",
        "redis_url": None,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_bot(
    sandbox: Sandbox, clock: Clock | None = None, database_url: str | None = None, **extra: Any
) -> AsyncIterator[Application]:
    """Our bot on a fresh SQLite file (or ``database_url``), polling ``sandbox``, for the
    duration of the block."""
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        settings = bench_settings(sandbox.url, url, **extra)
        async with application(settings, clock=clock or SystemClock()) as app:
            await app.prepare()
            polling = asyncio.create_task(app.run_polling())
            try:
                yield app
            finally:
                await app.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(polling, timeout=10)
