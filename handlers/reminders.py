"""/reminders: when a trainee is reminded of sessions, and the daily digest."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.services import reminders, timetable
from handlers.timetable.trainee import not_enrolled_text


class ReminderPreset(CallbackData, prefix="rem"):
    preset: str


class DigestSwitch(CallbackData, prefix="remd"):
    on: bool


def _preset_label(name: str, choice: reminders.ReminderChoice, locale: str) -> str:
    labels = {
        "cohort": _("Cohort default ({what})").format(
            what=reminders.describe_offsets(choice.cohort_offsets, locale)
        ),
        "day15": _("1 day + 15 min"),
        "hour": _("1 hour"),
        "15m": _("15 min"),
        "off": _("Off"),
    }
    mark = "✅ " if choice.preset == name else ""
    return mark + labels[name]


def render_reminders(choice: reminders.ReminderChoice, locale: str) -> str:
    """The /reminders message: the choice in force and the digest."""
    if choice.offsets is None:
        what = _("{when} (your cohort's default)").format(
            when=reminders.describe_offsets(choice.cohort_offsets, locale)
        )
    else:
        what = reminders.describe_offsets(choice.offsets, locale)
    digest = _("on") if choice.daily_digest else _("off")
    return "\n".join(
        [
            "🔔 " + _("Reminders: {what}").format(what=what),
            _("Daily digest at 08:00 your time: {state}").format(state=digest),
            "",
            _(
                "Reminders a day ahead never come at night (22:00–07:00 your time): they come "
                "the evening before. Short ones come on time."
            ),
        ]
    )


def reminders_keyboard(choice: reminders.ReminderChoice, locale: str) -> InlineKeyboardMarkup:
    """Presets, and the digest switch."""

    def button(name: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=_preset_label(name, choice, locale),
            callback_data=ReminderPreset(preset=name).pack(),
        )

    digest_text = (
        "☀️ " + _("Turn the daily digest off")
        if choice.daily_digest
        else "☀️ " + _("Turn the daily digest on")
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button("cohort")],
            [button("day15"), button("hour")],
            [button("15m"), button("off")],
            [
                InlineKeyboardButton(
                    text=digest_text,
                    callback_data=DigestSwitch(on=not choice.daily_digest).pack(),
                )
            ],
        ]
    )


async def cmd_reminders(message: Message, session: AsyncSession, locale: str) -> None:
    if message.from_user is None:
        return
    choice = await reminders.reminder_choice(session, message.from_user.id)
    if not choice.enrolled:
        await message.answer(not_enrolled_text())
        return
    await message.answer(
        render_reminders(choice, locale), reply_markup=reminders_keyboard(choice, locale)
    )


async def _update_reminders(
    query: CallbackQuery,
    session: AsyncSession,
    locale: str,
    clock: Clock,
    sender: timetable.Waker | None,
    *,
    preset: str | None = None,
    daily_digest: bool | None = None,
) -> None:
    if preset is not None and preset not in reminders.PRESETS:
        await query.answer(_("This button is no longer active."))
        return
    try:
        choice = await reminders.choose_reminders(
            session, query.from_user.id, clock=clock, preset=preset, daily_digest=daily_digest
        )
    except LookupError:
        await query.answer(_("This button is no longer active."))
        return
    if sender is not None:
        sender.wake()
    await query.answer(_("Saved."))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            render_reminders(choice, locale), reply_markup=reminders_keyboard(choice, locale)
        )


async def on_reminder_preset(
    query: CallbackQuery,
    callback_data: ReminderPreset,
    session: AsyncSession,
    locale: str,
    clock: Clock,
    sender: timetable.Waker | None = None,
) -> None:
    await _update_reminders(query, session, locale, clock, sender, preset=callback_data.preset)


async def on_digest_switch(
    query: CallbackQuery,
    callback_data: DigestSwitch,
    session: AsyncSession,
    locale: str,
    clock: Clock,
    sender: timetable.Waker | None = None,
) -> None:
    await _update_reminders(query, session, locale, clock, sender, daily_digest=callback_data.on)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="reminders")
    router.message.register(cmd_reminders, Command("reminders"))
    router.callback_query.register(on_reminder_preset, ReminderPreset.filter())
    router.callback_query.register(on_digest_switch, DigestSwitch.filter())
    return router
