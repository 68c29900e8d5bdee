"""How the sender reaches Telegram: a small interface, and its aiogram implementation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendDocument
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    ReplyParameters,
)

from bot.delivery.budget import prepaid
from bot.delivery.topics import TopicBook, TopicKey, TopicLocks

log = logging.getLogger(__name__)


class Outcome(Enum):
    """What happened to one send, as far as the sender needs to know."""

    SENT = "sent"
    RETRY_AFTER = "retry_after"  # 429: pause everything
    UNREACHABLE = "unreachable"  # 403: blocked, deactivated, kicked
    CHAT_GONE = "chat_gone"  # 400 chat not found
    MIGRATED = "migrated"  # group became a supergroup
    TRANSIENT = "transient"  # 5xx, network: retry with back-off
    REJECTED = "rejected"  # any other 400: our request was wrong; do not retry


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    message_id: int | None = None
    retry_after: float = 0.0
    migrate_to: int | None = None
    error: str | None = None
    #: Telegram's id of the poll sent (a quiz question), to be bound to the question at once.
    poll_id: str | None = None


class Documents(Protocol):
    """Where the bytes of documents named by a payload (``"certificate_id"``) come from."""

    async def load(self, certificate_id: int) -> tuple[bytes, str, str | None] | None:
        """(bytes, file name, Telegram file id if sent before), or None when gone."""
        ...

    async def remember(self, certificate_id: int, file_id: str) -> None: ...


class Transport(Protocol):
    """Delivers one outbox payload to one chat."""

    async def deliver(self, chat_id: int, payload: dict[str, Any]) -> SendResult: ...


def keyboard(rows: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    """Payload buttons (``{"text", "url"}`` or ``{"text", "callback_data"}``) as a keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton.model_validate(button) for button in row] for row in rows
        ]
    )


class AiogramTransport:
    """Sends with an aiogram ``Bot`` and classifies Telegram's answers.

    ``topics`` keeps the threads of trainees' topics in staff groups (payloads with a
    ``"topic"``, see :mod:`bot.delivery.topics`); without it such payloads go to the chat
    itself.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        paid_broadcast: bool = False,
        topics: TopicBook | None = None,
        documents: Documents | None = None,
    ) -> None:
        self._bot = bot
        self._documents = documents
        self._paid = paid_broadcast or None
        self._topics = topics
        self._topic_locks = TopicLocks()

    async def deliver(self, chat_id: int, payload: dict[str, Any]) -> SendResult:
        try:
            message_id, poll_id = await self._send(chat_id, payload)
        except TelegramRetryAfter as exc:
            return SendResult(Outcome.RETRY_AFTER, retry_after=float(exc.retry_after))
        except TelegramMigrateToChat as exc:
            return SendResult(Outcome.MIGRATED, migrate_to=exc.migrate_to_chat_id)
        except TelegramForbiddenError as exc:
            return SendResult(Outcome.UNREACHABLE, error=exc.message)
        except (TelegramBadRequest, TelegramNotFound) as exc:
            if "chat not found" in exc.message.lower():
                return SendResult(Outcome.CHAT_GONE, error=exc.message)
            return SendResult(Outcome.REJECTED, error=exc.message)
        except TelegramServerError as exc:
            return SendResult(Outcome.TRANSIENT, error=exc.message)
        except (TimeoutError, TelegramNetworkError, aiohttp.ClientError) as exc:
            return SendResult(Outcome.TRANSIENT, error=f"network: {exc}")
        return SendResult(Outcome.SENT, message_id=message_id, poll_id=poll_id)

    async def _send(self, chat_id: int, payload: dict[str, Any]) -> tuple[int | None, str | None]:
        """The message's id, and the poll's when it was one."""
        # The sender waited for the budget before this call and settles its outcome; making a
        # topic, sending again into a new one and the pin are calls of their own, and wait for
        # the budget like any other.
        if payload.get("action") == "retire_topic":
            await self._retire_topic(chat_id, payload)
            return None, None
        if "certificate_id" in payload:
            with prepaid():
                return await self._send_certificate(chat_id, payload), None
        thread = await self._thread(chat_id, payload)
        try:
            with prepaid():
                message = await self._send_message(chat_id, payload, thread)
        except TelegramBadRequest as exc:
            topic = payload.get("topic")
            if thread is None or self._topics is None or not isinstance(topic, dict):
                raise
            if "thread not found" not in exc.message.lower():
                raise
            # Someone deleted the trainee's topic: a new one, and the message goes there.
            await self._topics.forget(TopicKey.of(topic), chat_id, thread)
            thread = await self._thread(chat_id, payload)
            message = await self._send_message(chat_id, payload, thread)
        if payload.get("pin"):
            # The message itself went out, which is what counts: a pin that fails (no pin
            # right, a flood wait, the network) must not make it look unsent and go again.
            try:
                await self._bot.pin_chat_message(
                    chat_id, message.message_id, disable_notification=True
                )
            except (TelegramAPIError, TimeoutError, aiohttp.ClientError) as exc:
                log.warning("message %s in %s not pinned: %s", message.message_id, chat_id, exc)
        return message.message_id, message.poll.id if message.poll else None

    async def _send_certificate(self, chat_id: int, payload: dict[str, Any]) -> int | None:
        """A document whose bytes the payload only names: sent by file id when Telegram has
        it, else uploaded, and the new file id remembered."""
        certificate_id = int(payload["certificate_id"])
        loaded = await self._documents.load(certificate_id) if self._documents else None
        if loaded is None:
            raise TelegramBadRequest(
                method=SendDocument(chat_id=chat_id, document="-"),
                message=f"Bad Request: certificate {certificate_id} has no file",
            )
        data, name, file_id = loaded
        document: str | BufferedInputFile = file_id or BufferedInputFile(data, filename=name)
        message = await self._bot.send_document(
            chat_id,
            document,
            caption=payload.get("caption"),
            allow_paid_broadcast=self._paid,
        )
        if message.document is not None and message.document.file_id != file_id:
            assert self._documents is not None
            await self._documents.remember(certificate_id, message.document.file_id)
        return message.message_id

    async def _thread(self, chat_id: int, payload: dict[str, Any]) -> int | None:
        """The forum thread this payload goes to: given, the trainee's topic, or none."""
        given = payload.get("message_thread_id")
        if isinstance(given, int):
            return given
        topic = payload.get("topic")
        if self._topics is None or not isinstance(topic, dict):
            return None
        key = TopicKey.of(topic)
        async with self._topic_locks.hold(key):
            thread = await self._topics.thread_of(key, chat_id)
            if thread is None:
                name = str(topic.get("name") or key.user_id)[:128]
                made = await self._bot.create_forum_topic(chat_id, name)
                thread = made.message_thread_id
                await self._topics.remember(key, chat_id, thread)
        return thread

    async def _retire_topic(self, chat_id: int, payload: dict[str, Any]) -> None:
        """Rename and close a topic whose trainee asked to be forgotten; a topic already
        renamed, closed or deleted counts as done."""
        thread = int(payload["message_thread_id"])
        name = payload.get("name")
        if isinstance(name, str) and name:
            try:
                await self._bot.edit_forum_topic(chat_id, thread, name=name[:128])
            except TelegramBadRequest as exc:
                log.info("topic %s in %s not renamed: %s", thread, chat_id, exc.message)
        try:
            await self._bot.close_forum_topic(chat_id, thread)
        except TelegramBadRequest as exc:
            log.info("topic %s in %s not closed: %s", thread, chat_id, exc.message)

    async def _send_message(
        self, chat_id: int, payload: dict[str, Any], thread: int | None = None
    ) -> Message:
        markup = keyboard(payload.get("buttons"))
        file_id = payload.get("file_id")
        reply_to = payload.get("reply_to")
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if isinstance(reply_to, int)
            else None
        )
        poll = payload.get("poll")
        if isinstance(poll, dict):
            # A knowledge check's question: Telegram's own quiz poll, answered by the voter.
            message = await self._bot.send_poll(
                chat_id,
                question=poll["question"],
                options=[InputPollOption(text=text) for text in poll["options"]],
                type="quiz",
                is_anonymous=False,
                correct_option_ids=[int(poll["correct_option_id"])],
                explanation=poll.get("explanation"),
                open_period=poll.get("open_period"),
                reply_markup=markup,
                message_thread_id=thread,
                allow_paid_broadcast=self._paid,
            )
        elif file_id and payload.get("file_kind") == "photo":
            message = await self._bot.send_photo(
                chat_id,
                file_id,
                caption=payload.get("caption"),
                reply_markup=markup,
                message_thread_id=thread,
                reply_parameters=reply,
                allow_paid_broadcast=self._paid,
            )
        elif file_id:
            message = await self._bot.send_document(
                chat_id,
                file_id,
                caption=payload.get("caption"),
                reply_markup=markup,
                message_thread_id=thread,
                reply_parameters=reply,
                allow_paid_broadcast=self._paid,
            )
        else:
            message = await self._bot.send_message(
                chat_id,
                payload["text"],
                reply_markup=markup,
                message_thread_id=thread,
                reply_parameters=reply,
                allow_paid_broadcast=self._paid,
            )
        return message
