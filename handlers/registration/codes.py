"""Registration, trainee side: ``/start <code>``, the "is this you?" of a personal link, and
the time zone chosen after it.

Must come before the plain /start router: it takes ``/start <code>`` only.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import current_locale, use_locale
from bot.i18n import gettext as _
from bot.services import people
from bot.services import registration as reg
from bot.services.countries import country_name
from bot.services.timezones import zone_label
from handlers.registration.common import ZoneChoice, welcome_text, zone_keyboard
from handlers.registration.form import start_cohort_link
from handlers.text import h


class PersonalAnswer(CallbackData, prefix="regme"):
    yes: bool
    code: str


async def cmd_start_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    state: FSMContext,
    sender: reg.Waker | None = None,
) -> None:
    if message.from_user is None:
        return
    payload = (command.args or "").strip()
    found = await reg.open_start_code(
        session, payload, message.from_user.id, settings, clock, sender
    )
    if found is None:
        await message.answer(
            _(
                "I do not know this link. Check that you opened it whole, or ask the "
                "organisers for a new one."
            )
        )
        return
    if isinstance(found, reg.EndedCohort):
        await message.answer(reg.ended_text(found))
        return
    if isinstance(found, reg.PersonalInvite):
        if found.state == reg.CodeState.YOURS:
            await message.answer(
                _("You are already registered in {cohort}. /help shows what I can do.").format(
                    cohort=h(found.cohort_code)
                )
            )
        elif found.state == reg.CodeState.WITHDRAWN:
            await message.answer(
                _(
                    "This personal link is no longer valid: the organisers have taken it off "
                    "the list of trainees. If you think this is a mistake, please contact them."
                )
            )
        elif found.state == reg.CodeState.TAKEN:
            await message.answer(
                _(
                    "This personal link has already been used by another Telegram account, so "
                    "I cannot use it for you. I have told the organisers; please contact them."
                )
            )
        else:
            await _ask_identity(message, found)
        return
    await start_cohort_link(message, found, state)


async def _ask_identity(message: Message, invite: reg.PersonalInvite) -> None:
    parts = [invite.full_name]
    if invite.organisation:
        parts.append(invite.organisation)
    if invite.country:
        parts.append(country_name(invite.country, current_locale()))
    await message.answer(
        _("Are you {person}?").format(person=h(", ".join(parts))),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text="✅ " + _("Yes, it is me"),
                        callback_data=PersonalAnswer(yes=True, code=invite.code).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("No"),
                        callback_data=PersonalAnswer(yes=False, code=invite.code).pack(),
                    ),
                ]
            ]
        ),
    )


async def on_personal_answer(
    query: CallbackQuery,
    callback_data: PersonalAnswer,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    locale: str,
    sender: reg.Waker | None = None,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.yes:
        await query.answer()
        if message is not None:
            await message.edit_text(
                _(
                    "Thank you. This link was meant for someone else; please contact the "
                    "organisers of your programme so that they can send you your own link."
                )
            )
        return
    result = await reg.bind_personal_code(
        session, callback_data.code, query.from_user.id, settings, clock, sender, locale
    )
    if result.outcome == reg.BindOutcome.UNKNOWN:
        await query.answer(_("This button is no longer active."))
        return
    if result.outcome == reg.BindOutcome.ENDED and result.ended is not None:
        await query.answer()
        if message is not None:
            await message.edit_text(reg.ended_text(result.ended))
        return
    if result.outcome == reg.BindOutcome.TAKEN:
        await query.answer()
        if message is not None:
            await message.edit_text(
                _(
                    "This personal link has already been used by another Telegram account, so "
                    "I cannot use it for you. I have told the organisers; please contact them."
                )
            )
        return
    await query.answer()
    if result.cohort_id is None or message is None:
        return
    speak = result.locale_set or locale
    with use_locale(speak):
        if result.outcome == reg.BindOutcome.ALREADY:
            await message.edit_text(_("You are already registered. /help shows what I can do."))
            return
        await message.edit_text(_("Thank you, you are registered."))
        if result.view is not None:
            await message.answer(await welcome_text(bot, result.view, query.from_user.id))
        if result.zone_choices:
            await message.answer(
                _("Your country has several time zones. Which one is yours?"),
                reply_markup=zone_keyboard(result.zone_choices, speak, clock),
            )
        elif result.zone_set:
            await message.answer(
                _("I set your time zone to {place}; /timezone changes it.").format(
                    place=h(zone_label(result.zone_set, speak))
                )
            )


async def on_zone_choice(
    query: CallbackQuery,
    callback_data: ZoneChoice,
    session: AsyncSession,
    clock: Clock,
    locale: str,
) -> None:
    if not people.is_valid_zone(callback_data.zone):
        await query.answer(_("This button is no longer active."))
        return
    await people.choose_timezone(session, query.from_user.id, callback_data.zone, clock)
    await query.answer(_("Saved."))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Saved: {place}. From now on I show every time in your clock.").format(
                place=h(zone_label(callback_data.zone, locale))
            )
        )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="registration.codes")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_start_code, CommandStart(deep_link=True))
    router.callback_query.register(on_personal_answer, PersonalAnswer.filter())
    router.callback_query.register(on_zone_choice, ZoneChoice.filter())
    return router
