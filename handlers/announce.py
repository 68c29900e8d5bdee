"""/announce (a wizard: audience, content per language, preview, time, confirm) and /campaigns.

The router is filtered once: only organisers (``ADMIN_IDS`` or a role in a programme) reach
it, and the filter hands the handlers the organiser's ``scope``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import User
from bot.delivery.sender import Sender
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, current_locale, format_datetime
from bot.i18n import gettext as _
from bot.services import announcements as ann
from bot.services.countries import country_name
from handlers.text import h

MAX_COHORT_BUTTONS = 30
#: Telegram allows 100 buttons under a message; the most common countries get one each.
MAX_COUNTRY_BUTTONS = 60
LABEL_CHARS = 40


class AnnounceForm(StatesGroup):
    audience = State()
    filters = State()
    content = State()
    versions = State()
    version = State()
    when = State()
    confirm = State()


class Ann(CallbackData, prefix="an"):
    a: str
    v: str = ""


class _Relevant(Filter):
    """Cheap first check, so trainees' ordinary messages never cost a database query."""

    async def __call__(self, event: TelegramObject, raw_state: str | None = None) -> bool:
        if isinstance(event, CallbackQuery):
            return (event.data or "").startswith("an:")
        if isinstance(event, Message):
            if event.chat.type != ChatType.PRIVATE:
                return False
            if raw_state and raw_state.startswith("AnnounceForm:"):
                return True
            command = (event.text or "").split(maxsplit=1)[0].split("@", 1)[0] if event.text else ""
            return command in ("/announce", "/campaigns")
        return False


class IsOrganiser(Filter):
    """Super-admins and people with a role in a programme; injects their ``scope``."""

    async def __call__(
        self,
        event: TelegramObject,
        settings: Settings,
        session: AsyncSession,
        event_from_user: TgUser | None = None,
    ) -> bool | dict[str, Any]:
        if event_from_user is None:
            return False
        scope = await ann.scope_of(session, event_from_user.id, settings.admin_ids)
        return False if scope is None else {"scope": scope}


# -- small renderers -------------------------------------------------------------------------


def _button(text: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=Ann(a=action, v=value).pack())


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button("✖ " + _("Cancel"), "x")]


def _tick(on: bool) -> str:
    return "☑ " if on else "☐ "


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _languages_line(counts: dict[str, int]) -> str:
    ordered = [code for code in SUPPORTED_LOCALES if counts.get(code)]
    return ", ".join(f"{LANGUAGE_NAMES[code]} {counts[code]}" for code in ordered)


def _audience_from(data: dict[str, Any]) -> ann.Audience:
    return ann.Audience(
        cohort_ids=tuple(data.get("cohorts", [])),
        programme_ids=tuple(data.get("programmes", [])),
        everyone=bool(data.get("everyone")),
        private=True,
        groups=bool(data.get("groups")),
        languages=tuple(data.get("languages", [])),
        countries=tuple(data.get("countries", [])),
    )


def _figures(resolved: ann.Resolved) -> str:
    lines = [
        _("Trainees: {people} · Group chats: {groups}").format(
            people=len(resolved.people), groups=len(resolved.groups)
        )
    ]
    if resolved.unreachable:
        lines.append(
            _("{count} more have blocked the bot and will be skipped.").format(
                count=resolved.unreachable
            )
        )
    if resolved.reader_languages:
        lines.append(
            _("Languages: {languages}").format(
                languages=_languages_line(dict(resolved.reader_languages))
            )
        )
    return "\n".join(lines)


async def _resolve(session: AsyncSession, data: dict[str, Any], scope: ann.Scope) -> ann.Resolved:
    return await ann.resolve(session, _audience_from(data), scope)


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


# -- starting and cancelling -----------------------------------------------------------------


async def cmd_announce(
    message: Message, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    choices = await ann.choices(session, scope)
    if not choices.cohorts:
        await message.answer(_("There is no cohort you could send an announcement to yet."))
        return
    await state.clear()
    await state.set_state(AnnounceForm.audience)
    await state.update_data(cohorts=[], programmes=[], everyone=False, groups=False)
    data = await state.get_data()
    text, markup = await _audience_view(session, data, scope)
    await message.answer(text, reply_markup=markup)


async def cmd_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Announcement cancelled. Nothing was sent."))


async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Announcement cancelled. Nothing was sent."))


# -- step 1: audience ------------------------------------------------------------------------


async def _audience_view(
    session: AsyncSession, data: dict[str, Any], scope: ann.Scope
) -> tuple[str, InlineKeyboardMarkup]:
    choices = await ann.choices(session, scope)
    chosen_cohorts = set(data.get("cohorts", []))
    chosen_programmes = set(data.get("programmes", []))
    rows = [
        [
            _button(
                _tick(c.id in chosen_cohorts) + _label(f"{c.code} {c.name}".strip()),
                "c",
                str(c.id),
            )
        ]
        for c in choices.cohorts[:MAX_COHORT_BUTTONS]
    ]
    for programme in choices.programmes:
        rows.append(
            [
                _button(
                    _tick(programme.id in chosen_programmes)
                    + _("Whole programme {code}").format(code=_label(programme.code)),
                    "p",
                    str(programme.id),
                )
            ]
        )
    rows.append([_button(_tick(bool(data.get("everyone"))) + _("All my trainees"), "all")])
    rows.append([_button(_tick(bool(data.get("groups"))) + _("Linked group chats"), "grp")])
    rows.append([_button(_("Done") + " ➡", "done")])
    rows.append(_cancel_row())
    resolved = await _resolve(session, data, scope)
    lines = [
        _("Who should receive the announcement? Choose one or more, then press Done."),
        "",
        _figures(resolved),
    ]
    if len(choices.cohorts) > MAX_COHORT_BUTTONS:
        lines.append(
            _("Only the latest {count} cohorts are listed.").format(count=MAX_COHORT_BUTTONS)
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _toggle(values: list[Any], value: Any) -> list[Any]:
    return [v for v in values if v != value] if value in values else [*values, value]


async def on_audience_toggle(
    query: CallbackQuery,
    callback_data: Ann,
    state: FSMContext,
    session: AsyncSession,
    scope: ann.Scope,
) -> None:
    data = await state.get_data()
    if callback_data.a in ("c", "p"):
        if not callback_data.v.isdigit():
            await query.answer(_("This button is no longer active."))
            return
        key = "cohorts" if callback_data.a == "c" else "programmes"
        data[key] = _toggle(list(data.get(key, [])), int(callback_data.v))
    else:
        key = "everyone" if callback_data.a == "all" else "groups"
        data[key] = not data.get(key, False)
    try:
        text, markup = await _audience_view(session, data, scope)
    except ann.NotAllowed:
        await query.answer(_("This button is no longer active."))
        return
    await state.set_data(data)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def _audience_or_alert(
    query: CallbackQuery, session: AsyncSession, data: dict[str, Any], scope: ann.Scope
) -> ann.Resolved | None:
    """Who the choices so far reach; ``None`` (and an alert) when nobody reachable is chosen.

    On success the step's buttons are taken away, so the step cannot be answered twice.
    """
    resolved = await _resolve(session, data, scope)
    if resolved.total == 0:
        await query.answer(_("Nobody reachable is selected yet."), show_alert=True)
        return None
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    return resolved


async def on_audience_done(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    data = await state.get_data()
    resolved = await _audience_or_alert(query, session, data, scope)
    if resolved is None:
        return
    await state.update_data(
        languages=[], countries=[], default_locale=resolved.default_locale, main=None
    )
    data = await state.get_data()
    if resolved.people and (len(resolved.all_languages) > 1 or len(resolved.all_countries) > 1):
        await state.set_state(AnnounceForm.filters)
        text, markup = _filters_view(data, resolved)
        if isinstance(query.message, Message):
            await query.message.answer(text, reply_markup=markup)
        return
    await _ask_content(query, state, data)


# -- step 2: optional filters ----------------------------------------------------------------


def _filters_view(data: dict[str, Any], resolved: ann.Resolved) -> tuple[str, InlineKeyboardMarkup]:
    chosen_languages = set(data.get("languages", []))
    chosen_countries = set(data.get("countries", []))
    rows: list[list[InlineKeyboardButton]] = []
    language_buttons = [
        _button(
            _tick(code in chosen_languages)
            + f"{LANGUAGE_NAMES[code]} {resolved.all_languages[code]}",
            "lang",
            code,
        )
        for code in SUPPORTED_LOCALES
        if resolved.all_languages.get(code)
    ]
    rows += [language_buttons[i : i + 2] for i in range(0, len(language_buttons), 2)]
    locale = current_locale()
    names = {
        c: country_name(c, locale)
        for c, _n in resolved.all_countries.most_common(MAX_COUNTRY_BUTTONS)
    }
    country_buttons = [
        _button(
            _tick(c in chosen_countries) + f"{names[c][:24]} {resolved.all_countries[c]}",
            "ctry",
            c,
        )
        for c in sorted(names, key=lambda c: names[c].casefold())
    ]
    rows += [country_buttons[i : i + 3] for i in range(0, len(country_buttons), 3)]
    rows.append([_button(_("Next") + " ➡", "next")])
    rows.append(_cancel_row())
    text = "\n".join(
        [
            _(
                "Optional: send only to some languages or countries. Press Next to keep "
                "everyone selected."
            ),
            "",
            _figures(resolved),
        ]
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_filter_toggle(
    query: CallbackQuery,
    callback_data: Ann,
    state: FSMContext,
    session: AsyncSession,
    scope: ann.Scope,
) -> None:
    data = await state.get_data()
    if callback_data.a == "lang":
        if callback_data.v not in SUPPORTED_LOCALES:
            await query.answer(_("This button is no longer active."))
            return
        data["languages"] = _toggle(list(data.get("languages", [])), callback_data.v)
    else:
        code = callback_data.v.upper()
        if len(code) != 2 or not code.isalpha():
            await query.answer(_("This button is no longer active."))
            return
        data["countries"] = _toggle(list(data.get("countries", [])), code)
    await state.set_data(data)
    resolved = await _resolve(session, data, scope)
    text, markup = _filters_view(data, resolved)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def on_filters_done(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    data = await state.get_data()
    if await _audience_or_alert(query, session, data, scope) is None:
        return
    await _ask_content(query, state, data)


# -- step 3: content, in one or more languages -----------------------------------------------


def _content_prompt(main: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Send the announcement: a text (its formatting is kept), or a photo or a document "
        "with a caption. I will take it as the {language} version; another language? "
        "Choose it below first."
    ).format(language=LANGUAGE_NAMES[main])
    buttons = [
        _button(("✓ " if code == main else "") + LANGUAGE_NAMES[code], "main", code)
        for code in SUPPORTED_LOCALES
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(_cancel_row())
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _ask_content(query: CallbackQuery, state: FSMContext, data: dict[str, Any]) -> None:
    main = data.get("default_locale") or "en"
    if main not in SUPPORTED_LOCALES:
        main = "en"
    await state.update_data(main=main, content={})
    await state.set_state(AnnounceForm.content)
    text, markup = _content_prompt(main)
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def on_main_language(query: CallbackQuery, callback_data: Ann, state: FSMContext) -> None:
    data = await state.get_data()
    if callback_data.v not in SUPPORTED_LOCALES or callback_data.v == data.get("main"):
        await query.answer()
        return
    await state.update_data(main=callback_data.v)
    text, markup = _content_prompt(callback_data.v)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def _version_of(message: Message) -> dict[str, Any] | None:
    """The content of an organiser's message, as stored (HTML from Telegram's entities)."""
    if message.photo:
        return {
            "text": message.html_text if message.caption else "",
            "file_id": message.photo[-1].file_id,
            "file_kind": "photo",
        }
    if message.document:
        return {
            "text": message.html_text if message.caption else "",
            "file_id": message.document.file_id,
            "file_kind": "document",
        }
    if message.text:
        return {"text": message.html_text}
    return None


async def _take_version(message: Message, state: FSMContext, language: str) -> bool:
    version = _version_of(message)
    if version is None:
        await message.answer(_("Please send a text, a photo or a document."))
        return False
    try:
        ann.validate_content({language: version})
    except ann.InvalidContent as exc:
        await message.answer(
            _("Telegram would not accept this message: {problem}. Please send it again.").format(
                problem=h(exc)
            )
        )
        return False
    data = await state.get_data()
    content = dict(data.get("content", {}))
    content[language] = version
    await state.update_data(content=content)
    return True


async def on_first_version(
    message: Message, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    data = await state.get_data()
    if await _take_version(message, state, data.get("main") or "en"):
        await _show_versions(message, state, session, scope)


async def _show_versions(
    message: Message, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    await state.set_state(AnnounceForm.versions)
    data = await state.get_data()
    content: dict[str, Any] = data.get("content", {})
    resolved = await _resolve(session, data, scope)
    readers = dict(resolved.reader_languages)
    missing = ann.languages_missing(content, readers)
    have = ", ".join(LANGUAGE_NAMES[c] for c in SUPPORTED_LOCALES if c in content)
    lines = [_("Versions so far: {languages}.").format(languages=have)]
    if readers:
        lines.append(
            _("Readers by language: {languages}").format(languages=_languages_line(readers))
        )
    if missing:
        fallback = ann.content_language(resolved.default_locale, resolved.default_locale, content)
        lines.append(
            _("No version yet in: {languages}. Those readers get the {fallback} version.").format(
                languages=", ".join(LANGUAGE_NAMES[c] for c in missing),
                fallback=LANGUAGE_NAMES[fallback],
            )
        )
    else:
        lines.append(_("Every reader gets the announcement in their language."))
    order = missing + [c for c in SUPPORTED_LOCALES if c not in content and c not in missing]
    rows = [
        [_button(_("Add {language} version").format(language=LANGUAGE_NAMES[code]), "add", code)]
        for code in order
    ]
    rows.append([_button("👁 " + _("Preview and continue"), "prev")])
    rows.append(_cancel_row())
    await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def on_add_version(query: CallbackQuery, callback_data: Ann, state: FSMContext) -> None:
    if callback_data.v not in SUPPORTED_LOCALES:
        await query.answer(_("This button is no longer active."))
        return
    await state.update_data(adding=callback_data.v)
    await state.set_state(AnnounceForm.version)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _(
                "Send the {language} version: a text, or a photo or a document with a caption."
            ).format(language=LANGUAGE_NAMES[callback_data.v]),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[_cancel_row()]),
        )


async def on_other_version(
    message: Message, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    data = await state.get_data()
    language = data.get("adding")
    if language not in SUPPORTED_LOCALES:
        await state.set_state(AnnounceForm.versions)
        return
    if await _take_version(message, state, str(language)):
        await _show_versions(message, state, session, scope)


async def on_stray_in_wizard(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel to stop."))


# -- preview and time ------------------------------------------------------------------------


async def send_version(bot: Bot, chat_id: int, version: dict[str, Any]) -> None:
    """Send one version exactly as the outbox will (same payload, same method)."""
    payload = ann.payload_for(version)
    if payload.get("file_id") and payload.get("file_kind") == "photo":
        await bot.send_photo(chat_id, payload["file_id"], caption=payload.get("caption"))
    elif payload.get("file_id"):
        await bot.send_document(chat_id, payload["file_id"], caption=payload.get("caption"))
    else:
        await bot.send_message(chat_id, payload["text"])


async def on_preview(
    query: CallbackQuery,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    scope: ann.Scope,
    settings: Settings,
    user: User | None,
) -> None:
    data = await state.get_data()
    content: dict[str, Any] = data.get("content", {})
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    chat_id = query.message.chat.id
    for code in SUPPORTED_LOCALES:
        if code in content:
            await query.message.answer(
                _("Preview of the {language} version, exactly as trainees will see it:").format(
                    language=LANGUAGE_NAMES[code]
                )
            )
            await send_version(bot, chat_id, content[code])
    resolved = await _resolve(session, data, scope)
    zone = (user.timezone if user else None) or resolved.home_timezone or settings.default_timezone
    await state.update_data(zone=zone, home_zone=resolved.home_timezone, at=None, pin=False)
    await state.set_state(AnnounceForm.when)
    await query.message.answer(
        _(
            "When should it go out? Press Now, or type a date and time such as "
            "2027-03-08 18:00 (read as {zone} time)."
        ).format(zone=h(zone)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[_button("🚀 " + _("Now"), "now")], _cancel_row()]
        ),
    )


async def on_time_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    scope: ann.Scope,
    clock: Clock,
) -> None:
    data = await state.get_data()
    zone = str(data.get("zone") or "UTC")
    when = ann.parse_local_time((message.text or "")[:64], zone)
    if when is None:
        await message.answer(_("I could not read that time. Type it like 2027-03-08 18:00."))
        return
    if when <= clock.now():
        await message.answer(_("That time has already passed. Type a time in the future."))
        return
    await state.update_data(at=when.isoformat())
    await _show_confirm(message, state, session, scope, clock, edit=False)


async def on_now(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, scope: ann.Scope, clock: Clock
) -> None:
    await query.answer()
    await state.update_data(at=None)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _show_confirm(query.message, state, session, scope, clock, edit=False)


# -- confirmation ----------------------------------------------------------------------------


async def _show_confirm(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    scope: ann.Scope,
    clock: Clock,
    *,
    edit: bool,
) -> None:
    await state.set_state(AnnounceForm.confirm)
    data = await state.get_data()
    resolved = await _resolve(session, data, scope)
    content: dict[str, Any] = data.get("content", {})
    lines = [_("Ready to send:"), _figures(resolved)]
    missing = ann.languages_missing(content, resolved.reader_languages)
    if missing:
        fallback = ann.content_language(resolved.default_locale, resolved.default_locale, content)
        lines.append(
            _("No version in: {languages} (they get the {fallback} version).").format(
                languages=", ".join(LANGUAGE_NAMES[c] for c in missing),
                fallback=LANGUAGE_NAMES[fallback],
            )
        )
    at = data.get("at")
    if at:
        when = datetime.fromisoformat(str(at))
        mine = _zone(data.get("zone"), "UTC")
        home = _zone(data.get("home_zone"), "UTC")
        lines.append(
            _("When: {mine} your time ({zone})").format(
                mine=format_datetime(when, mine, "medium"), zone=h(str(mine))
            )
        )
        if str(home) != str(mine):
            lines.append(
                _("That is {home} in the programme's time zone ({zone}).").format(
                    home=format_datetime(when, home, "medium"), zone=h(str(home))
                )
            )
    else:
        lines.append(_("When: now"))
    rows: list[list[InlineKeyboardButton]] = []
    if resolved.groups:
        pin = bool(data.get("pin"))
        rows.append(
            [_button("📌 " + (_("Pin in groups: on") if pin else _("Pin in groups: off")), "pin")]
        )
    rows.append([_button("✅ " + _("Send"), "send"), _button("✖ " + _("Cancel"), "x")])
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    if edit:
        await message.edit_text("\n".join(lines), reply_markup=markup)
    else:
        await message.answer("\n".join(lines), reply_markup=markup)


async def on_pin_toggle(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, scope: ann.Scope, clock: Clock
) -> None:
    data = await state.get_data()
    await state.update_data(pin=not data.get("pin", False))
    await query.answer()
    if isinstance(query.message, Message):
        await _show_confirm(query.message, state, session, scope, clock, edit=True)


async def on_send(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    scope: ann.Scope,
    clock: Clock,
    sender: Sender | None = None,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer()
        return
    data = await state.get_data()
    # Cleared first, so that a second press of Send finds no draft and queues nothing.
    await state.clear()
    at = data.get("at")
    try:
        report = await ann.create_campaign(
            session,
            scope=scope,
            audience=_audience_from(data),
            content=data.get("content", {}),
            clock=clock,
            scheduled_at=datetime.fromisoformat(str(at)) if at else None,
            pin=bool(data.get("pin")),
            progress_chat_id=query.message.chat.id,
            progress_message_id=query.message.message_id,
        )
    except ann.TimeInPast:
        await state.set_data(data)
        await state.set_state(AnnounceForm.when)
        await query.answer(
            _("That time has already passed. Type a time in the future."), show_alert=True
        )
        return
    except ann.EmptyAudience:
        await query.answer(_("Nobody reachable is selected yet."), show_alert=True)
        await query.message.edit_text(_("Announcement cancelled. Nothing was sent."))
        return
    except ann.AnnouncementError:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    await query.answer(_("Queued."))
    if report.status == "scheduled":
        zone = _zone(data.get("zone"), "UTC")
        text = _(
            "📣 Announcement #{id} is scheduled for {when} your time, to {count} chats. "
            "Its progress will show here. /campaigns lists it; you can cancel it there."
        ).format(
            id=report.campaign_id,
            when=format_datetime(report.scheduled_at, zone, "medium"),
            count=report.people + report.groups,
        )
    else:
        text = _(
            "📣 Announcement #{id} is queued for {count} chats. Its progress will show here."
        ).format(id=report.campaign_id, count=report.queued)
    await query.message.edit_text(text)
    if sender is not None:
        sender.wake()


# -- /campaigns ------------------------------------------------------------------------------


def _status_label(status: str) -> str:
    labels = {
        "scheduled": _("scheduled"),
        "running": _("sending"),
        "done": _("finished"),
        "cancelled": _("cancelled"),
    }
    return labels.get(status, status)


async def _campaigns_view(
    session: AsyncSession, scope: ann.Scope, zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines_ = await ann.list_campaigns(session, scope)
    if not lines_:
        return _("No announcements yet. /announce starts one."), None
    text_lines = [_("Announcements, open ones first:")]
    rows: list[list[InlineKeyboardButton]] = []
    for line in lines_:
        campaign = line.campaign
        counts = line.counts
        waiting = sum(counts.get(s, 0) for s in ("pending", "claimed", "sending"))
        text_lines.append(
            _("#{id} · {status} · {when} · sent {sent}, failed {failed}, waiting {waiting}").format(
                id=campaign.id,
                status=_status_label(campaign.status),
                when=format_datetime(campaign.scheduled_at, zone, "short"),
                sent=counts.get("sent", 0),
                failed=counts.get("failed", 0),
                waiting=waiting,
            )
        )
        if line.may_cancel and campaign.id is not None:
            rows.append(
                [_button("✖ " + _("Cancel #{id}").format(id=campaign.id), "cx", str(campaign.id))]
            )
    return "\n".join(text_lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def cmd_campaigns(
    message: Message,
    session: AsyncSession,
    scope: ann.Scope,
    settings: Settings,
    user: User | None,
) -> None:
    zone = _zone(user.timezone if user else None, settings.default_timezone)
    text, markup = await _campaigns_view(session, scope, zone)
    await message.answer(text, reply_markup=markup)


async def on_cancel_campaign(
    query: CallbackQuery,
    callback_data: Ann,
    session: AsyncSession,
    scope: ann.Scope,
    clock: Clock,
    settings: Settings,
    user: User | None,
) -> None:
    if not callback_data.v.isdigit():
        await query.answer(_("This button is no longer active."))
        return
    try:
        cancelled = await ann.cancel_campaign(session, int(callback_data.v), scope, clock)
    except ann.NotAllowed:
        await query.answer(_("You may not cancel this announcement."), show_alert=True)
        return
    except ann.AlreadyFinished:
        await query.answer(_("This announcement has already finished."), show_alert=True)
        return
    except ann.AnnouncementError:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(
        _("Cancelled: {count} messages will not go out.").format(count=cancelled), show_alert=True
    )
    if isinstance(query.message, Message):
        zone = _zone(user.timezone if user else None, settings.default_timezone)
        text, markup = await _campaigns_view(session, scope, zone)
        await query.message.edit_text(text, reply_markup=markup)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="announce")
    router.message.filter(_Relevant(), IsOrganiser())
    router.callback_query.filter(_Relevant(), IsOrganiser())
    router.message.register(cmd_announce, Command("announce"))
    router.message.register(cmd_cancel, Command("cancel"), StateFilter(AnnounceForm))
    router.callback_query.register(on_cancel, Ann.filter(F.a == "x"))
    router.callback_query.register(
        on_audience_toggle,
        StateFilter(AnnounceForm.audience),
        Ann.filter(F.a.in_({"c", "p", "all", "grp"})),
    )
    router.callback_query.register(
        on_audience_done, StateFilter(AnnounceForm.audience), Ann.filter(F.a == "done")
    )
    router.callback_query.register(
        on_filter_toggle, StateFilter(AnnounceForm.filters), Ann.filter(F.a.in_({"lang", "ctry"}))
    )
    router.callback_query.register(
        on_filters_done, StateFilter(AnnounceForm.filters), Ann.filter(F.a == "next")
    )
    router.callback_query.register(
        on_main_language, StateFilter(AnnounceForm.content), Ann.filter(F.a == "main")
    )
    router.message.register(
        on_first_version, StateFilter(AnnounceForm.content), ~F.text.startswith("/")
    )
    router.callback_query.register(
        on_add_version, StateFilter(AnnounceForm.versions), Ann.filter(F.a == "add")
    )
    router.message.register(
        on_other_version, StateFilter(AnnounceForm.version), ~F.text.startswith("/")
    )
    router.message.register(
        on_stray_in_wizard,
        StateFilter(AnnounceForm.versions, AnnounceForm.confirm),
        ~F.text.startswith("/"),
    )
    router.callback_query.register(
        on_preview, StateFilter(AnnounceForm.versions), Ann.filter(F.a == "prev")
    )
    router.message.register(
        on_time_typed, StateFilter(AnnounceForm.when), F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(on_now, StateFilter(AnnounceForm.when), Ann.filter(F.a == "now"))
    router.callback_query.register(
        on_pin_toggle, StateFilter(AnnounceForm.confirm), Ann.filter(F.a == "pin")
    )
    router.callback_query.register(
        on_send, StateFilter(AnnounceForm.confirm), Ann.filter(F.a == "send")
    )
    router.message.register(cmd_campaigns, Command("campaigns"))
    router.callback_query.register(on_cancel_campaign, Ann.filter(F.a == "cx"))
    return router
