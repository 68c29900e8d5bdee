"""What the announcement screens share: the form's states, the buttons' callback data, the
organiser's scope, and the audience figures every step shows.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES
from bot.i18n import gettext as _
from bot.services import announcements as ann


class AnnounceForm(StatesGroup):
    """The steps of /announce, in the order the organiser goes through them."""

    audience = State()
    filters = State()
    content = State()
    versions = State()
    version = State()
    when = State()
    confirm = State()


class Ann(CallbackData, prefix="an"):
    """A button of the announcement screens: an action and its value."""

    a: str
    v: str = ""


def organiser_scope(event_from_user: TgUser, admin_scope: set[int] | None) -> ann.Scope:
    """The announcement scope of the organiser the router's filter let in."""
    return ann.scope_for(event_from_user.id, admin_scope)


def button(text: str, action: str, value: str = "") -> InlineKeyboardButton:
    """An inline button that sends ``Ann(a=action, v=value)``."""
    return InlineKeyboardButton(text=text, callback_data=Ann(a=action, v=value).pack())


def cancel_row() -> list[InlineKeyboardButton]:
    """The row with the Cancel button every step shows."""
    return [button("✖ " + _("Cancel"), "x")]


def languages_line(counts: dict[str, int]) -> str:
    """Readers per language, in the interface's order of languages."""
    ordered = [code for code in SUPPORTED_LOCALES if counts.get(code)]
    return ", ".join(f"{LANGUAGE_NAMES[code]} {counts[code]}" for code in ordered)


def audience_from(data: dict[str, Any]) -> ann.Audience:
    """The audience chosen so far, from the form's data."""
    return ann.Audience(
        cohort_ids=tuple(data.get("cohorts", [])),
        programme_ids=tuple(data.get("programmes", [])),
        everyone=bool(data.get("everyone")),
        private=True,
        groups=bool(data.get("groups")),
        languages=tuple(data.get("languages", [])),
        countries=tuple(data.get("countries", [])),
    )


def figures(resolved: ann.Resolved) -> str:
    """Who the audience reaches, as every step shows it."""
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
                languages=languages_line(dict(resolved.reader_languages))
            )
        )
    return "\n".join(lines)


async def resolve_audience(
    session: AsyncSession, data: dict[str, Any], scope: ann.Scope
) -> ann.Resolved:
    """The chats the audience chosen so far reaches."""
    return await ann.resolve(session, audience_from(data), scope)


def zone_of(name: str | None, fallback: str) -> ZoneInfo:
    """The zone called ``name``, else ``fallback``, else UTC."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
