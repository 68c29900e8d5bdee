"""Sending messages: text, documents, photos, albums, chat actions, copies and forwards."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.errors import bad_request
from sandbox.formatting import FormattedText
from sandbox.methods.base import Call, handles
from sandbox.methods.files import input_file, photo_sizes
from sandbox.methods.forum import check_thread, enter_thread, requested_thread
from sandbox.rules import caption_text, message_text
from sandbox.state import (
    StoredMessage,
)

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip


# -- sending --------------------------------------------------------------------------------


def _sender(call: Call) -> dict[str, Any]:
    return call.world.bot_user()


def _markup(call: Call, content: dict[str, Any], stored_keyboard: list[list[str]]) -> None:
    """Inline keyboards belong to the message; reply keyboards to the chat."""
    markup = call.params.get("reply_markup")
    if not markup:
        return
    if "inline_keyboard" in markup:
        content["reply_markup"] = markup
        return
    chat = call.target
    if "keyboard" in markup:
        rows = [[str(button.get("text", "")) for button in row] for row in markup["keyboard"]]
        stored_keyboard.extend(rows)
        chat.reply_keyboard = rows
    elif markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def _place(call: Call, content: dict[str, Any]) -> None:
    """Put a message being sent into its thread and make it a reply, as asked."""
    thread_id = requested_thread(call)
    target = _reply_target(call)
    if target is not None:
        content["reply_to_message"] = target.quoted()
        same_chat = target.message["chat"]["id"] == call.target.id
        if thread_id is None and same_chat and target.message.get("is_topic_message"):
            # A reply lands in the topic of the message it answers.
            thread_id = target.thread_id
            if thread_id is not None:
                check_thread(call.target, thread_id)
    if thread_id is not None:
        enter_thread(call.target, thread_id, content)


def _reply_target(call: Call) -> StoredMessage | None:
    """The message of this chat the send replies to; ``None`` when it replies to none."""
    params = call.params
    reply = params.get("reply_parameters")
    if reply is None and "reply_to_message_id" in params:
        reply = {
            "message_id": _legacy_int(params["reply_to_message_id"]),
            "allow_sending_without_reply": _legacy_bool(params.get("allow_sending_without_reply")),
        }
    if reply is None:
        return None
    chat = call.target
    if "chat_id" in reply and reply["chat_id"] != chat.id:
        chat = call.world.find_chat(reply["chat_id"])
    target = chat.messages.get(reply["message_id"])
    if target is None:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return target


def _legacy_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request('parameter "reply_to_message_id" must be of type Integer') from None


def _legacy_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})


def _text_content(formatted: FormattedText) -> dict[str, Any]:
    content: dict[str, Any] = {"text": formatted.text}
    if formatted.entities:
        content["entities"] = formatted.entities
    return content


def caption_content(formatted: FormattedText | None) -> dict[str, Any]:
    if formatted is None or not formatted.text:
        return {}
    content: dict[str, Any] = {"caption": formatted.text}
    if formatted.entities:
        content["caption_entities"] = formatted.entities
    return content


def html_source(call: Call, field: str) -> str | None:
    mode = str(call.params.get("parse_mode") or "")
    return call.params.get(field) if mode.lower() == "html" else None


def _post(
    call: Call,
    content: dict[str, Any],
    *,
    html: str | None = None,
    document_bytes: bytes | None = None,
) -> StoredMessage:
    keyboard: list[list[str]] = []
    _markup(call, content, keyboard)
    _place(call, content)
    stored = call.world.add_message(
        call.target,
        _sender(call),
        content,
        from_bot=True,
        html=html,
        document_bytes=document_bytes,
    )
    stored.reply_keyboard = keyboard
    return stored


def post_message(call: Call, content: dict[str, Any]) -> StoredMessage:
    """Post a message of another kind (a poll) the way every send does."""
    return _post(call, content)


@handles("sendMessage")
def send_message(call: Call) -> dict[str, Any]:
    """A text message; HTML is parsed into plain text and entities."""
    formatted = message_text(call.params)
    if formatted is None:
        raise bad_request("message text is empty")
    stored = _post(call, _text_content(formatted), html=html_source(call, "text"))
    return stored.message


@handles("sendDocument")
def send_document(call: Call) -> dict[str, Any]:
    """A document: an upload, a file_id sent before, or a URL."""
    caption = caption_text(call.params)
    stored_file = input_file(call, call.params["document"], "document")
    content = {"document": stored_file.document(), **caption_content(caption)}
    stored = _post(
        call, content, html=html_source(call, "caption"), document_bytes=stored_file.data
    )
    return stored.message


@handles("sendPhoto")
def send_photo(call: Call) -> dict[str, Any]:
    """A photo with its sizes."""
    caption = caption_text(call.params)
    stored_file = input_file(call, call.params["photo"], "photo")
    content = {"photo": photo_sizes(call, stored_file), **caption_content(caption)}
    stored = _post(call, content, html=html_source(call, "caption"))
    return stored.message


@handles("sendMediaGroup")
def send_media_group(call: Call) -> list[dict[str, Any]]:
    """An album of documents or of photos."""
    media: list[dict[str, Any]] = call.params["media"]
    kinds = {item["type"] for item in media}
    if not kinds <= {"document", "photo"}:
        raise bad_request(f"method is not supported by the sandbox for media types {sorted(kinds)}")
    if len(kinds) > 1:
        raise bad_request("document can't be mixed with other media types")
    group_id = str(secrets.randbits(60))
    prepared: list[tuple[dict[str, Any], bytes | None]] = []
    for item in media:
        caption = caption_text(item)
        kind = item["type"]
        stored_file = input_file(call, item["media"], kind)
        content: dict[str, Any] = {"media_group_id": group_id, **caption_content(caption)}
        if kind == "photo":
            content["photo"] = photo_sizes(call, stored_file)
            prepared.append((content, None))
        else:
            content["document"] = stored_file.document()
            prepared.append((content, stored_file.data))
    messages = []
    for content, data in prepared:
        _place(call, content)
        stored = call.world.add_message(
            call.target, _sender(call), content, from_bot=True, document_bytes=data
        )
        messages.append(stored.message)
    return messages


@handles("sendChatAction")
def send_chat_action(call: Call) -> bool:
    """A typing indicator and the like; nothing stays in the chat."""
    if call.params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    requested_thread(call)
    return True


def _content_of(source: StoredMessage) -> dict[str, Any]:
    keys = ("text", "entities", "caption", "caption_entities", "document", "photo")
    return {k: source.message[k] for k in keys if k in source.message}


@handles("copyMessage")
def copy_message(call: Call) -> dict[str, Any]:
    """A copy without a link to the original; the caption may be replaced."""
    world = call.world
    source_chat = world.find_chat(call.params["from_chat_id"])
    source = world.find_message(source_chat, call.params["message_id"], "message to copy not found")
    content = _content_of(source)
    if not content:
        raise bad_request("message can't be copied")
    if "caption" in call.params and "text" not in content:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(caption_content(caption_text(call.params)))
    stored = _post(call, content, html=source.html, document_bytes=source.document_bytes)
    return {"message_id": stored.message_id}


@handles("forwardMessage")
def forward_message(call: Call) -> dict[str, Any]:
    """A forward that names the original sender."""
    world = call.world
    source_chat = world.find_chat(call.params["from_chat_id"])
    source = world.find_message(
        source_chat, call.params["message_id"], "message to forward not found"
    )
    content = _content_of(source)
    if not content:
        raise bad_request("message can't be forwarded")
    original = source.message
    if source_chat.is_private or "from" in original:
        origin = {"type": "user", "date": original["date"], "sender_user": original["from"]}
    else:
        origin = {"type": "chat", "date": original["date"], "sender_chat": source_chat.chat}
    content["forward_origin"] = origin
    _place(call, content)
    stored = world.add_message(
        call.target,
        _sender(call),
        content,
        from_bot=True,
        html=source.html,
        document_bytes=source.document_bytes,
    )
    return stored.message
