"""Quiz files as XLSX workbooks: reading one into the quizzes a YAML file gives, and writing
quizzes the same way (``examples/quiz.xlsx`` is ``examples/quiz.yaml`` written so).

A workbook has two sheets (names in any case; title rows may come above each header):

* ``quizzes``, one row per quiz, columns ``key``, one ``title LL`` column per language
  (``title en``, ``title zh``...), ``after_session`` (a session's key or title) or ``at_end``
  (``true``), ``delay_minutes`` (empty: 0), ``open_hours`` (empty: 48) and ``programme``
  (optional, the programme's code; the same on every row that gives it);
* ``questions``, one row per question and language, columns ``quiz`` (the quiz's key),
  ``question`` (its number: the questions go in this order), ``language``, ``text``,
  ``option 1`` to ``option 12`` (the same count in every language), ``correct`` (the number of
  the right option, counted from 1), ``explanation`` (optional) and ``points`` (empty: 1).
  ``correct`` and ``points`` may be left empty on a question's later rows.

The quizzes read are checked by :func:`bot.services.quizzes.files.check_quizzes`, as YAML's
are; each problem names the sheet, the row and the column, then the quiz and the question.
Cells are written so that a spreadsheet never runs them as formulas (see
:func:`bot.services.feedback.sheets.guard`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bot.i18n import gettext as _
from bot.services.feedback.forms import language_code
from bot.services.feedback.sheets import (
    HEADER_SEARCH_ROWS,
    Rows,
    column_name,
    guard,
    read_sheets,
    sheet_names,
)
from bot.services.quizzes.files import LANGUAGES, OPTIONS_MAX, QuizFile, QuizSpec, check_quizzes

__all__ = ["QUESTIONS_SHEET", "QUIZZES_SHEET", "read_quizzes", "sheet_names", "workbook_bytes"]

QUIZZES_SHEET: Final = "quizzes"
QUESTIONS_SHEET: Final = "questions"
QUIZ_COLUMNS: Final = ("key", "after_session", "at_end", "delay_minutes", "open_hours")
OPTION_COLUMNS: Final = tuple(f"option_{n}" for n in range(1, OPTIONS_MAX + 1))
QUESTION_COLUMNS: Final = (
    "quiz",
    "question",
    "language",
    "text",
    *OPTION_COLUMNS,
    "correct",
    "explanation",
    "points",
)
#: Options written even when every question has fewer (room to add one in Excel).
OPTIONS_WRITTEN_MIN: Final = 4
_REQUIRED_QUIZZES: Final = ("key",)
_REQUIRED_QUESTIONS: Final = ("quiz", "question", "language", "text")
_ALIASES: Final[dict[str, str]] = {
    "lang": "language",
    "number": "question",
    "no": "question",
    "quiz_key": "quiz",
    "after": "after_session",
    "session": "after_session",
}
_TITLE = re.compile(r"titles?[_:\-(]*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\)?\Z", re.IGNORECASE)
_OPTION = re.compile(r"option_?(\d+)\Z")
_WHOLE = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?\d*\.\d+\Z")
_YES: Final = frozenset(["true", "yes", "y", "x", "1", "✓"])
_NO: Final = frozenset(["false", "no", "n", "0"])
#: Fields of a question kept once (any of its rows may give them, all that do agree).
_ONCE: Final = ("correct", "points")


@dataclass(slots=True)
class _Cells:
    """Where each field of one quiz (or question) was written: field name → (sheet, row,
    column as headed)."""

    sheet: str
    row: int
    cells: dict[str, tuple[int, str]] = field(default_factory=dict)

    def place(self, name: str) -> str:
        row, column = self.cells.get(name, (self.row, name))
        return _("Sheet “{sheet}”, row {row}, column “{column}”").format(
            sheet=self.sheet, row=row, column=column
        )


@dataclass(slots=True)
class _Question:
    number: int
    quiz: str
    cells: _Cells
    raw: dict[str, Any] = field(default_factory=dict)
    languages: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Quiz:
    cells: _Cells
    raw: dict[str, Any]
    questions: dict[int, _Question] = field(default_factory=dict)


def _column(header: str) -> str:
    name = column_name(header)
    return _ALIASES.get(name, name)


def _value(text: str) -> Any:
    """A number cell as a number (so that the checks see what YAML would give), else the text."""
    if _WHOLE.match(text):
        return int(text)
    return float(text) if _DECIMAL.match(text) else text


def _problem(errors: list[str], sheet: str, row: int, message: str) -> None:
    place = _("Sheet “{sheet}”, row {row}").format(sheet=sheet, row=row)
    errors.append(f"{place}: {message}")


def _header(rows: Rows, sheet: str, required: Sequence[str], errors: list[str]) -> int | None:
    """The header's position in ``rows``."""
    for position, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = [_column(cell) for cell in cells]
        if all(column in names for column in required):
            return position
    errors.append(
        _(
            "Sheet “{sheet}”: the header row was not found; one of the first {count} rows "
            "should name the columns {columns}."
        ).format(sheet=sheet, count=HEADER_SEARCH_ROWS, columns=", ".join(required))
    )
    return None


def _columns(
    rows: Rows, position: int, sheet: str, known: Sequence[str], errors: list[str]
) -> tuple[dict[str, int], dict[int, str], dict[int, str]]:
    """The header's known columns (name → index), title columns (index → language) and every
    column's text as headed (index → text)."""
    number, cells = rows[position]
    columns: dict[str, int] = {}
    titles: dict[int, str] = {}
    headed = {index: cell.strip() for index, cell in enumerate(cells)}
    for index, cell in enumerate(cells):
        name = _column(cell)
        title = _TITLE.match(name) if sheet == QUIZZES_SHEET else None
        if title is not None:
            written = title.group(1)
            titles[index] = language_code(written) or written.casefold()
        elif name in known and name not in columns:
            columns[name] = index
        elif name:
            message = _("unknown column “{name}”.").format(name=cell.strip())
            _problem(errors, sheet, number, message)
    return columns, titles, headed


def read_quizzes(data: bytes) -> QuizFile:
    """The workbook's quizzes, checked as a YAML file's are; any problem refuses it whole."""
    result = QuizFile()
    try:
        sheets = read_sheets(data)
    except Exception as error:
        # openpyxl raises many kinds of errors for damaged or foreign zip files.
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        result.errors.append(_("The Excel file could not be read: {reason}").format(reason=reason))
        return result
    if QUIZZES_SHEET not in sheets or QUESTIONS_SHEET not in sheets:
        result.errors.append(
            _(
                "The workbook should have a sheet “{quizzes}” (one row per quiz) and a sheet "
                "“{questions}” (one row per question and language)."
            ).format(quizzes=QUIZZES_SHEET, questions=QUESTIONS_SHEET)
        )
        return result
    quizzes = _read_quiz_rows(sheets[QUIZZES_SHEET], result)
    if quizzes is None:
        return result
    _read_question_rows(sheets[QUESTIONS_SHEET], quizzes, result.errors)
    ordered = list(quizzes.values())
    raws: list[dict[str, Any]] = []
    for quiz in ordered:
        numbers = sorted(quiz.questions)
        quiz.raw["questions"] = [quiz.questions[n].raw for n in numbers] or None
        raws.append(quiz.raw)

    def locate(n: int, question: int | None, name: str) -> str | None:
        quiz = ordered[n - 1]
        what = _("quiz {quiz}").format(quiz=quiz.raw["key"] or f"#{n}")
        if question is None:
            if name == "questions":
                return _place_no_questions(quiz, result.errors) if not quiz.questions else None
            return f"{quiz.cells.place(name)} ({what})"
        found = quiz.questions[sorted(quiz.questions)[question - 1]]
        what += ", " + _("question {n}").format(n=found.number)
        return f"{found.cells.place(name)} ({what})"

    check_quizzes(result, raws, locate)
    if result.errors:
        result.quizzes = []
    return result


def _place_no_questions(quiz: _Quiz, errors: list[str]) -> str:
    """Reports a quiz without questions on the ``questions`` sheet; "" (already reported)."""
    _problem(
        errors,
        quiz.cells.sheet,
        quiz.cells.row,
        _("quiz {quiz} has no rows on the sheet “{sheet}”.").format(
            quiz=quiz.raw.get("key") or "?", sheet=QUESTIONS_SHEET
        ),
    )
    return ""


def _read_quiz_rows(rows: Rows, result: QuizFile) -> dict[str, _Quiz] | None:
    errors = result.errors
    position = _header(rows, QUIZZES_SHEET, _REQUIRED_QUIZZES, errors)
    if position is None:
        return None
    known = (*QUIZ_COLUMNS, "programme")
    columns, titles, headed = _columns(rows, position, QUIZZES_SHEET, known, errors)
    first_title = headed[min(titles)] if titles else "title en"
    quizzes: dict[str, _Quiz] = {}
    programme: tuple[str, int] | None = None
    for number, cells in rows[position + 1 :]:
        if not any(cell.strip() for cell in cells):
            continue

        def cell(index: int, cells: list[str] = cells) -> str:
            return cells[index].strip() if index < len(cells) else ""

        found = _Cells(QUIZZES_SHEET, number, {"titles": (number, first_title)})
        raw: dict[str, Any] = {"key": cell(columns["key"])}
        for name, index in columns.items():
            found.cells[name] = (number, headed[index])
        raw["titles"] = {}
        for index, code in titles.items():
            found.cells[f"titles.{code}"] = (number, headed[index])
            if cell(index):
                raw["titles"][code] = cell(index)
        for name in ("delay_minutes", "open_hours"):
            if name in columns and cell(columns[name]):
                raw[name] = _value(cell(columns[name]))
        if "after_session" in columns and cell(columns["after_session"]):
            raw["after_session"] = cell(columns["after_session"])
        if "at_end" in columns:
            at_end = cell(columns["at_end"]).casefold()
            if at_end in _YES:
                raw["at_end"] = True
            elif at_end and at_end not in _NO:
                place = found.place("at_end")
                errors.append(f"{place}: " + _("expected true or false (or empty)."))
        code = cell(columns["programme"]) if "programme" in columns else ""
        if code and programme is None:
            programme = (code, number)
        elif code and programme is not None and code.casefold() != programme[0].casefold():
            errors.append(
                f"{found.place('programme')}: "
                + _("“{value}” here but “{other}” on row {row}.").format(
                    value=code, other=programme[0], row=programme[1]
                )
            )
        key = raw["key"].casefold() or f"\0{number}"
        # A second quiz with the same key is checked (and refused) as such.
        quizzes[key if key not in quizzes else f"\0{number}"] = _Quiz(found, raw)
    result.programme = programme[0] if programme else None
    return quizzes


def _read_question_rows(rows: Rows, quizzes: dict[str, _Quiz], errors: list[str]) -> None:
    position = _header(rows, QUESTIONS_SHEET, _REQUIRED_QUESTIONS, errors)
    if position is None:
        return
    columns, _titles, headed = _columns(rows, position, QUESTIONS_SHEET, QUESTION_COLUMNS, errors)
    options = sorted(
        int(match.group(1)) for name in columns if (match := _OPTION.match(name)) is not None
    )

    def heading(name: str) -> str:
        if name in columns:
            return headed[columns[name]]
        return name.replace("_", " ") if _OPTION.match(name) else name

    for number, cells in rows[position + 1 :]:
        if not any(cell.strip() for cell in cells):
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        row = _Row(number, cell, heading)
        question = _question_of(row, quizzes, errors)
        if question is None:
            continue
        language = cell("language")
        code = language_code(language) or language.casefold()
        if not language:
            errors.append(f"{row.place('language')}: " + _("the language is missing."))
            continue
        if code in question.languages:
            errors.append(
                f"{row.place('language')}: "
                + _("question {n} of quiz {quiz} has a second row in {language}.").format(
                    n=question.number, quiz=question.quiz, language=code
                )
            )
            continue
        question.languages.add(code)
        _one_language(question, code, row, options, errors)


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of the ``questions`` sheet: its number, its cells by column name, the columns
    as headed."""

    number: int
    cell: Callable[[str], str]
    heading: Callable[[str], str]

    def at(self, name: str) -> tuple[int, str]:
        return self.number, self.heading(name)

    def place(self, name: str) -> str:
        return _("Sheet “{sheet}”, row {row}, column “{column}”").format(
            sheet=QUESTIONS_SHEET, row=self.number, column=self.heading(name)
        )


def _question_of(row: _Row, quizzes: dict[str, _Quiz], errors: list[str]) -> _Question | None:
    """The question this row is a language of (made on its first row); None when the row does
    not say which (reported)."""
    key = row.cell("quiz")
    quiz = quizzes.get(key.casefold()) if key else None
    if quiz is None:
        message = (
            _("there is no quiz “{key}” on the sheet “{sheet}”.").format(
                key=key, sheet=QUIZZES_SHEET
            )
            if key
            else _("the quiz's key is missing.")
        )
        errors.append(f"{row.place('quiz')}: {message}")
        return None
    written = _value(row.cell("question"))
    if not isinstance(written, int) or written < 1:
        message = _("expected the question's number (1, 2, 3...).")
        errors.append(f"{row.place('question')}: {message}")
        return None
    question = quiz.questions.get(written)
    if question is None:
        question = quiz.questions[written] = _Question(
            written, str(quiz.raw["key"]), _Cells(QUESTIONS_SHEET, row.number)
        )
        for name in ("text", "correct", "points"):
            question.cells.cells[name] = row.at(name)
        question.cells.cells["options"] = row.at("option_1")
    return question


def _one_language(
    question: _Question, code: str, row: _Row, options: list[int], errors: list[str]
) -> None:
    """One row of the ``questions`` sheet into the question as YAML would write it."""
    raw, cells = question.raw, question.cells.cells
    for name in ("text", "explanation"):
        cells[f"{name}.{code}"] = row.at(name)
        if row.cell(name):
            raw.setdefault(name, {})[code] = row.cell(name)
    written = [row.cell(f"option_{n}") for n in options]
    while written and not written[-1]:
        written.pop()
    cells[f"options.{code}"] = row.at("option_1")
    for n in options:
        cells[f"options.{code}[{n}]"] = row.at(f"option_{n}")
    if written:
        raw.setdefault("options", {})[code] = written
    for name in _ONCE:
        value = row.cell(name)
        if not value:
            continue
        if name not in raw:
            cells[name] = row.at(name)
            raw[name] = _value(value)
        elif _value(value) != raw[name]:
            errors.append(
                f"{row.place(name)}: "
                + _("“{value}” here but “{other}” on row {row}.").format(
                    value=value, other=raw[name], row=cells[name][0]
                )
            )


# --- writing -------------------------------------------------------------------------------


def workbook_bytes(quizzes: Sequence[QuizSpec], programme: str | None = None) -> bytes:
    """The quizzes as a workbook in the layout :func:`read_quizzes` reads."""
    # Imported here: only an XLSX export needs openpyxl, not every process of the bot.
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(QUIZZES_SHEET)
    sheet.append(["key", *(f"title {code}" for code in LANGUAGES), *QUIZ_COLUMNS[1:], "programme"])
    for quiz in quizzes:
        sheet.append(
            [
                guard(quiz.key),
                *(guard(quiz.titles.get(code, "")) for code in LANGUAGES),
                guard(quiz.session_ref or "") if quiz.attach == "session" else None,
                True if quiz.attach == "end" else None,
                quiz.delay_minutes,
                quiz.open_hours,
                guard(programme or ""),
            ]
        )
    count = max(
        [OPTIONS_WRITTEN_MIN]
        + [
            len(text.get("options") or ())
            for quiz in quizzes
            for question in quiz.questions
            for text in question["texts"].values()
        ]
    )
    sheet = workbook.create_sheet(QUESTIONS_SHEET)
    sheet.append(
        ["quiz", "question", "language", "text"]
        + [f"option {n}" for n in range(1, count + 1)]
        + ["correct", "explanation", "points"]
    )
    for quiz in quizzes:
        for number, question in enumerate(quiz.questions, 1):
            for code in sorted(question["texts"], key=_language_order):
                sheet.append(_question_row(quiz.key, number, code, question, count))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _language_order(code: str) -> int:
    return LANGUAGES.index(code) if code in LANGUAGES else len(LANGUAGES)


def _question_row(
    key: str, number: int, code: str, question: dict[str, Any], count: int
) -> list[Any]:
    text = question["texts"][code]
    options = list(text.get("options") or ())
    points = float(question.get("points", 1))
    return [
        guard(key),
        number,
        code,
        guard(text.get("q") or ""),
        *(guard(option) for option in options),
        *([None] * (count - len(options))),
        int(question["correct"]) + 1,
        guard(text.get("explanation") or ""),
        int(points) if points.is_integer() else points,
    ]
