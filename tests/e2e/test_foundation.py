"""A trainee's first minutes with the bot, walked through the sandbox over real HTTP."""

from __future__ import annotations

import json

from bot.db.models import User
from sandbox import Sandbox, SandboxUser
from tests.support.e2e import RunningBot


async def test_menus_registered_per_language_and_for_admins(running_bot: RunningBot) -> None:
    sb = running_bot.sandbox
    default = json.dumps({"type": "default"}, separators=(",", ":"), sort_keys=True)
    languages = {lang for scope, lang in sb.commands if scope == default}
    assert languages == {"", "en", "zh", "ru", "fr", "es", "ar"}
    ru = [c["description"] for c in sb.commands[(default, "ru")]]
    assert any("язык" in d.lower() for d in ru)
    admin_scopes = [
        (scope, lang) for scope, lang in sb.commands if '"chat"' in scope and lang == "en"
    ]
    assert admin_scopes
    admin_names = [c["command"] for c in sb.commands[admin_scopes[0]]]
    trainee_names = [c["command"] for c in sb.commands[(default, "en")]]
    assert set(trainee_names) < set(admin_names)


async def test_start_language_and_timezone(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/start")
    welcome = await sandbox.next_bot_message(trainee.id)
    assert "Welcome, Amina!" in (welcome.text or "")
    assert [b.text for b in welcome.buttons[0]] == ["🌐 Language", "🕒 Time zone"]

    await sandbox.send_text(trainee, "/language")
    picker = await sandbox.next_bot_message(trainee.id)
    russian = next(b for row in picker.buttons for b in row if b.text.endswith("Русский"))
    await sandbox.press_button(trainee, picker.message_id, russian.callback_data or "")
    await sandbox.settle()
    [edited] = [m for m in sandbox.bot_messages(trainee.id) if m.message_id == picker.message_id]
    assert edited.edited
    assert "русск" in (edited.text or "").lower()

    await sandbox.send_text(trainee, "/timezone")
    ask = await sandbox.next_bot_message(trainee.id)
    assert "UTC+5:30" in (ask.text or "")
    await sandbox.send_text(trainee, "Kampala")
    confirm = await sandbox.next_bot_message(trainee.id)
    assert "UTC+3" in (confirm.text or "")
    yes = confirm.buttons[0][0]
    await sandbox.press_button(trainee, confirm.message_id, yes.callback_data or "")
    await sandbox.settle()
    async with running_bot.session_factory() as session:
        user = await session.get(User, trainee.id)
    assert user is not None
    assert user.locale == "ru"
    assert user.timezone == "Africa/Kampala"


async def test_offset_with_several_zones_offers_choices(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/timezone")
    await sandbox.next_bot_message(trainee.id)
    await sandbox.send_text(trainee, "UTC+5:45")
    answer = await sandbox.next_bot_message(trainee.id)
    options = [b for row in answer.buttons for b in row]
    assert options
    assert any((b.callback_data or "").endswith(":Asia/Kathmandu") for b in options)


async def test_unknown_place_is_explained(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/timezone")
    await sandbox.next_bot_message(trainee.id)
    await sandbox.send_text(trainee, "Atlantis under the sea")
    answer = await sandbox.next_bot_message(trainee.id)
    assert "could not find a time zone" in (answer.text or "")
    async with running_bot.session_factory() as session:
        user = await session.get(User, trainee.id)
    assert user is not None
    assert user.timezone is None


async def test_forged_and_stale_buttons_are_answered(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/start")
    welcome = await sandbox.next_bot_message(trainee.id)
    query_id = await sandbox.press_button(trainee, welcome.message_id, "lang:klingon")
    await sandbox.settle()
    assert sandbox.callback_answers[query_id]["text"] == "This button is no longer active."
    assert sandbox.unread_bot_messages(trainee.id) == []


async def test_admin_status_refused_to_trainee(
    running_bot: RunningBot, sandbox: Sandbox, trainee: SandboxUser, admin: SandboxUser
) -> None:
    await sandbox.send_text(trainee, "/status")
    refusal = await sandbox.next_bot_message(trainee.id)
    assert "only for the programme's organisers" in (refusal.text or "")
    await sandbox.send_text(admin, "/status")
    status = await sandbox.next_bot_message(admin.id)
    assert "2" in (status.text or "")  # two people have written to the bot
