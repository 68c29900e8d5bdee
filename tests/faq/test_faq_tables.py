"""The FAQ's and the staff inbox's query functions on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import faq as faq_db
from bot.db.status import StaffQuestionStatus
from tests.faq.import_support import make_programme


async def test_one_topic_per_trainee_and_programme(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    link = await faq_db.link_staff_chat(
        session,
        programme_id=programme_id,
        chat_id=-1001,
        has_topics=True,
        linked_by=7,
        now=clock.now(),
    )
    topic = await faq_db.add_topic(
        session, programme_id=programme_id, user_id=42, chat_id=-1001, thread_id=5, now=clock.now()
    )
    await session.commit()
    assert link.has_topics
    assert await faq_db.get_topic(session, programme_id, 42) == topic
    assert await faq_db.topic_by_thread(session, -1001, 5) == topic
    assert [c.programme_id for c in await faq_db.staff_chats_by_chat_id(session, -1001)] == [
        programme_id
    ]
    with pytest.raises(IntegrityError):
        await faq_db.add_topic(
            session,
            programme_id=programme_id,
            user_id=42,
            chat_id=-1001,
            thread_id=6,
            now=clock.now(),
        )
    await session.rollback()

    # Another group: the old group's topics are gone, the link points at the new one.
    await faq_db.link_staff_chat(
        session,
        programme_id=programme_id,
        chat_id=-1002,
        has_topics=False,
        linked_by=7,
        now=clock.now(),
    )
    await session.commit()
    assert await faq_db.get_topic(session, programme_id, 42) is None
    staff_chat = await faq_db.get_staff_chat(session, programme_id)
    assert staff_chat is not None
    assert (staff_chat.chat_id, staff_chat.has_topics) == (-1002, False)
    assert await faq_db.unlink_staff_chat(session, programme_id)
    assert not await faq_db.unlink_staff_chat(session, programme_id)


async def test_questions_from_open_to_closed_and_raised_again(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    question = await faq_db.add_question(
        session,
        programme_id=programme_id,
        user_id=42,
        cohort_id=None,
        lang="ar",
        text="متى تبدأ الجلسة",
        guesses=["session-time", "recordings"],
        now=clock.now(),
    )
    question.staff_chat_id, question.staff_message_id = -1001, 77
    ask = await faq_db.add_ask(
        session,
        programme_id=programme_id,
        user_id=42,
        lang="ar",
        text="متى تبدأ الجلسة",
        matched=["session-time"],
        score=0.41,
        escalated=True,
        now=clock.now(),
        question_id=question.id,
    )
    await session.commit()
    assert question.status == StaffQuestionStatus.OPEN
    assert await faq_db.question_by_staff_message(session, -1001, 77) == question
    assert await faq_db.latest_question_of_user(session, programme_id, 42) == question
    assert await faq_db.unsettled_questions(session, [programme_id]) == [question]

    later = clock.now() + timedelta(hours=5)
    assert await faq_db.questions_to_raise_again(session, clock.now()) == []
    assert await faq_db.questions_to_raise_again(session, later) == [question]
    question.raised_again_at = later
    assert await faq_db.questions_to_raise_again(session, later) == []

    await faq_db.claim_question(session, question, 7)
    await faq_db.mark_answered(session, question, later)
    await faq_db.mark_answered(session, question, later + timedelta(hours=1))
    assert (question.status, question.claimed_by, question.answered_at) == ("claimed", 7, later)
    await faq_db.close_question(session, question, later)
    await session.commit()
    assert await faq_db.unsettled_questions(session, [programme_id]) == []
    assert await faq_db.latest_question_of_user(session, programme_id, 42) is None
    assert (await faq_db.asks_of_programme(session, programme_id))[0].question_id == question.id
    assert ask.matched == ["session-time"]


async def test_forgetting_a_trainee_keeps_the_figures_and_drops_the_words(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    await faq_db.add_ask(
        session,
        programme_id=programme_id,
        user_id=42,
        lang="zh",
        text="证书什么时候发",
        matched=["certificate"],
        score=0.9,
        escalated=False,
        now=clock.now(),
    )
    question = await faq_db.add_question(
        session,
        programme_id=programme_id,
        user_id=42,
        cohort_id=None,
        lang="zh",
        text="天气怎么样",
        guesses=[],
        now=clock.now(),
    )
    await session.commit()
    assert len(await faq_db.asks_of_user(session, 42)) == 1
    assert await faq_db.questions_of_user(session, 42) == [question]

    assert await faq_db.erase_asks_of_user(session, 42) == 1
    erased = await faq_db.erase_questions_of_user(session, 42, clock.now())
    await session.commit()
    assert erased == [question]
    assert (question.user_id, question.text, question.status) == (None, None, "closed")
    assert await faq_db.asks_of_user(session, 42) == []
    (ask,) = await faq_db.asks_of_programme(session, programme_id)
    assert (ask.user_id, ask.text, ask.matched) == (None, None, ["certificate"])
