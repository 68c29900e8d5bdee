"""The stairway: every revision upgrades, downgrades and upgrades again, on both backends."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel

import bot.db.attendance  # the attendance tables
import bot.db.audit  # the audit log
import bot.db.certificates  # the certificates' tables
import bot.db.completion  # completion exceptions
import bot.db.faq  # the FAQ's tables
import bot.db.feedback  # the feedback tables
import bot.db.models  # registers the tables
import bot.db.quizzes  # noqa: F401  (the quiz tables)
from bot.db import migrate
from bot.db.engine import create_engine


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_stairway(database_url: str) -> None:
    await migrate.downgrade(database_url, "base")
    assert await _tables(database_url) == set()
    revisions = migrate.revisions(database_url)
    assert revisions
    previous = "base"
    for revision in revisions:
        await migrate.upgrade(database_url, revision)
        await migrate.downgrade(database_url, previous)
        await migrate.upgrade(database_url, revision)
        previous = revision
    assert await _tables(database_url) == set(SQLModel.metadata.tables)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do: no table or column lives only in the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        )
    await engine.dispose()
    assert diff == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """Three replicas upgrading an empty database at the same moment (``trainee-bot migrate``
    in three processes): one migrates, the others wait for it and find nothing left to do."""
    await migrate.downgrade(database_url, "base")
    env = {**os.environ, "DATABASE_URL": database_url}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [(await p.communicate())[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    assert await _tables(database_url) == set(SQLModel.metadata.tables)
