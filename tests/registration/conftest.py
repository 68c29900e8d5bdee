"""Fixtures for the registration suites: programmes from YAML, rosters, a second admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import Cohort, Enrolment, OutboxMessage, RoleGrant, RosterEntry
from bot.services import programmes
from bot.services.roster import importing as roster_import

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PROGRAMME_YAML = """
code: PROG-A
titles: {en: Digital Trade Seminar, ru: Семинар по цифровой торговле}
home_timezone: Asia/Shanghai
default_language: en
starts_on: 2027-03-08
ends_on: 2027-04-02
cohorts:
  - {code: A-ROSTER, name: Cohort A, starts_on: 2027-03-08, ends_on: 2027-04-02,
     registration: roster}
  - {code: A-OPEN, name: Open cohort, starts_on: 2027-03-08, ends_on: 2027-04-02,
     registration: open, capacity: 1}
  - {code: A-APPROVAL, name: Observers, registration: approval, capacity: 5}
"""

OTHER_PROGRAMME_YAML = """
code: PROG-B
titles: {en: Customs Modernisation}
cohorts:
  - {code: B-ONE, name: Customs cohort, registration: open}
"""


async def import_yaml(session: AsyncSession, text: str, clock: ManualClock) -> None:
    await programmes.import_programme(session, programmes.parse_programme(text), clock.now())


async def cohort_id(session: AsyncSession, code: str) -> int:
    cohort = (await session.exec(select(Cohort).where(Cohort.code == code))).one()
    assert cohort.id is not None
    return cohort.id


async def import_roster_bytes(
    session: AsyncSession, code: str, data: bytes, clock: ManualClock, name: str = "r.csv"
) -> roster_import.RosterImport:
    outcome = await roster_import.import_roster(
        session, await cohort_id(session, code), data, name, clock.now()
    )
    assert outcome.result is not None, outcome.errors
    return outcome.result


async def row_counts(factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with factory() as session:
        out = {}
        for model in (Cohort, RosterEntry, Enrolment, RoleGrant, OutboxMessage):
            result = await session.exec(select(func.count()).select_from(model))
            out[model.__name__] = int(result.one())
        return out


@pytest.fixture
async def programme_setup(session_factory, clock):
    async with session_factory() as session:
        await import_yaml(session, PROGRAMME_YAML, clock)
        await import_yaml(session, OTHER_PROGRAMME_YAML, clock)
    return session_factory
