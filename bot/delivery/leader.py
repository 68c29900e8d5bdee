"""Which replica runs the sender and the scheduler: the one holding a PostgreSQL advisory lock.

On SQLite there is one process by construction, so it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

#: An arbitrary constant naming "the trainee assistant's background work" to PostgreSQL.
LOCK_KEY = 0x7A41_5E17


@contextlib.asynccontextmanager
async def leadership(engine: AsyncEngine, retry_every: float = 5.0) -> AsyncIterator[None]:
    """Wait until this process leads; keep the lock's connection open while inside the block."""
    if engine.dialect.name != "postgresql":
        yield
        return
    connection: AsyncConnection | None = None
    while connection is None:
        candidate = await engine.connect()
        got = await candidate.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
        if got.scalar():
            connection = candidate
            break
        await candidate.close()
        log.info("another replica runs the sender; waiting")
        await asyncio.sleep(retry_every)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        await connection.close()
