"""Filters shared by the routers."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services import roles


class IsSuperAdmin(Filter):
    """The sender is one of ``ADMIN_IDS``."""

    async def __call__(
        self, event: TelegramObject, settings: Settings, event_from_user: TgUser | None = None
    ) -> bool:
        return event_from_user is not None and event_from_user.id in settings.admin_ids


class IsAnyAdmin(Filter):
    """The sender organises something: a super-admin, programme admin or coordinator.

    The one filter of the organisers' routers (registration, timetables, announcements).
    Hands the handler ``admin_scope``: ``None`` for a super-admin (everything), else the ids
    of the programmes the person organises; each handler checks what it touches against it.
    A trainee costs no query here: the person middleware already noted that they hold no role.
    """

    async def __call__(
        self,
        event: TelegramObject,
        settings: Settings,
        session: AsyncSession,
        event_from_user: TgUser | None = None,
    ) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        scope = await roles.admin_programme_ids(session, event_from_user.id, settings)
        if scope is not None and not scope:
            return False
        return {"admin_scope": scope}
