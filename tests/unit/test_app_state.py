"""The bot's own small facts (its username, the attendance code's secret) on SQLite and
PostgreSQL: replicas that start together and store the same fact at once both succeed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import users as users_db

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def test_two_replicas_storing_the_bot_username_at_once_both_start(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as first, session_factory() as second:
        # The first replica has written the fact and not committed yet when the second,
        # which found nothing stored either, writes it too.
        await users_db.set_state(first, "bot_username", "old_name_bot", NOW)

        async def second_replica() -> None:
            await users_db.set_state(second, "bot_username", "trainee_assistant_bot", NOW)
            await second.commit()

        writing = asyncio.create_task(second_replica())
        await asyncio.sleep(0.3)
        await first.commit()
        await asyncio.wait_for(writing, 30)
    async with session_factory() as session:
        assert await users_db.get_state(session, "bot_username") == "trainee_assistant_bot"


async def test_a_fact_read_before_it_changed_is_read_anew(session: AsyncSession) -> None:
    await users_db.set_state(session, "attendance_secret", "one", NOW)
    await session.commit()
    assert await users_db.get_state(session, "attendance_secret") == "one"
    await users_db.set_state(session, "attendance_secret", "two", NOW)
    await session.commit()
    assert await users_db.get_state(session, "attendance_secret") == "two"
