"""``trainee-bot completion`` and ``completion except`` through the command line's own entry
point: the table as text, JSON and a workbook; an exception added, shown and removed; bad
inputs refused without a change."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.engine import create_engine, create_session_factory
from bot.services.spreadsheets import read_back
from tests.completion.support import ALL_MET, BEHIND, EXCUSED, FORMS_LATE, story
from tests.support.settings import cli_environment

#: Every date two years back: the command line's real clock finds the cohort over.
EARLIER = timedelta(days=730)


async def _seed(database_url: str) -> dict[int, str]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return (await story(session, earlier=EARLIER)).names
    finally:
        await engine.dispose()


@pytest.fixture
def names(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[int, str]:
    cli_environment(monkeypatch, database_url, tmp_path)
    return asyncio.run(_seed(database_url))


def test_the_table_as_json_and_a_workbook(
    names: dict[int, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "completion.xlsx"
    assert main(["completion", "--cohort", "DT27-A", "--json", "-o", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cohort"] == "DT27-A"
    assert data["ended"] is True
    assert data["rule"] == {
        "min_attendance": 0.75,
        "forms": 0.5,
        "min_quiz_score": None,
        "required_sessions": ["Lecture s2"],
    }
    verdicts = {row["user_id"]: (row["completed"], row["exception"]) for row in data["trainees"]}
    assert verdicts == {
        ALL_MET: (True, None),
        BEHIND: (False, None),
        FORMS_LATE: (False, None),
        EXCUSED: (True, "Medical leave; followed the recordings"),
    }
    [amina] = [row for row in data["trainees"] if row["user_id"] == ALL_MET]
    assert [(p["name"], p["actual"], p["met"]) for p in amina["parts"]] == [
        ("attendance", 0.8, True),
        ("forms", 1.0, True),
        ("session:Lecture s2", 1.0, True),
    ]
    [sheet] = read_back(out.read_bytes()).values()
    assert sheet[0] == [
        "Name",
        "Telegram id",
        "Attendance",
        "Feedback forms",
        "Session Lecture s2",
        "Verdict",
        "Exception",
    ]
    rows = {row[1]: row for row in sheet[1:]}
    assert len(rows) == 4
    assert rows[ALL_MET][2:] == [0.8, 1.0, "attended", "completed", None]
    assert rows[BEHIND][4:6] == ["missed", "not completed"]
    assert rows[EXCUSED][5:] == ["completed (exception)", "Medical leave; followed the recordings"]

    assert main(["completion", "--cohort", "DT27-A"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Completion of DT27-A: 2 of 4 completed, 0 at risk.")
    assert "The cohort has ended." in text


def test_exceptions_and_bad_inputs(
    names: dict[int, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["completion", "except", "--cohort", "DT27-A", "--trainee"]
    assert main([*base, names[BEHIND]]) == 1
    assert "A reason is required" in capsys.readouterr().err
    assert main([*base, names[BEHIND], "--reason", "   "]) == 1
    assert "A reason is required" in capsys.readouterr().err
    assert main([*base, "nobody@example.org", "--reason", "x"]) == 1
    assert "No active trainee of this cohort is called nobody@example.org." in (
        capsys.readouterr().err
    )
    assert (
        main(["completion", "except", "--cohort", "NOPE", "--trainee", "A", "--reason", "x"]) == 1
    )
    assert "There is no cohort NOPE." in capsys.readouterr().err
    assert main(["completion", "--cohort", "NOPE"]) == 1
    assert "There is no cohort NOPE." in capsys.readouterr().err
    assert main(["completion"]) == 2
    assert main(["completion", "--cohort", "DT27-A", "-o", str(tmp_path / "x.csv")]) == 2
    capsys.readouterr()

    # By e-mail, as on the roster.
    email = "bilal.qureshi@tdap.gov.pk"
    assert main([*base, email, "--reason", "Assessed separately by the ministry"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{names[BEHIND]} completes DT27-A by exception: Assessed separately by the ministry"
    )
    assert main(["completion", "--cohort", "DT27-A", "--json"]) == 0
    rows = {r["user_id"]: r for r in json.loads(capsys.readouterr().out)["trainees"]}
    assert (rows[BEHIND]["completed"], rows[BEHIND]["exception"]) == (
        True,
        "Assessed separately by the ministry",
    )
    assert main([*base, email, "--remove"]) == 0
    assert "exception in DT27-A was removed" in capsys.readouterr().out
    assert main([*base, email, "--remove"]) == 1
    assert "has no exception to remove" in capsys.readouterr().err
