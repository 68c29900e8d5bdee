"""The roster export shows which registered people the bot cannot write to (they blocked it)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from openpyxl import load_workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db.models import Cohort, RosterEntry
from bot.i18n import gettext, use_locale
from bot.services import people
from bot.services.roster import roster_export
from tests.delivery.conftest import add_cohort, add_programme, add_trainee


async def cohort_with_a_blocked_trainee(session: AsyncSession) -> Cohort:
    programme = await add_programme(session, "P")
    cohort = await add_cohort(session, programme, "P-1")
    await add_trainee(session, cohort, 301)
    await add_trainee(session, cohort, 302, reachable=False)
    assert cohort.id is not None
    session.add(
        RosterEntry(
            cohort_id=cohort.id,
            full_name="Not Joined",
            email="not.joined@example.org",
            personal_code="notjoined1",
        )
    )
    await session.commit()
    return cohort


def reachable_column(table: list[list[str]]) -> dict[str, str]:
    """Full name -> the "Reachable" cell, read by the header's name."""
    header, *rows = table
    name, reachable = header.index("Full name"), header.index("Reachable")
    return {row[name]: row[reachable] for row in rows}


async def export_csv(session: AsyncSession, cohort: Cohort) -> list[list[str]]:
    data = await roster_export(session, cohort, "trainee_bot", "csv")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_csv_says_who_blocked_the_bot(session: AsyncSession) -> None:
    cohort = await cohort_with_a_blocked_trainee(session)
    with use_locale("en"):
        table = await export_csv(session, cohort)
    assert reachable_column(table) == {
        "Trainee 301": "yes",
        "Trainee 302": "no",
        "Not Joined": "",  # not registered: nothing to say yet
    }


async def test_xlsx_says_who_blocked_the_bot(session: AsyncSession) -> None:
    cohort = await cohort_with_a_blocked_trainee(session)
    with use_locale("en"):
        data = await roster_export(session, cohort, "trainee_bot", "xlsx")
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    table = [["" if cell is None else str(cell) for cell in row] for row in sheet.values]
    assert reachable_column(table) == {"Trainee 301": "yes", "Trainee 302": "no", "Not Joined": ""}


async def test_a_trainee_who_writes_again_is_reachable_in_the_next_export(
    session: AsyncSession, clock: ManualClock
) -> None:
    cohort = await cohort_with_a_blocked_trainee(session)
    await people.remember(session, people.TelegramProfile(302, "T302"), clock)
    with use_locale("en"):
        table = await export_csv(session, cohort)
    assert reachable_column(table)["Trainee 302"] == "yes"


async def test_header_and_cells_in_the_organisers_language(session: AsyncSession) -> None:
    cohort = await cohort_with_a_blocked_trainee(session)
    with use_locale("ru"):
        header, *rows = await export_csv(session, cohort)
        reachable, yes, no = gettext("Reachable"), gettext("yes"), gettext("no")
    assert (yes, no) == ("да", "нет")
    column = header.index(reachable)
    assert sorted(row[column] for row in rows) == sorted(["", yes, no])


def test_reading_the_roster_module_does_not_load_openpyxl() -> None:
    code = "import sys, bot.services.roster; print('openpyxl' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
