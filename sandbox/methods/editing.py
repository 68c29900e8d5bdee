"""Changing messages already sent: edits, deletions and pins."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles
from sandbox.methods.sending import caption_content, html_source
from sandbox.rules import caption_text, message_text
from sandbox.state import (
    ADMIN_STATUSES,
    ChatState,
    StoredMessage,
    now_epoch,
)

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


# -- editing and deleting ------------------------------------------------------------------


def _editable(call: Call) -> StoredMessage | None:
    """The message an edit addresses; ``None`` for inline messages."""
    params = call.params
    if "inline_message_id" in params:
        return None
    if "message_id" not in params or call.chat is None:
        raise bad_request("message identifier is not specified")
    stored = call.world.find_message(call.chat, params["message_id"], "message to edit not found")
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    return stored


def _apply_edit(stored: StoredMessage, changes: dict[str, Any], removed: tuple[str, ...]) -> None:
    message = stored.message
    current = {k: message.get(k) for k in (*changes, *removed)}
    wanted = {**{k: None for k in removed}, **changes}
    if current == wanted:
        raise bad_request(NOT_MODIFIED)
    for key in removed:
        message.pop(key, None)
    message.update(changes)
    message["edit_date"] = now_epoch()


def _edit_markup(call: Call) -> tuple[dict[str, Any], tuple[str, ...]]:
    markup = call.params.get("reply_markup")
    if markup:
        return {"reply_markup": markup}, ()
    return {}, ("reply_markup",)


@handles("editMessageText")
def edit_message_text(call: Call) -> dict[str, Any] | bool:
    """New text; an omitted reply_markup removes the inline keyboard, as in Telegram."""
    formatted = message_text(call.params)
    if formatted is None:
        raise bad_request("message text is empty")
    stored = _editable(call)
    if stored is None:
        return True
    if "text" not in stored.message:
        raise bad_request("there is no text in the message to edit")
    changes, removed = _edit_markup(call)
    changes["text"] = formatted.text
    if formatted.entities:
        changes["entities"] = formatted.entities
    else:
        removed = (*removed, "entities")
    _apply_edit(stored, changes, removed)
    stored.html = html_source(call, "text")
    return stored.message


@handles("editMessageCaption")
def edit_message_caption(call: Call) -> dict[str, Any] | bool:
    """New caption (omitted means none) for a media message."""
    formatted = caption_text(call.params)
    stored = _editable(call)
    if stored is None:
        return True
    if "text" in stored.message:
        raise bad_request("there is no caption in the message to edit")
    changes, removed = _edit_markup(call)
    caption = caption_content(formatted)
    changes.update(caption)
    removed = (*removed, *(k for k in ("caption", "caption_entities") if k not in caption))
    _apply_edit(stored, changes, removed)
    stored.html = html_source(call, "caption")
    return stored.message


@handles("editMessageReplyMarkup")
def edit_message_reply_markup(call: Call) -> dict[str, Any] | bool:
    """New inline keyboard; an omitted one removes it."""
    stored = _editable(call)
    if stored is None:
        return True
    changes, removed = _edit_markup(call)
    _apply_edit(stored, changes, removed)
    return stored.message


def _deletable(chat: ChatState, stored: StoredMessage) -> bool:
    return stored.from_bot or chat.is_private or chat.bot_status in ADMIN_STATUSES


@handles("deleteMessage")
def delete_message(call: Call) -> bool:
    """Remove a message from the chat for everyone."""
    chat = call.target
    stored = call.world.find_message(chat, call.params["message_id"], "message to delete not found")
    if not _deletable(chat, stored):
        raise bad_request("message can't be deleted")
    del chat.messages[stored.message_id]
    return True


@handles("deleteMessages")
def delete_messages(call: Call) -> bool:
    """Remove several messages; ones that are gone already are skipped."""
    chat = call.target
    for message_id in call.params["message_ids"]:
        stored = chat.messages.get(message_id)
        if stored is not None and _deletable(chat, stored):
            del chat.messages[message_id]
    return True


@handles("pinChatMessage")
def pin_chat_message(call: Call) -> bool:
    """Mark a message pinned."""
    chat = call.target
    if not chat.bot_is_admin():
        raise bad_request("not enough rights to manage pinned messages in the chat")
    stored = call.world.find_message(chat, call.params["message_id"], "message to pin not found")
    stored.pinned = True
    if stored.message_id in chat.pinned:
        chat.pinned.remove(stored.message_id)
    chat.pinned.append(stored.message_id)
    return True


@handles("unpinChatMessage")
def unpin_chat_message(call: Call) -> bool:
    """Unpin one message, or the most recently pinned one."""
    chat = call.target
    if not chat.bot_is_admin():
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = call.params.get("message_id")
    if message_id is None:
        if not chat.pinned:
            raise bad_request("message to unpin not found")
        message_id = chat.pinned[-1]
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    stored = chat.messages.get(message_id)
    if stored is not None:
        stored.pinned = False
    return True


@handles("unpinAllChatMessages")
def unpin_all_chat_messages(call: Call) -> bool:
    """Unpin everything in the chat."""
    chat = call.target
    for message_id in chat.pinned:
        stored = chat.messages.get(message_id)
        if stored is not None:
            stored.pinned = False
    chat.pinned.clear()
    return True
