"""``trainee-bot certificates issue | verify | revoke`` through the command line's own entry
point: a dry run changes nothing, those who did not attend are refused with the reason,
issuing twice issues nothing new, verify prints what a verifier may see, revoke needs a
reason and shows in verify."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import attendance as attendance_db
from bot.db.engine import create_engine, create_session_factory
from tests.attendance.support import add_session, cohort_with_people
from tests.support.settings import cli_environment
from tests.timetable.support import at

PAST = at("2024-03-08 11:00")


async def _seed(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            setup = await cohort_with_people(session, "CLI-A", range(0, 2), programme_code="CLI")
            session_id = await add_session(session, setup.cohort, PAST, key="past")
            assert setup.cohort.id is not None
            await attendance_db.set_mark(
                session,
                session_id=session_id,
                cohort_id=setup.cohort.id,
                user_id=setup.user_ids[0],
                status="present",
                source="trainer",
                set_by=None,
                now=PAST,
            )
            await session.commit()
            return setup.user_ids
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    cli_environment(monkeypatch, database_url, tmp_path)
    return asyncio.run(_seed(database_url))


def test_issue_verify_revoke(seeded: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certificates", "issue", "--cohort", "NOPE"]) == 1
    assert "There is no cohort NOPE." in capsys.readouterr().err

    assert main(["certificates", "issue", "--cohort", "CLI-A", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would issue 1 certificate for CLI-A." in out
    assert "did not complete the programme" in out

    assert main(["certificates", "issue", "--cohort", "CLI-A"]) == 0
    out = capsys.readouterr().out
    assert "Issued 1 certificate for CLI-A; 1 queued to send." in out
    code = out.split("\n")[1].rsplit(": ", 1)[1].strip()
    assert len(code) == 11
    assert code[5] == "-"

    assert main(["certificates", "issue", "--cohort", "CLI-A"]) == 0
    assert "Issued 0 certificates" in (again := capsys.readouterr().out)
    assert "Already issued" in again

    assert main(["certificates", "verify", code.lower(), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "valid"
    assert set(shown) == {
        "code",
        "result",
        "holder",
        "programme",
        "starts_on",
        "ends_on",
        "hours",
        "status",
        "revoked_at",
    }

    assert main(["certificates", "revoke", code, "--reason", "  "]) == 2
    assert "Say why" in capsys.readouterr().err
    assert main(["certificates", "revoke", code, "--reason", "Issued by mistake"]) == 0
    capsys.readouterr()
    assert main(["certificates", "verify", code]) == 0
    assert "Status: revoked on" in capsys.readouterr().out

    assert main(["certificates", "verify", "12"]) == 1
    assert "not a certificate code" in capsys.readouterr().err
    assert main(["certificates", "verify", "ZZZZZ-ZZZZZ"]) == 1
    assert "There is no certificate with the code ZZZZZ-ZZZZZ" in capsys.readouterr().err


async def _seed_attended(database_url: str, code: str, *, ended: bool) -> None:
    """A cohort whose two trainees attended its one held session; it has ended or it runs on
    (a session still to come)."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            setup = await cohort_with_people(session, code, range(0, 2), programme_code=code)
            held = await add_session(session, setup.cohort, PAST, key="held")
            if ended:
                setup.cohort.ends_on = date(2024, 3, 9)
                session.add(setup.cohort)
            else:
                await add_session(session, setup.cohort, at("2099-03-08 11:00"), key="to-come")
            assert setup.cohort.id is not None
            for user_id in setup.user_ids:
                await attendance_db.set_mark(
                    session,
                    session_id=held,
                    cohort_id=setup.cohort.id,
                    user_id=user_id,
                    status="present",
                    source="trainer",
                    set_by=None,
                    now=PAST,
                )
            await session.commit()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("ended", [False, True])
def test_issuing_before_the_cohort_ends_says_so(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    ended: bool,
) -> None:
    cli_environment(monkeypatch, database_url, tmp_path)
    asyncio.run(_seed_attended(database_url, "CLI-B", ended=ended))
    assert main(["certificates", "issue", "--cohort", "CLI-B", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would issue 2 certificates for CLI-B." in out
    assert ("The cohort has not ended" in out) is not ended
