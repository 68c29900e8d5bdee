"""``trainee-bot privacy purge``: cohorts that ended long ago lose their people's personal data,
through the command line's own entry point, on a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.app import SANDBOX_TOKEN
from bot.cli import main
from bot.clock import SystemClock
from bot.db.engine import create_engine, create_session_factory
from bot.db.models import (
    Cohort,
    Enrolment,
    OutboxMessage,
    Programme,
    RosterEntry,
    TrainingSession,
    User,
)
from bot.scheduling import jobs
from bot.scheduling.setup import PURGE_ID, build_scheduler
from bot.services.retention import months_before

TODAY = datetime.now(UTC).date()
GONE, STAYER, EARLY = 9101, 9102, 9103


def _entry(cohort_id: int, name: str, email: str, user_id: int | None) -> RosterEntry:
    return RosterEntry(
        cohort_id=cohort_id,
        full_name=name,
        email=email,
        phone="+256 700 000 001",
        country="UG",
        organisation="Ministry of Trade",
        personal_code=f"c{cohort_id}-{email}"[:32],
        user_id=user_id,
    )


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            programme = Programme(code="RET", titles={"en": "Retention"})
            session.add(programme)
            await session.flush()
            assert programme.id is not None
            cohorts = {
                code: Cohort(programme_id=programme.id, code=code, name=code, ends_on=ends)
                for code, ends in (
                    ("OLD", months_before(TODAY, 30)),
                    ("NEW", TODAY + timedelta(days=30)),
                    ("BY-SESSION", None),
                    ("UNDATED", None),
                )
            }
            session.add_all(cohorts.values())
            await session.flush()
            ids = {code: cohort.id or 0 for code, cohort in cohorts.items()}
            ended = datetime.combine(months_before(TODAY, 40), datetime.min.time(), UTC)
            session.add(
                TrainingSession(
                    cohort_id=ids["BY-SESSION"],
                    key="last",
                    starts_at=ended - timedelta(hours=2),
                    ends_at=ended,
                )
            )
            for user_id, name in (
                (GONE, "Zawadi Gone"),
                (STAYER, "Kofi Stayer"),
                (EARLY, "Ines Early"),
            ):
                session.add(User(id=user_id, first_name=name.split()[0], username=f"u{user_id}"))
            people: tuple[tuple[str, int | None, str, str], ...] = (
                ("OLD", GONE, "Zawadi Gone", "zawadi@example.org"),
                ("OLD", STAYER, "Kofi Stayer", "kofi@example.org"),
                ("NEW", STAYER, "Kofi Stayer", "kofi@example.org"),
                ("BY-SESSION", EARLY, "Ines Early", "ines@example.org"),
                ("OLD", None, "Never Came", "never@example.org"),
            )
            for code, bound, name, email in people:
                session.add(_entry(ids[code], name, email, bound))
                if bound is not None:
                    session.add(Enrolment(user_id=bound, cohort_id=ids[code], status="active"))
            session.add(
                OutboxMessage(
                    chat_id=GONE,
                    user_id=GONE,
                    kind="reminder",
                    payload={"text": "Hello Zawadi"},
                    dedupe_key=f"reminder:1:{GONE}:15:1",
                    due_at=datetime.now(UTC) - timedelta(days=900),
                    status="sent",
                )
            )
            await session.commit()
    finally:
        await engine.dispose()


async def _dump(database_url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            out = {}
            for table in SQLModel.metadata.sorted_tables:
                rows = (await session.execute(select(table))).mappings().all()
                out[table.name] = [
                    {k: json.dumps(v, default=str) for k, v in row.items()} for row in rows
                ]
            return out
    finally:
        await engine.dispose()


def _holding(dump: dict[str, list[dict[str, Any]]], needle: str) -> set[str]:
    return {
        name
        for name, rows in dump.items()
        for row in rows
        if any(needle in v for v in row.values())
    }


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL", "ADMIN_IDS", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RETENTION_MONTHS", raising=False)
    monkeypatch.setenv("BOT_TOKEN", SANDBOX_TOKEN)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    asyncio.run(_seed(database_url))
    return database_url


def test_purge_erases_the_people_of_cohorts_that_ended_long_ago(
    seeded: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No number of months, no purge.
    assert main(["privacy", "purge"]) == 2
    assert "RETENTION_MONTHS" in capsys.readouterr().err

    before = asyncio.run(_dump(seeded))
    assert main(["privacy", "purge", "--months", "24", "--dry-run", "--json"]) == 0
    would = json.loads(capsys.readouterr().out)
    assert asyncio.run(_dump(seeded)) == before
    assert sorted(would["cohorts"]) == ["BY-SESSION", "OLD"]
    assert would["undated_cohorts"] == ["UNDATED"]
    assert (would["people_erased"], would["people_kept"]) == (2, 1)
    assert would["roster_entries"] == 4  # Zawadi's, Kofi's in OLD, Ines's, and the unused one

    monkeypatch.setenv("RETENTION_MONTHS", "24")
    assert main(["privacy", "purge"]) == 0
    out = capsys.readouterr().out
    assert f"Cohorts that ended before {months_before(TODAY, 24).isoformat()}: " in out
    assert "People erased: 2; people who keep their account for a newer cohort: 1" in out
    assert "Cohorts with no end date or sessions, kept: UNDATED" in out
    after = asyncio.run(_dump(seeded))
    for gone in (str(GONE), "Zawadi", "zawadi@example.org", str(EARLY), "Ines", "Never Came"):
        assert _holding(after, gone) == set(), gone
    # Kofi is still in the new cohort: his account and that entry stay, the old one is empty.
    assert _holding(after, "kofi@example.org") == {"roster_entries"}
    kofi = [row for row in after["roster_entries"] if "kofi@example.org" in row["email"]]
    assert len(kofi) == 1
    assert any(json.loads(row["id"]) == STAYER for row in after["users"])
    # The cohorts' figures stay: every entry and enrolment is still counted.
    assert len(after["roster_entries"]) == len(before["roster_entries"])
    assert len(after["enrolments"]) == len(before["enrolments"])
    assert sorted(json.loads(row["status"]) for row in after["enrolments"]) == [
        "active",
        "withdrawn",
        "withdrawn",
        "withdrawn",
    ]
    assert len(after["outbox"]) == 1  # the sent reminder, emptied
    assert json.loads(after["outbox"][0]["status"]) == "sent"

    # Nothing more to do the second time.
    assert main(["privacy", "purge", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["people_erased"], again["people_kept"], again["roster_entries"]) == (0, 0, 0)
    assert asyncio.run(_dump(seeded)) == after


def test_months_before_keeps_to_the_calendar() -> None:
    assert months_before(date(2027, 3, 31), 1) == date(2027, 2, 28)
    assert months_before(date(2028, 3, 31), 1) == date(2028, 2, 29)
    assert months_before(date(2027, 1, 15), 24) == date(2025, 1, 15)
    assert months_before(date(2027, 1, 15), 13) == date(2025, 12, 15)


def test_the_daily_purge_runs_only_when_retention_is_set(seeded: str) -> None:
    async def run() -> tuple[set[str], set[str], int, int]:
        engine = create_engine(seeded)
        try:
            factory = create_session_factory(engine)
            off = {job.id for job in build_scheduler(factory, SystemClock(), None).get_jobs()}
            on = {
                job.id
                for job in build_scheduler(
                    factory, SystemClock(), None, retention_months=24
                ).get_jobs()
            }
            # A super-admin's account is never erased whole, though all their cohorts ended.
            first = await jobs.purge_expired(factory, SystemClock(), 24, keep=[EARLY])
            second = await jobs.purge_expired(factory, SystemClock(), 24, keep=[EARLY])
            return off, on, first, second
        finally:
            await engine.dispose()

    off, on, first, second = asyncio.run(run())
    assert PURGE_ID not in off
    assert on - off == {PURGE_ID}
    assert (first, second) == (1, 0)
    assert str(EARLY) in json.dumps(asyncio.run(_dump(seeded))["users"])
