"""Forms files as XLSX workbooks: reading one into raw forms, and writing forms the same way.

A workbook has two sheets (names in any case; title rows may come above each header):

* ``forms``, one row per form, columns ``id``, ``when`` (``after_kind``, ``after_sessions`` or
  ``end``), ``after`` (the session kinds, or the sessions' keys, separated by ``;`` or one per
  line), ``delay_minutes``, ``open_hours``, ``anonymous``, ``nudges``, ``nudge_every_hours``
  (empty: the default) and one ``title LL`` column per language (``title en``, ``title zh``);
* ``questions``, one row per question and language, columns ``form`` (the form's id), ``id``,
  ``kind``, ``skip``, ``language``, ``question`` and ``options`` (choice and multi, separated
  by ``;`` or one per line). ``kind`` and ``skip`` may be left empty on a question's later rows;
  the questions keep the order of their first rows.

Cells are written so that a spreadsheet never runs them: a text starting with ``=``, ``+``,
``-``, ``@`` (or an apostrophe) gets an apostrophe before it, which reading takes off again.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

from bot.i18n import gettext as _
from bot.services.feedback.forms import (
    LANGUAGES,
    NUMBERS,
    Checker,
    ParsedForm,
    Place,
    Raw,
    RawForm,
    RawQuestion,
    RawText,
    RawWhen,
    language_code,
    unknown_language,
)

FORMS_SHEET: Final = "forms"
QUESTIONS_SHEET: Final = "questions"
#: An XLSX file is a zip archive; refuse one that unpacks to more than this (a "zip bomb").
MAX_UNPACKED_BYTES: Final = 50 * 1024 * 1024
#: Rows searched for a sheet's header (title rows may come first).
HEADER_SEARCH_ROWS: Final = 10
#: What a spreadsheet reads as the start of a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_GUARDED: Final = (*FORMULA_STARTS, "'")
FORM_COLUMNS: Final = ("id", "when", "after", *NUMBERS, "anonymous")
QUESTION_COLUMNS: Final = ("form", "id", "kind", "skip", "language", "question", "options")
_ALIASES: Final[dict[str, str]] = {"lang": "language", "q": "question", "form_id": "form"}
_REQUIRED_FORMS: Final = ("id", "when")
_REQUIRED_QUESTIONS: Final = ("form", "id", "kind", "language", "question")
_TRIGGERS: Final[dict[str, str]] = {
    "after_kind": "after_kind",
    "after_kinds": "after_kind",
    "kind": "after_kind",
    "after_sessions": "after_sessions",
    "after_session": "after_sessions",
    "sessions": "after_sessions",
    "end": "end",
}
_SPACES = re.compile(r"[\s\-]+")
_TITLE = re.compile(r"title[\s_:\-(]*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\)?\Z", re.IGNORECASE)

Rows = list[tuple[int, list[str]]]


def guard(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (:func:`unguard` takes the mark off)."""
    return "'" + text if text.startswith(_GUARDED) else text


def unguard(text: str) -> str:
    """A cell as the file meant it, without the apostrophe :func:`guard` put before it."""
    if text.startswith("'") and text[1:].startswith(_GUARDED):
        return text[1:]
    return text


def cell_text(value: object) -> str:
    """A cell as the organiser sees it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return unguard(str(value))


def split_values(text: str) -> list[str]:
    """Values in one cell: one per line, or (on one line) separated by ``;``."""
    parts = text.splitlines() if "\n" in text else text.split(";")
    return [part.strip() for part in parts if part.strip()]


def join_values(values: Sequence[str]) -> str:
    """Values for one cell, read back the same by :func:`split_values`."""
    return ("\n" if any(";" in value for value in values) else "; ").join(values)


def column_name(header: str) -> str:
    name = _SPACES.sub("_", header.strip().casefold())
    return _ALIASES.get(name, name)


def read_sheets(data: bytes) -> dict[str, Rows]:
    """The workbook's sheets by name (case folded), each as (row number, cell texts)."""
    # Imported here: only a forms upload needs openpyxl, not every process of the bot.
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise ValueError(_("the workbook is too large to read"))
    found: dict[str, Rows] = {}
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; they do not matter here.
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                rows = sheet.iter_rows(values_only=True)
                found.setdefault(
                    sheet.title.strip().casefold(),
                    [
                        (number, [cell_text(value) for value in values])
                        for number, values in enumerate(rows, start=1)
                    ],
                )
        finally:
            workbook.close()
    return found


def sheet_names(data: bytes) -> set[str]:
    """The names (case folded) of a workbook's sheets; empty when it cannot be read."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            try:
                return {name.strip().casefold() for name in workbook.sheetnames}
            finally:
                workbook.close()
    except Exception:  # a damaged workbook is not a forms file we can tell apart
        return set()


def read_workbook(data: bytes, checker: Checker) -> list[RawForm]:
    """The workbook's forms as written; problems go to ``checker``."""
    try:
        sheets = read_sheets(data)
    except Exception as error:
        # openpyxl raises many kinds of errors for damaged or foreign zip files.
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        checker.refuse(_("The Excel file could not be read: {reason}").format(reason=reason))
        return []
    if FORMS_SHEET not in sheets or QUESTIONS_SHEET not in sheets:
        checker.refuse(
            _(
                "The workbook should have a sheet “{forms}” (one row per form) and a sheet "
                "“{questions}” (one row per question and language)."
            ).format(forms=FORMS_SHEET, questions=QUESTIONS_SHEET)
        )
        return []
    forms = _read_forms(sheets[FORMS_SHEET], checker)
    if forms is None:
        return []
    _read_questions(sheets[QUESTIONS_SHEET], forms, checker)
    return list(forms.values())


def _header(
    rows: Rows, sheet: str, required: Sequence[str], checker: Checker
) -> tuple[int, list[str]] | None:
    """The header's position in ``rows`` and its column names."""
    for position, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = [column_name(cell) for cell in cells]
        if all(column in names for column in required):
            return position, names
    checker.refuse(
        _(
            "Sheet “{sheet}”: the header row was not found; one of the first {count} rows "
            "should name the columns {columns}."
        ).format(sheet=sheet, count=HEADER_SEARCH_ROWS, columns=", ".join(required))
    )
    return None


def _read_forms(rows: Rows, checker: Checker) -> dict[str, RawForm] | None:
    found = _header(rows, FORMS_SHEET, _REQUIRED_FORMS, checker)
    if found is None:
        return None
    position, names = found
    header_place = Place(rows[position][0], FORMS_SHEET)
    titles: dict[int, str] = {}
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        title = _TITLE.match(name)
        if title is not None:
            code = language_code(title.group(1))
            if code is None:
                checker.add(unknown_language(title.group(1)), header_place)
            else:
                titles[index] = code
        elif name in FORM_COLUMNS and name not in columns:
            columns[name] = index
        elif name:
            checker.add(
                _("unknown column “{name}”.").format(name=rows[position][1][index].strip()),
                header_place,
            )
    forms: dict[str, RawForm] = {}
    unnamed = 0
    for number, cells in rows[position + 1 :]:
        if not any(cell.strip() for cell in cells):
            continue
        place = Place(number, FORMS_SHEET)

        def cell(index: int, cells: list[str] = cells) -> str:
            return cells[index].strip() if index < len(cells) else ""

        form = RawForm(place)
        for name, index in columns.items():
            if name in ("when", "after") or not cell(index):
                continue
            form.fields[name] = Raw(cell(index), place)
        for index, code in titles.items():
            if cell(index):
                form.titles.append((Raw(code, place), Raw(cell(index), place)))
        written = cell(columns["when"])
        values = split_values(cell(columns["after"])) if "after" in columns else []
        if written:
            trigger = _TRIGGERS.get(column_name(written), written)
            form.when = RawWhen(trigger, [Raw(value, place) for value in values], place)
        key = form.fields["id"].text if "id" in form.fields else f"\0{unnamed}"
        unnamed += 1
        # A second form with the same id is checked (and refused) as such.
        forms[key if key not in forms else f"\0{unnamed}"] = form
    return forms


def _read_questions(rows: Rows, forms: dict[str, RawForm], checker: Checker) -> None:
    found = _header(rows, QUESTIONS_SHEET, _REQUIRED_QUESTIONS, checker)
    if found is None:
        return
    position, names = found
    header_place = Place(rows[position][0], QUESTIONS_SHEET)
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in QUESTION_COLUMNS and name not in columns:
            columns[name] = index
        elif name:
            checker.add(
                _("unknown column “{name}”.").format(name=rows[position][1][index].strip()),
                header_place,
            )
    questions: dict[tuple[str, str], RawQuestion] = {}
    first: dict[tuple[str, str], dict[str, Raw]] = {}
    for number, cells in rows[position + 1 :]:
        if not any(cell.strip() for cell in cells):
            continue
        place = Place(number, QUESTIONS_SHEET)

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        form_key, key = cell("form"), cell("id")
        if not form_key:
            checker.add(_("the form's id is missing."), place)
            continue
        form = forms.get(form_key)
        if form is None:
            checker.add(
                _("there is no form “{id}” on the sheet “{sheet}”.").format(
                    id=form_key, sheet=FORMS_SHEET
                ),
                place,
            )
            continue
        if not key:
            checker.add(_("the id is missing."), place, form_key)
            form.broken = True
            continue
        question = questions.get((form_key, key))
        if question is None:
            question = questions[form_key, key] = RawQuestion(place, {"id": Raw(key, place)})
            first[form_key, key] = {}
            form.questions.append(question)
        for name in ("kind", "skip"):
            value = cell(name)
            if not value:
                continue
            earlier = first[form_key, key].get(name)
            if earlier is None:
                first[form_key, key][name] = question.fields[name] = Raw(value, place)
            elif earlier.text.casefold() != value.casefold():
                checker.add(
                    _("“{name}” is “{value}” here but “{other}” on {where}.").format(
                        name=name, value=value, other=earlier.text, where=earlier.place.short()
                    ),
                    place,
                    form_key,
                    key,
                )
                question.broken = True
        language = cell("language")
        if not language:
            checker.add(_("the language is missing."), place, form_key, key)
            question.broken = True
            continue
        options = split_values(cell("options"))
        question.texts.append(
            RawText(
                Raw(language, place),
                Raw(cell("question"), place),
                [Raw(option, place) for option in options] if options else None,
            )
        )


# --- writing -------------------------------------------------------------------------------


def workbook_bytes(forms: Sequence[ParsedForm]) -> bytes:
    """The forms as a workbook in the layout :func:`read_workbook` reads."""
    # Imported here: only an XLSX export needs openpyxl, not every process of the bot.
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(FORMS_SHEET)
    sheet.append([*FORM_COLUMNS, *(f"title {code}" for code in LANGUAGES)])
    for form in forms:
        sheet.append(
            [
                guard(form.key),
                form.trigger.value,
                guard(join_values(form.trigger_values)),
                *(getattr(form, name) for name in NUMBERS),
                form.anonymous,
                *(guard(form.titles.get(code, "")) for code in LANGUAGES),
            ]
        )
    sheet = workbook.create_sheet(QUESTIONS_SHEET)
    sheet.append(list(QUESTION_COLUMNS))
    for form in forms:
        for question in form.questions:
            for code, text in question.texts.items():
                sheet.append(
                    [
                        guard(form.key),
                        guard(question.key),
                        question.kind.value,
                        question.skip,
                        code,
                        guard(text.question),
                        guard(join_values(text.options)),
                    ]
                )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
