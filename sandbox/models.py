"""Plain data objects shared by the sandbox server and its in-process users."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHAT_TYPES = ("private", "group", "supergroup", "channel")
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


@dataclass(frozen=True)
class SandboxUser:
    """A Telegram user that tests make talk to the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_api(self) -> dict[str, Any]:
        """The user as a Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class SandboxChat:
    """A group, supergroup or channel; private chats are implied by a :class:`SandboxUser`."""

    id: int
    type: str
    title: str

    def __post_init__(self) -> None:
        if self.type not in CHAT_TYPES or self.type == "private":
            raise ValueError(f"SandboxChat.type must be group, supergroup or channel: {self.type}")
        if self.id >= 0:
            raise ValueError(f"group and channel ids are negative, got {self.id}")

    def to_api(self) -> dict[str, Any]:
        """The chat as a Bot API ``Chat`` object."""
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass(frozen=True)
class Button:
    """One inline keyboard button as a person sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class TranscriptEntry:
    """One message of a chat as a person sees it now (edits applied)."""

    message_id: int
    from_bot: bool
    text: str | None = None
    html: str | None = None
    caption: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    document_name: str | None = None
    document_bytes: bytes | None = None
    photo: bool = False
    edited: bool = False
    pinned: bool = False
    from_id: int | None = None
    keyboard: list[list[str]] = field(default_factory=list)
    """Reply keyboard rows (button labels) attached to the message, if any."""
    thread_id: int | None = None
    """The forum topic the message was posted in, if any."""
    reply_to_message_id: int | None = None
    """The message it replies to (in a topic, the topic's first message unless another)."""
    service: str | None = None
    """For a service message, the field that says what happened (``forum_topic_created``...)."""
    poll: dict[str, Any] | None = None
    """For a poll, the ``Poll`` object as sent (votes are kept in the world's ``polls``)."""

    @property
    def content(self) -> str:
        """The text, or the caption for media messages, or an empty string."""
        if self.poll is not None:
            return str(self.poll.get("question", ""))
        return self.text if self.text is not None else (self.caption or "")

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form, used by the control HTTP API."""
        return {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "from_id": self.from_id,
            "text": self.text,
            "html": self.html,
            "caption": self.caption,
            "buttons": [
                [{"text": b.text, "callback_data": b.callback_data, "url": b.url} for b in row]
                for row in self.buttons
            ],
            "keyboard": self.keyboard,
            "document_name": self.document_name,
            "document_size": None if self.document_bytes is None else len(self.document_bytes),
            "photo": self.photo,
            "edited": self.edited,
            "pinned": self.pinned,
            "thread_id": self.thread_id,
            "reply_to_message_id": self.reply_to_message_id,
            "service": self.service,
        }


@dataclass
class RequestRecord:
    """One Bot API call received by the sandbox and how it was answered."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None
    at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form, used by the control HTTP API."""
        return {
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "description": self.description,
            "at": self.at,
        }


@dataclass
class Limits:
    """Telegram's flood limits; counted on sending methods only unless ``strict``."""

    enabled: bool = True
    global_per_second: float = 30
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    paid_global_per_second: float = 1000
    #: Count as strictly as Telegram may: at most ``global_per_second`` calls in any sliding
    #: second (and ``group_per_minute`` in any sliding minute) instead of token buckets that
    #: refill evenly, and every call that writes counts overall (edits, callback answers,
    #: pins), not only new messages; a chat's own limit still counts its new messages.
    strict: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form, used by the control HTTP API."""
        return {
            "enabled": self.enabled,
            "strict": self.strict,
            "global_per_second": self.global_per_second,
            "private_per_second": self.private_per_second,
            "private_burst": self.private_burst,
            "group_per_minute": self.group_per_minute,
            "paid_global_per_second": self.paid_global_per_second,
        }


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    data: bytes

    def describe(self) -> str:
        """A short stand-in for the bytes, used in request logs."""
        return f"<file {self.filename!r}, {len(self.data)} bytes>"
