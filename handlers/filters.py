"""Filters shared by the routers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser

from bot.config import Settings


class IsSuperAdmin(Filter):
    """The sender is one of ``ADMIN_IDS``."""

    async def __call__(
        self, event: TelegramObject, settings: Settings, event_from_user: TgUser | None = None
    ) -> bool:
        return event_from_user is not None and event_from_user.id in settings.admin_ids
