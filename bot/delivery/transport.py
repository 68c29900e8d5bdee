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
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.delivery.budget import prepaid

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
    """Sends with an aiogram ``Bot`` and classifies Telegram's answers."""

    def __init__(self, bot: Bot, *, paid_broadcast: bool = False) -> None:
        self._bot = bot
        self._paid = paid_broadcast or None

    async def deliver(self, chat_id: int, payload: dict[str, Any]) -> SendResult:
        try:
            message_id = await self._send(chat_id, payload)
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
        return SendResult(Outcome.SENT, message_id=message_id)

    async def _send(self, chat_id: int, payload: dict[str, Any]) -> int:
        # The sender waited for the budget before this call and settles its outcome; the pin
        # below is a call of its own, and waits for the budget like any other.
        with prepaid():
            message = await self._send_message(chat_id, payload)
        if payload.get("pin"):
            # The message itself went out, which is what counts: a pin that fails (no pin
            # right, a flood wait, the network) must not make it look unsent and go again.
            try:
                await self._bot.pin_chat_message(
                    chat_id, message.message_id, disable_notification=True
                )
            except (TelegramAPIError, TimeoutError, aiohttp.ClientError) as exc:
                log.warning("message %s in %s not pinned: %s", message.message_id, chat_id, exc)
        return message.message_id

    async def _send_message(self, chat_id: int, payload: dict[str, Any]) -> Message:
        markup = keyboard(payload.get("buttons"))
        file_id = payload.get("file_id")
        if file_id and payload.get("file_kind") == "photo":
            message = await self._bot.send_photo(
                chat_id,
                file_id,
                caption=payload.get("caption"),
                reply_markup=markup,
                allow_paid_broadcast=self._paid,
            )
        elif file_id:
            message = await self._bot.send_document(
                chat_id,
                file_id,
                caption=payload.get("caption"),
                reply_markup=markup,
                allow_paid_broadcast=self._paid,
            )
        else:
            message = await self._bot.send_message(
                chat_id,
                payload["text"],
                reply_markup=markup,
                allow_paid_broadcast=self._paid,
            )
        return message
