"""``trainee-bot faq import`` and ``faq export`` through the command line's own entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.faq.import_support import EXAMPLES, FAQ_YAML, PROGRAMME, sample_text
from tests.support.settings import cli_environment


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings from the environment only (no developer's .env), the sample programme loaded."""
    cli_environment(monkeypatch, database_url, tmp_path)
    assert main(["programme", "import", str(EXAMPLES / "programme.yaml")]) == 0
    return tmp_path


def test_import_export_round_trip(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["faq", "import", str(FAQ_YAML), "--programme", PROGRAMME, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "New: 15" in out
    assert "nothing was changed" in out

    assert main(["faq", "import", str(FAQ_YAML), "--programme", PROGRAMME]) == 0
    out = capsys.readouterr().out
    assert "FAQ of DIGITRADE-2027 imported." in out
    assert "New: 15" in out
    assert "recordings: fr, es, ar" in out

    for name in ("faq.yaml", "faq.xlsx"):
        target = cli / name
        assert main(["faq", "export", "--programme", PROGRAMME, "-o", str(target)]) == 0
        assert f"Wrote {target}." in capsys.readouterr().out
        code = main(["faq", "import", str(target), "--programme", PROGRAMME, "--json"])
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        assert report["imported"] is True
        assert len(report["unchanged"]) == 15
        assert report["created"] == report["updated"] == report["removed"] == []
        assert report["missing_languages"]["camera"] == ["zh", "fr", "es", "ar"]


def test_bad_file_unknown_programme_and_bad_suffix(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faq", "import", str(FAQ_YAML), "--programme", PROGRAMME]) == 0
    bad = cli / "bad.yaml"
    bad.write_text(sample_text().replace("- id: camera", "- id: recordings"), encoding="utf-8")
    capsys.readouterr()

    assert main(["faq", "import", str(bad), "--programme", PROGRAMME]) == 1
    err = capsys.readouterr().err
    assert "nothing changed" in err
    assert "entry “recordings”: this id is already used by the entry on line 38" in err

    assert main(["faq", "import", str(bad), "--programme", PROGRAMME, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] is False
    assert len(report["problems"]) == 1

    # What is stored is still the sample, whole.
    assert main(["faq", "import", str(FAQ_YAML), "--programme", PROGRAMME, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["unchanged"]) == 15

    assert main(["faq", "import", str(FAQ_YAML), "--programme", "NOPE"]) == 1
    assert "There is no programme NOPE." in capsys.readouterr().err
    assert main(["faq", "export", "--programme", "NOPE", "-o", str(cli / "x.yaml")]) == 1
    assert "There is no programme NOPE." in capsys.readouterr().err
    assert main(["faq", "import", str(cli / "missing.yaml"), "--programme", PROGRAMME]) == 1
    assert "Cannot read the file" in capsys.readouterr().err

    assert main(["faq", "export", "--programme", PROGRAMME, "-o", str(cli / "faq.csv")]) == 2
    assert ".yaml, .yml or .xlsx" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["faq", "import", str(FAQ_YAML)])
    assert exited.value.code == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_installed_command(cli: Path) -> None:
    """``python -m bot faq import`` in its own process, as organisers run it."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "faq", "import", str(FAQ_YAML), "--programme", PROGRAMME],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "New: 15" in result.stdout
    assert "Traceback" not in result.stderr


def test_ask_prints_the_matchers_verdict_as_json(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faq", "import", str(FAQ_YAML), "--programme", PROGRAMME]) == 0
    capsys.readouterr()
    ask = ["faq", "ask", "--programme", PROGRAMME, "--json"]
    assert main([*ask, "--lang", "ar", "متى أحصل على الشهادة"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert set(verdict) == {"matches", "escalate"}
    assert verdict["matches"][0]["id"] == "certificate"
    assert verdict["escalate"] is False
    scores = [m["score"] for m in verdict["matches"]]
    assert scores == sorted(scores, reverse=True)

    assert main([*ask, "--lang", "en", "who won the football match last night"]) == 0
    assert json.loads(capsys.readouterr().out)["escalate"] is True

    assert main([*ask, "--lang", "zh", "错过的课可以回看录像吗"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"][0]["id"] == "recordings"


def test_ask_and_stats_refuse_an_unknown_programme(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faq", "ask", "--programme", "NOPE", "--lang", "en", "hello"]) == 1
    assert "There is no programme NOPE." in capsys.readouterr().err
    assert main(["faq", "stats", "--programme", "NOPE"]) == 1


def test_stats_of_a_programme_nobody_asked_yet(
    cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faq", "import", str(FAQ_YAML), "--programme", PROGRAMME]) == 0
    capsys.readouterr()
    assert main(["faq", "stats", "--programme", PROGRAMME, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["asked"] == 0
    assert stats["median_minutes_to_staff_answer"] is None
