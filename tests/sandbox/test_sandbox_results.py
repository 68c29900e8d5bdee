"""Every result and update the sandbox produces conforms to the official reference."""

from __future__ import annotations

from typing import Any

import aiogram.methods
import aiogram.types
from aiogram.methods.base import TelegramMethod
from pydantic import TypeAdapter

from sandbox import ApiSpec

AIOGRAM_METHODS: dict[str, type[TelegramMethod[Any]]] = {
    cls.__api_method__: cls
    for cls in vars(aiogram.methods).values()
    if isinstance(cls, type) and issubclass(cls, TelegramMethod) and cls is not TelegramMethod
}

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x00\x00\x00\x01\x00\x08\x02\x00\x00\x00"


async def test_results_match_the_reference_and_parse_in_aiogram(sandbox, raw, ann, bob, cohort):
    spec = ApiSpec.load()
    results: list[tuple[str, object]] = []

    async def ok(method: str, **params):
        result = await raw.ok(method, **params)
        results.append((method, result))
        return result

    await sandbox.send_text(ann, "/start")
    await sandbox.send_document(ann, "notes.txt", b"notes", caption="mine")
    await sandbox.add_bot_to_group(ann, cohort, as_admin=True)
    await sandbox.request_join(bob, cohort)
    await sandbox.join_chat(bob, cohort)

    await ok("getMe")
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    message = await ok(
        "sendMessage",
        chat_id=ann.id,
        text="<b>Hi</b> <a href='https://x.org'>x</a>",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    await sandbox.press_button(ann, message["message_id"], "go")
    await ok("sendMessage", chat_id=ann.id, text="reply", reply_parameters={"message_id": 1})
    await ok("editMessageText", chat_id=ann.id, message_id=message["message_id"], text="Bye")
    await ok(
        "editMessageReplyMarkup",
        chat_id=ann.id,
        message_id=message["message_id"],
        reply_markup=keyboard,
    )
    document = await ok(
        "sendDocument",
        encoding="multipart",
        chat_id=ann.id,
        document=("plan.pdf", b"%PDF"),
        caption="plan",
    )
    await ok("editMessageCaption", chat_id=ann.id, message_id=document["message_id"], caption="v2")
    await ok("sendPhoto", encoding="multipart", chat_id=ann.id, photo=("p.png", PNG))
    await ok(
        "sendMediaGroup",
        encoding="multipart",
        chat_id=ann.id,
        media=[
            {"type": "document", "media": "attach://one"},
            {"type": "document", "media": document["document"]["file_id"], "caption": "again"},
        ],
        one=("one.txt", b"1"),
    )
    await ok("copyMessage", chat_id=bob.id, from_chat_id=ann.id, message_id=1)
    await ok("forwardMessage", chat_id=bob.id, from_chat_id=ann.id, message_id=1)
    await ok("getFile", file_id=document["document"]["file_id"])
    await ok("sendChatAction", chat_id=ann.id, action="upload_document")
    await ok("pinChatMessage", chat_id=ann.id, message_id=1)
    await ok("unpinChatMessage", chat_id=ann.id)
    await ok("deleteMessage", chat_id=ann.id, message_id=1)
    await ok("setMyCommands", commands=[{"command": "start", "description": "Start"}])
    await ok("getMyCommands")
    await ok("setMyDescription", description="d")
    await ok("getMyDescription")
    await ok("setMyShortDescription", short_description="s")
    await ok("getMyShortDescription")
    await ok("getMyName")
    await ok("setChatMenuButton", menu_button={"type": "commands"})
    await ok("getChatMenuButton", chat_id=ann.id)
    await ok("getChat", chat_id=ann.id)
    await ok("getChat", chat_id=cohort.id)
    await ok("getChatMember", chat_id=cohort.id, user_id=ann.id)
    await ok("getChatMember", chat_id=cohort.id, user_id=bob.id)
    await ok("getChatMember", chat_id=cohort.id, user_id=sandbox.world.bot_id)
    await ok("getChatAdministrators", chat_id=cohort.id)
    await ok("getChatMemberCount", chat_id=cohort.id)
    await ok("createChatInviteLink", chat_id=cohort.id, name="n", member_limit=3)
    await ok("exportChatInviteLink", chat_id=cohort.id)
    await ok("getWebhookInfo")
    await ok("deleteWebhook")
    await ok("getUpdates", allowed_updates=[])

    await ok("getChatMember", chat_id=cohort.id, user_id=bob.id)
    sandbox.set_chat_member(cohort.id, bob, "administrator")
    await ok("getChatMember", chat_id=cohort.id, user_id=bob.id)
    await ok("getChatAdministrators", chat_id=cohort.id)

    assert sandbox.violations == []
    for method, result in results:
        spec.validate_value(result, spec.methods[method].returns, path=method)
        returning = AIOGRAM_METHODS[method].__returning__
        TypeAdapter(returning).validate_python(result)
    updates = [u for m, r in results if m == "getUpdates" and isinstance(r, list) for u in r]
    for update in updates:
        aiogram.types.Update.model_validate(update)
    kinds = {next(k for k in u if k != "update_id") for u in updates}
    assert kinds >= {"message", "callback_query", "my_chat_member", "chat_join_request"}


def test_reference_index():
    spec = ApiSpec.load()
    assert spec.version.startswith("Bot API")
    assert spec.find_method("sendmessage") is spec.methods["sendMessage"]
    scope = spec.types["BotCommandScope"]
    assert scope.discriminator == "type"
    assert scope.variants["chat_member"] == "BotCommandScopeChatMember"
    assert spec.types["ChatMember"].discriminator == "status"


def test_conformance_check_is_strict():
    import pytest

    from sandbox.spec import SpecError

    spec = ApiSpec.load()
    good = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
    spec.validate_value(good, ["Message"])
    with pytest.raises(SpecError, match="bogus"):
        spec.validate_value({**good, "bogus": 1}, ["Message"])
    with pytest.raises(SpecError, match="chat"):
        spec.validate_value({"message_id": 1, "date": 0}, ["Message"])
