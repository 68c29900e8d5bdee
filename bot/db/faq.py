"""The FAQ's tables and query functions: entries, the log of questions, and the staff inbox.

An entry keeps its texts as one JSON column, ``{lang: {"q": ..., "a": ..., "keywords": [...]}}``,
rather than a child row per language: an entry is always read whole (the matcher loads every
entry of a programme at once, the answer shows one language with a fallback to another) and
written whole (an import replaces it), the languages are six fixed codes, and nothing queries
by language; a child table would add a join to every read and nothing else.

A question a trainee asked lives on after they leave: ``/forgetme`` empties ``user_id`` and
``text`` (see :func:`erase_asks_of_user` and :func:`erase_questions_of_user`), the figures stay.
The functions flush at most; the calling service commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import utcnow
from bot.db.status import StaffQuestionStatus
from bot.db.types import UTCDateTime

OPEN = StaffQuestionStatus.OPEN
CLAIMED = StaffQuestionStatus.CLAIMED
CLOSED = StaffQuestionStatus.CLOSED
#: Statuses of a question nobody has closed yet (what ``/inbox`` lists).
UNSETTLED: Final = (OPEN, CLAIMED)
#: The longest question text kept (Telegram's own limit for one message).
MAX_TEXT: Final = 4096


class FaqEntry(SQLModel, table=True):
    """One question of a programme's FAQ with its answer in each language it was written in."""

    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("programme_id", "key", name="uq_faq_entry_programme_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    #: The entry's id in the organisers' file (``join-classin``), unique within the programme.
    key: str = Field(max_length=64)
    category: str = Field(max_length=64)
    #: ``{lang: {"q": question, "a": answer, "keywords": [extra phrasings]}}``.
    texts: dict[str, dict[str, Any]] = Field(default_factory=dict, sa_type=JSON)
    #: Where the entry stood in the last imported file; exports keep the organisers' order.
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffChat(SQLModel, table=True):
    """The staff supergroup a programme linked, where trainees' questions arrive."""

    __tablename__ = "staff_chats"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", unique=True, ondelete="CASCADE")
    chat_id: int = Field(sa_type=BigInteger, index=True)
    #: Whether the group has forum topics on (one topic per trainee), else reply threads.
    has_topics: bool = False
    linked_by: int | None = Field(default=None, sa_type=BigInteger)
    linked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffTopic(SQLModel, table=True):
    """A trainee's forum topic in the staff group, made once and reused for every question."""

    __tablename__ = "staff_topics"
    __table_args__ = (
        UniqueConstraint("programme_id", "user_id", name="uq_staff_topic_programme_user"),
        Index("ix_staff_topics_chat_thread", "chat_id", "thread_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    user_id: int = Field(sa_type=BigInteger)
    chat_id: int = Field(sa_type=BigInteger)
    #: The topic's ``message_thread_id``.
    thread_id: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffQuestion(SQLModel, table=True):
    """A question the FAQ did not settle, waiting for (or answered by) a person."""

    __tablename__ = "staff_questions"
    __table_args__ = (
        Index("ix_staff_questions_staff_message", "staff_chat_id", "staff_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    #: Who asked; None once they used ``/forgetme``.
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohorts.id", ondelete="SET NULL")
    lang: str = Field(max_length=8)
    #: What they asked; None once they used ``/forgetme``.
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    #: The keys of the entries the bot thought closest, best first.
    guesses: list[str] = Field(default_factory=list, sa_type=JSON)
    #: ``open``, ``claimed``, ``closed``.
    status: str = Field(default=OPEN, max_length=16, index=True)
    claimed_by: int | None = Field(default=None, sa_type=BigInteger)
    #: The chat that holds the staff's copy (the staff group, or an admin's private chat).
    staff_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    #: The staff's copy of the question, which replies and buttons refer to.
    staff_message_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    raised_again_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FaqAsk(SQLModel, table=True):
    """One question typed or chosen by a trainee: what matched, how well, and whether it helped."""

    __tablename__ = "faq_asks"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programmes.id", index=True, ondelete="CASCADE")
    #: Who asked; None once they used ``/forgetme``.
    user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    lang: str = Field(max_length=8)
    #: What they typed; None for a question picked from the menu, and after ``/forgetme``.
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    #: Keys of the entries offered, best first (empty when nothing came close).
    matched: list[str] = Field(default_factory=list, sa_type=JSON)
    #: The best entry's score (None when nothing matched).
    score: float | None = None
    escalated: bool = False
    #: The trainee's answer to "Did this help?" (None until they press a button).
    helped: bool | None = None
    question_id: int | None = Field(
        default=None, foreign_key="staff_questions.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# --- entries -------------------------------------------------------------------------------


async def entries_of_programme(session: AsyncSession, programme_id: int) -> list[FaqEntry]:
    """A programme's entries in the order of the file they came from."""
    result = await session.exec(
        select(FaqEntry)
        .where(FaqEntry.programme_id == programme_id)
        .order_by(col(FaqEntry.position), col(FaqEntry.id))
    )
    return list(result.all())


async def entries_stamp(session: AsyncSession, programme_id: int) -> tuple[int, int, object]:
    """What changes whenever a programme's entries do (count, newest id, latest update, as the
    database gives it): one small query, so that a kept matcher can be checked without
    reading the entries."""
    row = (
        await session.exec(
            select(
                func.count(col(FaqEntry.id)),
                func.max(col(FaqEntry.id)),
                func.max(col(FaqEntry.updated_at)),
            ).where(FaqEntry.programme_id == programme_id)
        )
    ).one()
    count, newest, updated = row
    return int(count or 0), int(newest or 0), updated


async def get_entry(session: AsyncSession, programme_id: int, key: str) -> FaqEntry | None:
    """The entry with this key in a programme."""
    result = await session.exec(
        select(FaqEntry).where(FaqEntry.programme_id == programme_id, FaqEntry.key == key)
    )
    return result.first()


async def delete_entries(session: AsyncSession, entries: Sequence[FaqEntry]) -> None:
    """Remove these entries (the log keeps the keys it recorded)."""
    for entry in entries:
        await session.delete(entry)
    await session.flush()


# --- the log of questions ----------------------------------------------------------------


async def add_ask(
    session: AsyncSession,
    *,
    programme_id: int,
    user_id: int | None,
    lang: str,
    text: str | None,
    matched: Sequence[str],
    score: float | None,
    escalated: bool,
    now: datetime,
    question_id: int | None = None,
) -> FaqAsk:
    """Record a question and what the bot made of it."""
    ask = FaqAsk(
        programme_id=programme_id,
        user_id=user_id,
        lang=lang,
        text=text[:MAX_TEXT] if text is not None else None,
        matched=list(matched),
        score=score,
        escalated=escalated,
        question_id=question_id,
        created_at=now,
    )
    session.add(ask)
    await session.flush()
    return ask


async def get_ask(session: AsyncSession, ask_id: int) -> FaqAsk | None:
    """The logged question with this id."""
    return await session.get(FaqAsk, ask_id)


async def asks_of_programme(
    session: AsyncSession, programme_id: int, since: datetime | None = None
) -> list[FaqAsk]:
    """A programme's logged questions, oldest first (only from ``since`` when given)."""
    statement = (
        select(FaqAsk)
        .where(FaqAsk.programme_id == programme_id)
        .order_by(col(FaqAsk.created_at), col(FaqAsk.id))
    )
    if since is not None:
        statement = statement.where(col(FaqAsk.created_at) >= since)
    return list((await session.exec(statement)).all())


async def asks_of_user(session: AsyncSession, user_id: int) -> list[FaqAsk]:
    """Everything a person asked the FAQ, oldest first (for ``/mydata``)."""
    result = await session.exec(
        select(FaqAsk).where(FaqAsk.user_id == user_id).order_by(col(FaqAsk.id))
    )
    return list(result.all())


async def erase_asks_of_user(session: AsyncSession, user_id: int) -> int:
    """Forget who asked and what: the rows stay for the figures. Returns how many."""
    asks = await asks_of_user(session, user_id)
    for ask in asks:
        ask.user_id = None
        ask.text = None
    await session.flush()
    return len(asks)


# --- the staff chat and topics -----------------------------------------------------------


async def get_staff_chat(session: AsyncSession, programme_id: int) -> StaffChat | None:
    """The staff group a programme linked, if any."""
    result = await session.exec(select(StaffChat).where(StaffChat.programme_id == programme_id))
    return result.first()


async def staff_chats_by_chat_id(session: AsyncSession, chat_id: int) -> list[StaffChat]:
    """The programmes' links to this chat (one group may serve several programmes)."""
    result = await session.exec(
        select(StaffChat).where(StaffChat.chat_id == chat_id).order_by(col(StaffChat.id))
    )
    return list(result.all())


async def link_staff_chat(
    session: AsyncSession,
    *,
    programme_id: int,
    chat_id: int,
    has_topics: bool,
    linked_by: int | None,
    now: datetime,
) -> StaffChat:
    """Make ``chat_id`` the programme's staff group (replacing an earlier one)."""
    link = await get_staff_chat(session, programme_id)
    if link is None:
        link = StaffChat(programme_id=programme_id, chat_id=chat_id)
        session.add(link)
    elif link.chat_id != chat_id:
        # Topics live in the old group; the new one gets its own.
        for topic in await topics_of_programme(session, programme_id):
            await session.delete(topic)
    link.chat_id = chat_id
    link.has_topics = has_topics
    link.linked_by = linked_by
    link.linked_at = now
    await session.flush()
    return link


async def unlink_staff_chat(session: AsyncSession, programme_id: int) -> bool:
    """Forget the programme's staff group and its topics; False when none was linked."""
    link = await get_staff_chat(session, programme_id)
    if link is None:
        return False
    for topic in await topics_of_programme(session, programme_id):
        await session.delete(topic)
    await session.delete(link)
    await session.flush()
    return True


async def topics_of_programme(session: AsyncSession, programme_id: int) -> list[StaffTopic]:
    """Every trainee's topic of a programme."""
    result = await session.exec(
        select(StaffTopic)
        .where(StaffTopic.programme_id == programme_id)
        .order_by(col(StaffTopic.id))
    )
    return list(result.all())


async def get_topic(session: AsyncSession, programme_id: int, user_id: int) -> StaffTopic | None:
    """A trainee's topic in the programme's staff group."""
    result = await session.exec(
        select(StaffTopic).where(
            StaffTopic.programme_id == programme_id, StaffTopic.user_id == user_id
        )
    )
    return result.first()


async def topic_by_thread(session: AsyncSession, chat_id: int, thread_id: int) -> StaffTopic | None:
    """The trainee's topic a staff member wrote in."""
    result = await session.exec(
        select(StaffTopic).where(StaffTopic.chat_id == chat_id, StaffTopic.thread_id == thread_id)
    )
    return result.first()


async def add_topic(
    session: AsyncSession,
    *,
    programme_id: int,
    user_id: int,
    chat_id: int,
    thread_id: int,
    now: datetime,
) -> StaffTopic:
    """Remember a trainee's new topic (the unique key refuses a second one for them)."""
    topic = StaffTopic(
        programme_id=programme_id,
        user_id=user_id,
        chat_id=chat_id,
        thread_id=thread_id,
        created_at=now,
    )
    session.add(topic)
    await session.flush()
    return topic


async def topics_of_user(session: AsyncSession, user_id: int) -> list[StaffTopic]:
    """A person's topics in every programme's staff group."""
    result = await session.exec(
        select(StaffTopic).where(StaffTopic.user_id == user_id).order_by(col(StaffTopic.id))
    )
    return list(result.all())


async def delete_topic(session: AsyncSession, topic: StaffTopic) -> None:
    """Forget a topic (deleted in Telegram, or its trainee used ``/forgetme``)."""
    await session.delete(topic)
    await session.flush()


# --- staff questions ---------------------------------------------------------------------


async def add_question(
    session: AsyncSession,
    *,
    programme_id: int,
    user_id: int | None,
    cohort_id: int | None,
    lang: str,
    text: str | None,
    guesses: Sequence[str],
    now: datetime,
) -> StaffQuestion:
    """Open a question for the staff."""
    question = StaffQuestion(
        programme_id=programme_id,
        user_id=user_id,
        cohort_id=cohort_id,
        lang=lang,
        text=text[:MAX_TEXT] if text is not None else None,
        guesses=list(guesses),
        status=OPEN,
        created_at=now,
    )
    session.add(question)
    await session.flush()
    return question


async def get_question(session: AsyncSession, question_id: int) -> StaffQuestion | None:
    """The staff question with this id."""
    return await session.get(StaffQuestion, question_id)


async def question_by_staff_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> StaffQuestion | None:
    """The question whose staff copy is this message (a staff member replied to it)."""
    result = await session.exec(
        select(StaffQuestion).where(
            StaffQuestion.staff_chat_id == chat_id, StaffQuestion.staff_message_id == message_id
        )
    )
    return result.first()


async def latest_question_of_user(
    session: AsyncSession,
    programme_id: int,
    user_id: int,
    statuses: Collection[str] = UNSETTLED,
) -> StaffQuestion | None:
    """A trainee's most recent question in a programme with one of ``statuses``."""
    result = await session.exec(
        select(StaffQuestion)
        .where(
            StaffQuestion.programme_id == programme_id,
            StaffQuestion.user_id == user_id,
            col(StaffQuestion.status).in_(list(statuses)),
        )
        .order_by(col(StaffQuestion.id).desc())
        .limit(1)
    )
    return result.first()


async def unsettled_questions(
    session: AsyncSession, programme_ids: Collection[int]
) -> list[StaffQuestion]:
    """Open and claimed questions of these programmes, oldest first (``/inbox``)."""
    if not programme_ids:
        return []
    result = await session.exec(
        select(StaffQuestion)
        .where(
            col(StaffQuestion.programme_id).in_(list(programme_ids)),
            col(StaffQuestion.status).in_(list(UNSETTLED)),
        )
        .order_by(col(StaffQuestion.created_at), col(StaffQuestion.id))
    )
    return list(result.all())


async def questions_to_raise_again(
    session: AsyncSession, asked_before: datetime
) -> list[StaffQuestion]:
    """Questions asked before ``asked_before``, still unanswered and never raised again."""
    result = await session.exec(
        select(StaffQuestion)
        .where(
            col(StaffQuestion.status).in_(list(UNSETTLED)),
            col(StaffQuestion.answered_at).is_(None),
            col(StaffQuestion.raised_again_at).is_(None),
            col(StaffQuestion.created_at) < asked_before,
        )
        .order_by(col(StaffQuestion.created_at), col(StaffQuestion.id))
    )
    return list(result.all())


async def questions_of_programme(
    session: AsyncSession, programme_id: int, since: datetime | None = None
) -> list[StaffQuestion]:
    """A programme's staff questions, oldest first (only from ``since`` when given)."""
    statement = (
        select(StaffQuestion)
        .where(StaffQuestion.programme_id == programme_id)
        .order_by(col(StaffQuestion.created_at), col(StaffQuestion.id))
    )
    if since is not None:
        statement = statement.where(col(StaffQuestion.created_at) >= since)
    return list((await session.exec(statement)).all())


async def questions_of_user(session: AsyncSession, user_id: int) -> list[StaffQuestion]:
    """Every question a person put to the staff, oldest first (for ``/mydata``)."""
    result = await session.exec(
        select(StaffQuestion)
        .where(StaffQuestion.user_id == user_id)
        .order_by(col(StaffQuestion.id))
    )
    return list(result.all())


async def claim_question(
    session: AsyncSession, question: StaffQuestion, staff_id: int
) -> StaffQuestion:
    """A staff member takes the question on (it stays unsettled until closed)."""
    if question.status != CLOSED:
        question.status = CLAIMED
        question.claimed_by = staff_id
    await session.flush()
    return question


async def mark_answered(
    session: AsyncSession, question: StaffQuestion, now: datetime
) -> StaffQuestion:
    """The staff's first answer went back to the trainee (later answers keep the first time)."""
    if question.answered_at is None:
        question.answered_at = now
    await session.flush()
    return question


async def close_question(
    session: AsyncSession, question: StaffQuestion, now: datetime
) -> StaffQuestion:
    """Settle the question."""
    if question.status != CLOSED:
        question.status = CLOSED
        question.closed_at = now
    await session.flush()
    return question


async def erase_questions_of_user(
    session: AsyncSession, user_id: int, now: datetime, cohort_ids: Collection[int] | None = None
) -> list[StaffQuestion]:
    """Close a person's questions and forget who asked and what; returns them.

    The caller closes the staff's copies in Telegram (the rows keep ``staff_chat_id`` and
    ``staff_message_id`` for that) and forgets the person's topics (:func:`topics_of_user`).
    With ``cohort_ids`` only the questions asked from those cohorts.
    """
    questions = [
        question
        for question in await questions_of_user(session, user_id)
        if cohort_ids is None or question.cohort_id in cohort_ids
    ]
    for question in questions:
        if question.status != CLOSED:
            question.status = CLOSED
            question.closed_at = now
        question.user_id = None
        question.text = None
    await session.flush()
    return questions
