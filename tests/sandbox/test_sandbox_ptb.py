"""python-telegram-bot's strict parsing accepts every answer the sandbox gives."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    ChatFullInfo,
    ChatInviteLink,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)


@pytest.fixture
async def ptb(sandbox, token) -> AsyncIterator[telegram.Bot]:
    client = telegram.Bot(
        token, base_url=f"{sandbox.url}/bot", base_file_url=f"{sandbox.url}/file/bot"
    )
    async with client:
        yield client


async def test_ptb_round_trip(sandbox, ptb, ann, cohort, token):
    me = await ptb.get_me()
    assert me.id == int(token.split(":")[0])
    assert me.username == "trainee_assistant_bot"

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    sent = await ptb.send_message(ann.id, "<b>Hello</b>", parse_mode="HTML", reply_markup=keyboard)
    assert sent.text == "Hello"
    assert sent.reply_markup == keyboard

    await sandbox.send_text(ann, "/start")
    query_id = await sandbox.press_button(ann, sent.message_id, "yes")
    await sandbox.send_document(ann, "cv.pdf", b"%PDF-1.4 cv", mime_type="application/pdf")
    updates = await ptb.get_updates(timeout=1)
    assert [u.effective_message is not None for u in updates] == [True, True, True]
    assert updates[0].message.text == "/start"
    assert updates[1].callback_query.data == "yes"
    assert updates[1].callback_query.id == query_id
    document = updates[2].message.document
    assert document.file_name == "cv.pdf"

    assert await ptb.answer_callback_query(query_id, text="Thanks")
    edited = await ptb.edit_message_text("Bye", chat_id=ann.id, message_id=sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Bye"
    assert edited.edit_date is not None

    uploaded = await ptb.send_document(ann.id, document=b"a,b\n", filename="plan.csv")
    assert uploaded.document.file_name == "plan.csv"

    file = await ptb.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 cv"

    commands = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    assert await ptb.set_my_commands(commands, scope=BotCommandScopeChat(ann.id))
    fetched = await ptb.get_my_commands(scope=BotCommandScopeChat(ann.id))
    assert [c.command for c in fetched] == ["start", "help"]

    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    link = await ptb.create_chat_invite_link(cohort.id, name="Cohort", creates_join_request=True)
    assert isinstance(link, ChatInviteLink)
    assert link.invite_link.startswith("https://t.me/+")
    assert link.creates_join_request

    chat = await ptb.get_chat(cohort.id)
    assert isinstance(chat, ChatFullInfo)
    assert chat.title == "Cohort 2026"
    private = await ptb.get_chat(ann.id)
    assert private.first_name == "Ann"

    owner = await ptb.get_chat_member(cohort.id, ann.id)
    assert isinstance(owner, ChatMemberOwner)
    itself = await ptb.get_chat_member(cohort.id, me.id)
    assert isinstance(itself, ChatMemberAdministrator)
    assert itself.can_invite_users

    assert sandbox.violations == []


async def test_ptb_service_updates_parse(sandbox, ptb, ann, bob, cohort):
    await sandbox.add_bot_to_group(ann, cohort)
    await sandbox.request_join(bob, cohort)
    await sandbox.send_text(bob, "hello all", chat=cohort)
    updates = await ptb.get_updates()
    kinds = [(u.my_chat_member is not None, u.chat_join_request is not None) for u in updates]
    assert kinds == [(True, False), (False, False), (False, True), (False, False)]
    assert updates[1].message.new_chat_members[0].is_bot
    assert updates[3].message.chat.type == "supergroup"
