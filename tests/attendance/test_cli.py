"""``trainee-bot attendance import | report | mark`` and ``grant --role trainer``, through the
command line's own entry point."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.engine import create_engine, create_session_factory
from bot.services.spreadsheets import read_back
from tests.attendance.support import add_session, cohort_with_people
from tests.attendance.test_classroom import zoom_csv
from tests.support.settings import cli_environment
from tests.timetable.support import at

#: Long past, so the command line's real clock counts the session as held.
PAST = at("2024-03-08 11:00")


async def _seed(database_url: str) -> tuple[int, list[int]]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            setup = await cohort_with_people(session, "CLI-A", programme_code="CLI")
            session_id = await add_session(session, setup.cohort, PAST, key="past")
            return session_id, setup.user_ids
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[int, list[int]]:
    cli_environment(monkeypatch, database_url, tmp_path)
    return asyncio.run(_seed(database_url))


def test_import_mark_and_report(
    seeded: tuple[int, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id, users = seeded
    path = zoom_csv(tmp_path)
    assert main(["attendance", "import", str(path), "--session", str(session_id), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "3 present, 2 absent (present from 54 minutes)" in out
    assert "line 10: Guest Speaker · guest@example.org, 95 min" in out
    assert "Dry run: nothing was changed." in out

    args = ["attendance", "import", str(path), "--session", str(session_id), "--json"]
    assert main([*args, "--threshold", "90"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["imported"] is True
    assert (outcome["present"], outcome["absent"]) == (1, 4)

    mark = ["attendance", "mark", "--session", str(session_id), "--user", str(users[1])]
    assert main([*mark, "--status", "excused"]) == 0
    assert "Marked" in capsys.readouterr().out
    assert main([*mark[:-1], "12345", "--status", "late"]) == 1

    assert main(["attendance", "report", "--cohort", "CLI-A", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    [held] = figures["sessions"]
    assert (held["present"], held["absent"], held["excused"]) == (1, 3, 1)
    assert sum(row["below_threshold"] for row in figures["trainees"]) == 4
    assert main(["attendance", "report", "--cohort", "CLI-A"]) == 0
    assert "Attendance of CLI-A: 20% over 1 sessions held (rule: 80%)." in capsys.readouterr().out

    # The workbook: a sheet per session and per trainee, the rule's laggards flagged.
    book = tmp_path / "attendance.xlsx"
    assert main(["attendance", "report", "--cohort", "CLI-A", "-o", str(book)]) == 0
    assert f"Wrote {book}." in capsys.readouterr().out
    sheets = read_back(book.read_bytes())
    assert sheets["Sessions"][1][2:7] == [1, 0, 3, 1, 0]
    assert sum(1 for row in sheets["Trainees"][1:] if row[4] == "yes") == 4
    assert main(["attendance", "report", "--cohort", "CLI-A", "-o", str(tmp_path / "a.csv")]) == 2
    capsys.readouterr()

    assert main(["attendance", "report", "--cohort", "NOPE"]) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Email\nA,a@example.org\n")
    assert main(["attendance", "import", str(bad), "--session", str(session_id)]) == 1
    assert "no duration column" in capsys.readouterr().err


def test_granting_a_trainer(
    seeded: tuple[int, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "8900", "--role", "trainer", "--cohort", "CLI-A"]) == 0
    assert "granted: 8900 is trainer of CLI-A" in capsys.readouterr().out
    assert main(["grant", "8900", "--role", "trainer", "--cohort", "CLI-A"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["grant", "8900", "--role", "trainer", "--programme", "CLI"]) == 2
    assert main(["grant", "8900", "--role", "trainer", "--cohort", "NOPE"]) == 1
    assert main(["revoke", "8900", "--role", "trainer", "--cohort", "CLI-A"]) == 0
    assert "revoked: 8900 is no longer trainer of CLI-A" in capsys.readouterr().out
