"""What the sandbox remembers: chats, messages, files, members and pending updates."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.models import Button, SandboxChat, SandboxUser, TranscriptEntry

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})

_FILE_ID_PREFIX = {"document": "BQACAgIAAxkBAAI", "photo": "AgACAgIAAxkBAAI"}
# Message fields that make a message a service message, named in transcripts.
SERVICE_FIELDS = (
    "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "new_chat_members", "left_chat_member", "migrate_to_chat_id", "migrate_from_chat_id",
)  # fmt: skip


def now_epoch() -> int:
    """Message dates are whole seconds since the epoch."""
    return int(time.time())


@dataclass
class StoredFile:
    """A file known to the sandbox: uploaded by the bot or by a user."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_name: str
    mime_type: str
    file_path: str

    def document(self) -> dict[str, Any]:
        """The file as a Bot API ``Document``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }

    def api_file(self) -> dict[str, Any]:
        """The file as a Bot API ``File`` (what getFile answers)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class StoredMessage:
    """A message as Telegram holds it, plus what only a person would see."""

    message: dict[str, Any]
    from_bot: bool
    html: str | None = None
    document_bytes: bytes | None = None
    reply_keyboard: list[list[str]] = field(default_factory=list)
    pinned: bool = False

    @property
    def message_id(self) -> int:
        """The id within its chat."""
        return int(self.message["message_id"])

    @property
    def thread_id(self) -> int | None:
        """The forum topic (or reply thread) the message belongs to, if any."""
        thread = self.message.get("message_thread_id")
        return None if thread is None else int(thread)

    def quoted(self) -> dict[str, Any]:
        """The message as another message's ``reply_to_message`` (which never nests further)."""
        return {k: v for k, v in self.message.items() if k != "reply_to_message"}

    def entry(self) -> TranscriptEntry:
        """The message as a person sees it now."""
        message = self.message
        markup = message.get("reply_markup") or {}
        buttons = [
            [
                Button(
                    text=str(button.get("text", "")),
                    callback_data=button.get("callback_data"),
                    url=button.get("url"),
                )
                for button in row
            ]
            for row in markup.get("inline_keyboard", [])
        ]
        document = message.get("document")
        sender = message.get("from")
        replied = message.get("reply_to_message")
        return TranscriptEntry(
            message_id=self.message_id,
            from_bot=self.from_bot,
            text=message.get("text"),
            html=self.html,
            caption=message.get("caption"),
            buttons=buttons,
            document_name=None if document is None else document.get("file_name"),
            document_bytes=self.document_bytes,
            photo="photo" in message,
            edited="edit_date" in message,
            pinned=self.pinned,
            from_id=None if sender is None else int(sender["id"]),
            keyboard=[list(row) for row in self.reply_keyboard],
            thread_id=self.thread_id,
            reply_to_message_id=None if replied is None else int(replied["message_id"]),
            service=next((name for name in SERVICE_FIELDS if name in message), None),
            poll=message.get("poll"),
        )


@dataclass
class Topic:
    """A topic of a forum supergroup; its id is that of the message that created it."""

    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    created_by_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        """The topic as a Bot API ``ForumTopic``."""
        return {"message_thread_id": self.message_thread_id, **self.created()}

    def created(self) -> dict[str, Any]:
        """The topic as a ``ForumTopicCreated`` service message tells it."""
        data: dict[str, Any] = {"name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class ChatState:
    """One chat: its messages in order, its members and the bot's standing in it."""

    chat: dict[str, Any]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    bot_added: bool = False
    """Whether the bot's membership was set explicitly (else implied by a user's message)."""
    migrated_to: int | None = None
    bot_message_ids: list[int] = field(default_factory=list)
    read_cursor: int = 0
    pinned: list[int] = field(default_factory=list)
    invite_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    primary_link: str | None = None
    join_requests: set[int] = field(default_factory=set)
    reply_keyboard: list[list[str]] | None = None
    bot_rights: dict[str, bool] = field(default_factory=dict)
    """The bot's administrator rights where they differ from the defaults: every right but
    ``can_manage_topics``, which an administrator must be given explicitly."""
    topics: dict[int, Topic] = field(default_factory=dict)
    deleted_topics: set[int] = field(default_factory=set)

    @property
    def id(self) -> int:
        """The chat id."""
        return int(self.chat["id"])

    @property
    def type(self) -> str:
        """private, group, supergroup or channel."""
        return str(self.chat["type"])

    @property
    def is_private(self) -> bool:
        """A one-to-one chat between the bot and a user."""
        return self.type == "private"

    def bot_is_admin(self) -> bool:
        """Whether the bot may manage the chat."""
        return self.is_private or self.bot_status in ADMIN_STATUSES

    @property
    def is_forum(self) -> bool:
        """A supergroup with topics turned on."""
        return bool(self.chat.get("is_forum"))

    def bot_can(self, right: str) -> bool:
        """Whether the bot is an administrator holding ``right`` (``can_manage_topics``...)."""
        if self.bot_status != "administrator":
            return False
        return self.bot_rights.get(right, right != "can_manage_topics")


class UpdateQueue:
    """Updates waiting for getUpdates, with Telegram's offset confirmation."""

    def __init__(self, first_id: int = 1) -> None:
        self._items: deque[tuple[str, dict[str, Any]]] = deque()
        self._next_id = first_id
        self.allowed: frozenset[str] | None = None
        self.max_returned = 0
        self._waiter: asyncio.Future[str] | None = None

    def allows(self, kind: str) -> bool:
        """Whether updates of ``kind`` are delivered under the current allowed_updates."""
        if self.allowed is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self.allowed

    def set_allowed(self, kinds: list[str]) -> None:
        """An empty list restores the default, as in Telegram."""
        self.allowed = frozenset(kinds) if kinds else None

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update; ``None`` when its kind is not allowed (Telegram drops it)."""
        if not self.allows(kind):
            return None
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._items.append((kind, update))
        self.wake("update")
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ones."""
        items = self._items
        if offset < 0:
            while len(items) > -offset:
                items.popleft()
            return
        while items and items[0][1]["update_id"] < offset:
            items.popleft()

    def take(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` pending updates of allowed kinds, oldest first (not confirmed)."""
        batch: list[dict[str, Any]] = []
        dropped = False
        for kind, update in self._items:
            if not self.allows(kind):
                dropped = True
                continue
            batch.append(update)
            if len(batch) >= limit:
                break
        if dropped:
            self._items = deque(item for item in self._items if self.allows(item[0]))
        if batch:
            self.max_returned = max(self.max_returned, int(batch[-1]["update_id"]))
        return batch

    def forget(self, update_ids: set[int]) -> None:
        """Drop the updates a webhook acknowledged (others stay, to be pushed again)."""
        if update_ids:
            self._items = deque(
                item for item in self._items if item[1]["update_id"] not in update_ids
            )

    def clear(self) -> None:
        """Drop every pending update."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def has_unfetched(self) -> bool:
        """Whether some update was never handed out by getUpdates."""
        return bool(self._items) and int(self._items[-1][1]["update_id"]) > self.max_returned

    def new_waiter(self) -> asyncio.Future[str]:
        """A future a long poll waits on; an earlier poll is told it was superseded."""
        self.wake("conflict")
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        return waiter

    @property
    def waiting(self) -> bool:
        """Whether a long poll is waiting."""
        return self._waiter is not None and not self._waiter.done()

    def drop_waiter(self, waiter: asyncio.Future[str]) -> None:
        """Forget ``waiter`` if it is still the current one."""
        if self._waiter is waiter:
            self._waiter = None

    def wake(self, reason: str) -> None:
        """Release the waiting long poll, if any."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)
        self._waiter = None


class World:
    """Everything the sandbox's Telegram knows; Bot API handlers and injections change it."""

    def __init__(self, bot_username: str, *, auto_create_chats: bool = True) -> None:
        self.bot_username = bot_username
        self.bot_id = 7_000_000_001
        self.auto_create_chats = auto_create_chats
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates = UpdateQueue()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.menu_buttons: dict[int, dict[str, Any]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.open_queries: set[str] = set()
        #: Polls sent, by poll id: the Poll object, who may vote, who voted, when it closes.
        self.polls: dict[str, dict[str, Any]] = {}
        self.delivered: dict[int, list[str]] = {}
        self.webhook: dict[str, Any] | None = None
        #: Accept ``http://`` webhooks on the loopback interface (tests and the benchmarks).
        self.loopback_webhooks = False
        self._file_counter = 0
        self._query_counter = 0
        self.bot_message_signal = asyncio.Event()

    # -- identities ----------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        """The bot as a ``User``, as it appears in messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Trainee Assistant",
            "username": self.bot_username,
        }

    def learn_token(self, token: str) -> None:
        """The bot's id is the number before the colon of its token."""
        head = token.split(":", 1)[0]
        if head.isdigit():
            self.bot_id = int(head)

    def add_user(self, user: SandboxUser) -> dict[str, Any]:
        """Remember a user; returns its ``User`` object."""
        data = user.to_api()
        self.users[user.id] = data
        return data

    def user_data(self, user_id: int) -> dict[str, Any] | None:
        """A known user's ``User`` object (the bot included)."""
        if user_id == self.bot_id:
            return self.bot_user()
        return self.users.get(user_id)

    # -- chats ---------------------------------------------------------------------------

    def private_chat(self, user: SandboxUser) -> ChatState:
        """The private chat with ``user``, created on first contact."""
        self.add_user(user)
        state = self.chats.get(user.id)
        chat: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
        if user.last_name is not None:
            chat["last_name"] = user.last_name
        if user.username is not None:
            chat["username"] = user.username
        if state is None:
            state = ChatState(chat=chat)
            self.chats[user.id] = state
        else:
            state.chat.update(chat)
        return state

    def group_chat(self, chat: SandboxChat) -> ChatState:
        """A group known to the sandbox, created on first mention."""
        state = self.chats.get(chat.id)
        if state is None:
            state = ChatState(chat=chat.to_api())
            self.chats[chat.id] = state
        return state

    def find_chat(self, chat_id: int | str) -> ChatState:
        """The chat a Bot API call addresses; unknown chats are created when allowed."""
        if isinstance(chat_id, str):
            return self._find_by_username(chat_id)
        state = self.chats.get(chat_id)
        if state is not None:
            return state
        if not self.auto_create_chats or chat_id == 0:
            raise bad_request("chat not found", violation=False)
        if chat_id > 0:
            user = self.users.get(chat_id)
            first_name = user["first_name"] if user else f"User {chat_id}"
            if user is None:
                self.users[chat_id] = {"id": chat_id, "is_bot": False, "first_name": first_name}
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
            state = ChatState(chat=chat)
        else:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            chat = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
            state = ChatState(chat=chat, bot_status="administrator")
        self.chats[chat_id] = state
        return state

    def _find_by_username(self, name: str) -> ChatState:
        if not name.startswith("@"):
            # Neither an id nor an @username: the caller sent garbage.
            raise bad_request("chat not found")
        wanted = name[1:].lower()
        for state in self.chats.values():
            if str(state.chat.get("username", "")).lower() == wanted:
                return state
        raise bad_request("chat not found", violation=False)

    def check_reachable(self, state: ChatState) -> None:
        """Raise what Telegram answers when the bot cannot act in ``state``."""
        if state.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": state.migrated_to},
                violation=False,
            )
        if state.is_private or state.bot_status in ACTIVE_STATUSES:
            return
        kind = state.type if state.type in ("supergroup", "channel") else "group"
        if state.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat", violation=False)
        raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat", violation=False)

    # -- messages ------------------------------------------------------------------------

    def add_message(
        self,
        state: ChatState,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        from_bot: bool,
        html: str | None = None,
        document_bytes: bytes | None = None,
        service: bool = False,
    ) -> StoredMessage:
        """Append a message to the chat with the next message id.

        A ``service`` message of the bot (a topic it created, say) is not one it delivered.
        """
        state.last_message_id += 1
        message: dict[str, Any] = {
            "message_id": state.last_message_id,
            "from": sender,
            "chat": state.chat,
            "date": now_epoch(),
        }
        message.update(content)
        stored = StoredMessage(
            message=message, from_bot=from_bot, html=html, document_bytes=document_bytes
        )
        state.messages[state.last_message_id] = stored
        if from_bot and not service:
            state.bot_message_ids.append(state.last_message_id)
            self.delivered.setdefault(state.id, []).append(
                str(message.get("text", message.get("caption", "")))
            )
            self.bot_message_signal.set()
            self.bot_message_signal = asyncio.Event()
        return stored

    def find_message(self, state: ChatState, message_id: int, error: str) -> StoredMessage:
        """A message still present in the chat, or 400 with ``error``."""
        stored = state.messages.get(message_id)
        if stored is None:
            raise bad_request(error)
        return stored

    # -- files ---------------------------------------------------------------------------

    def add_file(
        self,
        kind: str,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        *,
        variant: str = "",
    ) -> StoredFile:
        """Store bytes under a fresh file_id; ``variant`` tells apart sizes of one photo."""
        self._file_counter += 1
        number = self._file_counter
        prefix = _FILE_ID_PREFIX.get(kind, "CAACAgIAAxkBAAI")
        file_id = f"{prefix}{number:06d}{secrets.token_urlsafe(18)}"
        unique = "AgAD" + hashlib.sha256(variant.encode() + data).hexdigest()[:12]
        guessed = mimetypes.guess_type(file_name)[0]
        extension = mimetypes.guess_extension(mime_type or guessed or "") or ""
        if "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type or guessed or "application/octet-stream",
            file_path=f"{folder}/file_{number}{extension}",
        )
        self.files[file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def next_query_id(self) -> str:
        """Callback query ids are long decimal strings in Telegram."""
        self._query_counter += 1
        return f"{4_000_000_000_000_000_000 + self._query_counter}"

    # -- reading -------------------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[TranscriptEntry]:
        """Every message in the chat as a person sees it now."""
        state = self.chats.get(chat_id)
        if state is None:
            return []
        return [stored.entry() for stored in state.messages.values()]
