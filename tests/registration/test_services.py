"""Programmes as code, roster imports, roles and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.cli.registration import add_commands, run_command
from bot.db.models import (
    Cohort,
    Enrolment,
    OutboxMessage,
    Programme,
    RoleGrant,
    RosterEntry,
    TrainingSession,
    User,
)
from bot.services import privacy, programmes, registration, reminders, roles, timetable
from bot.services.roster import importing as roster_import
from tests.registration.conftest import (
    EXAMPLES,
    PROGRAMME_YAML,
    cohort_id,
    import_yaml,
    row_counts,
)
from tests.support.settings import make_settings

ROSTER_CSV = (EXAMPLES / "roster.csv").read_bytes()
ROSTER_XLSX = (EXAMPLES / "roster.xlsx").read_bytes()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trainee-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub)
    return parser


async def _cli(settings, clock, *argv: str) -> int | None:
    return await run_command(_parser().parse_args(list(argv)), settings, clock)


# --- programmes -----------------------------------------------------------------------------


async def test_programme_import_is_idempotent(session, clock) -> None:
    spec = programmes.parse_programme(PROGRAMME_YAML)
    first = await programmes.import_programme(session, spec, clock.now())
    assert first.programme[1] == programmes.Change.CREATED
    assert first.count(programmes.Change.CREATED) == 4
    second = await programmes.import_programme(session, spec, clock.now())
    assert second.count(programmes.Change.UNCHANGED) == 4
    changed = programmes.parse_programme(PROGRAMME_YAML.replace("capacity: 5", "capacity: 6"))
    third = await programmes.import_programme(session, changed, clock.now())
    assert ("A-APPROVAL", programmes.Change.UPDATED) in third.cohorts
    assert third.count(programmes.Change.UNCHANGED) == 3
    cohort = (await session.exec(select(Cohort).where(Cohort.code == "A-APPROVAL"))).one()
    assert cohort.capacity == 6
    assert cohort.registration_mode == "approval"
    programme = (await session.exec(select(Programme))).one()
    assert programme.titles["ru"].startswith("Семинар")
    assert programme.home_timezone == "Asia/Shanghai"


def test_example_programme_file_is_valid() -> None:
    spec = programmes.parse_programme((EXAMPLES / "programme.yaml").read_text("utf-8"))
    assert [c.code for c in spec.cohorts] == ["DT27-A", "DT27-OBS"]
    assert spec.cohorts[0].reminders == [1440, 15]
    assert spec.cohorts[1].reminders == [60]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("home_timezone: Asia/Shanghai", "home_timezone"),
        ("registration: open, capacity: 1", "cohorts[1].registration"),
        ("capacity: 5", "cohorts[2].capacity"),
        ("default_language: en", "default_language"),
        ("code: PROG-A", "code"),
    ],
)
def test_programme_validation_names_the_field(change: str, field: str) -> None:
    broken = {
        "home_timezone: Asia/Shanghai": "home_timezone: Mars/Olympus",
        "registration: open, capacity: 1": "registration: sometimes, capacity: 1",
        "capacity: 5": "capacity: -5",
        "default_language: en": "default_language: de",
        "code: PROG-A": "code: 'PROG A!'",
    }[change]
    with pytest.raises(programmes.ProgrammeFileError) as caught:
        programmes.parse_programme(PROGRAMME_YAML.replace(change, broken))
    assert any(problem.startswith(field + ":") for problem in caught.value.problems), (
        caught.value.problems
    )


def test_programme_file_that_is_not_yaml() -> None:
    with pytest.raises(programmes.ProgrammeFileError) as caught:
        programmes.parse_programme("code: [unclosed")
    assert "not valid YAML" in caught.value.problems[0]


# --- rosters --------------------------------------------------------------------------------


async def test_roster_csv_and_xlsx_import_then_reimport(session, clock) -> None:
    await import_yaml(session, PROGRAMME_YAML, clock)
    target = await cohort_id(session, "A-ROSTER")
    first = await roster_import.import_roster(
        session, target, ROSTER_CSV, "roster.csv", clock.now()
    )
    assert first.result is not None
    assert (first.result.created, first.result.updated, first.result.unchanged) == (40, 0, 0)
    codes = {e.email: e.personal_code for e in first.result.entries}
    assert all(len(code) >= 16 for code in codes.values())
    assert all(
        set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        for code in codes.values()
    )
    # The spreadsheet holds the same people: nothing changes, codes are kept.
    again = await roster_import.import_roster(
        session, target, ROSTER_XLSX, "roster.xlsx", clock.now()
    )
    assert again.result is not None
    assert again.result.created == 0
    assert again.result.created + again.result.updated + again.result.unchanged == 40
    assert {e.email: e.personal_code for e in again.result.entries} == codes
    # One changed organisation is an update, matched by e-mail.
    edited = ROSTER_CSV.replace(
        b"Ministry of Trade Industry and Cooperatives", b"Uganda Export Promotion Board"
    )
    third = await roster_import.import_roster(session, target, edited, "r.csv", clock.now())
    assert third.result is not None
    assert third.result.updated == 1
    entry = (
        await session.exec(
            select(RosterEntry).where(RosterEntry.email == "amina.nakato@mtic.go.ug")
        )
    ).one()
    assert entry.organisation == "Uganda Export Promotion Board"
    assert entry.personal_code == codes["amina.nakato@mtic.go.ug"]


def _broken_variants() -> dict[str, bytes]:
    text = ROSTER_CSV.decode("utf-8")
    lines = text.splitlines()
    header = lines[0].split(",")
    without_email = "\n".join(
        ",".join(c for i, c in enumerate(line.split(",")) if i != header.index("Email"))
        for line in lines
    )
    return {
        "missing column": without_email.encode(),
        "bad e-mail": text.replace("amina.nakato@mtic.go.ug", "amina.nakato(at)mtic").encode(),
        "duplicate": (text + lines[3] + "\n").encode(),
        "wrong encoding": text.encode("utf-16"),
        "empty file": b"",
        "ten megabytes": text.encode() + b"x" * (10 * 1024 * 1024),
    }


@pytest.mark.parametrize("variant", list(_broken_variants()))
async def test_broken_roster_changes_nothing(session_factory, clock, variant: str) -> None:
    async with session_factory() as session:
        await import_yaml(session, PROGRAMME_YAML, clock)
        target = await cohort_id(session, "A-ROSTER")
        await roster_import.import_roster(session, target, ROSTER_CSV, "r.csv", clock.now())
    before = await row_counts(session_factory)
    async with session_factory() as session:
        outcome = await roster_import.import_roster(
            session, target, _broken_variants()[variant], "roster.csv", clock.now()
        )
    assert outcome.result is None
    assert outcome.errors
    assert await row_counts(session_factory) == before


def test_error_list_fits_one_message() -> None:
    from bot.services.roster import RosterError

    errors = [
        RosterError(n, "email", f"Line {n}: the e-mail address is missing.") for n in range(2, 800)
    ]
    text = roster_import.describe_errors(errors)
    assert len(text) <= 4096
    assert "more problems" in text
    assert "Line 2:" in text


def test_exports_neutralise_formulas() -> None:
    data = roster_import.table_bytes(
        ["Name", "Phone"], [['=HYPERLINK("x")', "+256 772"], ["@SUM(A1)", "-1"]], "csv"
    )
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ['\'=HYPERLINK("x")', "'+256 772"]
    assert rows[2] == ["'@SUM(A1)", "'-1"]
    sheet = load_workbook(io.BytesIO(roster_import.table_bytes(["A"], [["=1+1"]], "xlsx"))).active
    assert sheet is not None
    assert sheet["A2"].value == "'=1+1"


# --- roles ----------------------------------------------------------------------------------


async def test_scope_of_admins_and_grants(session, clock) -> None:
    settings = make_settings(admin_ids=[1])
    await import_yaml(session, PROGRAMME_YAML, clock)
    assert await roles.admin_programme_ids(session, 1, settings) is None
    assert await roles.admin_programme_ids(session, 2, settings) == set()
    done = await roles.change_grant(
        session,
        actor_id=1,
        user_id=2,
        programme_code="PROG-A",
        role_word="admin",
        grant=True,
        settings=settings,
        now=clock.now(),
    )
    assert done.outcome == roles.GrantOutcome.DONE
    programme = (await session.exec(select(Programme))).one()
    assert await roles.admin_programme_ids(session, 2, settings) == {programme.id}
    # A coordinator may not grant; an admin of the programme may.
    refused = await roles.change_grant(
        session,
        actor_id=3,
        user_id=4,
        programme_code="PROG-A",
        role_word="coordinator",
        grant=True,
        settings=settings,
        now=clock.now(),
    )
    assert refused.outcome == roles.GrantOutcome.FORBIDDEN
    by_admin = await roles.change_grant(
        session,
        actor_id=2,
        user_id=4,
        programme_code="PROG-A",
        role_word="coordinator",
        grant=True,
        settings=settings,
        now=clock.now(),
    )
    assert by_admin.outcome == roles.GrantOutcome.DONE
    grants = (await session.exec(select(RoleGrant))).all()
    assert {(g.user_id, g.role) for g in grants} == {(2, "programme_admin"), (4, "coordinator")}


# --- command line ---------------------------------------------------------------------------


async def test_cli_programme_roster_and_grant(database_url, tmp_path, clock, capsys) -> None:
    settings = make_settings(database_url=database_url, bot_username="trainee_assistant_bot")
    path = tmp_path / "programme.yaml"
    path.write_text(PROGRAMME_YAML, encoding="utf-8")
    assert await _cli(settings, clock, "programme", "import", str(path)) == 0
    assert "created: 4" in capsys.readouterr().out
    assert await _cli(settings, clock, "programme", "import", str(path)) == 0
    assert "created: 0, updated: 0, unchanged: 4" in capsys.readouterr().out

    links = tmp_path / "links.xlsx"
    code = await _cli(
        settings,
        clock,
        "roster",
        "import",
        str(EXAMPLES / "roster.csv"),
        "--cohort",
        "A-ROSTER",
        "--links-out",
        str(links),
    )
    assert code == 0
    assert "created 40" in capsys.readouterr().out
    sheet = load_workbook(links).active
    assert sheet is not None
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 41
    assert str(values[1][-1]).startswith("https://t.me/trainee_assistant_bot?start=")

    bad = tmp_path / "bad.csv"
    bad.write_bytes(ROSTER_CSV.replace(b"amina.nakato@mtic.go.ug", b"not-an-address"))
    assert await _cli(settings, clock, "roster", "import", str(bad), "--cohort", "A-ROSTER") == 1
    err = capsys.readouterr().err
    assert "Line 2" in err
    assert "nothing was changed" in err

    assert await _cli(settings, clock, "programme", "list", "--json") == 0
    listing = json.loads(capsys.readouterr().out)
    roster_cohort = next(c for c in listing[0]["cohorts"] if c["code"] == "A-ROSTER")
    assert roster_cohort["invited"] == 40

    assert (
        await _cli(
            settings, clock, "grant", "555", "--programme", "PROG-A", "--role", "coordinator"
        )
        == 0
    )
    assert "555 is coordinator of PROG-A" in capsys.readouterr().out
    assert (
        await _cli(settings, clock, "grant", "555", "--programme", "NOPE", "--role", "admin") == 1
    )
    assert await run_command(argparse.Namespace(command="migrate"), settings, clock) is None


# --- leaving: queued reminders and digests --------------------------------------------------

TIMETABLE_CSV = (EXAMPLES / "timetable.csv").read_bytes()
LEAVER = 7001


async def _queued(session_factory, user_id: int) -> list[OutboxMessage]:
    async with session_factory() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.user_id) == user_id,
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.kind).in_(["reminder", "digest"]),
            )
            .order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


async def _plan(session_factory, clock) -> None:
    async with session_factory() as session:
        await reminders.plan_reminders(session, clock.now())
    async with session_factory() as session:
        await reminders.plan_digests(session, clock.now())


async def _sessions_of(session_factory, code: str) -> set[int]:
    async with session_factory() as session:
        target = await cohort_id(session, code)
        rows = await session.exec(
            select(TrainingSession.id).where(col(TrainingSession.cohort_id) == target)
        )
        return {int(i) for i in rows.all() if i is not None}


def _reminder_session(row: OutboxMessage) -> int:
    return int(row.dedupe_key.split(":")[1])


async def test_leaving_drops_queued_reminders_and_the_planner_does_not_bring_them_back(
    session_factory, clock
) -> None:
    settings = make_settings()
    async with session_factory() as session:
        await import_yaml(session, PROGRAMME_YAML, clock)
        for code in ("A-ROSTER", "A-OPEN"):
            await timetable.apply_import(
                session, data=TIMETABLE_CSV, filename="t.csv", clock=clock, cohort_code=code
            )
        session.add(
            User(id=LEAVER, first_name="Amina", timezone="Africa/Kampala", daily_digest=True)
        )
        for code in ("A-ROSTER", "A-OPEN"):
            session.add(
                Enrolment(user_id=LEAVER, cohort_id=await cohort_id(session, code), role="trainee")
            )
        await session.commit()
    roster_sessions = await _sessions_of(session_factory, "A-ROSTER")
    open_sessions = await _sessions_of(session_factory, "A-OPEN")
    clock.set(datetime(2027, 3, 8, 4, 30, tzinfo=UTC))
    await _plan(session_factory, clock)
    queued = await _queued(session_factory, LEAVER)
    [digest] = [row for row in queued if row.kind == "digest"]
    assert digest.payload["text"].count("Opening Ceremony") == 2  # one line per cohort
    planned = {_reminder_session(row) for row in queued if row.kind == "reminder"}
    assert planned & roster_sessions
    assert planned & open_sessions

    # Leaving one cohort drops its reminders only; the digest is planned again without it.
    async with session_factory() as session:
        enrolment = (
            await session.exec(
                select(Enrolment).where(
                    Enrolment.user_id == LEAVER,
                    Enrolment.cohort_id == await cohort_id(session, "A-ROSTER"),
                )
            )
        ).one()
        assert enrolment.id is not None
        assert await registration.withdraw(session, LEAVER, enrolment.id, settings, clock)
    left = await _queued(session_factory, LEAVER)
    assert [row.kind for row in left] == ["reminder"] * len(left)
    assert {_reminder_session(row) for row in left} == planned & open_sessions
    await _plan(session_factory, clock)
    replanned = await _queued(session_factory, LEAVER)
    assert {_reminder_session(row) for row in replanned if row.kind == "reminder"} == (
        planned & open_sessions
    )
    [digest] = [row for row in replanned if row.kind == "digest"]
    assert digest.payload["text"].count("Opening Ceremony") == 1

    # Erasing one's data drops everything still queued, for good.
    async with session_factory() as session:
        await privacy.forget_me(session, LEAVER, settings, clock, None)
    assert await _queued(session_factory, LEAVER) == []
    await _plan(session_factory, clock)
    assert await _queued(session_factory, LEAVER) == []
