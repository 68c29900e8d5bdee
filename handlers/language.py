"""/language: pick one of the six interface languages."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, use_locale
from bot.i18n import gettext as _
from bot.services import people


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    """The six languages, each named in itself, two to a row; the current one ticked."""
    buttons = [
        InlineKeyboardButton(
            text=("✓ " if code == current else "") + LANGUAGE_NAMES[code],
            callback_data=LanguageChoice(code=code).pack(),
        )
        for code in SUPPORTED_LOCALES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 2] for i in range(0, 6, 2)])


async def _ask(message: Message, locale: str) -> None:
    await message.answer(
        _("Choose the language I speak to you in:"), reply_markup=language_keyboard(locale)
    )


async def cmd_language(message: Message, locale: str) -> None:
    await _ask(message, locale)


async def on_language_menu(query: CallbackQuery, locale: str) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _ask(query.message, locale)


async def on_language_chosen(
    query: CallbackQuery, callback_data: LanguageChoice, session: AsyncSession, clock: Clock
) -> None:
    await people.choose_locale(session, query.from_user.id, callback_data.code, clock)
    with use_locale(callback_data.code):
        done = _("Done: I will speak {language} with you.").format(
            language=LANGUAGE_NAMES[callback_data.code]
        )
        await query.answer(done)
        if isinstance(query.message, Message):
            await query.message.edit_text(done)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="language")
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(on_language_menu, F.data == "menu:language")
    router.callback_query.register(
        on_language_chosen, LanguageChoice.filter(F.code.in_(SUPPORTED_LOCALES))
    )
    return router
