"""A trainee's own data: /profile to correct it, /mydata to see all of it, /forgetme to erase
it."""

from __future__ import annotations

import json

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import privacy
from bot.services import registration as reg
from bot.services.countries import country_name
from handlers.registration.common import FORM_TEXT, country_buttons
from handlers.text import h


class ProfileEdit(CallbackData, prefix="prof"):
    field: str


class ProfileCountry(CallbackData, prefix="profc"):
    code: str


class ForgetChoice(CallbackData, prefix="forget"):
    confirm: bool


class ProfileForm(StatesGroup):
    value = State()


def _field_label(name: str) -> str:
    labels = {
        "full_name": _("Full name"),
        "organisation": _("Organisation"),
        "email": _("E-mail"),
        "country": _("Country"),
    }
    return labels.get(name, name)


def _profile_text(
    profile: privacy.Profile, enrolments: list[reg.EnrolmentView], locale: str
) -> str:
    lines = [
        _("Your details:"),
        f"{_field_label('full_name')}: {h(profile.full_name)}",
        f"{_field_label('organisation')}: {h(profile.organisation or '—')}",
        f"{_field_label('email')}: {h(profile.email or '—')}",
        f"{_field_label('country')}: "
        + h(country_name(profile.country, locale) if profile.country else "—"),
    ]
    if enrolments:
        lines += ["", _("Your cohorts:")]
        for view in enrolments:
            lines.append(
                f"• {h(view.cohort_name or view.cohort_code)} — {reg.status_label(view.status)}"
            )
    lines += ["", _("Use the buttons to correct a detail.")]
    return "\n".join(lines)


def _profile_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text="✏ " + _field_label(f), callback_data=ProfileEdit(field=f).pack())
        for f in privacy.PROFILE_FIELDS
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[0:2], buttons[2:4]])


async def cmd_profile(
    message: Message, session: AsyncSession, state: FSMContext, locale: str
) -> None:
    if message.from_user is None:
        return
    await state.clear()
    profile = await privacy.profile_of(session, message.from_user.id)
    if profile is None:
        await message.answer(
            _(
                "You are not registered in any cohort yet. Open the link the organisers sent "
                "you to register."
            )
        )
        return
    enrolments = await reg.my_enrolments(session, message.from_user.id, locale)
    await message.answer(
        _profile_text(profile, enrolments, locale), reply_markup=_profile_keyboard()
    )


async def on_profile_edit(
    query: CallbackQuery, callback_data: ProfileEdit, state: FSMContext
) -> None:
    if callback_data.field not in privacy.PROFILE_FIELDS:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await state.set_state(ProfileForm.value)
    await state.update_data(field=callback_data.field)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Send the new value for “{field}” (or /cancel):").format(
                field=_field_label(callback_data.field)
            )
        )


async def cmd_cancel_profile(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Nothing was changed."))


async def on_profile_value(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock, locale: str
) -> None:
    if message.from_user is None:
        return
    data = await state.get_data()
    field = str(data.get("field", ""))
    try:
        profile = await privacy.update_profile(
            session, message.from_user.id, field, message.text or "", locale, clock
        )
    except reg.InvalidAnswer as exc:
        markup = None
        if exc.suggestions:
            markup = InlineKeyboardMarkup(
                inline_keyboard=country_buttons(exc.suggestions, ProfileCountry)
            )
        await message.answer(h(exc.reason), reply_markup=markup)
        return
    await state.clear()
    enrolments = await reg.my_enrolments(session, message.from_user.id, locale)
    await message.answer(
        _("Saved.") + "\n\n" + _profile_text(profile, enrolments, locale),
        reply_markup=_profile_keyboard(),
    )


async def on_profile_country(
    query: CallbackQuery,
    callback_data: ProfileCountry,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    locale: str,
) -> None:
    try:
        profile = await privacy.set_profile_country(
            session, query.from_user.id, callback_data.code, clock
        )
    except reg.InvalidAnswer:
        await query.answer(_("This button is no longer active."))
        return
    await state.clear()
    await query.answer(_("Saved."))
    enrolments = await reg.my_enrolments(session, query.from_user.id, locale)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Saved.") + "\n\n" + _profile_text(profile, enrolments, locale),
            reply_markup=_profile_keyboard(),
        )


async def cmd_mydata(message: Message, session: AsyncSession) -> None:
    if message.from_user is None:
        return
    data = await privacy.my_data(session, message.from_user.id)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(content, filename="my-data.json"),
        caption=_("Everything I store about you."),
    )


async def cmd_forgetme(message: Message) -> None:
    await message.answer(
        _(
            "This erases your name, e-mail, phone and organisation from every cohort, ends "
            "your registrations, forgets your account and settings, and empties the messages, "
            "questions, feedback answers and attendance marks I keep about you. The cohorts' "
            "figures stay, without you. It cannot be undone. Continue?"
        )
        + "\n\n"
        + _(
            "Certificates you were given stay verifiable by their code: the code, your name "
            "as printed, the programme, its dates and hours and whether the certificate is "
            "valid are kept; their link to your Telegram account and the PDF go."
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Yes, erase my data"),
                        callback_data=ForgetChoice(confirm=True).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("No, keep it"), callback_data=ForgetChoice(confirm=False).pack()
                    ),
                ]
            ]
        ),
    )


async def on_forget(
    query: CallbackQuery,
    callback_data: ForgetChoice,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    state: FSMContext,
    sender: reg.Waker | None = None,
) -> None:
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.confirm:
        if message is not None:
            await message.edit_text(_("Nothing was changed."))
        return
    await privacy.forget_me(session, query.from_user.id, settings, clock, sender)
    await state.clear()
    if message is not None:
        await message.edit_text(_("Your personal data has been erased. Thank you for taking part."))


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="privacy")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_profile, Command("profile"))
    router.callback_query.register(on_profile_edit, ProfileEdit.filter())
    router.message.register(cmd_cancel_profile, StateFilter(ProfileForm.value), Command("cancel"))
    router.message.register(on_profile_value, StateFilter(ProfileForm.value), FORM_TEXT)
    router.callback_query.register(
        on_profile_country, StateFilter(ProfileForm.value), ProfileCountry.filter()
    )
    router.message.register(cmd_mydata, Command("mydata"))
    router.message.register(cmd_forgetme, Command("forgetme"))
    router.callback_query.register(on_forget, ForgetChoice.filter())
    return router
