"""Reading an organiser's FAQ file, YAML or XLSX, all or nothing.

YAML is the shape of ``examples/faq.yaml``: a list of entries, each with an ``id``, a
``category`` and, per language code, a mapping with ``q`` (the question), ``a`` (the answer)
and optionally ``keywords`` (other phrasings: a list, or one text separated by ``;`` or line
breaks). A spreadsheet has one row per entry and language, with the columns id, category,
language, question, answer and (optionally) keywords; the header may be in any case and below
a title row.

:func:`parse_faq` returns either every entry or every problem found, each naming the entry's
id and its line (YAML) or row (XLSX), so that the organiser can fix the file in one go.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Final

import yaml

from bot.i18n import SUPPORTED_LOCALES, normalize_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.spreadsheets import FORMULA_STARTS

#: The languages an entry may be written in.
LANGUAGES: Final = SUPPORTED_LOCALES
#: Telegram's limit for one message, counted after the HTML escaping the bot does.
MESSAGE_LIMIT: Final = 4096
#: Larger files are refused before being read: an FAQ is a few hundred entries at most.
MAX_FILE_BYTES: Final = 5 * 1024 * 1024
#: An XLSX file is a zip archive; refuse one that unpacks to more than this (a "zip bomb").
MAX_XLSX_UNPACKED_BYTES: Final = 100 * 1024 * 1024
MAX_ENTRIES: Final = 2000
#: Ids go into buttons, whose data Telegram limits to 64 bytes.
MAX_KEY: Final = 48
MAX_CATEGORY: Final = 64
#: Rows searched for the spreadsheet's header (title rows may come first).
HEADER_SEARCH_ROWS: Final = 10

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_LOOKS_LIKE_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*\Z")
_KEYWORD_SEPARATORS = re.compile(r"[;\n\r]+")
_XLSX_MAGIC: Final = b"PK\x03\x04"
_NULL_TAG: Final = "tag:yaml.org,2002:null"
_ENTRY_FIELDS: Final = ("id", "category")
_QUESTION_NAMES: Final = ("q", "question")
_ANSWER_NAMES: Final = ("a", "answer")
_KEYWORD_NAMES: Final = ("keywords",)
#: Spreadsheet column -> the header texts that name it (compared case-insensitively).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "id": ("id",),
    "category": ("category",),
    "language": ("language", "lang"),
    "question": ("question", "q"),
    "answer": ("answer", "a"),
    "keywords": ("keywords", "keyword"),
}
_REQUIRED_COLUMNS: Final = ("id", "category", "language", "question", "answer")


@dataclass(frozen=True, slots=True)
class LanguageText:
    """An entry's question, answer and extra phrasings in one language."""

    question: str
    answer: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry of the file; ``texts`` maps a language code to its text, in ``LANGUAGES`` order.

    ``line`` is where the entry starts: its line in a YAML file, its first row in a spreadsheet.
    """

    key: str
    category: str
    texts: dict[str, LanguageText]
    line: int | None = None

    def missing_languages(self) -> list[str]:
        """The languages this entry has no text in, in ``LANGUAGES`` order."""
        return [code for code in LANGUAGES if code not in self.texts]


@dataclass(frozen=True, slots=True)
class FaqProblem:
    """A problem of the file, already translated; names the entry and its line when known."""

    message: str
    entry: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class FaqParseResult:
    """Either the entries of the file or its problems."""

    entries: list[ParsedEntry] = field(default_factory=list)
    problems: list[FaqProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return not self.problems


def _refuse(message: str, line: int | None = None) -> FaqParseResult:
    return FaqParseResult(problems=[FaqProblem(message, None, line)])


def telegram_length(text: str) -> int:
    """How many characters ``text`` takes in a message once escaped for Telegram's HTML."""
    return len(h(text))


def split_keywords(value: str) -> tuple[str, ...]:
    """Extra phrasings written as one text, separated by ``;`` or line breaks."""
    return _dedupe(_KEYWORD_SEPARATORS.split(value))


def _dedupe(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word.strip() for word in words if word.strip()))


def parse_faq(data: bytes, filename: str = "") -> FaqParseResult:
    """Read an FAQ file: XLSX when the bytes are a zip archive, YAML otherwise.

    ``filename`` only helps to explain a refused file. Texts of problems are in the current
    locale.
    """
    if len(data) > MAX_FILE_BYTES:
        return _refuse(
            _("The file is larger than {limit} MB; split it into smaller files.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    if not data.strip():
        return _refuse(_("The file is empty."))
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data)
    if filename.lower().endswith((".xls", ".xlsx")):
        return _refuse(_("The file is not a readable Excel workbook; save it as .xlsx."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _refuse(_("The file is neither UTF-8 YAML nor an Excel workbook (.xlsx)."))
    return _read_yaml(text)


# --- checks shared by both formats ---------------------------------------------------------


class _Checker:
    """Collects the problems of one file and the entries that passed."""

    def __init__(self, unit: str) -> None:
        #: ``line`` for YAML files, ``row`` for spreadsheets.
        self.unit = unit
        self.problems: list[FaqProblem] = []
        self.first_seen: dict[str, int | None] = {}

    def where(self, line: int | None, key: str | None = None, lang: str | None = None) -> str:
        if self.unit == "row":
            place = _("Row {row}").format(row=line)
        else:
            place = _("Line {line}").format(line=line)
        if key:
            place = _("{place}, entry “{id}”").format(place=place, id=key)
        if lang:
            place = f"{place}, {lang}"
        return place

    def add(
        self,
        message: str,
        line: int | None,
        key: str | None = None,
        lang: str | None = None,
    ) -> None:
        text = _("{place}: {problem}").format(place=self.where(line, key, lang), problem=message)
        self.problems.append(FaqProblem(text, key, line))

    def key(self, raw: str, line: int | None) -> str | None:
        """The entry's id when it is well formed and not used before."""
        key = raw.strip()
        if not key:
            self.add(_("the id is missing."), line)
            return None
        if len(key) > MAX_KEY or not _KEY.match(key):
            self.add(
                _(
                    "the id “{id}” should be at most {limit} letters, digits, dots, dashes or "
                    "underscores."
                ).format(id=key, limit=MAX_KEY),
                line,
            )
            return None
        return key

    def unique(self, key: str, line: int | None) -> bool:
        if key in self.first_seen:
            self.add(
                _("this id is already used by the entry on line {other}.").format(
                    other=self.first_seen[key]
                ),
                line,
                key,
            )
            return False
        self.first_seen[key] = line
        return True

    def category(self, raw: str, line: int | None, key: str) -> str | None:
        category = raw.strip()
        if not category:
            self.add(_("the category is missing."), line, key)
            return None
        if len(category) > MAX_CATEGORY:
            self.add(
                _("the category is longer than {limit} characters.").format(limit=MAX_CATEGORY),
                line,
                key,
            )
            return None
        return category

    def language(self, raw: str, line: int | None, key: str | None) -> str | None:
        code = normalize_locale(raw.strip())
        if code is None:
            self.add(
                _("“{code}” is not a language code we know; use one of {codes}.").format(
                    code=raw.strip(), codes=", ".join(LANGUAGES)
                ),
                line,
                key,
            )
        return code

    def text(
        self,
        question: str,
        answer: str,
        keywords: tuple[str, ...],
        line: int | None,
        key: str,
        lang: str,
    ) -> LanguageText | None:
        question, answer = question.strip(), answer.strip()
        fine = True
        if not question:
            self.add(_("the question is missing."), line, key, lang)
            fine = False
        if not answer:
            self.add(_("the answer is missing."), line, key, lang)
            fine = False
        too_long = [
            (
                _(
                    "the question is {length} characters long as Telegram counts it; one "
                    "message holds at most {limit}."
                ),
                telegram_length(question),
            ),
            (
                _(
                    "the answer is {length} characters long as Telegram counts it; one "
                    "message holds at most {limit}."
                ),
                telegram_length(answer),
            ),
        ]
        for message, length in too_long:
            if length > MESSAGE_LIMIT:
                self.add(message.format(length=length, limit=MESSAGE_LIMIT), line, key, lang)
                fine = False
        return LanguageText(question, answer, keywords) if fine else None

    def result(self, entries: list[ParsedEntry]) -> FaqParseResult:
        if self.problems:
            return FaqParseResult(problems=self.problems)
        if not entries:
            return _refuse(_("The file has no FAQ entries."))
        if len(entries) > MAX_ENTRIES:
            return _refuse(
                _("The file has more than {limit} entries; an FAQ should be shorter.").format(
                    limit=MAX_ENTRIES
                )
            )
        return FaqParseResult(entries=entries)


def _in_order(texts: dict[str, LanguageText]) -> dict[str, LanguageText]:
    return {code: texts[code] for code in LANGUAGES if code in texts}


# --- YAML ----------------------------------------------------------------------------------


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar(node: yaml.Node) -> str | None:
    """A scalar's text ("" for null); None for a list or a mapping."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    return "" if node.tag == _NULL_TAG else str(node.value)


def _read_yaml(text: str) -> FaqParseResult:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        line = int(mark.line) + 1 if mark is not None else None
        if line is None:
            return _refuse(_("The file is not valid YAML: {problem}.").format(problem=problem))
        return _refuse(
            _("Line {line}: the file is not valid YAML: {problem}.").format(
                line=line, problem=problem
            ),
            line,
        )
    if root is None or _scalar(root) == "":
        return _refuse(_("The file is empty."))
    if not isinstance(root, yaml.SequenceNode):
        return _refuse(
            _("The file should be a list of entries, each with an id, a category and languages."),
            _line(root),
        )
    checker = _Checker("line")
    entries: list[ParsedEntry] = []
    for node in root.value:
        entry = _yaml_entry(node, checker)
        if entry is not None:
            entries.append(entry)
    return checker.result(entries)


def _yaml_entry(node: yaml.Node, checker: _Checker) -> ParsedEntry | None:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        checker.add(_("each entry should have an id, a category and languages."), line)
        return None
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for name_node, value_node in node.value:
        name = (_scalar(name_node) or "").strip()
        if name in fields:
            checker.add(_("“{name}” appears twice.").format(name=name), _line(name_node))
            continue
        fields[name] = (name_node, value_node)
    key: str | None = None
    if "id" not in fields:
        checker.add(_("the id is missing."), line)
    else:
        raw = _scalar(fields["id"][1])
        key = checker.key(raw or "", line)
        if key is not None and not checker.unique(key, line):
            key = None
    label = key or (_scalar(fields["id"][1]) or "").strip() if "id" in fields else None
    category = None
    if "category" not in fields:
        checker.add(_("the category is missing."), line, label)
    else:
        category = checker.category(_scalar(fields["category"][1]) or "", line, label or "")
    texts: dict[str, LanguageText] = {}
    for name, (name_node, value_node) in fields.items():
        if name in _ENTRY_FIELDS:
            continue
        where = _line(name_node)
        if not _LOOKS_LIKE_LANGUAGE.match(name):
            checker.add(_("unknown field “{name}”.").format(name=name), where, label)
            continue
        code = checker.language(name, where, label)
        if code is None:
            continue
        if code in texts:
            checker.add(_("the language {code} appears twice.").format(code=code), where, label)
            continue
        text = _yaml_text(value_node, checker, where, label or "", code)
        if text is not None:
            texts[code] = text
    if key is None or category is None:
        return None
    if not texts and not any(name not in _ENTRY_FIELDS for name in fields):
        checker.add(_("there is no question and answer in any language."), line, key)
        return None
    if len(texts) != len([name for name in fields if name not in _ENTRY_FIELDS]):
        return None
    return ParsedEntry(key, category, _in_order(texts), line)


def _yaml_text(
    node: yaml.Node, checker: _Checker, line: int, key: str, lang: str
) -> LanguageText | None:
    if not isinstance(node, yaml.MappingNode):
        checker.add(_("expected q (the question) and a (the answer)."), line, key, lang)
        return None
    question = answer = ""
    keywords: tuple[str, ...] = ()
    fine = True
    for name_node, value_node in node.value:
        name = (_scalar(name_node) or "").strip().lower()
        where = _line(name_node)
        if name in _KEYWORD_NAMES:
            found = _yaml_keywords(value_node)
            if found is None:
                checker.add(
                    _("keywords should be a list, or words separated by “;”."), where, key, lang
                )
                fine = False
            else:
                keywords = found
            continue
        value = _scalar(value_node)
        if name not in (*_QUESTION_NAMES, *_ANSWER_NAMES):
            checker.add(_("unknown field “{name}”.").format(name=name), where, key, lang)
            fine = False
        elif value is None:
            checker.add(_("“{name}” should be a text.").format(name=name), where, key, lang)
            fine = False
        elif name in _QUESTION_NAMES:
            question = value
        else:
            answer = value
    text = checker.text(question, answer, keywords, line, key, lang)
    return text if fine else None


def _yaml_keywords(node: yaml.Node) -> tuple[str, ...] | None:
    value = _scalar(node)
    if value is not None:
        return split_keywords(value)
    if isinstance(node, yaml.SequenceNode):
        words = [_scalar(item) for item in node.value]
        if any(word is None for word in words):
            return None
        # A phrasing never holds a separator, so that a spreadsheet keeps the same phrasings.
        return _dedupe(part for word in words if word for part in _KEYWORD_SEPARATORS.split(word))
    return None


# --- XLSX ----------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as the organiser sees it, without the apostrophe an export put before a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value)
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _header(cells: list[str]) -> dict[str, int] | None:
    names = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        column = names.get(cell.strip().casefold())
        if column is not None and column not in found:
            found[column] = index
    return found if all(column in found for column in _REQUIRED_COLUMNS) else None


def _sheet_rows(data: bytes) -> Iterator[list[tuple[int, list[str]]]]:
    """Each worksheet's rows as (row number, cell texts)."""
    # Imported here: only an FAQ upload needs openpyxl, not every process of the bot.
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; they do not matter here.
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                rows = sheet.iter_rows(values_only=True)
                yield [
                    (number, [cell_text(value) for value in values])
                    for number, values in enumerate(rows, start=1)
                ]
        finally:
            workbook.close()


def _read_xlsx(data: bytes) -> FaqParseResult:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            return _refuse(_("The workbook is too large to read; split it into smaller files."))
        sheets = list(_sheet_rows(data))
    except Exception as error:
        # openpyxl raises many kinds of errors for damaged or foreign zip files.
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        return _refuse(_("The Excel file could not be read: {reason}").format(reason=reason))
    for rows in sheets:
        for position, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
            header = _header(cells)
            if header is not None:
                return _xlsx_entries(header, rows[position + 1 :], number)
    return _refuse(
        _(
            "The header row was not found: one of the first {count} rows should name the "
            "columns {columns}."
        ).format(count=HEADER_SEARCH_ROWS, columns=", ".join((*_REQUIRED_COLUMNS, "keywords")))
    )


@dataclass
class _Draft:
    key: str
    line: int
    category: str = ""
    category_row: int = 0
    texts: dict[str, LanguageText] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    broken: bool = False


def _xlsx_entries(
    header: dict[str, int], rows: list[tuple[int, list[str]]], header_row: int
) -> FaqParseResult:
    checker = _Checker("row")
    drafts: dict[str, _Draft] = {}

    def cell(cells: list[str], column: str) -> str:
        index = header.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    for number, cells in rows:
        if not any(value.strip() for value in cells):
            continue
        key = checker.key(cell(cells, "id"), number)
        if key is None:
            continue
        draft = drafts.setdefault(key, _Draft(key, number))
        category = cell(cells, "category")
        if category and not draft.category:
            draft.category, draft.category_row = category, number
        elif category and category != draft.category:
            checker.add(
                _("the category “{category}” differs from “{other}” on row {row}.").format(
                    category=category, other=draft.category, row=draft.category_row
                ),
                number,
                key,
            )
            draft.broken = True
        raw_language = cell(cells, "language")
        if not raw_language:
            checker.add(_("the language is missing."), number, key)
            draft.broken = True
            continue
        code = checker.language(raw_language, number, key)
        if code is None:
            draft.broken = True
            continue
        if code in draft.rows:
            checker.add(
                _("there is already a {code} row for this entry (row {row}).").format(
                    code=code, row=draft.rows[code]
                ),
                number,
                key,
            )
            draft.broken = True
            continue
        draft.rows[code] = number
        keywords = split_keywords(cell(cells, "keywords"))
        text = checker.text(
            cell(cells, "question"), cell(cells, "answer"), keywords, number, key, code
        )
        if text is None:
            draft.broken = True
        else:
            draft.texts[code] = text
    entries: list[ParsedEntry] = []
    for draft in drafts.values():
        checked = checker.category(draft.category, draft.line, draft.key)
        if checked is None or draft.broken:
            continue
        entries.append(ParsedEntry(draft.key, checked, _in_order(draft.texts), draft.line))
    if not drafts and not checker.problems:
        return _refuse(
            _("The file has a header on row {row} but no entries below it.").format(row=header_row)
        )
    return checker.result(entries)


def looks_like_faq(data: bytes, filename: str) -> bool:
    """Whether a file sent to the bot is meant as an FAQ: YAML, or a workbook whose header
    names the FAQ's columns (a roster or a timetable workbook is not)."""
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        return True
    if not name.endswith(".xlsx"):
        return False
    try:
        for rows in _sheet_rows(data):
            if any(_header(cells) is not None for _n, cells in rows[:HEADER_SEARCH_ROWS]):
                return True
    except Exception:  # a damaged workbook is someone else's problem to report
        return False
    return False
