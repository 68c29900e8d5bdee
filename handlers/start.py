"""/start, /help and /settings: what the bot is, what this person may do, what is stored."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import LANGUAGE_NAMES, current_locale, format_datetime
from bot.i18n import gettext as _
from bot.services import people, roles
from bot.services import registration as reg
from handlers.menus import commands_for
from handlers.text import h


def settings_keyboard() -> InlineKeyboardMarkup:
    """Buttons to change the language or the time zone."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="🌐 " + _("Language"), callback_data="menu:language"),
                InlineKeyboardButton(text="🕒 " + _("Time zone"), callback_data="menu:timezone"),
            ]
        ]
    )


#: The standings in a cohort that /start reports.
_CURRENT = ("active", "pending", "waiting")


def _cohort_lines(views: list[reg.EnrolmentView]) -> list[str]:
    """The person's cohorts: details of those they are registered in, else their standing."""
    lines = [_("Your cohorts:")]
    for view in views:
        name = h(view.cohort_name or view.cohort_code)
        if view.status == "active":
            lines.append(f"• {name}")
            lines += [f"  {line}" for line in reg.cohort_details(view)]
        else:
            lines.append(f"• {name} — {reg.status_label(view.status)}")
    return lines


async def cmd_start(
    message: Message, user: people.Person | None, session: AsyncSession, locale: str
) -> None:
    greeting = (
        _("Welcome, {name}!").format(name=h(user.first_name))
        if user is not None and user.first_name
        else _("Welcome!")
    )
    intro = _(
        "I am the assistant of your training programme. I show the timetable in your own "
        "time zone and language, remind you before each session, tell you when a session "
        "moves, and pass your questions to the organisers."
    )
    # Only in a private chat: a group need not learn who is in which cohort.
    private = message.chat.type == ChatType.PRIVATE
    views = await reg.my_enrolments(session, user.id, locale, _CURRENT) if user and private else []
    lines = [greeting, ""]
    if not views:
        lines += [intro, ""]
    elif any(view.status == "active" for view in views):
        # A registered trainee: their cohorts and what to do next, not the introduction.
        lines += [*_cohort_lines(views), "", *reg.next_steps()]
        if any(v.status == "active" and v.group_chat_id is not None for v in views):
            lines += ["", reg.group_hint()]
        lines.append("")
    else:
        lines += [*_cohort_lines(views), "", intro, ""]
    if user is None or user.timezone is None:
        lines.append(
            _(
                "First, check your language and tell me your time zone, so that every time I "
                "show you is in your own clock."
            )
        )
    lines.append(_("/help lists everything I can do."))
    await message.answer("\n".join(lines), reply_markup=settings_keyboard())


async def cmd_help(message: Message, settings: Settings, session: AsyncSession) -> None:
    person = message.from_user.id if message.from_user is not None else None
    super_admin = person is not None and person in settings.admin_ids
    organiser = super_admin or (
        person is not None and await roles.is_any_admin(session, person, settings)
    )
    lines = [_("Here is what I can do:"), ""]
    for name, description in commands_for(current_locale(), admin=False):
        lines.append(f"/{name} — {h(description)}")
    if organiser:
        lines += ["", _("For organisers:")]
        trainee = {name for name, _d in commands_for(current_locale(), admin=False)}
        staff_only = not super_admin
        for name, description in commands_for(current_locale(), admin=True, staff_only=staff_only):
            if name not in trainee:
                lines.append(f"/{name} — {h(description)}")
    await message.answer("\n".join(lines))


def describe_settings(user: people.Person | None, locale: str, now: datetime) -> str:
    """The person's stored language and time zone, with their local time now."""
    lines = [_("Your settings:"), ""]
    lines.append(_("Language: {language}").format(language=LANGUAGE_NAMES[locale]))
    if user is not None and user.timezone:
        local = format_datetime(now, ZoneInfo(user.timezone), "short")
        lines.append(
            _("Time zone: {zone} (your time now: {time})").format(zone=h(user.timezone), time=local)
        )
    else:
        lines.append(_("Time zone: not set yet"))
    return "\n".join(lines)


async def cmd_settings(
    message: Message, user: people.Person | None, locale: str, clock: Clock
) -> None:
    await message.answer(
        describe_settings(user, locale, clock.now()), reply_markup=settings_keyboard()
    )


async def on_settings_button(
    query: CallbackQuery, user: people.Person | None, locale: str, clock: Clock
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            describe_settings(user, locale, clock.now()), reply_markup=settings_keyboard()
        )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="start")
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_settings, Command("settings"))
    router.callback_query.register(on_settings_button, F.data == "menu:settings")
    return router
