"""Alembic environment: async engine, URL from the application's settings."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Final

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.db.attendance  # attendance marks, their history, the cohorts' trainers
import bot.db.audit  # the audit log of organisers' changes
import bot.db.certificates  # certificates of completion, verification look-ups
import bot.db.completion  # completion exceptions
import bot.db.faq  # the FAQ's and the staff inbox's tables
import bot.db.feedback  # feedback forms, requests and responses
import bot.db.models  # registers every table on SQLModel.metadata
import bot.db.quizzes  # noqa: F401  (quizzes, their runs in cohorts, the polls sent and their answers)
from bot.db.engine import create_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.config import load_settings

    return load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


#: The key of the PostgreSQL advisory lock that migrations run under (any fixed number).
MIGRATION_LOCK: Final = 7_140_219_001


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Replicas starting together: one migrates, the others wait here and then find the
        # schema at head. The lock is the connection's, held until it is released below.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if connection.dialect.name == "postgresql":
            if connection.in_transaction():
                connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()


async def run_migrations_online() -> None:
    engine = create_engine(_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
