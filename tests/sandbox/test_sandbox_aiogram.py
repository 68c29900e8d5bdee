"""The real aiogram client against the sandbox: results parse, transcripts show what users see."""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from sandbox import Button


def yes_no() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Yes", callback_data="answer:yes"),
                InlineKeyboardButton(text="No", callback_data="answer:no"),
            ],
            [InlineKeyboardButton(text="Help", url="https://example.org/help")],
        ]
    )


async def test_get_me(bot, token):
    me = await bot.get_me()
    assert me.id == int(token.split(":")[0])
    assert me.is_bot
    assert me.username == "trainee_assistant_bot"
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False


async def test_keyboard_message_edit_and_callback_answer(sandbox, bot, ann):
    await sandbox.send_text(ann, "/start")
    sent = await bot.send_message(
        ann.id, "Ready for <b>day one</b>?", parse_mode="HTML", reply_markup=yes_no()
    )
    assert sent.text == "Ready for day one?"
    assert sent.entities is not None
    assert sent.entities[0].type == "bold"
    assert sent.chat.id == ann.id

    entry = await sandbox.next_bot_message(ann.id)
    assert entry.text == "Ready for day one?"
    assert entry.html == "Ready for <b>day one</b>?"
    assert entry.buttons == [
        [Button("Yes", callback_data="answer:yes"), Button("No", callback_data="answer:no")],
        [Button("Help", url="https://example.org/help")],
    ]

    query_id = await sandbox.press_button(ann, sent.message_id, "answer:yes")
    updates = await bot.get_updates(timeout=0)
    callback = updates[-1].callback_query
    assert callback is not None
    assert callback.data == "answer:yes"
    assert callback.message is not None
    assert callback.message.message_id == sent.message_id
    assert callback.id == query_id
    assert await bot.answer_callback_query(query_id, text="Saved", show_alert=True)
    assert sandbox.callback_answers[query_id] == {"text": "Saved", "show_alert": True}

    edited = await bot.edit_message_text(
        "You said <i>yes</i>.", chat_id=ann.id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    assert edited.reply_markup is None

    [user_message, bot_message] = sandbox.transcript(ann.id)
    assert user_message.text == "/start"
    assert not user_message.from_bot
    assert bot_message.text == "You said yes."
    assert bot_message.edited
    assert bot_message.buttons == []
    assert sandbox.violations == []


async def test_answering_a_query_twice_is_rejected(sandbox, bot, ann):
    sent = await bot.send_message(ann.id, "Pick", reply_markup=yes_no())
    query_id = await sandbox.press_button(ann, sent.message_id, "answer:no")
    await bot.answer_callback_query(query_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    assert len(sandbox.violations) == 1


async def test_edit_to_identical_content_is_not_modified(sandbox, bot, ann):
    sent = await bot.send_message(ann.id, "Same", reply_markup=yes_no())
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Same", chat_id=ann.id, message_id=sent.message_id, reply_markup=yes_no()
        )
    assert sandbox.violations[-1].startswith(
        "editMessageText: Bad Request: message is not modified"
    )


async def test_edit_reply_markup_and_caption(sandbox, bot, ann):
    sent = await bot.send_message(ann.id, "Choose", reply_markup=yes_no())
    edited = await bot.edit_message_reply_markup(chat_id=ann.id, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert sandbox.bot_messages(ann.id)[0].buttons == []

    document = await bot.send_document(ann.id, BufferedInputFile(b"x", "plan.txt"), caption="v1")
    recaptioned = await bot.edit_message_caption(
        chat_id=ann.id, message_id=document.message_id, caption="<b>v2</b>", parse_mode="HTML"
    )
    assert isinstance(recaptioned, Message)
    assert recaptioned.caption == "v2"
    assert sandbox.bot_messages(ann.id)[-1].caption == "v2"
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=document.message_id)


async def test_missing_messages(sandbox, bot, ann):
    await sandbox.send_text(ann, "hi")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=99)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ann.id, 99)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=1)
    assert len(sandbox.violations) == 3


async def test_delete_pin_copy_and_forward(sandbox, bot, ann, bob):
    first = await bot.send_message(ann.id, "first")
    second = await bot.send_message(ann.id, "second")
    assert second.message_id == first.message_id + 1
    assert await bot.pin_chat_message(ann.id, second.message_id)
    assert await bot.delete_message(ann.id, first.message_id)
    [entry] = sandbox.transcript(ann.id)
    assert entry.text == "second"
    assert entry.pinned
    assert await bot.unpin_chat_message(ann.id)
    assert not sandbox.transcript(ann.id)[0].pinned

    copied = await bot.copy_message(bob.id, from_chat_id=ann.id, message_id=second.message_id)
    forwarded = await bot.forward_message(bob.id, from_chat_id=ann.id, message_id=second.message_id)
    assert forwarded.forward_origin is not None
    assert [e.message_id for e in sandbox.bot_messages(bob.id)] == [
        copied.message_id,
        forwarded.message_id,
    ]
    assert sandbox.delivered[bob.id] == ["second", "second"]
    assert await bot.delete_messages(bob.id, [copied.message_id, 77])
    assert [e.text for e in sandbox.transcript(bob.id)] == ["second"]
    assert sandbox.violations == []


async def test_send_document_and_resend_by_file_id(sandbox, bot, ann):
    sent = await bot.send_document(
        ann.id, BufferedInputFile(b"week,topic\n1,intro\n", filename="plan.csv"), caption="Plan"
    )
    assert sent.document is not None
    assert sent.document.file_name == "plan.csv"
    assert sent.document.file_size == 19
    assert sent.document.mime_type == "text/csv"
    again = await bot.send_document(ann.id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id

    entries = sandbox.bot_messages(ann.id)
    assert [e.document_name for e in entries] == ["plan.csv", "plan.csv"]
    assert entries[0].document_bytes == b"week,topic\n1,intro\n"
    assert entries[0].caption == "Plan"
    assert sandbox.delivered[ann.id] == ["Plan", ""]

    downloaded = io.BytesIO()
    await bot.download(sent.document.file_id, destination=downloaded)
    assert downloaded.getvalue() == b"week,topic\n1,intro\n"

    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(ann.id, "no-such-file-id")


async def test_send_photo(sandbox, bot, ann):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\x80\x08\x02\x00\x00\x00"
    sent = await bot.send_photo(ann.id, BufferedInputFile(png, "chart.png"), caption="Chart")
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (256, 128)
    assert sandbox.bot_messages(ann.id)[0].photo
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ann.id, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_document(ann.id, sent.photo[-1].file_id)


async def test_download_a_users_document(sandbox, bot, ann):
    message = await sandbox.send_document(
        ann, "cv.pdf", b"%PDF-1.7 resume", mime_type="application/pdf", caption="My CV"
    )
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.document is not None
    assert update.message.document.file_id == message["document"]["file_id"]
    assert update.message.caption == "My CV"
    file = await bot.get_file(update.message.document.file_id)
    assert file.file_path is not None
    destination = io.BytesIO()
    await bot.download_file(file.file_path, destination)
    assert destination.getvalue() == b"%PDF-1.7 resume"


async def test_commands_descriptions_and_menu(sandbox, bot):
    from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, MenuButtonCommands

    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(
        commands, scope=BotCommandScopeAllPrivateChats(), language_code="de"
    )
    assert await bot.set_my_commands(commands[:1])
    assert sandbox.commands[('{"type":"all_private_chats"}', "de")] == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert sandbox.commands[('{"type":"default"}', "")] == [
        {"command": "start", "description": "Start"}
    ]
    fetched = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="de")
    assert [c.command for c in fetched] == ["start", "help"]
    assert await bot.delete_my_commands()
    assert ('{"type":"default"}', "") not in sandbox.commands

    assert await bot.set_my_description("Helps trainees", language_code="en")
    assert (await bot.get_my_description(language_code="en")).description == "Helps trainees"
    assert await bot.set_my_short_description("Trainee help")
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert (await bot.get_chat_menu_button()).type == "commands"
    assert await bot.send_chat_action(1001, "typing")
    assert sandbox.violations == []


async def test_dispatcher_polling_end_to_end(sandbox, bot, ann):
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.from_user.first_name if message.from_user else "there"
        await message.answer(
            f"Welcome, <b>{name}</b>!",
            parse_mode="HTML",
            reply_markup=yes_no(),
        )

    @router.callback_query(F.data.startswith("answer:"))
    async def answered(query: CallbackQuery) -> None:
        await query.answer("Noted")
        if isinstance(query.message, Message) and query.data:
            await query.message.edit_text(f"You chose {query.data.split(':')[1]}.")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False)
    )
    try:
        await sandbox.send_text(ann, "/start")
        welcome = await sandbox.next_bot_message(ann.id)
        assert welcome.text == "Welcome, Ann!"
        query_id = await sandbox.press_button(ann, welcome.message_id, "answer:no")
        await sandbox.wait_for(lambda: query_id in sandbox.callback_answers)
        await sandbox.wait_for(lambda: sandbox.bot_messages(ann.id)[-1].edited)
        await sandbox.settle(quiet=0.2)
        assert sandbox.callback_answers[query_id] == {"text": "Noted"}
        assert [e.text for e in sandbox.transcript(ann.id)] == ["/start", "You chose no."]
        assert sandbox.unread_bot_messages(ann.id) == []
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    assert sandbox.violations == []


async def test_next_bot_message_times_out_with_the_transcript(sandbox, ann):
    await sandbox.send_text(ann, "anyone there?")
    with pytest.raises(TimeoutError, match="anyone there"):
        await sandbox.next_bot_message(ann.id, timeout=0.05)
