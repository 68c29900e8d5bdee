"""``trainee-bot quiz import`` and ``quiz report``: the example in (twice, unchanged), a bad file
refused with exit 1, the report as text, JSON and a workbook with its chart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.db.engine import create_engine, create_session_factory
from bot.services.quizzes.sending import plan_quizzes
from bot.services.quizzes.votes import record_answer
from tests.quizzes.support import cohort_with_quiz
from tests.support.settings import cli_environment
from tests.timetable.support import add_trainee

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quiz.yaml"
WORKBOOK = EXAMPLE.with_suffix(".xlsx")


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        async with create_session_factory(engine)() as session:
            cohort, _lecture = await cohort_with_quiz(session, now - timedelta(hours=3), now)
            await add_trainee(session, 8401, cohort, locale="en", first_name="Amina")
            await add_trainee(session, 8402, cohort, locale="en", first_name="Bilal")
            await plan_quizzes(session, now)
            await record_answer(session, "c1", 8401, [1], now)
            await record_answer(session, "c2", 8402, [1], now)
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli_environment(monkeypatch, database_url, tmp_path)
    asyncio.run(_seed(database_url))


def test_import_and_report(
    seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quiz", "import", str(EXAMPLE), "--programme", "DIGITRADE-2027"]) == 0
    assert "Quizzes: 2 new, 0 updated, 0 unchanged." in capsys.readouterr().out
    assert main(["quiz", "import", str(EXAMPLE)]) == 0
    assert "0 new, 0 updated, 2 unchanged." in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(EXAMPLE.read_bytes().replace(b"correct: 1\n", b"correct: 0\n", 1))
    assert main(["quiz", "import", str(bad)]) == 1
    assert "question 2, correct: option 0 does not exist" in capsys.readouterr().err

    assert main(["quiz", "report", "--cohort", "DT27-A"]) == 0
    out = capsys.readouterr().out
    assert "0% · Check: trade rules #1" in out
    assert "most chosen wrong answer: WHO (2)" in out
    assert "<b>" not in out
    assert main(["quiz", "report", "--cohort", "DT27-A", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["questions"][0]["share_correct"] == 0.0
    assert {t["name"] for t in data["trainees"]} >= {"Amina", "Bilal"}
    book = tmp_path / "quiz.xlsx"
    assert main(["quiz", "report", "--cohort", "DT27-A", "-o", str(book)]) == 0
    sheet = load_workbook(book)["Questions"]
    assert getattr(sheet, "_charts", None)  # the share correct, as a chart
    assert main(["quiz", "report", "--cohort", "NOPE"]) == 1
    assert "There is no cohort NOPE." in capsys.readouterr().err


def test_import_a_workbook_and_export_it_back(
    seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quiz", "import", str(WORKBOOK)]) == 0
    assert "Quizzes: 2 new, 0 updated, 0 unchanged." in capsys.readouterr().out
    assert main(["quiz", "import", str(EXAMPLE)]) == 0
    assert "0 new, 0 updated, 2 unchanged." in capsys.readouterr().out
    exported = tmp_path / "quizzes.xlsx"
    assert main(["quiz", "export", "--programme", "DIGITRADE-2027", "-o", str(exported)]) == 0
    assert f"Wrote {exported}." in capsys.readouterr().out
    assert load_workbook(exported).sheetnames == ["quizzes", "questions"]
    # Two files gave the quizzes their places (rules first and digital-economy first); the
    # export lists all three in one order, so importing it moves two and changes no text.
    assert main(["quiz", "import", str(exported)]) == 0
    assert "Quizzes: 0 new, 2 updated, 1 unchanged." in capsys.readouterr().out
    assert main(["quiz", "export", "--programme", "DIGITRADE-2027", "-o", str(exported)]) == 0
    capsys.readouterr()
    assert main(["quiz", "import", str(exported)]) == 0
    assert "0 new, 0 updated, 3 unchanged." in capsys.readouterr().out

    book = load_workbook(WORKBOOK)
    book["questions"]["I2"] = 7  # correct, on digital-economy's first question's English row
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    assert main(["quiz", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "The file was not imported; nothing changed." in err
    assert "Sheet “questions”, row 3, column “correct”: “3” here but “7” on row 2." in err
    assert main(["quiz", "export", "--programme", "NOPE", "-o", str(exported)]) == 1
    assert "No programme has the code NOPE." in capsys.readouterr().err
    assert main(["quiz", "export", "--programme", "DIGITRADE-2027", "-o", "x.csv"]) == 2
    capsys.readouterr()
    nowhere = tmp_path / "no-such-folder" / "quizzes.xlsx"
    assert main(["quiz", "export", "--programme", "DIGITRADE-2027", "-o", str(nowhere)]) == 1
    assert f"Cannot write the file {nowhere}." in capsys.readouterr().err
