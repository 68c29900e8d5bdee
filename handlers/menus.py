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
    ("schedule", N_("This week's sessions in your time")),
    ("today", N_("Today's sessions")),
    ("next", N_("The next session and its link")),
    ("calendar", N_("The timetable as a calendar file")),
    ("reminders", N_("When I remind you")),
    ("faq", N_("Questions and answers")),
    ("feedback", N_("Your feedback forms")),
    ("progress", N_("Where you stand: attendance, forms, quizzes")),
    ("quiz", N_("Your quizzes and scores")),
    ("certificate", N_("Your certificate of completion")),
    ("profile", N_("What I know about you")),
    ("group", N_("A link to your cohort's group chat")),
    ("withdraw", N_("Leave a cohort")),
    ("mydata", N_("A file of everything stored about you")),
    ("forgetme", N_("Erase your personal data")),
]

#: Extra commands for admins.
ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("status", N_("Bot status and figures")),
    ("cohorts", N_("Cohorts and who has registered")),
    ("roster", N_("Export a cohort's roster")),
    ("trainee", N_("One trainee: move, withdraw or replace")),
    ("audit", N_("Changes made to your cohorts' lists")),
    ("pending", N_("Registrations waiting for approval")),
    ("invite", N_("A cohort's registration link")),
    ("announce", N_("Send an announcement")),
    ("campaigns", N_("Recent and scheduled announcements")),
    ("inbox", N_("Trainees' questions waiting for an answer")),
    ("attendance", N_("Mark a session's attendance")),
    ("code", N_("The check-in code to read aloud")),
    ("attendance_report", N_("A cohort's attendance figures")),
    ("results", N_("What trainees said in the feedback forms")),
    ("quiz_report", N_("How a cohort did in the quizzes")),
    ("completion", N_("Who completed, and who is at risk")),
    ("certificates", N_("Issue a cohort's certificates")),
    ("certificate_revoke", N_("Revoke a certificate")),
    ("grant", N_("Give someone a role in a programme")),
    ("revoke", N_("Take a role away")),
]


#: Admin commands only the super-admins (``ADMIN_IDS``) may use, not programme staff.
SUPER_ADMIN_ONLY = frozenset({"status"})


def commands_for(locale: str, *, admin: bool, staff_only: bool = False) -> list[tuple[str, str]]:
    """The commands a person may use, with descriptions in ``locale``.

    ``staff_only`` leaves out what only super-admins may use (for programme staff).
    """
    extra = [c for c in ADMIN_COMMANDS if not (staff_only and c[0] in SUPER_ADMIN_ONLY)]
    entries = TRAINEE_COMMANDS + (extra if admin else [])
    with use_locale(locale):
        return [(name, gettext(description)) for name, description in entries]


async def install_menus(bot: Bot, settings: Settings) -> None:
    """Register the command menus: one per language, and the admin menu in admins' chats."""
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
        await set_chat_menu(bot, admin_id, settings, admin=True)


async def set_chat_menu(bot: Bot, chat_id: int, settings: Settings, *, admin: bool) -> bool:
    """Give one person's private chat the admin menu, or take it back (``admin=False``).

    Used for the super-admins at start and whenever a role is granted or revoked. A person
    who has never opened a chat with the bot makes Telegram answer "chat not found"; that is
    logged and skipped (they get the menu at the next grant or restart).
    """
    scope = BotCommandScopeChat(chat_id=chat_id)
    staff_only = chat_id not in settings.admin_ids
    try:
        if not admin:
            await bot.delete_my_commands(scope=scope)
            for locale in SUPPORTED_LOCALES:
                await bot.delete_my_commands(scope=scope, language_code=locale)
            return True
        await bot.set_my_commands(
            [
                BotCommand(command=c, description=d)
                for c, d in commands_for(settings.default_locale, admin=True, staff_only=staff_only)
            ],
            scope=scope,
        )
        for locale in SUPPORTED_LOCALES:
            await bot.set_my_commands(
                [
                    BotCommand(command=c, description=d)
                    for c, d in commands_for(locale, admin=True, staff_only=staff_only)
                ],
                scope=scope,
                language_code=locale,
            )
    except TelegramAPIError as exc:
        log.warning("admin menu for %s not changed: %s", chat_id, exc)
        return False
    return True
