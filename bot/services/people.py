"""People: their Telegram profile, language and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import users as users_db
from bot.db.models import User
from bot.i18n import SUPPORTED_LOCALES, normalize_locale


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What Telegram tells us about the sender of an update."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class UnknownUser(LookupError):
    """The person has never written to the bot."""


async def remember(session: AsyncSession, profile: TelegramProfile, clock: Clock) -> User:
    """Record the person behind an update, committing only when something changed."""
    try:
        return await _save(session, profile, clock)
    except IntegrityError:
        # Two first updates from a new person at once (a join plus a message): the other one
        # created the row; use it.
        await session.rollback()
        return await _save(session, profile, clock)


async def _save(session: AsyncSession, profile: TelegramProfile, clock: Clock) -> User:
    user, changed = await users_db.save_profile(
        session,
        user_id=profile.user_id,
        first_name=profile.first_name[:256],
        last_name=profile.last_name[:256] if profile.last_name else None,
        username=profile.username,
        language_code=profile.language_code[:16] if profile.language_code else None,
        now=clock.now(),
    )
    if changed:
        await session.commit()
    return user


def locale_of(user: User | None, language_code: str | None, default: str) -> str:
    """The language to speak to a person: their choice, else Telegram's hint, else ``default``."""
    if user is not None and user.locale in SUPPORTED_LOCALES:
        return user.locale
    return normalize_locale(language_code) or default


async def choose_locale(session: AsyncSession, user_id: int, locale: str, clock: Clock) -> User:
    """Store the interface language a person picked."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    user = await users_db.get_user(session, user_id)
    if user is None:
        raise UnknownUser(user_id)
    user.locale = locale
    user.updated_at = clock.now()
    await session.commit()
    return user


def is_valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone this machine knows."""
    if not name or ("/" not in name and name != "UTC"):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def choose_timezone(session: AsyncSession, user_id: int, zone: str, clock: Clock) -> User:
    """Store the IANA time zone a person confirmed."""
    if not is_valid_zone(zone):
        raise ValueError(f"unknown time zone {zone!r}")
    user = await users_db.get_user(session, user_id)
    if user is None:
        raise UnknownUser(user_id)
    user.timezone = zone
    user.updated_at = clock.now()
    await session.commit()
    return user
