"""The roster's diff and one trainee at a time on the command line, on a real database:
``roster import --dry-run / --withdraw-missing / --no-tell`` and ``trainee show | move |
withdraw | replace | audit``; the roster export carries the audit log."""

from __future__ import annotations

import argparse
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli import registration as registration_cli
from bot.cli import trainee as trainee_cli
from bot.clock import ManualClock
from bot.config import Settings
from bot.db.models import Cohort, Enrolment, OutboxMessage, RosterEntry, User
from bot.services import registration
from bot.services.roster import importing as roster_import
from tests.registration.conftest import EXAMPLES
from tests.support.settings import make_settings

ROSTER_CSV = (EXAMPLES / "roster.csv").read_bytes()
AMINA = "amina.nakato@mtic.go.ug"
BILAL = "bilal.qureshi@tdap.gov.pk"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trainee-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    registration_cli.add_commands(sub)
    trainee_cli.add_commands(sub)
    return parser


async def _cli(settings: Settings, clock: ManualClock, *argv: str) -> int | None:
    args = _parser().parse_args(list(argv))
    for module in (registration_cli, trainee_cli):
        result: int | None = await module.run_command(args, settings, clock)
        if result is not None:
            return result
    return None


def _without(*emails: str) -> bytes:
    lines = ROSTER_CSV.decode("utf-8-sig").splitlines()
    return ("\n".join(line for line in lines if not any(e in line for e in emails)) + "\n").encode()


async def _entry(session_factory: async_sessionmaker[AsyncSession], email: str) -> RosterEntry:
    async with session_factory() as session:
        return (await session.exec(select(RosterEntry).where(RosterEntry.email == email))).one()


async def _status(session_factory: async_sessionmaker[AsyncSession], user_id: int) -> str:
    async with session_factory() as session:
        statement = select(Enrolment).where(Enrolment.user_id == user_id)
        enrolment = (await session.exec(statement)).one()
        return enrolment.status


@pytest.mark.usefixtures("programme_setup")
async def test_roster_reimport_and_one_trainee_on_the_command_line(
    database_url, session_factory, tmp_path, clock, capsys
) -> None:
    settings = make_settings(database_url=database_url, bot_username="trainee_assistant_bot")
    full = tmp_path / "roster.csv"
    full.write_bytes(ROSTER_CSV)
    assert await _cli(settings, clock, "roster", "import", str(full), "--cohort", "A-ROSTER") == 0
    assert "created 40" in capsys.readouterr().out
    amina = await _entry(session_factory, AMINA)
    async with session_factory() as session:
        session.add(User(id=7001, first_name="Amina", locale="en"))
        await session.commit()
        bound = await registration.bind_personal_code(
            session, amina.personal_code, 7001, settings, clock
        )
        assert bound.outcome == registration.BindOutcome.BOUND

    smaller = tmp_path / "smaller.csv"
    smaller.write_bytes(_without(AMINA, BILAL))
    base = ["roster", "import", str(smaller), "--cohort", "A-ROSTER"]
    assert await _cli(settings, clock, *base, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "No longer in the file: 2" in out
    assert "• Amina Nakato" in out
    assert "• Muhammad Bilal Qureshi" in out
    assert "dry run: nothing was changed" in out
    assert await _status(session_factory, 7001) == "active"

    assert await _cli(settings, clock, *base, "--no-tell") == 2
    assert "--no-tell goes with --withdraw-missing" in capsys.readouterr().err

    # Without --withdraw-missing they are listed and stay.
    assert await _cli(settings, clock, *base) == 0
    out = capsys.readouterr().out
    assert "They stay on the list." in out
    assert "add --withdraw-missing" in out
    assert await _status(session_factory, 7001) == "active"

    for _attempt in range(2):  # a second run finds nobody gone and tells nobody again
        assert await _cli(settings, clock, *base, "--withdraw-missing") == 0
    out = capsys.readouterr().out
    assert "2 people withdrawn, 1 told." in out
    assert "withdrawn 0, told 0" in out
    assert await _status(session_factory, 7001) == "withdrawn"
    async with session_factory() as session:
        told = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith("roster-off:"))
            )
        ).all()
    assert [row.user_id for row in told] == [7001]

    # One person at a time.
    assert await _cli(settings, clock, "trainee", "show", "qu") == 1
    err = capsys.readouterr().err
    assert "3 people match 'qu'" in err
    assert "Muhammad Bilal Qureshi  A-ROSTER" in err
    assert "(withdrawn)" in err
    assert await _cli(settings, clock, "trainee", "show", "Aigerim") == 0
    out = capsys.readouterr().out
    assert "cohort:        A-ROSTER" in out
    assert "status:        invited, not joined yet" in out
    assert "other cohorts: A-APPROVAL, A-OPEN" in out

    assert await _cli(settings, clock, "trainee", "move", "Aigerim", "--to", "B-ONE") == 1
    assert "belongs to another programme" in capsys.readouterr().err
    assert await _cli(settings, clock, "trainee", "move", "Aigerim", "--to", "A-OPEN") == 0
    assert "moved: Aigerim Zhaksylykova from A-ROSTER to A-OPEN" in capsys.readouterr().out
    aigerim = await _entry(session_factory, "a.zhaksylykova@qaztrade.kz")
    async with session_factory() as session:
        a_open = (await session.exec(select(Cohort).where(Cohort.code == "A-OPEN"))).one()
    assert aigerim.cohort_id == a_open.id

    dilshod = await _entry(session_factory, "d.rakhimov@miit.uz")
    replace = ["trainee", "replace", "--id", str(dilshod.id)]
    assert await _cli(settings, clock, *replace, "--by", "Ana Silva, no address, Brazil") == 2
    assert "--by:" in capsys.readouterr().err
    line = "Ana Silva, ana.silva@economia.gov.br, Brazil, Ministry of Economy"
    assert await _cli(settings, clock, *replace, "--by", line) == 0
    out = capsys.readouterr().out
    assert "replaced: Dilshod Rakhimov by Ana Silva in A-ROSTER" in out
    assert "personal link of Ana Silva: https://t.me/trainee_assistant_bot?start=" in out
    old = await _entry(session_factory, "d.rakhimov@miit.uz")
    assert old.withdrawn_at is not None
    ana = await _entry(session_factory, "ana.silva@economia.gov.br")
    assert ana.withdrawn_at is None
    assert ana.cohort_id == dilshod.cohort_id
    assert await _cli(settings, clock, *replace, "--by", line) == 1
    assert "no longer on the list" in capsys.readouterr().err

    assert await _cli(settings, clock, "trainee", "withdraw", "Ana Silva", "--no-tell") == 0
    assert "withdrawn: Ana Silva from A-ROSTER (not told)" in capsys.readouterr().out

    assert await _cli(settings, clock, "trainee", "audit", "--cohort", "A-ROSTER") == 0
    log = capsys.readouterr().out
    assert "Amina Nakato withdrawn: no longer in the roster file (told) — by a roster import" in log
    assert "Muhammad Bilal Qureshi withdrawn: no longer in the roster file (not told)" in log
    assert "Aigerim Zhaksylykova moved from A-ROSTER to A-OPEN — on the command line" in log
    assert "Dilshod Rakhimov replaced by Ana Silva" in log
    assert "Ana Silva withdrawn (not told)" in log

    # The roster export: the withdrawn marked so, their links gone, the log a second sheet.
    async with session_factory() as session:
        cohort = (await session.exec(select(Cohort).where(Cohort.code == "A-ROSTER"))).one()
        book = load_workbook(
            io.BytesIO(await roster_import.roster_export(session, cohort, "b", "xlsx"))
        )
        csv_log = await roster_import.audit_export(session, cohort)
    roster_sheet, audit_sheet = book.worksheets
    rows = list(roster_sheet.iter_rows(values_only=True))
    dilshod_row = next(r for r in rows if r[0] == "Dilshod Rakhimov")
    assert dilshod_row[9] == "withdrawn"
    assert not dilshod_row[-1]
    logged = [r[2] for r in audit_sheet.iter_rows(min_row=2, values_only=True)]
    assert len(logged) == 5
    assert "Dilshod Rakhimov replaced by Ana Silva (not told)" in logged
    assert csv_log is not None
    assert "Dilshod Rakhimov replaced by Ana Silva" in csv_log.decode("utf-8-sig")


def test_a_long_diff_fits_in_one_message_and_counts_the_rest() -> None:
    names = [f"Participant number {i} with a rather long name" for i in range(300)]
    result = roster_import.RosterImport(
        created=300,
        added=names,
        changed=[
            (name, [roster_import.FieldChange("organisation", "Ministry A", "Ministry B")])
            for name in names
        ],
        missing=names,
    )
    text = roster_import.describe_result(result, "A-ROSTER", done=False)
    assert len(text) <= 4096
    assert text.count("more.") == 3
    assert "No longer in the file:" in text
    assert f"• {names[0]}: organisation Ministry A → Ministry B" in text
