"""Last router: whatever no feature took gets a short hint, never silence or an error."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.i18n import gettext as _
from handlers.menus import ADMIN_COMMANDS
from handlers.text import h

_ADMIN_NAMES = frozenset(name for name, _description in ADMIN_COMMANDS)


async def on_unknown_command(message: Message) -> None:
    command = (message.text or "").split(maxsplit=1)[0].split("@", 1)[0][:40]
    if command.removeprefix("/") in _ADMIN_NAMES:
        await message.answer(
            _("Sorry, {command} is only for the programme's organisers.").format(command=h(command))
        )
        return
    await message.answer(
        _("I do not know the command {command}. /help lists what I can do.").format(
            command=h(command)
        )
    )


async def on_stray_message(message: Message) -> None:
    await message.answer(
        _("I did not understand that. Use the menu or /help to see what I can do.")
    )


async def on_stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer active."))


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="fallback")
    router.message.register(
        on_unknown_command, F.chat.type == ChatType.PRIVATE, F.text.startswith("/")
    )
    router.message.register(on_stray_message, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(on_stale_button)
    return router
