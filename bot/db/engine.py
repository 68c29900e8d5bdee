"""The async engine and the session factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import registration


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``database_url`` (SQLite via aiosqlite, PostgreSQL via asyncpg).

    SQLite gets WAL (readers do not block the writer), foreign keys on, and a busy timeout so
    that the sender, the scheduler and handlers can share one file.

    Pools: handlers end their transaction before they talk to Telegram, so a connection is
    held only while a query runs; the pool still allows for a burst of updates arriving at
    once (each SQLite connection is a thread, so there are more of them than cores anyway).
    Returning a connection skips the pool's extra ROLLBACK: SQLAlchemy has already ended the
    connection's transaction by then (commit, or the rollback of ``Session.close``), and on
    SQLite that ROLLBACK is one more trip to the connection's thread for every update.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    if database_url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        if ":memory:" not in database_url and "mode=memory" not in database_url:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 30
            kwargs["pool_reset_on_return"] = None
    else:
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 20
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(database_url, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (handlers render them after).

    Each factory has a session class of its own, so what listens to its sessions' events
    (:func:`on_flush`) hears this factory's sessions only, never another application's.
    """
    own_class = type("FactorySession", (Session,), {})
    factory = async_sessionmaker(
        engine, class_=AsyncSession, expire_on_commit=False, sync_session_class=own_class
    )
    on_flush(factory, registration.forget_on_new_grant)
    return factory


def on_flush(
    factory: async_sessionmaker[AsyncSession], listener: Callable[[OrmSession, Any], None]
) -> None:
    """Call ``listener(session, flush_context)`` after every flush of the factory's sessions."""
    event.listen(factory.kw["sync_session_class"], "after_flush", listener)
