"""/announce, the last steps: the preview, when it goes out, and the confirmation that queues
the campaign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, format_datetime
from bot.i18n import gettext as _
from bot.services import announcements as ann
from handlers.announcements.common import (
    AnnounceForm,
    audience_from,
    button,
    cancel_row,
    figures,
    organiser_scope,
    resolve_audience,
    zone_of,
)
from handlers.text import h

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
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    settings: Settings,
    user: ann.Organiser | None,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
    resolved = await resolve_audience(session, data, scope)
    zone = (user.timezone if user else None) or resolved.home_timezone or settings.default_timezone
    await state.update_data(zone=zone, home_zone=resolved.home_timezone, at=None, pin=False)
    await state.set_state(AnnounceForm.when)
    await query.message.answer(
        _(
            "When should it go out? Press Now, or type a date and time such as "
            "2027-03-08 18:00 (read as {zone} time)."
        ).format(zone=h(zone)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[button("🚀 " + _("Now"), "now")], cancel_row()]
        ),
    )


async def on_time_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    clock: Clock,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    clock: Clock,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
    resolved = await resolve_audience(session, data, scope)
    content: dict[str, Any] = data.get("content", {})
    lines = [_("Ready to send:"), figures(resolved)]
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
        mine = zone_of(data.get("zone"), "UTC")
        home = zone_of(data.get("home_zone"), "UTC")
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
            [button("📌 " + (_("Pin in groups: on") if pin else _("Pin in groups: off")), "pin")]
        )
    rows.append([button("✅ " + _("Send"), "send"), button("✖ " + _("Cancel"), "x")])
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    if edit:
        await message.edit_text("\n".join(lines), reply_markup=markup)
    else:
        await message.answer("\n".join(lines), reply_markup=markup)


async def on_pin_toggle(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    clock: Clock,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
    data = await state.get_data()
    await state.update_data(pin=not data.get("pin", False))
    await query.answer()
    if isinstance(query.message, Message):
        await _show_confirm(query.message, state, session, scope, clock, edit=True)


async def on_send(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    clock: Clock,
    sender: ann.Waker | None = None,
) -> None:
    scope = organiser_scope(event_from_user, admin_scope)
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
            audience=audience_from(data),
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
        zone = zone_of(data.get("zone"), "UTC")
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
