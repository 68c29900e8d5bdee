"""Registration, trainee side: personal and cohort links, /profile, /withdraw, /mydata, /forgetme.

Must come before the plain /start router: it takes ``/start <code>`` only.
"""

from __future__ import annotations

import json
import logging
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
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
from bot.delivery.sender import Sender
from bot.i18n import format_time, use_locale
from bot.i18n import gettext as _
from bot.services import people, privacy
from bot.services import registration as reg
from bot.services.countries import country_name
from bot.services.timezones import zone_label
from handlers.text import h

log = logging.getLogger(__name__)


MAX_ZONE_CHOICES = 10


class PersonalAnswer(CallbackData, prefix="regme"):
    yes: bool
    code: str


class ZoneChoice(CallbackData, prefix="regtz"):
    zone: str


class FormStep(CallbackData, prefix="regf"):
    action: str  # back, cancel, consent_yes, consent_no


class CountryChoice(CallbackData, prefix="regc"):
    code: str


class ProfileEdit(CallbackData, prefix="prof"):
    field: str


class ProfileCountry(CallbackData, prefix="profc"):
    code: str


class WithdrawChoice(CallbackData, prefix="wd"):
    enrolment_id: int
    confirm: bool


class ForgetChoice(CallbackData, prefix="forget"):
    confirm: bool


class RegistrationForm(StatesGroup):
    full_name = State()
    country = State()
    organisation = State()
    email = State()
    consent = State()


class ProfileForm(StatesGroup):
    value = State()


_STEPS = [
    RegistrationForm.full_name,
    RegistrationForm.country,
    RegistrationForm.organisation,
    RegistrationForm.email,
    RegistrationForm.consent,
]


# --- welcome --------------------------------------------------------------------------------


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


def _zone_keyboard(zones: list[str], locale: str, clock: Clock) -> InlineKeyboardMarkup:
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


# --- /start <code> --------------------------------------------------------------------------


async def cmd_start_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    state: FSMContext,
    sender: Sender | None = None,
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
    await _start_cohort_link(message, found, state)


async def _ask_identity(message: Message, invite: reg.PersonalInvite) -> None:
    from bot.i18n import current_locale

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
    sender: Sender | None = None,
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
                reply_markup=_zone_keyboard(result.zone_choices, speak, clock),
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


# --- the cohort form ------------------------------------------------------------------------


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


async def _start_cohort_link(message: Message, invite: reg.CohortInvite, state: FSMContext) -> None:
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


_FORM_TEXT = F.text & ~F.text.startswith("/")


async def on_full_name(message: Message, state: FSMContext) -> None:
    try:
        value = reg.clean_name(message.text or "")
    except reg.InvalidAnswer as exc:
        await message.answer(h(exc.reason), reply_markup=_form_keyboard(False))
        return
    await state.update_data(full_name=value)
    await _ask_step(message, state, RegistrationForm.country)


def _country_buttons(
    suggestions: list[tuple[str, str]], make: type[CountryChoice] | type[ProfileCountry]
) -> list[list[InlineKeyboardButton]]:
    return [
        [InlineKeyboardButton(text=name, callback_data=make(code=code).pack())]
        for code, name in suggestions
    ]


async def on_country(message: Message, state: FSMContext, locale: str) -> None:
    try:
        code = reg.clean_country(message.text or "", locale)
    except reg.InvalidAnswer as exc:
        rows = _country_buttons(exc.suggestions, CountryChoice)
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
    sender: Sender | None = None,
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
    from bot.db import users as users_db
    from bot.services.timezones import default_zone_for_country, zones_for_country

    user = await users_db.get_user(session, user_id)
    if user is None or user.timezone is not None:
        return
    zone = default_zone_for_country(country, clock.now())
    if zone is not None:
        await people.choose_timezone(session, user_id, zone, clock)
        await message.answer(
            _("I set your time zone to {place}; /timezone changes it.").format(
                place=h(zone_label(zone, locale))
            )
        )
        return
    zones = zones_for_country(country)
    if zones:
        await message.answer(
            _("Your country has several time zones. Which one is yours?"),
            reply_markup=_zone_keyboard(zones, locale, clock),
        )


# --- /profile -------------------------------------------------------------------------------


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
                inline_keyboard=_country_buttons(exc.suggestions, ProfileCountry)
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


# --- /withdraw ------------------------------------------------------------------------------

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
    sender: Sender | None = None,
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


# --- /mydata and /forgetme ------------------------------------------------------------------


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
            "your registrations and forgets your settings. It cannot be undone. Continue?"
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
    sender: Sender | None = None,
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


# --- /group ---------------------------------------------------------------------------------


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
    router = Router(name="registration")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_start_code, CommandStart(deep_link=True))
    router.callback_query.register(on_personal_answer, PersonalAnswer.filter())
    router.callback_query.register(on_zone_choice, ZoneChoice.filter())
    router.message.register(on_full_name, StateFilter(RegistrationForm.full_name), _FORM_TEXT)
    router.message.register(on_country, StateFilter(RegistrationForm.country), _FORM_TEXT)
    router.callback_query.register(
        on_country_choice, StateFilter(RegistrationForm.country), CountryChoice.filter()
    )
    router.message.register(on_organisation, StateFilter(RegistrationForm.organisation), _FORM_TEXT)
    router.message.register(on_email, StateFilter(RegistrationForm.email), _FORM_TEXT)
    router.message.register(on_consent_text, StateFilter(RegistrationForm.consent), _FORM_TEXT)
    router.message.register(cmd_cancel_form, StateFilter(*_STEPS), Command("cancel"))
    router.callback_query.register(on_form_step, FormStep.filter())
    router.message.register(cmd_profile, Command("profile"))
    router.callback_query.register(on_profile_edit, ProfileEdit.filter())
    router.message.register(cmd_cancel_profile, StateFilter(ProfileForm.value), Command("cancel"))
    router.message.register(on_profile_value, StateFilter(ProfileForm.value), _FORM_TEXT)
    router.callback_query.register(
        on_profile_country, StateFilter(ProfileForm.value), ProfileCountry.filter()
    )
    router.message.register(cmd_withdraw, Command("withdraw"))
    router.callback_query.register(on_withdraw, WithdrawChoice.filter())
    router.callback_query.register(on_withdraw_keep, F.data == "wd:keep")
    router.message.register(cmd_mydata, Command("mydata"))
    router.message.register(cmd_forgetme, Command("forgetme"))
    router.callback_query.register(on_forget, ForgetChoice.filter())
    router.message.register(cmd_group, Command("group"))
    return router
