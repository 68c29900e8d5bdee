"""``trainee-bot feedback import`` and ``feedback export`` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.feedback.support import EXAMPLES, FEEDBACK_YAML, PROGRAMME, sample_text
from tests.support.settings import cli_environment


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings from the environment only (no developer's .env), the sample programme loaded."""
    cli_environment(monkeypatch, database_url, tmp_path)
    assert main(["programme", "import", str(EXAMPLES / "programme.yaml")]) == 0
    return tmp_path


def test_import_then_export_and_import_again(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = ["feedback", "import", str(FEEDBACK_YAML), "--programme", PROGRAMME]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "New: 2" in out
    assert "nothing was changed" in out

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Feedback forms of DIGITRADE-2027 imported." in out
    assert "New: 2" in out
    assert "end-of-programme (new, anonymous)" in out

    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unchanged"] == ["after-lecture", "end-of-programme"]
    assert report["forms"]["after-lecture"]["languages"] == ["en", "zh", "ru", "fr", "es", "ar"]

    for name in ("forms.yaml", "forms.xlsx"):
        target = cli / name
        assert main(["feedback", "export", "--programme", PROGRAMME, "-o", str(target)]) == 0
        assert f"Wrote {target}." in capsys.readouterr().out
        code = main(["feedback", "import", str(target), "--programme", PROGRAMME, "--json"])
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        assert report["imported"] is True
        assert report["unchanged"] == ["after-lecture", "end-of-programme"]
        assert report["created"] == report["updated"] == []


def test_a_bad_file_prints_its_problems_and_changes_nothing(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["feedback", "import", str(FEEDBACK_YAML), "--programme", PROGRAMME]
    assert main(args) == 0
    bad = cli / "bad.yaml"
    text = sample_text().replace("        kind: nps", "        kind: stars", 1)
    bad.write_text(text.replace("    nudges: 3", "    nudges: 4"), encoding="utf-8")
    capsys.readouterr()

    assert main(["feedback", "import", str(bad), "--programme", PROGRAMME]) == 1
    err = capsys.readouterr().err
    assert "nothing changed" in err
    assert "question “recommend”: unknown question kind “stars”" in err
    assert "“nudges” should be a whole number from 0 to 3; found “4”" in err
    assert "Traceback" not in err

    assert main(["feedback", "import", str(bad), "--programme", PROGRAMME, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] is False
    assert len(report["problems"]) == 2

    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == [
        "after-lecture",
        "end-of-programme",
    ]


def test_unknown_programme_missing_file_and_bad_suffix(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["feedback", "import", str(FEEDBACK_YAML), "--programme", "NOPE"]) == 1
    assert "There is no programme NOPE." in capsys.readouterr().err
    assert main(["feedback", "export", "--programme", "NOPE", "-o", str(cli / "x.yaml")]) == 1
    assert "There is no programme NOPE." in capsys.readouterr().err
    missing = cli / "missing.yaml"
    assert main(["feedback", "import", str(missing), "--programme", PROGRAMME]) == 1
    assert "Cannot read the file" in capsys.readouterr().err
    assert main(["feedback", "export", "--programme", PROGRAMME, "-o", str(cli / "f.csv")]) == 2
    assert ".yaml, .yml or .xlsx" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["feedback", "import", str(FEEDBACK_YAML)])
    assert exited.value.code == 2
