"""A trainee asks: their question matched against the programme's FAQ, the asking logged, and
"Did this help?" kept.

The matcher of each programme is built once and kept by :class:`Matchers` (an object the
application owns) until the programme's FAQ changes. Matching runs on one worker thread of
its own: a burst of questions waits its turn there and never holds up other updates (on the
default pool of many threads, pure-Python matching would keep the event loop from the GIL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import faq as faq_db
from bot.db.faq import FaqEntry
from bot.services.faq.library import load_entries
from bot.services.faq.matching import EntryText, Matcher, Verdict
from bot.services.text_cleaning import clean_block

_T = TypeVar("_T")


class Matchers:
    """Each programme's matcher, rebuilt when its FAQ was imported again."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[tuple[int, int, object], Matcher]] = {}
        self._lock = asyncio.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faq-matcher")

    async def run(self, work: Callable[[], _T]) -> _T:
        """``work`` on the matchers' own thread."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    async def ask(self, session: AsyncSession, programme_id: int, text: str, lang: str) -> Verdict:
        """The programme's matcher's verdict on a question."""
        matcher = await self.of(session, programme_id)
        return await self.run(lambda: matcher.ask(text, lang))

    async def of(self, session: AsyncSession, programme_id: int) -> Matcher:
        stamp = await faq_db.entries_stamp(session, programme_id)
        kept = self._kept.get(programme_id)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        async with self._lock:
            kept = self._kept.get(programme_id)
            if kept is not None and kept[0] == stamp:
                return kept[1]
            entries = [
                EntryText(
                    id=e.id,
                    category=e.category,
                    questions=e.questions,
                    answers=e.answers,
                    keywords=e.keywords,
                )
                for e in await load_entries(session, programme_id)
            ]
            matcher = await self.run(lambda: Matcher(entries))
            self._kept[programme_id] = (stamp, matcher)
            return matcher


@dataclass(frozen=True, slots=True)
class Asked:
    """What the FAQ made of a question: the log's row and the matcher's verdict."""

    ask_id: int
    verdict: Verdict


async def ask(
    session: AsyncSession,
    matchers: Matchers,
    programme_id: int,
    user_id: int | None,
    lang: str,
    text: str,
    now: datetime,
) -> Asked:
    """Match a question (off the event loop) and log it. Commits."""
    text = clean_block(text, faq_db.MAX_TEXT)
    verdict = await matchers.ask(session, programme_id, text, lang)
    row = await faq_db.add_ask(
        session,
        programme_id=programme_id,
        user_id=user_id,
        lang=lang,
        text=text,
        matched=[m.id for m in verdict.matches],
        score=verdict.matches[0].score if verdict.matches else None,
        escalated=verdict.escalate,
        now=now,
    )
    await session.commit()
    if row.id is None:
        raise RuntimeError("the question was not logged")
    return Asked(ask_id=row.id, verdict=verdict)


async def log_choice(
    session: AsyncSession, programme_id: int, user_id: int, lang: str, key: str, now: datetime
) -> int:
    """A question picked from the /faq menu (no text typed), logged. Commits."""
    row = await faq_db.add_ask(
        session,
        programme_id=programme_id,
        user_id=user_id,
        lang=lang,
        text=None,
        matched=[key],
        score=1.0,
        escalated=False,
        now=now,
    )
    await session.commit()
    return row.id or 0


async def helped(
    session: AsyncSession, ask_id: int, user_id: int, answer: bool
) -> faq_db.FaqAsk | None:
    """The trainee's "Did this help?"; None when the asking is not theirs. Commits."""
    row = await faq_db.get_ask(session, ask_id)
    if row is None or row.user_id != user_id:
        return None
    row.helped = answer
    await session.commit()
    return row


async def entries(session: AsyncSession, programme_id: int) -> list[FaqEntry]:
    """The programme's entries, in the organisers' order."""
    return await faq_db.entries_of_programme(session, programme_id)


async def entry(session: AsyncSession, programme_id: int, key: str) -> FaqEntry | None:
    return await faq_db.get_entry(session, programme_id, key)
