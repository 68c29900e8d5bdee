"""Forum supergroups through the real aiogram client: topics and topic messages parse, errors
raise as Telegram's do, and a dispatcher answers staff in their topic."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message, ReplyParameters


async def test_aiogram_parses_topics_and_topic_messages(sandbox, bot, ann, forum):
    chat = await bot.get_chat(forum.id)
    assert chat.is_forum is True
    await bot.get_updates(offset=-1)  # drop what came before
    topic = await bot.create_forum_topic(forum.id, "Ann Lee", icon_color=7322096)
    assert topic.name == "Ann Lee"
    assert topic.icon_color == 7322096

    sent = await bot.send_message(
        forum.id, "New question", message_thread_id=topic.message_thread_id
    )
    assert sent.message_thread_id == topic.message_thread_id
    assert sent.is_topic_message is True
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.forum_topic_created is not None
    document = await bot.send_document(
        forum.id, BufferedInputFile(b"a,b\n", "q.csv"), message_thread_id=topic.message_thread_id
    )
    assert document.message_thread_id == topic.message_thread_id

    await sandbox.post_in_topic(
        ann, forum, topic.message_thread_id, "Answer", reply_to_message_id=sent.message_id
    )
    updates = await bot.get_updates(offset=-2)
    created, staff_reply = (u.message for u in updates[-2:])
    assert created is not None
    assert created.forum_topic_created is not None
    assert created.forum_topic_created.name == "Ann Lee"
    assert created.is_topic_message is True
    assert created.message_thread_id == topic.message_thread_id
    assert staff_reply is not None
    assert staff_reply.message_thread_id == topic.message_thread_id
    assert staff_reply.is_topic_message is True
    assert staff_reply.reply_to_message is not None
    assert staff_reply.reply_to_message.message_id == sent.message_id

    answer = await bot.send_message(
        forum.id, "Thanks", reply_parameters=ReplyParameters(message_id=staff_reply.message_id)
    )
    assert answer.message_thread_id == topic.message_thread_id

    assert await bot.edit_forum_topic(forum.id, topic.message_thread_id, name="Ann Lee (done)")
    assert await bot.close_forum_topic(forum.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(forum.id, "x", message_thread_id=topic.message_thread_id)
    assert await bot.reopen_forum_topic(forum.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(forum.id, "x", reply_parameters=ReplyParameters(message_id=999))
    assert await bot.delete_forum_topic(forum.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=topic.message_thread_id)


async def test_aiogram_errors_for_topics(sandbox, bot, ann, cohort):
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(cohort.id, "x")
    await sandbox.create_forum(ann, cohort, bot_can_manage_topics=False)
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(cohort.id, "x")


async def test_dispatcher_answers_staff_in_their_topic(sandbox, bot, ann, forum):
    """The staff inbox's shape: a staff reply in a topic reaches a handler that answers there,
    and after an admin deletes the topic the bot notices and opens a new one."""
    router = Router()
    noticed: list[str] = []

    @router.message(F.is_topic_message, F.reply_to_message, F.text)
    async def staff_reply(message: Message) -> None:
        await message.answer(f"Forwarded: {message.text}")  # aiogram keeps the topic

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    topic = await bot.create_forum_topic(forum.id, "Trainee Bob")
    await bot.send_message(forum.id, "Bob asks", message_thread_id=topic.message_thread_id)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False)
    )
    try:
        question = sandbox.bot_messages_in_topic(forum.id, topic.message_thread_id)[0]
        await sandbox.post_in_topic(
            ann,
            forum,
            topic.message_thread_id,
            "Next week",
            reply_to_message_id=question.message_id,
        )
        await sandbox.wait_for(
            lambda: len(sandbox.bot_messages_in_topic(forum.id, topic.message_thread_id)) == 2
        )
        await sandbox.settle(quiet=0.2)
        reply = sandbox.bot_messages_in_topic(forum.id, topic.message_thread_id)[-1]
        assert reply.text == "Forwarded: Next week"
        assert reply.thread_id == topic.message_thread_id
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await polling

    await sandbox.delete_topic(ann, forum.id, topic.message_thread_id)
    try:
        await bot.send_message(forum.id, "Bob again", message_thread_id=topic.message_thread_id)
    except TelegramBadRequest as exc:
        noticed.append(exc.message)
        fresh = await bot.create_forum_topic(forum.id, "Trainee Bob")
        await bot.send_message(forum.id, "Bob again", message_thread_id=fresh.message_thread_id)
    assert noticed == ["Bad Request: message thread not found"]
    assert [t.name for t in sandbox.topics(forum.id)] == ["Trainee Bob"]
    assert sandbox.violations == []
