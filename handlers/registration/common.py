"""What registration's routers share: the welcome, the zone and country buttons, the cohort a
command names."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import format_time
from bot.services import registration as reg
from bot.services import roles
from bot.services.timezones import zone_label

log = logging.getLogger(__name__)

MAX_ZONE_CHOICES = 10

#: A typed answer to a form's question: any text but a command.
FORM_TEXT = F.text & ~F.text.startswith("/")


class ZoneChoice(CallbackData, prefix="regtz"):
    zone: str


async def group_invite(bot: Bot, chat_id: int, user_id: int) -> str | None:
    """A single-use link to the cohort's group, or None when the bot cannot make one."""
    try:
        link = await bot.create_chat_invite_link(
            chat_id, name=f"trainee {user_id}"[:32], member_limit=1
        )
    except TelegramAPIError as exc:
        log.warning("no invite link for group %s: %s", chat_id, exc)
        return None
    return link.invite_link


async def welcome_text(bot: Bot, view: reg.EnrolmentView, user_id: int) -> str:
    """What a newly registered trainee reads (see :func:`reg.welcome_text`), with a personal
    invitation to the cohort's group chat when the bot can make one."""
    link = None
    if view.group_chat_id is not None:
        link = await group_invite(bot, view.group_chat_id, user_id)
    return reg.welcome_text(view, link)


def zone_keyboard(
    zones: list[str] | tuple[str, ...], locale: str, clock: Clock
) -> InlineKeyboardMarkup:
    now = clock.now()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=f"{zone_label(zone, locale)} — {format_time(now, ZoneInfo(zone))}",
                    callback_data=ZoneChoice(zone=zone).pack(),
                )
            ]
            for zone in zones[:MAX_ZONE_CHOICES]
            if len(ZoneChoice(zone=zone).pack().encode()) <= 64
        ]
    )


def country_buttons(
    suggestions: list[tuple[str, str]], make: Callable[..., CallbackData]
) -> list[list[InlineKeyboardButton]]:
    """One button per suggested country; ``make(code=...)`` builds each button's data."""
    return [
        [InlineKeyboardButton(text=name, callback_data=make(code=code).pack())]
        for code, name in suggestions
    ]


async def cohort_argument(
    message: Message, session: AsyncSession, code: str, scope: set[int] | None, usage: str
) -> reg.Cohort | None:
    """The cohort a command names, or ``None`` after telling the person how to name one."""
    if not code:
        await message.answer(usage)
        return None
    cohort = await reg.cohort_in_scope(session, code, scope)
    if cohort is None:
        await message.answer(await roles.cohort_outside_scope(session, code, scope))
    return cohort
