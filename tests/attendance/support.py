"""Cohorts with the sample roster's people, a session, and a trainer, straight in the database."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, Enrolment, Programme, RosterEntry, TrainingSession, User
from tests.timetable.support import EXAMPLES, at, make_cohort

#: The sample roster (examples/roster.csv): name, e-mail, phone.
ROSTER = [
    (row["Full name (as in passport)"], row["Email"], row["Phone (WhatsApp)"])
    for row in csv.DictReader((EXAMPLES / "roster.csv").read_text().splitlines())
]
#: The session the tests mark: 90 minutes from 11:00 UTC on 8 March 2027.
START = at("2027-03-08 11:00")


@dataclass
class Setup:
    cohort: Cohort
    session_id: int
    user_ids: list[int]


async def add_roster_trainee(
    session: AsyncSession, cohort: Cohort, user_id: int, person: tuple[str, str, str]
) -> None:
    """A trainee of the roster, registered with the bot (their entry bound), reading English."""
    name, email, phone = person
    assert cohort.id is not None
    entry = RosterEntry(
        cohort_id=cohort.id,
        full_name=name,
        email=email,
        phone=phone,
        personal_code=f"c{cohort.id}u{user_id}",
        user_id=user_id,
    )
    session.add(entry)
    if await session.get(User, user_id) is None:
        session.add(User(id=user_id, first_name=name.split()[0], locale="en"))
    await session.flush()
    session.add(
        Enrolment(user_id=user_id, cohort_id=cohort.id, roster_entry_id=entry.id, status="active")
    )
    await session.commit()


async def add_session(
    session: AsyncSession,
    cohort: Cohort,
    starts_at: datetime = START,
    minutes: int = 90,
    key: str = "s1",
) -> int:
    assert cohort.id is not None
    row = TrainingSession(
        cohort_id=cohort.id,
        key=key,
        titles={"en": f"Lecture {key}"},
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
    )
    session.add(row)
    await session.commit()
    assert row.id is not None
    return row.id


async def set_rules(session: AsyncSession, cohort: Cohort, **attendance: object) -> None:
    """The cohort's programme gets these attendance rules."""
    programme = await session.get(Programme, cohort.programme_id)
    assert programme is not None
    programme.rules = {"attendance": dict(attendance)}
    session.add(programme)
    await session.commit()


async def cohort_with_people(
    session: AsyncSession,
    code: str = "DT27-A",
    people: range = range(0, 5),
    *,
    first_user: int = 8001,
    programme_code: str = "DIGITRADE-2027",
) -> Setup:
    """A cohort with these people of the sample roster (user ids from ``first_user``)."""
    cohort = await make_cohort(session, code, programme_code=programme_code)
    ids = []
    for offset, index in enumerate(people):
        await add_roster_trainee(session, cohort, first_user + offset, ROSTER[index])
        ids.append(first_user + offset)
    session_id = await add_session(session, cohort, key=f"{code}-1")
    return Setup(cohort, session_id, ids)
