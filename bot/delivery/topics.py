"""Forum topics the sender posts into: a trainee's one topic in a programme's staff group.

An outbox payload may carry ``"topic": {"programme_id", "user_id", "name"}`` instead of a
thread: the transport asks the :class:`TopicBook` for the trainee's thread, makes the topic
(once: under a lock per trainee, so a burst of questions never opens two) when there is none,
and makes it again when Telegram says the thread is gone (a staff member deleted it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import faq as faq_db


@dataclass(frozen=True, slots=True)
class TopicKey:
    """Whose topic, in which programme's staff group."""

    programme_id: int
    user_id: int

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> TopicKey:
        return cls(int(payload["programme_id"]), int(payload["user_id"]))


class TopicBook(Protocol):
    """Where the threads of trainees' topics are kept."""

    async def thread_of(self, key: TopicKey, chat_id: int) -> int | None: ...

    async def remember(self, key: TopicKey, chat_id: int, thread_id: int) -> None: ...

    async def forget(self, key: TopicKey, chat_id: int, thread_id: int) -> None: ...


class StaffTopics:
    """The topic book over the ``staff_topics`` table; each call its own short transaction."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sf = session_factory
        self._clock = clock

    async def thread_of(self, key: TopicKey, chat_id: int) -> int | None:
        async with self._sf() as session:
            topic = await faq_db.get_topic(session, key.programme_id, key.user_id)
            if topic is None or topic.chat_id != chat_id:
                return None
            return topic.thread_id

    async def remember(self, key: TopicKey, chat_id: int, thread_id: int) -> None:
        async with self._sf() as session:
            old = await faq_db.get_topic(session, key.programme_id, key.user_id)
            if old is not None:
                await faq_db.delete_topic(session, old)
            await faq_db.add_topic(
                session,
                programme_id=key.programme_id,
                user_id=key.user_id,
                chat_id=chat_id,
                thread_id=thread_id,
                now=self._clock.now(),
            )
            try:
                await session.commit()
            except IntegrityError:  # another sender remembered one first: theirs stays
                await session.rollback()

    async def forget(self, key: TopicKey, chat_id: int, thread_id: int) -> None:
        async with self._sf() as session:
            topic = await faq_db.get_topic(session, key.programme_id, key.user_id)
            if topic is not None and topic.chat_id == chat_id and topic.thread_id == thread_id:
                await faq_db.delete_topic(session, topic)
                await session.commit()


class TopicLocks:
    """One lock per trainee's topic, dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[TopicKey, asyncio.Lock] = {}
        self._users: dict[TopicKey, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: TopicKey) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]
