"""A Bot session that records every request instead of sending it (handler tests).

Send and edit methods get back a plausible ``Message`` so handlers that use the result keep
working; everything else gets ``True``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message, User

BOT_USER = User(
    id=1000001, is_bot=True, first_name="Trainee Assistant", username="trainee_assistant_bot"
)


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(1000)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        self.requests.append(method)
        return self._result(method)  # type: ignore[no-any-return]

    def _result(self, method: TelegramMethod[Any]) -> Any:
        now = datetime.now(UTC)
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, SendMessage | SendDocument):
            chat_id = int(method.chat_id)
            return Message(
                message_id=next(self._ids),
                date=now,
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
                reply_markup=method.reply_markup
                if isinstance(method.reply_markup, InlineKeyboardMarkup)
                else None,
            )
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            return Message(
                message_id=method.message_id or 0,
                date=now,
                chat=Chat(id=int(method.chat_id or 0), type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
            )
        return True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (aiogram's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None

    # What a person would see -------------------------------------------------------------

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of messages sent or edited, in order (optionally to one chat)."""
        out = []
        for method in self.requests:
            if isinstance(method, SendMessage | EditMessageText) and (
                chat_id is None or method.chat_id == chat_id
            ):
                out.append(method.text or "")
        return out

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [m for m in self.requests if isinstance(m, kind)]

    def clear(self) -> None:
        self.requests.clear()


_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def private_message(
    user_id: int, text: str, *, language_code: str | None = "en", first_name: str = "Amina"
) -> dict[str, Any]:
    """An Update (as a dict for ``Update.model_validate``) carrying a private text message."""
    entities = []
    if text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": language_code,
            },
            "text": text,
            "entities": entities,
        },
    }


def button_press(
    user_id: int, data: str, *, message_id: int = 1, language_code: str | None = "en"
) -> dict[str, Any]:
    """An Update carrying a press of an inline button with ``data``."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "chat_instance": "ci",
            "data": data,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Amina",
                "language_code": language_code,
            },
            "message": {
                "message_id": message_id,
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": user_id, "type": "private", "first_name": "Amina"},
                "from": BOT_USER.model_dump(),
                "text": "…",
            },
        },
    }
