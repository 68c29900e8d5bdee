"""Forum topics of supergroups: creating, editing, closing and deleting them, and sending into them.

Telegram's errors here come from the Bot API server's library (first letter lowered) or from
Telegram's servers (upper-case codes such as ``TOPIC_CLOSED``).
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles
from sandbox.state import ChatState, StoredMessage, Topic, World

#: The colours a topic icon may have; Telegram picks one when the bot names none.
ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
NAME_MAX = 128
"""Longer topic names are cut to this many characters, not refused."""


# -- shared with the control side -----------------------------------------------------------


def clean_name(name: str) -> str:
    """A topic name as Telegram keeps it: control characters dropped, trimmed, cut to 128."""
    kept = "".join(
        " " if char.isspace() else char for char in name if char.isprintable() or char.isspace()
    )
    return kept.strip()[:NAME_MAX].strip()


def open_topic(
    world: World,
    chat: ChatState,
    sender: dict[str, Any],
    name: str,
    icon_color: int,
    icon_custom_emoji_id: str | None = None,
    *,
    by_bot: bool,
) -> Topic:
    """Create a topic: its first message is the ``forum_topic_created`` service message."""
    thread_id = chat.last_message_id + 1
    topic = Topic(thread_id, name, icon_color, icon_custom_emoji_id or None, created_by_bot=by_bot)
    content = {
        "message_thread_id": thread_id,
        "forum_topic_created": topic.created(),
        "is_topic_message": True,
    }
    stored = world.add_message(chat, sender, content, from_bot=by_bot, service=True)
    chat.topics[thread_id] = topic
    world.updates.push("message", stored.message)
    return topic


def topic_service(
    world: World, chat: ChatState, topic: Topic, sender: dict[str, Any], event: dict[str, Any]
) -> StoredMessage:
    """Post a service message (``forum_topic_closed``...) into the topic and report it."""
    content = dict(event)
    enter_thread(chat, topic.message_thread_id, content)
    by_bot = sender.get("id") == world.bot_id
    stored = world.add_message(chat, sender, content, from_bot=by_bot, service=True)
    world.updates.push("message", stored.message)
    return stored


def drop_topic(chat: ChatState, thread_id: int) -> None:
    """Delete the topic with every message in it."""
    chat.topics.pop(thread_id, None)
    chat.deleted_topics.add(thread_id)
    gone = [mid for mid, stored in chat.messages.items() if stored.thread_id == thread_id]
    for message_id in gone:
        del chat.messages[message_id]
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)


def enter_thread(chat: ChatState, thread_id: int, content: dict[str, Any]) -> None:
    """Place a message being sent into a thread.

    In a forum every topic message not replying to another replies to the topic's first
    message, and Telegram shows that as ``reply_to_message``.
    """
    content["message_thread_id"] = thread_id
    if not chat.is_forum:
        return
    content["is_topic_message"] = True
    if "reply_to_message" not in content:
        root = chat.messages.get(thread_id)
        if root is not None:
            content["reply_to_message"] = root.quoted()


def check_thread(chat: ChatState, thread_id: int) -> None:
    """Raise what Telegram answers when the bot cannot post into thread ``thread_id``."""
    if chat.is_forum:
        topic = chat.topics.get(thread_id)
        if topic is None:
            # A topic someone deleted is no fault of the bot; a made-up id is.
            foreseeable = thread_id not in chat.deleted_topics
            raise bad_request("message thread not found", violation=foreseeable)
        if topic.closed:
            raise bad_request("TOPIC_CLOSED", violation=False)
    elif thread_id not in chat.messages:
        raise bad_request("message thread not found")


def requested_thread(call: Call) -> int | None:
    """The ``message_thread_id`` of a send, checked; ``None`` when the call names none."""
    thread_id = call.params.get("message_thread_id")
    if thread_id is None:
        return None
    check_thread(call.target, thread_id)
    return int(thread_id)


# -- the methods ----------------------------------------------------------------------------


def _forum(call: Call) -> ChatState:
    chat = call.target
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _topic(call: Call) -> tuple[ChatState, Topic]:
    chat = _forum(call)
    thread_id = call.params["message_thread_id"]
    if thread_id <= 0:
        raise bad_request("invalid message thread identifier specified")
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID", violation=thread_id not in chat.deleted_topics)
    return chat, topic


@handles("createForumTopic")
def create_forum_topic(call: Call) -> dict[str, Any]:
    """A new topic; its id is the id of the service message that opens it."""
    chat = _forum(call)
    if not chat.bot_can("can_manage_topics"):
        raise bad_request("not enough rights to create a topic")
    name = clean_name(call.params["name"])
    if not name:
        raise bad_request("title must be non-empty")
    color = call.params.get("icon_color")
    if color is None:
        color = ICON_COLORS[len(chat.topics) % len(ICON_COLORS)]
    elif not 0 <= color <= 0xFFFFFF:
        raise bad_request("invalid icon color specified")
    emoji = call.params.get("icon_custom_emoji_id")
    topic = open_topic(call.world, chat, call.world.bot_user(), name, color, emoji, by_bot=True)
    return topic.to_api()


@handles("editForumTopic")
def edit_forum_topic(call: Call) -> bool:
    """A new name or icon; names omitted or empty keep the old one."""
    chat, topic = _topic(call)
    if not topic.created_by_bot and not chat.bot_can("can_manage_topics"):
        raise bad_request("not enough rights to edit the topic")
    raw_name = call.params.get("name") or ""
    name = clean_name(raw_name)
    if raw_name and not name:
        raise bad_request("title must be non-empty")
    emoji = call.params.get("icon_custom_emoji_id")
    if not name and emoji is None:
        return True
    edited: dict[str, Any] = {}
    if name and name != topic.name:
        edited["name"] = name
    if emoji is not None and (emoji or None) != topic.icon_custom_emoji_id:
        edited["icon_custom_emoji_id"] = emoji
    if not edited:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = edited.get("name", topic.name)
    if "icon_custom_emoji_id" in edited:
        topic.icon_custom_emoji_id = emoji or None
    bot = call.world.bot_user()
    topic_service(call.world, chat, topic, bot, {"forum_topic_edited": edited})
    return True


def _set_closed(call: Call, closed: bool) -> bool:
    chat, topic = _topic(call)
    if not topic.created_by_bot and not chat.bot_can("can_manage_topics"):
        raise bad_request("not enough rights to close or open the topic")
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    event = "forum_topic_closed" if closed else "forum_topic_reopened"
    topic_service(call.world, chat, topic, call.world.bot_user(), {event: {}})
    return True


@handles("closeForumTopic")
def close_forum_topic(call: Call) -> bool:
    """Close a topic: only its service messages move on until it is reopened."""
    return _set_closed(call, True)


@handles("reopenForumTopic")
def reopen_forum_topic(call: Call) -> bool:
    """Open a closed topic again."""
    return _set_closed(call, False)


@handles("deleteForumTopic")
def delete_forum_topic(call: Call) -> bool:
    """Delete a topic with all its messages; later sends to it find no thread."""
    chat, topic = _topic(call)
    if not topic.created_by_bot and not chat.bot_can("can_delete_messages"):
        raise bad_request("not enough rights to delete the topic")
    drop_topic(chat, topic.message_thread_id)
    return True
