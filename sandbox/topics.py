"""What people do in forum supergroups: turn topics on, open topics, post in them, close and
delete them; and what they see in a topic.

:class:`ForumActions` is part of :class:`sandbox.core.SandboxCore`.
"""

from __future__ import annotations

from typing import Any, Protocol

from sandbox.formatting import command_entities
from sandbox.methods.forum import (
    ICON_COLORS,
    clean_name,
    drop_topic,
    enter_thread,
    open_topic,
    topic_service,
)
from sandbox.models import SandboxChat, SandboxUser, TranscriptEntry
from sandbox.state import ADMIN_STATUSES, ChatState, Topic, World


class _Core(Protocol):
    world: World

    def _push(self, kind: str, payload: dict[str, Any]) -> None: ...

    def _chat_for(self, user: SandboxUser, chat: SandboxChat | None) -> ChatState: ...

    def changed(self) -> None: ...

    async def add_bot_to_group(
        self, by_user: SandboxUser, chat: SandboxChat, as_admin: bool = False
    ) -> None: ...


class ForumActions:
    """Forum supergroups as their members use them."""

    async def create_forum(
        self: _Core,
        owner: SandboxUser,
        chat: SandboxChat,
        *,
        bot_can_manage_topics: bool = True,
    ) -> None:
        """``owner`` makes ``chat`` a forum (creating it, or turning topics on) with the bot as
        an administrator that may manage topics unless ``bot_can_manage_topics`` is False.

        The bot learns of it as Telegram tells it: a ``my_chat_member`` update when it was
        not an administrator yet. Call again to change the bot's ``can_manage_topics``.
        """
        if chat.type != "supergroup":
            raise ValueError(f"only a supergroup can have topics, {chat.id} is a {chat.type}")
        state = self.world.group_chat(chat)
        if state.type != "supergroup":
            raise ValueError(f"only a supergroup can have topics, {chat.id} is a {state.type}")
        state.chat["is_forum"] = True
        state.bot_rights["can_manage_topics"] = bot_can_manage_topics
        if state.bot_added and state.bot_status == "administrator":
            self.world.add_user(owner)
            if state.members.get(owner.id) not in ADMIN_STATUSES:
                state.members[owner.id] = "administrator"
            self.changed()
            return
        await self.add_bot_to_group(owner, chat, as_admin=True)

    async def create_topic(
        self: _Core,
        user: SandboxUser,
        chat: SandboxChat,
        name: str,
        icon_color: int | None = None,
    ) -> Topic:
        """``user`` opens a topic; the bot gets its ``forum_topic_created`` message."""
        state = _forum(self._chat_for(user, chat))
        cleaned = clean_name(name)
        if not cleaned:
            raise ValueError("a topic needs a name")
        color = (
            ICON_COLORS[len(state.topics) % len(ICON_COLORS)] if icon_color is None else icon_color
        )
        topic = open_topic(self.world, state, user.to_api(), cleaned, color, by_bot=False)
        self.changed()
        return topic

    async def post_in_topic(
        self: _Core,
        user: SandboxUser,
        chat: SandboxChat,
        message_thread_id: int,
        text: str,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """``user`` writes ``text`` in a topic, replying to ``reply_to_message_id`` if given
        (else, as in Telegram, to the topic's first message); returns the update's message."""
        state = _forum(self._chat_for(user, chat))
        topic = _open(state, message_thread_id)
        if topic.closed and state.members.get(user.id) not in ADMIN_STATUSES:
            raise ValueError(f"topic {message_thread_id} is closed to members")
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to_message_id is not None:
            target = state.messages.get(reply_to_message_id)
            if target is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {chat.id}")
            content["reply_to_message"] = target.quoted()
        enter_thread(state, message_thread_id, content)
        stored = self.world.add_message(state, user.to_api(), content, from_bot=False)
        self._push("message", stored.message)
        return stored.message

    async def close_topic(
        self: _Core, user: SandboxUser, chat_id: int, message_thread_id: int, *, closed: bool = True
    ) -> None:
        """An administrator closes (``closed=False``: reopens) a topic."""
        state = _admin_in(self.world, user, chat_id)
        topic = _open(state, message_thread_id)
        if topic.closed != closed:
            topic.closed = closed
            event = "forum_topic_closed" if closed else "forum_topic_reopened"
            topic_service(self.world, state, topic, user.to_api(), {event: {}})
        self.changed()

    async def delete_topic(
        self: _Core, user: SandboxUser, chat_id: int, message_thread_id: int
    ) -> None:
        """An administrator deletes a topic and its messages; the bot is not told, and its next
        send there fails with "message thread not found"."""
        state = _admin_in(self.world, user, chat_id)
        _open(state, message_thread_id)
        drop_topic(state, message_thread_id)
        self.changed()

    def topics(self: _Core, chat_id: int) -> list[Topic]:
        """The chat's topics that still exist, oldest first."""
        state = self.world.chats.get(chat_id)
        return [] if state is None else list(state.topics.values())

    def topic_transcript(
        self: _Core, chat_id: int, message_thread_id: int
    ) -> list[TranscriptEntry]:
        """Every message of one topic in order, its ``forum_topic_created`` message first."""
        return [e for e in self.world.transcript(chat_id) if e.thread_id == message_thread_id]

    def bot_messages_in_topic(
        self: _Core, chat_id: int, message_thread_id: int
    ) -> list[TranscriptEntry]:
        """What the bot posted into one topic (its service messages left out)."""
        return [
            entry
            for entry in self.world.transcript(chat_id)
            if entry.thread_id == message_thread_id and entry.from_bot and entry.service is None
        ]


def _forum(state: ChatState) -> ChatState:
    if not state.is_forum:
        raise ValueError(f"chat {state.id} is not a forum; call create_forum first")
    return state


def _open(state: ChatState, message_thread_id: int) -> Topic:
    topic = state.topics.get(message_thread_id)
    if topic is None:
        raise LookupError(f"no topic {message_thread_id} in chat {state.id}")
    return topic


def _admin_in(world: World, user: SandboxUser, chat_id: int) -> ChatState:
    state = world.chats.get(chat_id)
    if state is None:
        raise LookupError(f"no chat {chat_id}")
    world.add_user(user)
    if state.members.get(user.id) not in ADMIN_STATUSES:
        raise ValueError(f"user {user.id} is not an administrator of chat {chat_id}")
    return _forum(state)
