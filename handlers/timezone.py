"""/timezone: the person types a city, a country or a UTC offset, sees the time, confirms."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import format_datetime, format_time
from bot.i18n import gettext as _
from bot.services import people
from bot.services.timezones import resolve_timezone_text, utc_offset_label, zone_label
from handlers.text import h

MAX_CHOICES = 8


class TimezoneForm(StatesGroup):
    waiting_for_place = State()


class ZonePick(CallbackData, prefix="tz"):
    zone: str


class ZoneConfirm(CallbackData, prefix="tzok"):
    zone: str


async def _ask(message: Message, state: FSMContext, user: people.Person | None) -> None:
    await state.set_state(TimezoneForm.waiting_for_place)
    lines = []
    if user is not None and user.timezone:
        lines.append(_("Your time zone now: {zone}.").format(zone=h(user.timezone)))
    lines.append(
        _(
            "Where are you? Send me your city, your country or your UTC offset, for example: "
            "Tashkent, Uganda, UTC+5:30."
        )
    )
    await message.answer("\n".join(lines))


async def cmd_timezone(message: Message, state: FSMContext, user: people.Person | None) -> None:
    await _ask(message, state, user)


async def on_timezone_menu(
    query: CallbackQuery, state: FSMContext, user: people.Person | None
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _ask(query.message, state, user)


def _confirm_text(zone: str, locale: str, clock: Clock) -> str:
    now = clock.now()
    return _("{place}: it is now {time} there ({offset}). Is this your local time?").format(
        place=h(zone_label(zone, locale)),
        time=format_datetime(now, ZoneInfo(zone), "short"),
        offset=utc_offset_label(zone, now),
    )


def _confirm_keyboard(zone: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="✅ " + _("Yes, save it"),
                    callback_data=ZoneConfirm(zone=zone).pack(),
                ),
                InlineKeyboardButton(text="↩ " + _("No, try again"), callback_data="menu:timezone"),
            ]
        ]
    )


async def on_place(message: Message, locale: str, clock: Clock) -> None:
    text = (message.text or "").strip()[:100]
    zones = resolve_timezone_text(text, locale, clock.now())[:MAX_CHOICES]
    if not zones:
        await message.answer(
            _(
                "I could not find a time zone for “{text}”. Try a large city near you, your "
                "country, or an offset such as UTC+3."
            ).format(text=h(text))
        )
        return
    if len(zones) == 1:
        await message.answer(
            _confirm_text(zones[0], locale, clock), reply_markup=_confirm_keyboard(zones[0])
        )
        return
    now = clock.now()
    rows = [
        [
            InlineKeyboardButton(
                text=f"{zone_label(zone, locale)} — {format_time(now, ZoneInfo(zone))}",
                callback_data=ZonePick(zone=zone).pack(),
            )
        ]
        for zone in zones
    ]
    await message.answer(
        _("Which of these is your time?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def on_zone_picked(
    query: CallbackQuery, callback_data: ZonePick, locale: str, clock: Clock
) -> None:
    if not people.is_valid_zone(callback_data.zone):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _confirm_text(callback_data.zone, locale, clock),
            reply_markup=_confirm_keyboard(callback_data.zone),
        )


async def on_zone_confirmed(
    query: CallbackQuery,
    callback_data: ZoneConfirm,
    session: AsyncSession,
    state: FSMContext,
    locale: str,
    clock: Clock,
) -> None:
    if not people.is_valid_zone(callback_data.zone):
        await query.answer(_("This button is no longer active."))
        return
    await people.choose_timezone(session, query.from_user.id, callback_data.zone, clock)
    await state.clear()
    await query.answer(_("Saved."))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Saved: {place}. From now on I show every time in your clock.").format(
                place=h(zone_label(callback_data.zone, locale))
            )
        )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="timezone")
    router.message.register(cmd_timezone, Command("timezone"))
    router.callback_query.register(on_timezone_menu, F.data == "menu:timezone")
    router.message.register(
        on_place, StateFilter(TimezoneForm.waiting_for_place), F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(on_zone_picked, ZonePick.filter())
    router.callback_query.register(on_zone_confirmed, ZoneConfirm.filter())
    return router
