"""``trainee-bot announce`` and ``trainee-bot outbox status`` on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import announcements as cli_delivery
from bot.db.models import Campaign, OutboxMessage
from tests.delivery.conftest import add_cohort, add_programme, add_trainee
from tests.support.settings import make_settings


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_delivery.add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture
async def cohort_code(session_factory: async_sessionmaker[AsyncSession]) -> str:
    async with session_factory() as session:
        programme = await add_programme(session, "P", default_locale="en", zone="Asia/Shanghai")
        cohort = await add_cohort(session, programme, "P-1", group_chat_id=-300)
        await add_trainee(session, cohort, 901, locale="ru")
        await add_trainee(session, cohort, 902, locale="fr")
        await add_trainee(session, cohort, 903, reachable=False)
        await session.commit()
    return "P-1"


async def test_announce_queues_and_reports(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    cohort_code: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(database_url=database_url)
    args = parse(
        "announce", "--cohort", cohort_code, "--text", "Hello", "--text-ru", "Привет", "--group",
        "--pin", "--at", "2030-01-01T10:00",
    )  # fmt: skip
    assert await cli_delivery.run_command(args, settings) == 0
    out = capsys.readouterr().out
    assert "Campaign 1 queued." in out
    assert "trainees 2, group chats 1; skipped as unreachable: 1" in out
    assert "Français" in out
    async with session_factory() as session:
        rows = {r.chat_id: r for r in (await session.exec(select(OutboxMessage))).all()}
        [campaign] = (await session.exec(select(Campaign))).all()
    assert rows[901].payload == {"text": "Привет"}
    assert rows[902].payload == {"text": "Hello"}
    assert rows[-300].payload == {"text": "Hello", "pin": True}
    assert campaign.status == "scheduled"
    assert campaign.scheduled_at.isoformat() == "2030-01-01T02:00:00+00:00"  # Shanghai time

    assert await cli_delivery.run_command(parse("outbox", "status"), settings) == 0
    assert "pending  3" in capsys.readouterr().out


async def test_unknown_cohort_and_past_time_refused(
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    cohort_code: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(database_url=database_url)
    unknown = parse("announce", "--cohort", "NOPE", "--text", "Hello")
    assert await cli_delivery.run_command(unknown, settings) == 1
    assert "Unknown cohort: NOPE" in capsys.readouterr().err
    past = parse("announce", "--cohort", cohort_code, "--text", "Hi", "--at", "2020-01-01T10:00")
    assert await cli_delivery.run_command(past, settings) == 1
    assert "already passed" in capsys.readouterr().err
    async with session_factory() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []
    assert await cli_delivery.run_command(argparse.Namespace(command="migrate"), settings) is None
