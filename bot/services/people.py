"""People: their Telegram profile, language and time zone."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import outbox as outbox_db
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.engine import on_flush
from bot.db.models import RoleGrant, User
from bot.i18n import SUPPORTED_LOCALES, normalize_locale
from bot.services.timezones import default_zone_for_country, zones_for_country


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What Telegram tells us about the sender of an update."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


#: A person as the services hand them to the routers (the row the middleware remembered).
Person = User


async def count_people(session: AsyncSession) -> int:
    """How many people have ever written to the bot."""
    return await users_db.count_users(session)


class UnknownUser(LookupError):
    """The person has never written to the bot."""


def _cleaned(profile: TelegramProfile) -> TelegramProfile:
    """The profile as it is stored (long fields cut to the columns' sizes)."""
    return TelegramProfile(
        user_id=profile.user_id,
        first_name=profile.first_name[:256],
        last_name=profile.last_name[:256] if profile.last_name else None,
        username=profile.username,
        language_code=profile.language_code[:16] if profile.language_code else None,
    )


# --- recently seen senders ------------------------------------------------------------------

#: Seconds a trainee's row is reused for their next updates instead of being read again.
SENDER_TTL = 5.0
_SENDER_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class _Seen:
    database: str
    expires: float
    profile: TelegramProfile
    row: dict[str, Any]


class RecentSenders:
    """People without any organiser role, as read moments ago, for display only.

    A person writing several messages in a row is read once per :data:`SENDER_TTL`. What this
    saves is safe to be a few seconds old: the row only decides the language, the time zone
    and the name shown to the person (every change goes through the database, never through
    this copy), and a role granted meanwhile takes effect a few seconds late rather than
    early; people who hold a role are never kept. Nor is anyone marked unreachable: their next
    update must reach the database to mark them reachable again. Changes made in this process
    drop the entry at once (the sender drops a person it finds unreachable); changes made by
    another process show after at most :data:`SENDER_TTL`.

    The application owns one and hands it to whoever reads or changes people; :meth:`watch`
    makes the application's sessions drop what they write.
    """

    def __init__(self) -> None:
        self._seen: dict[int, _Seen] = {}
        self._changes = itertools.count()
        #: Bumped by every change; a read that started before a change is not kept.
        self.version = next(self._changes)

    def get(self, database: str, profile: TelegramProfile) -> User | None:
        seen = self._seen.get(profile.user_id)
        if seen is None or seen.database != database or seen.profile != profile:
            return None
        if seen.expires < time.monotonic():
            del self._seen[profile.user_id]
            return None
        row = dict(seen.row)
        if not row.get("is_reachable", False):
            del self._seen[profile.user_id]
            return None
        if isinstance(row.get("reminder_offsets"), list):
            row["reminder_offsets"] = list(row["reminder_offsets"])
        return User(**row)

    def keep(self, database: str, user: User, version: int) -> None:
        if version != self.version or not user.is_reachable:
            return
        if len(self._seen) >= _SENDER_LIMIT:
            self._seen.clear()
        profile = TelegramProfile(
            user_id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
        )
        row = {name: getattr(user, name) for name in User.model_fields}
        self._seen[user.id] = _Seen(database, time.monotonic() + SENDER_TTL, profile, row)

    def forget(self, user_ids: set[int]) -> None:
        self.version = next(self._changes)
        for user_id in user_ids:
            self._seen.pop(user_id, None)

    def clear(self) -> None:
        self.version = next(self._changes)
        self._seen.clear()

    def watch(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        """Forget people whose row or roles the factory's sessions write."""
        on_flush(session_factory, self._forget_changed)

    def _forget_changed(self, session: Session, _context: Any) -> None:
        changed: set[int] = set()
        for obj in itertools.chain(session.new, session.dirty, session.deleted):
            if isinstance(obj, User):
                changed.add(obj.id)
            elif isinstance(obj, RoleGrant):
                changed.add(obj.user_id)
        if changed:
            self.forget(changed)


def _database_of(session: AsyncSession) -> str:
    bind = session.bind
    return "" if bind is None else str(bind.sync_engine.url)


async def remember(
    session: AsyncSession,
    profile: TelegramProfile,
    clock: Clock,
    *,
    reachable: bool | None = True,
    recent: RecentSenders | None = None,
) -> User:
    """Record the person behind an update, writing only when something changed.

    ``reachable`` is what the update says about whether the bot may write to the person: True
    for anything they do in their private chat with the bot (a person who blocked the bot
    sends nothing there, so writing again means they unblocked it), False when the update
    reports that they blocked it, None when it says nothing (an update from a group). A person
    marked unreachable who writes again is marked reachable at once, so reminders and
    announcements reach them again.

    One query finds the person and whether they organise anything (the admin routers' filters
    then need no query of their own for a trainee); a trainee seen moments ago with the same
    profile costs no query at all. The transaction ends before returning, so no connection is
    held while the update's handler waits for Telegram.
    """
    cleaned = _cleaned(profile)
    database = _database_of(session)
    # Kept copies are all of reachable people; news of a block must reach the database.
    seen = None if reachable is False or recent is None else recent.get(database, cleaned)
    if seen is not None:
        reg_db.note_without_roles(session, cleaned.user_id)
        return seen
    try:
        return await _save(session, cleaned, clock, database, reachable, recent)
    except IntegrityError:
        # Two first updates from a new person at once (a join plus a message): the other one
        # created the row; use it.
        await session.rollback()
        return await _save(session, cleaned, clock, database, reachable, recent)


async def _save(
    session: AsyncSession,
    profile: TelegramProfile,
    clock: Clock,
    database: str,
    reachable: bool | None,
    recent: RecentSenders | None,
) -> User:
    version = recent.version if recent is not None else 0
    known, holds_role = await users_db.get_sender(session, profile.user_id)
    if not holds_role:
        reg_db.note_without_roles(session, profile.user_id)
    user, changed = await users_db.save_profile(
        session,
        user_id=profile.user_id,
        first_name=profile.first_name,
        last_name=profile.last_name,
        username=profile.username,
        language_code=profile.language_code,
        now=clock.now(),
        known=known,
        reachable=reachable,
    )
    await session.commit()
    if recent is not None and known is not None and not holds_role and not changed:
        recent.keep(database, user, version)
    return user


async def note_unreachable(
    session: AsyncSession, user_id: int, detail: str, recent: RecentSenders | None = None
) -> None:
    """Telegram refused a direct answer to this person (403): as when the sender is refused,
    they are marked unreachable and what is queued for them is failed with the reason. Their
    next message to the bot marks them reachable again.
    """
    await users_db.mark_unreachable(session, user_id)
    reason = outbox_db.failure_text(
        outbox_db.Failure.DEACTIVATED
        if "deactivated" in detail.lower()
        else outbox_db.Failure.BLOCKED,
        detail,
    )
    await outbox_db.fail_pending_for_chat(session, user_id, reason)
    await session.commit()
    if recent is not None:
        recent.forget({user_id})


def locale_of(user: User | None, language_code: str | None, default: str) -> str:
    """The language to speak to a person: their choice, else Telegram's hint, else ``default``."""
    if user is not None and user.locale in SUPPORTED_LOCALES:
        return user.locale
    return normalize_locale(language_code) or default


async def locale_for(
    session: AsyncSession, user_id: int, language_code: str | None, default: str
) -> str:
    """:func:`locale_of` for a person known by id (an update that did not load them)."""
    return locale_of(await users_db.get_user(session, user_id), language_code, default)


def zone_of(user: User | None) -> str | None:
    """The time zone a person told us (an IANA name), or ``None`` if they have not yet."""
    return user.timezone if user is not None else None


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


@dataclass(frozen=True, slots=True)
class ZoneGuess:
    """What a person's country says of their time zone."""

    #: The country's one zone, now set on the person's row.
    zone: str | None = None
    #: The country's zones, when it has several: the person chooses.
    choices: tuple[str, ...] = ()


def zone_from_country(user: User | None, country: str | None, now: datetime) -> ZoneGuess:
    """For a person with no time zone yet: set their country's zone when it has only one
    (the caller commits), or list the zones to choose from. A zone already set is kept.
    """
    if user is None or user.timezone is not None or not country:
        return ZoneGuess()
    zone = default_zone_for_country(country, now)
    if zone is None:
        return ZoneGuess(choices=tuple(zones_for_country(country)))
    user.timezone = zone
    user.updated_at = now
    return ZoneGuess(zone=zone)


async def settle_zone_from_country(
    session: AsyncSession, user_id: int, country: str | None, clock: Clock
) -> ZoneGuess:
    """:func:`zone_from_country` for a stored person, committed: their country's one zone is
    set, or the zones to choose from listed; nothing changes for a person who has a zone."""
    user = await users_db.get_user(session, user_id)
    guess = zone_from_country(user, country, clock.now())
    if guess.zone is not None:
        await session.commit()
    return guess
