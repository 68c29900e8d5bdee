"""Registration, trainee side: the five-question form a cohort link opens (name, country,
organisation, e-mail, consent), with Back and Cancel at every step."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import people
from bot.services import registration as reg
from bot.services.countries import country_name
from bot.services.timezones import zone_label
from handlers.registration.common import FORM_TEXT, country_buttons, welcome_text, zone_keyboard
from handlers.text import h


class FormStep(CallbackData, prefix="regf"):
    action: str  # back, cancel, consent_yes, consent_no


class CountryChoice(CallbackData, prefix="regc"):
    code: str


class RegistrationForm(StatesGroup):
    full_name = State()
    country = State()
    organisation = State()
    email = State()
    consent = State()


_STEPS = [
    RegistrationForm.full_name,
    RegistrationForm.country,
    RegistrationForm.organisation,
    RegistrationForm.email,
    RegistrationForm.consent,
]


def _form_keyboard(back: bool = True) -> InlineKeyboardMarkup:
    row = []
    if back:
        row.append(
            InlineKeyboardButton(
                text="↩ " + _("Back"), callback_data=FormStep(action="back").pack()
            )
        )
    row.append(
        InlineKeyboardButton(
            text="✖ " + _("Cancel"), callback_data=FormStep(action="cancel").pack()
        )
    )
    return InlineKeyboardMarkup(inline_keyboard=[row])


async def start_cohort_link(message: Message, invite: reg.CohortInvite, state: FSMContext) -> None:
    label = h(invite.name or invite.code)
    if invite.status in ("active",):
        await message.answer(_("You are already registered in {cohort}.").format(cohort=label))
        return
    if invite.status == "pending":
        await message.answer(
            _("Your request for {cohort} is waiting for the organisers' approval.").format(
                cohort=label
            )
        )
        return
    if invite.status == "waiting":
        await message.answer(
            _(
                "You are on the waiting list of {cohort}; I will tell you when a place frees up."
            ).format(cohort=label)
        )
        return
    if invite.mode not in ("open", "approval"):
        await message.answer(
            _(
                "Registration for {cohort} is by personal invitation only. Please use the "
                "personal link the organisers sent you, or contact them."
            ).format(cohort=label)
        )
        return
    await state.clear()
    await state.update_data(cohort_id=invite.cohort_id, cohort_label=invite.name or invite.code)
    await message.answer(
        _(
            "Registration for {cohort}. Five short questions; you can go back or cancel at "
            "any step."
        ).format(cohort=label)
    )
    await _ask_step(message, state, RegistrationForm.full_name)


async def _ask_step(message: Message, state: FSMContext, step: State) -> None:
    await state.set_state(step)
    if step == RegistrationForm.full_name:
        await message.answer(
            _("1/5. Your full name, as in your passport:"), reply_markup=_form_keyboard(False)
        )
    elif step == RegistrationForm.country:
        await message.answer(
            _("2/5. Your country (in any language):"), reply_markup=_form_keyboard()
        )
    elif step == RegistrationForm.organisation:
        await message.answer(
            _("3/5. Your organisation (ministry, agency, university…):"),
            reply_markup=_form_keyboard(),
        )
    elif step == RegistrationForm.email:
        await message.answer(_("4/5. Your e-mail address:"), reply_markup=_form_keyboard())
    else:
        await message.answer(
            _(
                "5/5. Privacy notice: we store your name, country, organisation, e-mail and "
                "Telegram account to run this training programme: to send you the timetable, "
                "reminders and announcements, and to report attendance to the organisers. We "
                "share them with nobody else. You can see them with /mydata, correct them with "
                "/profile and erase them with /forgetme at any time.\n\n"
                "Do you agree that we process your data for this purpose?"
            ),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text="✅ " + _("I agree"),
                            callback_data=FormStep(action="consent_yes").pack(),
                        ),
                        InlineKeyboardButton(
                            text=_("I do not agree"),
                            callback_data=FormStep(action="consent_no").pack(),
                        ),
                    ],
                    [
                        InlineKeyboardButton(
                            text="↩ " + _("Back"), callback_data=FormStep(action="back").pack()
                        ),
                        InlineKeyboardButton(
                            text="✖ " + _("Cancel"), callback_data=FormStep(action="cancel").pack()
                        ),
                    ],
                ]
            ),
        )


async def on_full_name(message: Message, state: FSMContext) -> None:
    try:
        value = reg.clean_name(message.text or "")
    except reg.InvalidAnswer as exc:
        await message.answer(h(exc.reason), reply_markup=_form_keyboard(False))
        return
    await state.update_data(full_name=value)
    await _ask_step(message, state, RegistrationForm.country)


async def on_country(message: Message, state: FSMContext, locale: str) -> None:
    try:
        code = reg.clean_country(message.text or "", locale)
    except reg.InvalidAnswer as exc:
        rows = country_buttons(exc.suggestions, CountryChoice)
        rows += _form_keyboard().inline_keyboard
        await message.answer(h(exc.reason), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
        return
    await state.update_data(country=code)
    await _ask_step(message, state, RegistrationForm.organisation)


async def on_country_choice(
    query: CallbackQuery, callback_data: CountryChoice, state: FSMContext, locale: str
) -> None:
    try:
        code = reg.clean_country(callback_data.code, locale)
    except reg.InvalidAnswer:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(country_name(code, locale))
    await state.update_data(country=code)
    if isinstance(query.message, Message):
        await _ask_step(query.message, state, RegistrationForm.organisation)


async def on_organisation(message: Message, state: FSMContext) -> None:
    try:
        value = reg.clean_organisation(message.text or "")
    except reg.InvalidAnswer as exc:
        await message.answer(h(exc.reason), reply_markup=_form_keyboard())
        return
    await state.update_data(organisation=value)
    await _ask_step(message, state, RegistrationForm.email)


async def on_email(message: Message, state: FSMContext) -> None:
    try:
        value = reg.clean_email(message.text or "")
    except reg.InvalidAnswer as exc:
        await message.answer(h(exc.reason), reply_markup=_form_keyboard())
        return
    await state.update_data(email=value)
    await _ask_step(message, state, RegistrationForm.consent)


async def on_consent_text(message: Message) -> None:
    await message.answer(_("Please answer with one of the buttons above."))


async def cmd_cancel_form(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Registration cancelled. Nothing was stored."))


async def on_form_step(
    query: CallbackQuery,
    callback_data: FormStep,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    locale: str,
    sender: reg.Waker | None = None,
) -> None:
    current = await state.get_state()
    message = query.message if isinstance(query.message, Message) else None
    steps = [s.state for s in _STEPS]
    if current not in steps or message is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    action = callback_data.action
    if action == "cancel":
        await state.clear()
        await message.answer(_("Registration cancelled. Nothing was stored."))
        return
    if action == "back":
        position = steps.index(current)
        await _ask_step(message, state, _STEPS[max(position - 1, 0)])
        return
    if current != RegistrationForm.consent.state:
        return
    if action == "consent_no":
        await state.clear()
        await message.answer(
            _(
                "Without your consent I cannot register you, and nothing was stored. If you "
                "change your mind, open the cohort link again."
            )
        )
        return
    data = await state.get_data()
    await state.clear()
    try:
        answers = reg.FormAnswers(
            full_name=str(data["full_name"]),
            country=str(data["country"]),
            organisation=str(data["organisation"]),
            email=str(data["email"]),
        )
        cohort_id = int(data["cohort_id"])
    except (KeyError, TypeError, ValueError):
        await message.answer(_("Something went missing; please open the cohort link again."))
        return
    outcome = await reg.register_with_form(
        session, cohort_id, query.from_user.id, answers, settings, clock, sender
    )
    label = h(str(data.get("cohort_label", "")))
    await message.edit_reply_markup(reply_markup=None)
    if outcome == reg.FormOutcome.ACTIVE:
        view = await reg.enrolment_view(session, query.from_user.id, cohort_id, locale)
        if view is not None:
            await message.answer(await welcome_text(bot, view, query.from_user.id))
        await _offer_zone(message, session, query.from_user.id, answers.country, locale, clock)
    elif outcome == reg.FormOutcome.PENDING:
        await message.answer(
            _(
                "Thank you! Your request for {cohort} goes to the organisers for approval; I "
                "will tell you their answer here."
            ).format(cohort=label)
        )
    elif outcome == reg.FormOutcome.WAITING:
        await message.answer(
            _(
                "Thank you! {cohort} is full for now, so you are on the waiting list. I will "
                "tell you as soon as a place frees up."
            ).format(cohort=label)
        )
    elif outcome == reg.FormOutcome.ALREADY:
        await message.answer(_("You are already registered in {cohort}.").format(cohort=label))
    elif outcome == reg.FormOutcome.EMAIL_TAKEN:
        await message.answer(
            _(
                "This e-mail address is already registered in {cohort} by someone else. If it "
                "is yours, use the personal link from the organisers or contact them."
            ).format(cohort=label)
        )
    else:
        await message.answer(_("Registration for this cohort is closed."))


async def _offer_zone(
    message: Message,
    session: AsyncSession,
    user_id: int,
    country: str,
    locale: str,
    clock: Clock,
) -> None:
    guess = await people.settle_zone_from_country(session, user_id, country, clock)
    if guess.zone is not None:
        await message.answer(
            _("I set your time zone to {place}; /timezone changes it.").format(
                place=h(zone_label(guess.zone, locale))
            )
        )
    elif guess.choices:
        await message.answer(
            _("Your country has several time zones. Which one is yours?"),
            reply_markup=zone_keyboard(guess.choices, locale, clock),
        )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="registration.form")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(on_full_name, StateFilter(RegistrationForm.full_name), FORM_TEXT)
    router.message.register(on_country, StateFilter(RegistrationForm.country), FORM_TEXT)
    router.callback_query.register(
        on_country_choice, StateFilter(RegistrationForm.country), CountryChoice.filter()
    )
    router.message.register(on_organisation, StateFilter(RegistrationForm.organisation), FORM_TEXT)
    router.message.register(on_email, StateFilter(RegistrationForm.email), FORM_TEXT)
    router.message.register(on_consent_text, StateFilter(RegistrationForm.consent), FORM_TEXT)
    router.message.register(cmd_cancel_form, StateFilter(*_STEPS), Command("cancel"))
    router.callback_query.register(on_form_step, FormStep.filter())
    return router
