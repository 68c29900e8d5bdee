"""``trainee-bot timetable import`` and ``export``, run in-process on both databases."""

from __future__ import annotations

import argparse
from pathlib import Path

import icalendar
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import timetable as cli_timetable
from bot.config import Settings
from tests.support.settings import make_settings
from tests.timetable.support import EXAMPLES, TIMETABLE_CSV, make_cohort, sessions_of


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="trainee-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_timetable.add_commands(sub)
    return parser.parse_args(argv)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url)


async def test_import_dry_run_then_apply_then_export_round_trip(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with session_factory() as session:
        cohort = await make_cohort(session)
    csv = str(EXAMPLES / "timetable.csv")

    code = await cli_timetable.run_command(
        _parse("timetable", "import", csv, "--cohort", "DT27A", "--dry-run"), settings
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "20 new" in out
    assert "Asia/Shanghai" in out
    assert "nothing was changed" in out
    async with session_factory() as session:
        assert await sessions_of(session, cohort) == []

    code = await cli_timetable.run_command(
        _parse("timetable", "import", csv, "--cohort", "DT27A"), settings
    )
    assert code == 0
    assert "Applied" in capsys.readouterr().out
    async with session_factory() as session:
        assert len(await sessions_of(session, cohort)) == 20

    target = tmp_path / "dt27a.ics"
    code = await cli_timetable.run_command(
        _parse("timetable", "export", "--cohort", "DT27A", "-o", str(target)), settings
    )
    assert code == 0
    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 20
    first = min(events, key=lambda e: e.decoded("dtstart"))
    assert str(first.get("summary")) == "Opening Ceremony and Programme Briefing"
    assert first.decoded("dtstart").isoformat() == "2027-03-08T11:00:00+00:00"
    assert str(first.get("url")).endswith("lessonKey=dt27001")

    # The exported file read back matches the stored sessions one for one.
    code = await cli_timetable.run_command(
        _parse("timetable", "import", str(target), "--cohort", "DT27A", "--dry-run"), settings
    )
    assert code == 0
    assert "No changes" in capsys.readouterr().out


async def test_bad_file_and_unknown_cohort_exit_non_zero(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with session_factory() as session:
        cohort = await make_cohort(session)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(TIMETABLE_CSV.replace(b"2027-03-09,19:00", b"2027-03-09,25:00"))
    code = await cli_timetable.run_command(
        _parse("timetable", "import", str(bad), "--cohort", "DT27A"), settings
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "nothing changed" in err
    assert "3" in err
    async with session_factory() as session:
        assert await sessions_of(session, cohort) == []

    code = await cli_timetable.run_command(
        _parse("timetable", "import", str(bad), "--cohort", "NOPE"), settings
    )
    assert code == 1
    assert "no cohort NOPE" in capsys.readouterr().err
    assert await cli_timetable.run_command(argparse.Namespace(command="run"), settings) is None
