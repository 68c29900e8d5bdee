"""/announce, composing: the audience, the optional language and country filters, and the
content in one or more languages. The wizard's later steps are in ``confirm``.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, current_locale
from bot.i18n import gettext as _
from bot.services import announcements as ann
from bot.services.countries import country_name
from handlers.announcements.common import (
    Ann,
    AnnounceForm,
    button,
    cancel_row,
    figures,
    languages_line,
    organiser_scope,
    resolve_audience,
)
from handlers.text import h

MAX_COHORT_BUTTONS = 30
#: Telegram allows 100 buttons under a message; the most common countries get one each.
MAX_COUNTRY_BUTTONS = 60
LABEL_CHARS = 40


def _tick(on: bool) -> str:
    return "☑ " if on else "☐ "


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


# -- starting and cancelling -----------------------------------------------------------------


async def cmd_announce(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
            button(
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
                button(
                    _tick(programme.id in chosen_programmes)
                    + _("Whole programme {code}").format(code=_label(programme.code)),
                    "p",
                    str(programme.id),
                )
            ]
        )
    rows.append([button(_tick(bool(data.get("everyone"))) + _("All my trainees"), "all")])
    rows.append([button(_tick(bool(data.get("groups"))) + _("Linked group chats"), "grp")])
    rows.append([button(_("Done") + " ➡", "done")])
    rows.append(cancel_row())
    resolved = await resolve_audience(session, data, scope)
    lines = [
        _("Who should receive the announcement? Choose one or more, then press Done."),
        "",
        figures(resolved),
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
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
    resolved = await resolve_audience(session, data, scope)
    if resolved.total == 0:
        await query.answer(_("Nobody reachable is selected yet."), show_alert=True)
        return None
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    return resolved


async def on_audience_done(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
        button(
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
        button(
            _tick(c in chosen_countries) + f"{names[c][:24]} {resolved.all_countries[c]}",
            "ctry",
            c,
        )
        for c in sorted(names, key=lambda c: names[c].casefold())
    ]
    rows += [country_buttons[i : i + 3] for i in range(0, len(country_buttons), 3)]
    rows.append([button(_("Next") + " ➡", "next")])
    rows.append(cancel_row())
    text = "\n".join(
        [
            _(
                "Optional: send only to some languages or countries. Press Next to keep "
                "everyone selected."
            ),
            "",
            figures(resolved),
        ]
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def on_filter_toggle(
    query: CallbackQuery,
    callback_data: Ann,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
    resolved = await resolve_audience(session, data, scope)
    text, markup = _filters_view(data, resolved)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


async def on_filters_done(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
        button(("✓ " if code == main else "") + LANGUAGE_NAMES[code], "main", code)
        for code in SUPPORTED_LOCALES
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(cancel_row())
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
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
    data = await state.get_data()
    if await _take_version(message, state, data.get("main") or "en"):
        await _show_versions(message, state, session, scope)


async def _show_versions(
    message: Message, state: FSMContext, session: AsyncSession, scope: ann.Scope
) -> None:
    await state.set_state(AnnounceForm.versions)
    data = await state.get_data()
    content: dict[str, Any] = data.get("content", {})
    resolved = await resolve_audience(session, data, scope)
    readers = dict(resolved.reader_languages)
    missing = ann.languages_missing(content, readers)
    have = ", ".join(LANGUAGE_NAMES[c] for c in SUPPORTED_LOCALES if c in content)
    lines = [_("Versions so far: {languages}.").format(languages=have)]
    if readers:
        lines.append(
            _("Readers by language: {languages}").format(languages=languages_line(readers))
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
        [button(_("Add {language} version").format(language=LANGUAGE_NAMES[code]), "add", code)]
        for code in order
    ]
    rows.append([button("👁 " + _("Preview and continue"), "prev")])
    rows.append(cancel_row())
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
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[cancel_row()]),
        )


async def on_other_version(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
    data = await state.get_data()
    language = data.get("adding")
    if language not in SUPPORTED_LOCALES:
        await state.set_state(AnnounceForm.versions)
        return
    if await _take_version(message, state, str(language)):
        await _show_versions(message, state, session, scope)


async def on_stray_in_wizard(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel to stop."))
