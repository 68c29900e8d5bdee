"""Programmes, cohorts and trainees written straight into the database, and the sample files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Cohort, Enrolment, OutboxMessage, Programme, TrainingSession, User

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMETABLE_CSV = (EXAMPLES / "timetable.csv").read_bytes()
TIMETABLE_ICS = (EXAMPLES / "timetable.ics").read_bytes()


async def make_cohort(
    session: AsyncSession,
    code: str = "DT27A",
    *,
    programme_code: str | None = None,
    offsets: list[int] | None = None,
    home: str = "Asia/Shanghai",
) -> Cohort:
    programme = (
        await session.exec(select(Programme).where(col(Programme.code) == (programme_code or code)))
    ).first()
    if programme is None:
        programme = Programme(
            code=programme_code or code,
            titles={"en": "Seminar on Digital Trade", "zh": "数字贸易研修班"},
            home_timezone=home,
            default_locale="en",
        )
        session.add(programme)
        await session.flush()
    assert programme.id is not None
    cohort = Cohort(
        programme_id=programme.id,
        code=code,
        name=f"Cohort {code}",
        reminder_offsets=offsets if offsets is not None else [1440, 15],
    )
    session.add(cohort)
    await session.commit()
    return cohort


async def add_trainee(
    session: AsyncSession,
    user_id: int,
    cohort: Cohort,
    *,
    zone: str | None = None,
    locale: str | None = "en",
    offsets: list[int] | None = None,
    digest: bool = False,
    first_name: str = "Trainee",
) -> User:
    user = await session.get(User, user_id)
    if user is None:
        user = User(id=user_id, first_name=first_name, locale=locale, timezone=zone)
        session.add(user)
    user.reminder_offsets = offsets
    user.daily_digest = digest
    assert cohort.id is not None
    session.add(Enrolment(user_id=user_id, cohort_id=cohort.id, status="active"))
    await session.commit()
    return user


async def outbox(session: AsyncSession, kind: str | None = None) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
    if kind is not None:
        statement = statement.where(col(OutboxMessage.kind) == kind)
    statement = statement.execution_options(populate_existing=True)
    return list((await session.exec(statement)).all())


async def sessions_of(session: AsyncSession, cohort: Cohort) -> list[TrainingSession]:
    cohort_id = cohort.id
    rows = await session.exec(
        select(TrainingSession)
        .where(col(TrainingSession.cohort_id) == cohort_id)
        .order_by(col(TrainingSession.starts_at))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


def changed_csv(
    *, move: tuple[str, str] | None = None, relink: str | None = None, drop: str | None = None
) -> bytes:
    """The sample timetable with one row moved (date, new start), relinked, or dropped."""
    lines = TIMETABLE_CSV.decode().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if drop and cells[0] == drop:
            continue
        if move and cells[0] == move[0]:
            cells[1] = move[1]
            cells[2] = f"{int(move[1][:2]) + 2:02d}{move[1][2:]}"
        if relink and cells[0] == relink:
            cells[-1] = "https://www.eeo.cn/live.php?lessonKey=changed"
        out.append(",".join(cells))
    return ("\n".join(out) + "\n").encode()


def at(text: str) -> datetime:
    """An aware UTC datetime from "2027-03-08 10:45"."""
    from datetime import UTC

    return datetime.fromisoformat(text).replace(tzinfo=UTC)
