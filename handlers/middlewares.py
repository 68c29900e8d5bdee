"""Outer middlewares: one database session per update, the sender remembered, the locale set.

(Answers go first in the rate budget through ``bot.delivery.requests.AnswerFirstMiddleware``.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import use_locale
from bot.services import people

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """Opens the update's database session; services commit, the session closes afterwards."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._session_factory() as session:
            data["session"] = session
            return await handler(event, data)


class DownloadsMiddleware(BaseMiddleware):
    """Gives the update ``downloads``: documents fetched while it is handled, by file id.

    Several routers look at one document to tell whether it is theirs; with this, Telegram is
    asked for it once (see ``handlers.uploads.document_bytes``).
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["downloads"] = {}
        return await handler(event, data)


def _says_reachable(event: TelegramObject, chat: Chat | None) -> bool | None:
    """What an update tells about whether the bot may write to its sender.

    Anything in the private chat means yes (a person who blocked the bot sends nothing
    there), except the notice that they blocked it; updates from groups and join requests
    say nothing about the private chat.
    """
    if chat is None or chat.type != ChatType.PRIVATE:
        return None
    if isinstance(event, Update) and event.chat_join_request is not None:
        return None
    if isinstance(event, Update) and event.my_chat_member is not None:
        return event.my_chat_member.new_chat_member.status not in ("kicked", "left")
    return True


class PersonMiddleware(BaseMiddleware):
    """Remembers who wrote; hands on their time zone and speaks their language for the update."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        settings: Settings = data["settings"]
        clock: Clock = data["clock"]
        session: AsyncSession = data["session"]
        user = None
        # A quiz vote is no news of the person (it says nothing of their chat with the bot):
        # votes come by the hundred at once and are written in batches, the voter read there.
        vote = isinstance(event, Update) and event.poll_answer is not None
        if tg_user is not None and not tg_user.is_bot and not vote:
            user = await people.remember(
                session,
                people.TelegramProfile(
                    user_id=tg_user.id,
                    first_name=tg_user.first_name,
                    last_name=tg_user.last_name,
                    username=tg_user.username,
                    language_code=tg_user.language_code,
                ),
                clock,
                reachable=_says_reachable(event, data.get("event_chat")),
                recent=data.get("recent_senders"),
            )
        data["user"] = user
        locale = people.locale_of(
            user, tg_user.language_code if tg_user else None, settings.default_locale
        )
        data["locale"] = locale
        with use_locale(locale):
            return await handler(event, data)
