"""How the sender reaches Telegram: a small interface, and its aiogram implementation."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)


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
        if payload.get("pin"):
            # Without the pin right the message itself still went out; that is what counts.
            with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):
                await self._bot.pin_chat_message(
                    chat_id, message.message_id, disable_notification=True
                )
        return message.message_id
