"""Every request is checked against the official reference and Telegram's stated limits."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

CHAT = 1001


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


async def test_valid_request_is_not_a_violation(sandbox, raw):
    result = await raw.ok("sendMessage", chat_id=CHAT, text="hello")
    assert result["text"] == "hello"
    assert sandbox.violations == []


async def test_unknown_method_is_404_like_telegram(sandbox, raw):
    status, body = await raw.call("sendMesage", chat_id=CHAT, text="hi")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert sandbox.violations == ["sendMesage: Not Found"]


async def test_method_names_are_case_insensitive(sandbox, raw):
    await raw.ok("SENDMESSAGE", chat_id=CHAT, text="hi")
    assert sandbox.requests[-1].method == "sendMessage"


async def test_bad_token_is_unauthorized(sandbox):
    url = f"{sandbox.url}/botnot-a-token/getMe"
    async with aiohttp.ClientSession() as session, session.post(url) as response:
        assert response.status == 401
        assert (await response.json())["description"] == "Unauthorized"
    assert sandbox.violations == ["getMe: Unauthorized"]


async def test_missing_required_parameter(sandbox, raw):
    status, body = await raw.call("sendMessage", text="hi")
    assert status == 400
    assert body["description"] == "Bad Request: chat_id is empty"
    status, body = await raw.call("getFile")
    assert body["description"] == 'Bad Request: parameter "file_id" is required'
    assert len(sandbox.violations) == 2


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (
            {"chat_id": CHAT, "message_id": "abc", "text": "x"},
            '"message_id" must be of type Integer',
        ),
        ({"chat_id": "1.5x", "message_id": 1, "text": "x"}, "chat not found"),
        ({"chat_id": CHAT, "message_id": 1, "text": "x", "reply_markup": "{oops"}, "JSON"),
        (
            {"chat_id": CHAT, "message_id": 1, "text": "x", "reply_markup": {"inline_keyboard": 5}},
            "inline_keyboard",
        ),
    ],
)
async def test_wrong_types_are_rejected(sandbox, raw, params, fragment):
    status, body = await raw.call("editMessageText", **params)
    assert status == 400
    assert fragment in body["description"]


async def test_wrong_type_is_a_violation(sandbox, raw):
    status, _ = await raw.call("sendMessage", chat_id=CHAT, text="x", disable_notification="maybe")
    assert status == 400
    assert sandbox.violations == [
        'sendMessage: Bad Request: parameter "disable_notification" must be of type Boolean'
    ]


async def test_nested_json_values_must_have_json_types(raw):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": 5}]]}
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="x", reply_markup=markup)
    assert status == 400
    assert "inline_keyboard[0][0].callback_data" in body["description"]
    assert "String" in body["description"]


async def test_unknown_parameter_is_rejected(sandbox, raw):
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="x", colour="red")
    assert status == 400
    assert body["description"] == 'Bad Request: unknown parameter "colour"'
    assert sandbox.violations == ['sendMessage: Bad Request: unknown parameter "colour"']


async def test_unknown_nested_field_and_missing_nested_field(raw):
    markup = keyboard({"text": "A", "callback_data": "a", "colour": "red"})
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="x", reply_markup=markup)
    assert status == 400
    assert "colour" in body["description"]
    status, body = await raw.call(
        "sendMessage", chat_id=CHAT, text="x", reply_markup={"inline_keyboard": [[{"url": "x"}]]}
    )
    assert status == 400
    assert "text" in body["description"]
    assert "required" in body["description"]


async def test_legacy_parameters_telegram_still_honours_are_accepted(sandbox, raw):
    first = await raw.ok("sendMessage", chat_id=CHAT, text="first")
    reply = await raw.ok(
        "sendMessage",
        chat_id=CHAT,
        text="second",
        reply_to_message_id=first["message_id"],
        disable_web_page_preview=True,
    )
    assert reply["reply_to_message"]["message_id"] == first["message_id"]
    assert sandbox.violations == []


@pytest.mark.parametrize("encoding", ["form", "json", "query", "multipart"])
async def test_every_encoding_is_accepted(sandbox, raw, encoding):
    markup = keyboard({"text": "Go", "callback_data": "go"})
    status, body = await raw.call(
        "sendMessage", encoding=encoding, chat_id=CHAT, text="hi", reply_markup=markup
    )
    assert status == 200, body
    assert body["result"]["reply_markup"] == markup
    assert sandbox.violations == []


async def test_text_of_4096_is_accepted_and_4097_rejected(sandbox, raw):
    await raw.ok("sendMessage", chat_id=CHAT, text="a" * 4096)
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="a" * 4097)
    assert status == 400
    assert body["description"] == "Bad Request: message is too long"
    assert sandbox.violations == ["sendMessage: Bad Request: message is too long"]


async def test_html_limit_applies_to_visible_text(sandbox, raw):
    text = "<b>" + "a" * 4000 + "</b>" + "&lt;" * 96
    result = await raw.ok("sendMessage", chat_id=CHAT, text=text, parse_mode="HTML")
    assert len(result["text"]) == 4096
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 4000}]
    status, _ = await raw.call("sendMessage", chat_id=CHAT, text=text + "b", parse_mode="HTML")
    assert status == 400
    assert sandbox.violations == ["sendMessage: Bad Request: message is too long"]


async def test_empty_text_after_parsing_is_rejected(raw):
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="<b> </b>", parse_mode="HTML")
    assert status == 400
    assert body["description"] == "Bad Request: message text is empty"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<a href="x>y</a>', "Unclosed end of attribute value at byte offset 9"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_malformed_html_is_rejected(sandbox, raw, text, reason):
    status, body = await raw.call("sendMessage", chat_id=CHAT, text=text, parse_mode="HTML")
    assert status == 400
    assert body["description"] == f"Bad Request: can't parse entities: {reason}"
    assert sandbox.violations == [f"sendMessage: {body['description']}"]


async def test_unsupported_parse_mode(raw):
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="x", parse_mode="Rich")
    assert status == 400
    assert "unsupported parse_mode" in body["description"]


async def test_markdown_v2_reserved_characters_must_be_escaped(raw):
    status, body = await raw.call(
        "sendMessage", chat_id=CHAT, text="Done.", parse_mode="MarkdownV2"
    )
    assert status == 400
    assert "Character '.' is reserved" in body["description"]
    result = await raw.ok("sendMessage", chat_id=CHAT, text="*Done*\\.", parse_mode="MarkdownV2")
    assert result["text"] == "Done."


@pytest.mark.parametrize("data", ["a" * 65, "é" * 33, ""])
async def test_callback_data_must_be_1_to_64_bytes(sandbox, raw, data):
    markup = keyboard({"text": "A", "callback_data": data})
    status, body = await raw.call("sendMessage", chat_id=CHAT, text="x", reply_markup=markup)
    assert status == 400
    assert body["description"].startswith("Bad Request: BUTTON_DATA_INVALID")
    assert len(sandbox.violations) == 1


async def test_callback_data_of_64_bytes_is_accepted(raw):
    markup = keyboard({"text": "A", "callback_data": "é" * 32})
    await raw.ok("sendMessage", chat_id=CHAT, text="x", reply_markup=markup)


@pytest.mark.parametrize(
    "button",
    [{"text": "A"}, {"text": "A", "callback_data": "a", "url": "https://example.org"}],
)
async def test_inline_button_needs_exactly_one_action(raw, button):
    status, body = await raw.call(
        "sendMessage", chat_id=CHAT, text="x", reply_markup=keyboard(button)
    )
    assert status == 400
    assert "inline keyboard button" in body["description"]


async def test_reply_markup_union_accepts_reply_keyboards(sandbox, raw):
    markup = {"keyboard": [[{"text": "Yes"}, {"text": "No"}]], "resize_keyboard": True}
    await raw.ok("sendMessage", chat_id=CHAT, text="Pick", reply_markup=markup)
    assert sandbox.transcript(CHAT)[-1].keyboard == [["Yes", "No"]]
    assert sandbox.current_keyboard(CHAT) == [["Yes", "No"]]
    await raw.ok("sendMessage", chat_id=CHAT, text="Ok", reply_markup={"remove_keyboard": True})
    assert sandbox.current_keyboard(CHAT) is None


async def test_caption_limit(sandbox, raw):
    status, body = await raw.call(
        "sendDocument",
        encoding="multipart",
        chat_id=CHAT,
        document=("a.txt", b"data"),
        caption="c" * 1025,
    )
    assert status == 400
    assert body["description"] == "Bad Request: message caption is too long"
    result = await raw.ok(
        "sendDocument",
        encoding="multipart",
        chat_id=CHAT,
        document=("a.txt", b"x"),
        caption="c" * 1024,
    )
    assert len(result["caption"]) == 1024
    assert sandbox.violations == ["sendDocument: Bad Request: message caption is too long"]


async def test_answer_callback_query_text_limit(sandbox, raw, ann):
    message = await raw.ok("sendMessage", chat_id=ann.id, text="x")
    query = await sandbox.press_button(ann, message["message_id"], "x")
    status, body = await raw.call("answerCallbackQuery", callback_query_id=query, text="t" * 201)
    assert status == 400
    assert "MESSAGE_TOO_LONG" in body["description"]
    await raw.ok("answerCallbackQuery", callback_query_id=query, text="t" * 200)


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ({"command": "Start", "description": "Begin"}, "BOT_COMMAND_INVALID"),
        ({"command": "a" * 33, "description": "Begin"}, "BOT_COMMAND_INVALID"),
        ({"command": "start", "description": ""}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        ({"command": "start", "description": "d" * 257}, "BOT_COMMAND_DESCRIPTION_INVALID"),
    ],
)
async def test_bot_command_rules(raw, command, fragment):
    status, body = await raw.call("setMyCommands", commands=[command])
    assert status == 400
    assert fragment in body["description"]


async def test_at_most_100_commands(raw):
    commands = [{"command": f"c{i}", "description": "d"} for i in range(101)]
    status, body = await raw.call("setMyCommands", commands=commands)
    assert status == 400
    assert "BOT_COMMANDS_TOO_MUCH" in body["description"]
    await raw.ok("setMyCommands", commands=commands[:100])


async def test_union_subtypes_are_told_apart_by_their_type(sandbox, raw):
    commands = [{"command": "start", "description": "Begin"}]
    scope = {"type": "chat", "chat_id": CHAT}
    await raw.ok("setMyCommands", commands=commands, scope=scope)
    status, body = await raw.call("setMyCommands", commands=commands, scope={"type": "everyone"})
    assert status == 400
    assert "'everyone'" in body["description"]
    status, body = await raw.call("setMyCommands", commands=commands, scope={"type": "chat"})
    assert status == 400
    assert "scope.chat_id" in body["description"]
    assert len(sandbox.violations) == 2


async def test_unimplemented_method_is_reported(sandbox, raw):
    status, body = await raw.call("sendDice", chat_id=CHAT)
    assert status == 400
    assert body["description"] == "Bad Request: method is not supported by the sandbox"
    assert sandbox.violations == ["sendDice: Bad Request: method is not supported by the sandbox"]


async def test_requests_are_logged_with_decoded_params(sandbox, raw):
    await raw.ok("sendMessage", chat_id=str(CHAT), text="hi", disable_notification="true")
    record = sandbox.requests[-1]
    assert record.method == "sendMessage"
    assert record.params == {"chat_id": CHAT, "text": "hi", "disable_notification": True}
    assert record.status == 200
    assert record.description is None
