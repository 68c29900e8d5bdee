"""Quiz files as workbooks: the example reads to the same quizzes as the YAML, imports like it on
a real database, writing and reading gives the same quizzes back; a bad workbook is refused whole
with the sheet, the row and the column named; other workbooks are not taken for quizzes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import quizzes as quiz_db
from bot.services.feedback.files import looks_like_forms, parse_forms
from bot.services.feedback.sheets import workbook_bytes as forms_workbook
from bot.services.quizzes.files import parse_quizzes
from bot.services.quizzes.library import export_quizzes, import_quizzes
from bot.services.quizzes.reading import looks_like_quizzes, read_quiz_file
from bot.services.quizzes.sheets import workbook_bytes
from bot.services.timetable import looks_like_timetable
from tests.feedback.support import FEEDBACK_YAML, PROGRAMME, make_programme

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
YAML = EXAMPLES / "quiz.yaml"
XLSX = EXAMPLES / "quiz.xlsx"

Edit = Callable[[Worksheet], None]


def _edited(edit: Edit, sheet: str = "questions") -> bytes:
    """The example workbook with one sheet changed by ``edit``."""
    book = load_workbook(XLSX)
    edit(book[sheet])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _column(sheet: Worksheet, name: str) -> int:
    return [cell.value for cell in sheet[1]].index(name) + 1


def _set(name: str, rows: range | list[int], value: str | int | None) -> Edit:
    def edit(sheet: Worksheet) -> None:
        for row in rows:
            sheet.cell(row, _column(sheet, name)).value = value

    return edit


def test_the_example_workbook_reads_to_the_yaml_quizzes() -> None:
    from_yaml, from_xlsx = parse_quizzes(YAML.read_bytes()), read_quiz_file(XLSX.read_bytes())
    assert from_xlsx.ok, from_xlsx.errors
    assert from_xlsx.quizzes == from_yaml.quizzes
    assert from_xlsx.programme == from_yaml.programme == PROGRAMME
    # Written again, read again: the same quizzes.
    again = read_quiz_file(workbook_bytes(from_xlsx.quizzes, from_xlsx.programme))
    assert again.quizzes == from_yaml.quizzes


async def test_the_workbook_imports_like_the_yaml_and_exports_back(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    first = await import_quizzes(session, XLSX.read_bytes(), None, clock.now())
    assert first.ok, first.errors
    assert first.created == ["digital-economy", "single-window"]
    again = await import_quizzes(session, YAML.read_bytes(), PROGRAMME, clock.now())
    assert again.unchanged == ["digital-economy", "single-window"]
    stored = await quiz_db.quizzes_of_programme(session, programme_id)
    assert stored[0].questions[1]["correct"] == 0
    assert stored[0].questions[1]["points"] == 2
    exported = await export_quizzes(session, PROGRAMME)
    assert exported is not None
    back = await import_quizzes(session, exported, PROGRAMME, clock.now())
    assert back.unchanged == ["digital-economy", "single-window"], back
    assert await export_quizzes(session, "NOPE") is None


# Rows of the example's questions sheet: digital-economy's questions on 2-5 and 6-9, in en,
# zh, ru and ar; single-window's on 10-13 and 14-17.
@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (
            _set("correct", range(2, 6), 9),
            "Sheet “questions”, row 2, column “correct” (quiz digital-economy, question 1): "
            "option 9 does not exist (there are 4; 1 is the first)",
        ),
        (
            _set("correct", range(14, 18), None),
            "Sheet “questions”, row 14, column “correct” (quiz single-window, question 2): "
            "missing: the number of the right option (1 is the first)",
        ),
        (
            _set("option 4", [3], None),
            "Sheet “questions”, row 2, column “option 1” (quiz digital-economy, question 1): "
            "the languages have different numbers of options (en 4, zh 3, ru 4, ar 4)",
        ),
        (
            _set("text", [11], "x" * 301),
            "Sheet “questions”, row 11, column “text” (quiz single-window, question 1): "
            "301 characters, at most 300",
        ),
        (
            _set("option 2", [7], "y" * 101),
            "Sheet “questions”, row 7, column “option 2” (quiz digital-economy, question 2): "
            "an option has 1 to 100 characters",
        ),
        (
            _set("correct", [13], 3),
            "Sheet “questions”, row 13, column “correct”: “3” here but “2” on row 10.",
        ),
        (
            _set("quiz", [17], "nope"),
            "Sheet “questions”, row 17, column “quiz”: there is no quiz “nope” on the sheet "
            "“quizzes”.",
        ),
        (
            _set("language", [5], "xx"),
            "Sheet “questions”, row 5, column “text” (quiz digital-economy, question 1): "
            "unknown language (use en, zh, ru, fr, es or ar)",
        ),
    ],
)
async def test_a_bad_workbook_is_refused_whole_naming_the_cell(
    session: AsyncSession, clock: ManualClock, edit: Edit, error: str
) -> None:
    programme_id = await make_programme(session)
    result = await import_quizzes(session, _edited(edit), PROGRAMME, clock.now())
    assert not result.ok
    assert error in result.errors, result.errors
    assert await quiz_db.quizzes_of_programme(session, programme_id) == []


def test_the_quizzes_sheet_names_its_cells_too() -> None:
    def edit(sheet: Worksheet) -> None:
        sheet.cell(2, _column(sheet, "open_hours")).value = 0
        sheet.cell(3, _column(sheet, "at_end")).value = "maybe"
        sheet.cell(1, 20).value = "colour"

    problems = read_quiz_file(_edited(edit, "quizzes")).errors
    assert (
        "Sheet “quizzes”, row 2, column “open_hours” (quiz digital-economy): "
        "expected whole hours, 1 to 720"
    ) in problems
    assert "Sheet “quizzes”, row 3, column “at_end”: expected true or false (or empty)." in problems
    assert "Sheet “quizzes”, row 1: unknown column “colour”." in problems


def test_a_quiz_without_questions_and_a_missing_sheet_are_explained() -> None:
    def edit(sheet: Worksheet) -> None:
        sheet.delete_rows(10, 8)

    problems = read_quiz_file(_edited(edit)).errors
    assert problems == [
        "Sheet “quizzes”, row 3: quiz single-window has no rows on the sheet “questions”."
    ]
    book = Workbook()
    book.active.title = "quizzes"  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    assert read_quiz_file(buffer.getvalue()).errors == [
        "The workbook should have a sheet “quizzes” (one row per quiz) and a sheet "
        "“questions” (one row per question and language)."
    ]


def test_other_workbooks_are_not_taken_for_quizzes() -> None:
    quiz = XLSX.read_bytes()
    roster = (EXAMPLES / "roster.xlsx").read_bytes()
    forms = forms_workbook(parse_forms(FEEDBACK_YAML.read_bytes()).forms)
    assert looks_like_quizzes(quiz, "quiz.xlsx")
    assert looks_like_quizzes(YAML.read_bytes(), "quiz.yaml")
    assert not looks_like_quizzes(FEEDBACK_YAML.read_bytes(), "feedback.yaml")
    assert not looks_like_quizzes(roster, "roster.xlsx")
    assert not looks_like_quizzes(forms, "forms.xlsx")
    assert looks_like_forms(forms, "forms.xlsx")
    assert not looks_like_forms(quiz, "quiz.xlsx")
    assert not looks_like_timetable(quiz, "quiz.xlsx")
    assert (
        read_quiz_file(b"PK\x03\x04 not really a zip")
        .errors[0]
        .startswith("The Excel file could not be read")
    )
