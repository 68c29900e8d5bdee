"""Programmes, cohorts and trainees written straight into the database for delivery tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, Enrolment, Programme, RoleGrant, RosterEntry, User

_codes = itertools.count(1)


@dataclass
class World:
    """Handles to what a test created."""

    programmes: dict[str, Programme] = field(default_factory=dict)
    cohorts: dict[str, Cohort] = field(default_factory=dict)


async def add_programme(
    session: AsyncSession, code: str, *, default_locale: str = "en", zone: str = "Asia/Shanghai"
) -> Programme:
    programme = Programme(
        code=code, titles={"en": code}, default_locale=default_locale, home_timezone=zone
    )
    session.add(programme)
    await session.flush()
    return programme


async def add_cohort(
    session: AsyncSession, programme: Programme, code: str, group_chat_id: int | None = None
) -> Cohort:
    if programme.id is None:
        raise ValueError("programme not flushed")
    cohort = Cohort(
        programme_id=programme.id, code=code, name=f"Cohort {code}", group_chat_id=group_chat_id
    )
    session.add(cohort)
    await session.flush()
    return cohort


async def add_trainee(
    session: AsyncSession,
    cohort: Cohort,
    user_id: int,
    *,
    locale: str | None = None,
    roster_language: str | None = None,
    country: str | None = None,
    reachable: bool = True,
    status: str = "active",
    with_user: bool = True,
) -> None:
    """A person with a roster line and an enrolment in ``cohort``."""
    if cohort.id is None:
        raise ValueError("cohort not flushed")
    if with_user and await session.get(User, user_id) is None:
        session.add(
            User(id=user_id, first_name=f"T{user_id}", locale=locale, is_reachable=reachable)
        )
    entry = RosterEntry(
        cohort_id=cohort.id,
        full_name=f"Trainee {user_id}",
        country=country,
        language=roster_language,
        email=f"t{user_id}.{next(_codes)}@example.org",
        personal_code=f"pc{user_id}x{next(_codes)}",
        user_id=user_id,
    )
    session.add(entry)
    await session.flush()
    session.add(
        Enrolment(user_id=user_id, cohort_id=cohort.id, roster_entry_id=entry.id, status=status)
    )
    await session.flush()


async def grant(session: AsyncSession, user_id: int, programme: Programme) -> None:
    if programme.id is None:
        raise ValueError("programme not flushed")
    session.add(RoleGrant(user_id=user_id, programme_id=programme.id, role="programme_admin"))
    await session.flush()
