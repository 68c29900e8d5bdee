"""``trainee-bot feedback report``: a cohort's (or a session's) results in the terminal, as
JSON, and as a workbook whose typed answers cannot run as formulas."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.engine import create_engine, create_session_factory
from bot.services.spreadsheets import read_back
from tests.feedback.results_support import seeded
from tests.support.settings import cli_environment


async def _seed(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            _cohort, (first, _second, _third) = await seeded(session)
            return first.id or 0
    finally:
        await engine.dispose()


@pytest.fixture
def first_lecture(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    cli_environment(monkeypatch, database_url, tmp_path)
    return asyncio.run(_seed(database_url))


def test_report_as_text_json_and_workbook(
    first_lecture: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["feedback", "report", "--cohort", "DT27-A", "--session", str(first_lecture)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "3 of 4 (75%)" in out
    assert "4.3 of 5" in out  # tags gone in a terminal
    assert "<b>" not in out

    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cohort"]["code"] == "DT27-A"

    book = tmp_path / "feedback.xlsx"
    assert main(["feedback", "report", "--cohort", "DT27-A", "-o", str(book)]) == 0
    assert f"Wrote {book}." in capsys.readouterr().out
    typed = [cell for row in read_back(book.read_bytes())["Typed answers"] for cell in row]
    assert '\'=HYPERLINK("x")' in typed  # shown as text, never run

    assert main(["feedback", "report", "--cohort", "NOPE"]) == 1
    assert "There is no cohort NOPE." in capsys.readouterr().err
    assert main(["feedback", "report", "--cohort", "DT27-A", "--session", "999999"]) == 1
    assert main(["feedback", "report", "--cohort", "DT27-A", "-o", "x.csv"]) == 2
