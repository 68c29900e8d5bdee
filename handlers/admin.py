"""Commands for organisers. The whole router is filtered once: non-admins never reach it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import people
from handlers.filters import IsSuperAdmin


async def cmd_status(message: Message, session: AsyncSession, settings: Settings) -> None:
    people_count = await people.count_people(session)
    backend = "PostgreSQL" if settings.database_url.startswith("postgresql") else "SQLite"
    await message.answer(
        "\n".join(
            [
                _("Bot status"),
                _("People who have written to me: {count}").format(count=people_count),
                _("Database: {backend}").format(backend=backend),
            ]
        )
    )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="admin")
    router.message.filter(IsSuperAdmin())
    router.callback_query.filter(IsSuperAdmin())
    router.message.register(cmd_status, Command("status"))
    return router
