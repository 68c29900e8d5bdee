"""Registration, trainee side: leaving a cohort (/withdraw) and the cohort's group chat
(/group)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import registration as reg
from handlers.registration.common import group_invite
from handlers.text import h


class WithdrawChoice(CallbackData, prefix="wd"):
    enrolment_id: int
    confirm: bool


_LEAVABLE = ("active", "pending", "waiting")


async def cmd_withdraw(message: Message, session: AsyncSession, locale: str) -> None:
    if message.from_user is None:
        return
    views = await reg.my_enrolments(session, message.from_user.id, locale, _LEAVABLE)
    if not views:
        await message.answer(_("You are not registered in any cohort."))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=view.cohort_name or view.cohort_code,
                callback_data=WithdrawChoice(enrolment_id=view.enrolment_id, confirm=False).pack(),
            )
        ]
        for view in views
    ]
    await message.answer(
        _("Which cohort do you want to leave?"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_withdraw(
    query: CallbackQuery,
    callback_data: WithdrawChoice,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    locale: str,
    sender: reg.Waker | None = None,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    views = {
        v.enrolment_id: v
        for v in await reg.my_enrolments(session, query.from_user.id, locale, _LEAVABLE)
    }
    view = views.get(callback_data.enrolment_id)
    if view is None or message is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    label = h(view.cohort_name or view.cohort_code)
    if not callback_data.confirm:
        await message.edit_text(
            _("Leave {cohort}? Your place may go to someone on the waiting list.").format(
                cohort=label
            ),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Yes, leave"),
                            callback_data=WithdrawChoice(
                                enrolment_id=view.enrolment_id, confirm=True
                            ).pack(),
                        ),
                        InlineKeyboardButton(text=_("No, stay"), callback_data="wd:keep"),
                    ]
                ]
            ),
        )
        return
    done = await reg.withdraw(
        session, query.from_user.id, view.enrolment_id, settings, clock, sender
    )
    if done:
        await message.edit_text(_("You have left {cohort}.").format(cohort=label))


async def on_withdraw_keep(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was changed."))


async def cmd_group(message: Message, session: AsyncSession, bot: Bot, locale: str) -> None:
    if message.from_user is None:
        return
    views = [
        v
        for v in await reg.my_enrolments(session, message.from_user.id, locale, ("active",))
        if v.group_chat_id is not None
    ]
    if not views:
        await message.answer(_("None of your cohorts has a group chat yet."))
        return
    lines = []
    for view in views:
        if view.group_chat_id is None:
            continue
        link = await group_invite(bot, view.group_chat_id, message.from_user.id)
        label = h(view.cohort_name or view.cohort_code)
        if link:
            lines.append(_("{cohort}: {link}").format(cohort=label, link=link))
        else:
            lines.append(
                _("{cohort}: I cannot make a link right now; please ask the organisers.").format(
                    cohort=label
                )
            )
    await message.answer(
        _("Your cohort's group chat (the link works once):") + "\n" + "\n".join(lines)
    )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="registration.enrolments")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_withdraw, Command("withdraw"))
    router.callback_query.register(on_withdraw, WithdrawChoice.filter())
    router.callback_query.register(on_withdraw_keep, F.data == "wd:keep")
    router.message.register(cmd_group, Command("group"))
    return router
