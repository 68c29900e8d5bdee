"""Query functions for users and the bot's own small state. They flush; callers commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exists, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import AppState, RoleGrant, User


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """The user with this Telegram id, if they have ever written to the bot."""
    return await session.get(User, user_id)


async def get_sender(session: AsyncSession, user_id: int) -> tuple[User | None, bool]:
    """The user behind an update (None if new) and whether they hold any organiser role.

    One query answers both, also for someone who has never written (a role may be granted by
    id before the person's first message).
    """
    holds_role = exists().where(col(RoleGrant.user_id) == user_id)
    anchor = select(literal(1).label("anchor")).subquery()
    statement = select(User, holds_role).select_from(anchor)
    statement = statement.outerjoin(User, col(User.id) == user_id)
    user, has_role = (await session.exec(statement)).one()
    return user, bool(has_role)


async def save_profile(
    session: AsyncSession,
    *,
    user_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language_code: str | None,
    now: datetime,
    known: User | None = None,
    reachable: bool | None = None,
) -> tuple[User, bool]:
    """Create the user or refresh their Telegram profile; returns the user and whether it changed.

    ``reachable`` (when not None) is whether the bot may write to them now, as the update
    shows: a person marked unreachable who writes to the bot again is reachable again.

    Nothing is written when the profile is the same as stored, so the common case (a known
    person sends another message) costs one primary-key read, or none when the caller passes
    the row it has just loaded as ``known``.
    """
    user = known if known is not None else await session.get(User, user_id)
    if user is None:
        user = User(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_reachable=reachable is not False,
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        await session.flush()
        return user, True
    fresh = (first_name, last_name, username, language_code)
    stored = (user.first_name, user.last_name, user.username, user.language_code)
    if stored == fresh and (reachable is None or user.is_reachable == reachable):
        return user, False
    user.first_name, user.last_name, user.username, user.language_code = fresh
    if reachable is not None:
        user.is_reachable = reachable
    user.updated_at = now
    await session.flush()
    return user, True


async def get_state(session: AsyncSession, key: str) -> str | None:
    """A stored fact about the bot itself, e.g. ``bot_username``."""
    row = await session.get(AppState, key)
    return row.value if row else None


async def set_state(session: AsyncSession, key: str, value: str, now: datetime) -> None:
    """Store a fact about the bot itself.

    One upsert: replicas starting together each store the same facts (the bot's username),
    and the second must overwrite the first, not fail on its key.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(AppState).values(key=key, value=value, updated_at=now)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
    )
    # A row this session loaded already must not hide the value just written.
    row = session.identity_map.get(session.identity_key(AppState, key))
    if row is not None:
        await session.refresh(row)


async def count_users(session: AsyncSession) -> int:
    """How many people have written to the bot."""
    from sqlalchemy import func

    result = await session.exec(select(func.count()).select_from(User))
    return int(result.one())


async def reachability(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, bool]:
    """Whether the bot may write to each of these people (only those who have a row)."""
    wanted = sorted(set(user_ids))
    found: dict[int, bool] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        rows = await session.exec(select(User.id, User.is_reachable).where(col(User.id).in_(chunk)))
        found.update({user_id: bool(reachable) for user_id, reachable in rows.all()})
    return found


async def mark_unreachable(session: AsyncSession, user_id: int) -> None:
    """Telegram refused to deliver to this person (they blocked the bot or left Telegram)."""
    from sqlalchemy import update

    await session.execute(update(User).where(col(User.id) == user_id).values(is_reachable=False))
