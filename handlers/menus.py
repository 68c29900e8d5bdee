"""The command menus Telegram shows, per language, and a longer one for admins."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.config import Settings
from bot.i18n import N_, SUPPORTED_LOCALES, gettext, use_locale

log = logging.getLogger(__name__)

#: (command, description) for everyone; descriptions are translated where they are shown.
TRAINEE_COMMANDS: list[tuple[str, str]] = [
    ("start", N_("Start or restart the assistant")),
    ("help", N_("What I can do for you")),
    ("language", N_("Change the language")),
    ("timezone", N_("Set your time zone")),
    ("settings", N_("Your language and time zone")),
]

#: Extra commands for admins.
ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("status", N_("Bot status and figures")),
]


def commands_for(locale: str, *, admin: bool) -> list[tuple[str, str]]:
    """The commands a person may use, with descriptions in ``locale``."""
    entries = TRAINEE_COMMANDS + (ADMIN_COMMANDS if admin else [])
    with use_locale(locale):
        return [(name, gettext(description)) for name, description in entries]


async def install_menus(bot: Bot, settings: Settings) -> None:
    """Register the command menus: one per language, and the admin menu in admins' chats.

    An admin who has never opened a chat with the bot makes Telegram answer "chat not found";
    that is logged and skipped, the admin gets the menu once they start the bot and it restarts.
    """
    default_entries = commands_for(settings.default_locale, admin=False)
    await bot.set_my_commands(
        [BotCommand(command=c, description=d) for c, d in default_entries],
        scope=BotCommandScopeDefault(),
    )
    for locale in SUPPORTED_LOCALES:
        entries = commands_for(locale, admin=False)
        await bot.set_my_commands(
            [BotCommand(command=c, description=d) for c, d in entries],
            scope=BotCommandScopeDefault(),
            language_code=locale,
        )
    for admin_id in settings.admin_ids:
        try:
            await bot.set_my_commands(
                [
                    BotCommand(command=c, description=d)
                    for c, d in commands_for(settings.default_locale, admin=True)
                ],
                scope=BotCommandScopeChat(chat_id=admin_id),
            )
            for locale in SUPPORTED_LOCALES:
                await bot.set_my_commands(
                    [
                        BotCommand(command=c, description=d)
                        for c, d in commands_for(locale, admin=True)
                    ],
                    scope=BotCommandScopeChat(chat_id=admin_id),
                    language_code=locale,
                )
        except TelegramAPIError as exc:
            log.warning("admin menu for %s not installed: %s", admin_id, exc)
