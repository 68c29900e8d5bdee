"""Reading the list of trainees that organisers send as a CSV or XLSX file.

The file is accepted as a whole or not at all: :func:`parse_roster` returns either every
participant row or every problem found (each with the line the organiser sees in their
spreadsheet), so that they can fix the file and send it again.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Final

from babel.core import get_global
from babel.lists import format_list
from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email

from bot.i18n import SUPPORTED_LOCALES, babel_locale, current_locale
from bot.i18n import gettext as _
from bot.services.countries import fold_name, resolve_country, suggest_countries

#: Files above this size are refused before being read.
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: At most this many participants in one file.
MAX_ROWS: Final = 10_000
#: The header is looked for among this many first rows (title rows may come before it).
HEADER_SEARCH_ROWS: Final = 20
#: A row is the header when at least this many of its cells name a known column.
MIN_HEADER_MATCHES: Final = 2
#: An XLSX file is a zip archive; refuse one that unpacks to more than this (a "zip bomb").
MAX_XLSX_UNPACKED_BYTES: Final = 200 * 1024 * 1024

_XLSX_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_VALUE_PREVIEW: Final = 60
_CSV_DELIMITERS: Final = (",", ";", "\t")
_TEXT_ENCODINGS: Final = ("utf-8-sig", "cp1252", "latin-1")
_BRACKETED = re.compile(r"[(（\[][^)）\]]*[)）\]]")
# Control characters other than tabs and line breaks: common in binary data, rare in text.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class Column(StrEnum):
    """The columns of a roster; the value is what :attr:`RosterError.column` holds."""

    FULL_NAME = "full_name"
    GENDER = "gender"
    COUNTRY = "country"
    ORGANISATION = "organisation"
    POSITION = "position"
    EMAIL = "email"
    LANGUAGE = "language"
    PHONE = "phone"


_REQUIRED: Final = (Column.FULL_NAME, Column.COUNTRY, Column.EMAIL)

#: Header names organisers use, by column and by interface language. The first name in a
#: language is the one quoted back when the column is missing.
_HEADERS: Final[Mapping[Column, Mapping[str, tuple[str, ...]]]] = {
    Column.FULL_NAME: {
        "en": (
            "Full name",
            "Name",
            "Passport name",
            "Name in passport",
            "Full name as in passport",
            "Participant name",
            "Name of participant",
            "Participant",
            "Trainee",
            "Trainee name",
        ),
        "zh": ("姓名", "名字", "护照姓名", "英文姓名", "学员姓名"),
        "ru": ("ФИО", "Имя", "Ф.И.О.", "Полное имя", "Фамилия и имя", "Фамилия, имя"),
        "fr": ("Nom complet", "Nom", "Nom et prénom", "Nom et prénoms", "Prénom et nom"),
        "es": ("Nombre completo", "Nombre", "Nombre y apellidos", "Apellidos y nombre"),
        "ar": ("الاسم", "الاسم الكامل", "الاسم بالكامل"),
    },
    Column.GENDER: {
        "en": ("Gender", "Sex"),
        "zh": ("性别",),
        "ru": ("Пол",),
        "fr": ("Sexe", "Genre"),
        "es": ("Género", "Sexo"),
        "ar": ("الجنس", "النوع"),
    },
    Column.COUNTRY: {
        "en": ("Country", "Nationality", "Country/Region", "Country of origin"),
        "zh": ("国家", "国籍", "国别", "国家/地区", "国家或地区"),
        "ru": ("Страна", "Гражданство"),
        "fr": ("Pays", "Nationalité"),
        "es": ("País", "Nacionalidad"),
        "ar": ("البلد", "الدولة", "الجنسية"),
    },
    Column.ORGANISATION: {
        "en": (
            "Organisation",
            "Organization",
            "Institution",
            "Ministry",
            "Agency",
            "Employer",
            "Department",
        ),
        "zh": ("单位", "工作单位", "所在单位", "机构", "单位名称"),
        "ru": ("Организация", "Место работы", "Ведомство", "Учреждение"),
        "fr": ("Organisme", "Organisation", "Ministère"),
        "es": ("Organización", "Institución", "Organismo", "Ministerio"),
        "ar": ("المؤسسة", "الجهة", "المنظمة", "جهة العمل"),
    },
    Column.POSITION: {
        "en": ("Position", "Title", "Job title", "Designation", "Post"),
        "zh": ("职务", "职位", "职称"),
        "ru": ("Должность",),
        "fr": ("Poste", "Fonction", "Titre"),
        "es": ("Cargo", "Puesto"),
        "ar": ("المنصب", "الوظيفة", "المسمى الوظيفي"),
    },
    Column.EMAIL: {
        "en": ("Email", "E-mail", "Mail", "Email address", "E-mail address"),
        "zh": ("邮箱", "电子邮件", "电子邮箱", "邮件", "邮箱地址"),
        "ru": ("Эл. почта", "Почта", "Электронная почта", "Адрес электронной почты"),
        "fr": ("Courriel", "Adresse électronique", "Adresse e-mail", "Adresse mail"),
        "es": ("Correo electrónico", "Correo", "Email"),
        "ar": ("البريد الإلكتروني", "البريد", "الإيميل"),
    },
    Column.LANGUAGE: {
        "en": ("Preferred language", "Language", "Working language"),
        "zh": ("语言", "语种", "工作语言", "首选语言"),
        "ru": ("Язык", "Предпочитаемый язык", "Рабочий язык"),
        "fr": ("Langue", "Langue préférée", "Langue de travail"),
        "es": ("Idioma", "Idioma preferido", "Lengua"),
        "ar": ("اللغة", "اللغة المفضلة"),
    },
    Column.PHONE: {
        "en": (
            "Phone",
            "Mobile",
            "WhatsApp",
            "Telephone",
            "Tel",
            "Phone number",
            "Mobile phone",
            "Mobile number",
            "Cell phone",
            "Contact number",
        ),
        "zh": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码"),
        "ru": ("Телефон", "Мобильный телефон", "Моб. телефон", "Мобильный"),
        "fr": ("Téléphone", "Portable", "Tél", "Numéro de téléphone"),
        "es": ("Teléfono", "Móvil", "Celular", "Número de teléfono"),
        "ar": ("الهاتف", "رقم الهاتف", "الجوال", "الموبايل"),
    },
}

#: How people write the gender in our six languages (and the titles Mr / Ms / Mrs).
_GENDERS: Final[Mapping[str, tuple[str, ...]]] = {
    "F": (
        "F",
        "Female",
        "Woman",
        "Ms",
        "Mrs",
        "Miss",
        "女",
        "女性",
        "Ж",
        "Жен",
        "Женский",
        "Женщина",
        "Femme",
        "Féminin",
        "Mme",
        "Femenino",
        "Mujer",
        "Sra",
        "أنثى",
        "امرأة",
        "سيدة",
    ),
    "M": (
        "M",
        "Male",
        "Man",
        "Mr",
        "男",
        "男性",
        "М",
        "Муж",
        "Мужской",
        "Мужчина",
        "H",
        "Homme",
        "Masculin",
        "Masculino",
        "Hombre",
        "Sr",
        "ذكر",
        "رجل",
        "السيد",
    ),
}


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One participant read from the file.

    ``line`` is the row number the organiser sees in their spreadsheet (the header of a plain
    file is line 1). Optional cells left empty are ``None``.
    """

    line: int
    full_name: str
    gender: str | None
    country: str
    organisation: str | None
    position: str | None
    email: str
    language: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class RosterError:
    """One problem in the file, already worded for the organiser in the current locale.

    ``line`` is ``None`` for problems with the whole file; ``column`` is a :class:`Column`
    value, or ``None`` when no single column is at fault.
    """

    line: int | None
    column: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class RosterParseResult:
    """Every participant of the file, or every reason to refuse it (never both)."""

    rows: list[RosterRow]
    errors: list[RosterError]

    @property
    def ok(self) -> bool:
        """Whether the file can be imported."""
        return not self.errors


class _Unreadable(Exception):
    """The bytes are not a spreadsheet we can read."""


class _TooLarge(Exception):
    """The file unpacks to more than we are willing to read."""


@dataclass(frozen=True, slots=True)
class _Table:
    """The part of a file below its header, before validation."""

    header_line: int
    columns: Mapping[Column, int]
    rows: list[tuple[int, list[str]]]
    too_many_rows: bool


# --------------------------------------------------------------------------- public entry


def parse_roster(data: bytes, filename: str) -> RosterParseResult:
    """Read a roster sent as CSV (comma, semicolon or tab) or XLSX, all or nothing.

    The format is recognised from the content (an XLSX file is a zip archive), not from
    ``filename``, which only helps to explain a refused file (an old ``.xls`` workbook).
    Error texts are in the current locale.
    """
    if len(data) > MAX_FILE_BYTES:
        return _refuse(
            _("The file is larger than {limit} MB; split it into smaller files.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    if not data.strip():
        return _refuse(_("The file is empty."))
    if data.startswith(_OLE_MAGIC) and filename.lower().endswith(".xls"):
        return _refuse(
            _(
                "The file is an old Excel workbook (.xls); save it as .xlsx or CSV and send "
                "it again."
            )
        )
    try:
        table = _read_xlsx(data) if data.startswith(_XLSX_MAGIC) else _read_csv(data)
    except _Unreadable:
        return _refuse(_("The file is not a readable CSV or XLSX spreadsheet."))
    except _TooLarge:
        return _refuse(_("The workbook is too large to read; split it into smaller files."))
    if table is None:
        examples = ", ".join(f"'{_example_header(column)}'" for column in _REQUIRED)
        return _refuse(
            _(
                "The header row was not found: one of the first {count} rows should name the "
                "columns, such as {examples}."
            ).format(count=HEADER_SEARCH_ROWS, examples=examples)
        )
    return _validate(table)


def _refuse(reason: str, line: int | None = None) -> RosterParseResult:
    return RosterParseResult(rows=[], errors=[RosterError(line, None, reason)])


# --------------------------------------------------------------------------- headers


@cache
def _header_index() -> dict[str, Column]:
    """Folded header name -> column."""
    index: dict[str, Column] = {}
    for column, by_language in _HEADERS.items():
        for names in by_language.values():
            for name in names:
                index.setdefault(fold_name(name), column)
    return index


def _header_column(cell: str) -> Column | None:
    """The column a header cell names, ignoring notes in brackets ("Phone (WhatsApp)")."""
    index = _header_index()
    without_notes = _BRACKETED.sub(" ", cell)
    for candidate in (without_notes, *re.split(r"[/|]", without_notes), cell):
        column = index.get(fold_name(candidate))
        if column is not None:
            return column
    return None


def _match_header(cells: Sequence[str]) -> dict[Column, int]:
    """Column -> cell position for a candidate header row; the first of duplicates wins."""
    found: dict[Column, int] = {}
    for position, cell in enumerate(cells):
        column = _header_column(cell) if cell else None
        if column is not None and column not in found:
            found[column] = position
    return found


def _example_header(column: Column) -> str:
    """A header name for ``column`` in the reader's language, to quote in a message."""
    by_language = _HEADERS[column]
    return by_language.get(current_locale(), by_language["en"])[0]


def _column_label(column: Column) -> str:
    labels = {
        Column.FULL_NAME: _("full name"),
        Column.GENDER: _("gender"),
        Column.COUNTRY: _("country"),
        Column.ORGANISATION: _("organisation"),
        Column.POSITION: _("position"),
        Column.EMAIL: _("e-mail"),
        Column.LANGUAGE: _("language"),
        Column.PHONE: _("phone"),
    }
    return labels[column]


def _collect(rows: Iterator[tuple[int, list[str]]]) -> _Table | None:
    """Find the header among the first rows, then gather the non-empty rows below it."""
    head: list[tuple[int, list[str]]] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    best: tuple[int, int, dict[Column, int]] | None = None
    for position, (line, cells) in enumerate(head):
        columns = _match_header(cells)
        if len(columns) >= MIN_HEADER_MATCHES and (best is None or len(columns) > len(best[2])):
            best = (position, line, columns)
    if best is None:
        return None
    position, header_line, columns = best
    body: list[tuple[int, list[str]]] = []
    too_many = False
    for line, cells in itertools.chain(head[position + 1 :], rows):
        if not any(cells):
            continue
        if len(body) >= MAX_ROWS:
            # Stop reading: the file is refused anyway and may be far larger.
            too_many = True
            break
        body.append((line, cells))
    return _Table(header_line, columns, body, too_many)


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data:
        # UTF-16/32 text and binary files both contain NUL bytes; neither is a CSV we read.
        raise _Unreadable
    for encoding in _TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise _Unreadable


def _looks_like_text(text: str) -> bool:
    """False for binary data that happened to decode (Latin-1 decodes anything)."""
    return len(_CONTROL_CHARS.findall(text)) * 100 <= len(text)


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(record number, stripped cells); the record number is the spreadsheet row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    for number, record in enumerate(reader, start=1):
        yield number, [cell.strip() for cell in record]


def _sniffed_delimiter(text: str) -> str | None:
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters="".join(_CSV_DELIMITERS))
    except csv.Error:
        return None
    return str(dialect.delimiter)


def _header_score(text: str, delimiter: str) -> int:
    """How many known columns the best of the first rows names with this delimiter."""
    scores = [0]
    try:
        for _line, cells in _csv_rows(text, delimiter):
            scores.append(len(_match_header(cells)))
            if len(scores) > HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        return 0
    return max(scores)


def _read_csv(data: bytes) -> _Table | None:
    text = _decode(data)
    # The sniffer is easily misled by title lines above the header, so each delimiter is
    # judged by how well it splits the header; the sniffed one wins a tie.
    sniffed = _sniffed_delimiter(text)
    candidates = list(dict.fromkeys([*([sniffed] if sniffed else []), *_CSV_DELIMITERS]))
    delimiter = max(candidates, key=lambda candidate: _header_score(text, candidate))
    try:
        return _collect(_csv_rows(text, delimiter))
    except csv.Error as error:
        raise _Unreadable from error


# --------------------------------------------------------------------------- XLSX


def _cell_text(value: object) -> str:
    """A cell as the organiser sees it; numbers keep all their digits ("256772410118")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _check_unpacked_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _Unreadable from error
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise _TooLarge


def _read_xlsx(data: bytes) -> _Table | None:
    """The first worksheet that has a header row (an instructions sheet may come first)."""
    # Imported here: only a roster upload needs openpyxl, not every process of the bot.
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    _check_unpacked_size(data)
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; they do not matter here.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:
            # openpyxl raises many kinds of errors for damaged or foreign zip files.
            raise _Unreadable from error
        try:
            for sheet in workbook.worksheets:
                if isinstance(sheet, ReadOnlyWorksheet):
                    # The recorded size of a sheet is sometimes wrong; read what is there.
                    sheet.reset_dimensions()
                rows = (
                    (number, [_cell_text(value) for value in values])
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                )
                table = _collect(rows)
                if table is not None:
                    return table
        except Exception as error:
            # Damage inside a sheet only shows while reading it.
            raise _Unreadable from error
        finally:
            workbook.close()
    return None


# --------------------------------------------------------------------------- validation


@cache
def _gender_index() -> dict[str, str]:
    return {fold_name(word): gender for gender, words in _GENDERS.items() for word in words}


@cache
def _language_index() -> dict[str, set[str]]:
    """Folded language name or code -> the primary language codes it may mean."""
    aliases: Mapping[str, str] = get_global("language_aliases")

    def primary(code: str) -> str:
        base = code.split("_", 1)[0]
        return aliases.get(base, base).split("_", 1)[0]

    index: dict[str, set[str]] = {}
    for locale in SUPPORTED_LOCALES:
        for code, name in babel_locale(locale).languages.items():
            index.setdefault(fold_name(name), set()).add(primary(code))
            index.setdefault(fold_name(code), set()).add(primary(code))
    for alias in aliases:
        if alias.isalpha() and len(alias) in (2, 3):
            index.setdefault(fold_name(alias), set()).add(primary(alias))
    return index


class _UnknownLanguage(Exception):
    """The cell does not name a language at all."""


def _language(value: str) -> str | None:
    """One of our interface languages, ``None`` for another real language, else an error.

    "English / French" means the first of ours that is listed; "Mandarin Chinese" is read
    word by word when the whole does not name a language.
    """
    index = _language_index()
    whole = [value, _BRACKETED.sub(" ", value), *re.split(r"[/,;|]|\band\b", value)]
    for parts in (whole, value.split()):
        known = False
        for part in parts:
            meanings = index.get(fold_name(part), set())
            ours = [code for code in SUPPORTED_LOCALES if code in meanings]
            if ours:
                return ours[0]
            known = known or bool(meanings)
        if known:
            return None
    raise _UnknownLanguage


def _quoted(value: str) -> str:
    if len(value) > _VALUE_PREVIEW:
        value = value[: _VALUE_PREVIEW - 1] + "…"
    return value


def _clean(value: str) -> str:
    """Inner runs of spaces (including no-break spaces) become one space."""
    return " ".join(value.split())


class _RowChecker:
    """Validates rows one by one, remembering what earlier rows used."""

    def __init__(self, columns: Mapping[Column, int]) -> None:
        self.columns = columns
        self.errors: list[RosterError] = []
        self.emails: dict[str, int] = {}
        self.people: dict[tuple[str, str], int] = {}

    def cell(self, cells: Sequence[str], column: Column) -> str:
        position = self.columns.get(column)
        if position is None or position >= len(cells):
            return ""
        return cells[position]

    def error(self, line: int, column: Column | None, reason: str) -> None:
        self.errors.append(RosterError(line, column.value if column else None, reason))

    def check(self, line: int, cells: Sequence[str]) -> RosterRow | None:
        before = len(self.errors)
        full_name = _clean(self.cell(cells, Column.FULL_NAME))
        if not full_name:
            self.error(
                line,
                Column.FULL_NAME,
                _("Line {line}: the full name is missing.").format(line=line),
            )
        email = self.email(line, self.cell(cells, Column.EMAIL).strip())
        country = self.country(line, _clean(self.cell(cells, Column.COUNTRY)))
        gender = self.gender(line, _clean(self.cell(cells, Column.GENDER)))
        language = self.language(line, _clean(self.cell(cells, Column.LANGUAGE)))
        if full_name and country is not None:
            self.duplicate_person(line, full_name, country)
        if len(self.errors) > before or email is None or country is None:
            return None
        return RosterRow(
            line=line,
            full_name=full_name,
            gender=gender,
            country=country,
            organisation=_clean(self.cell(cells, Column.ORGANISATION)) or None,
            position=_clean(self.cell(cells, Column.POSITION)) or None,
            email=email,
            language=language,
            phone=self.cell(cells, Column.PHONE).strip() or None,
        )

    def email(self, line: int, value: str) -> str | None:
        if not value:
            self.error(
                line,
                Column.EMAIL,
                _("Line {line}: the e-mail address is missing.").format(line=line),
            )
            return None
        try:
            normalized = str(validate_email(value, check_deliverability=False).normalized)
        except EmailNotValidError:
            self.error(
                line,
                Column.EMAIL,
                _("Line {line}: the e-mail address '{value}' is not valid.").format(
                    line=line, value=_quoted(value)
                ),
            )
            return None
        key = normalized.casefold()
        first = self.emails.setdefault(key, line)
        if first != line:
            self.error(
                line,
                Column.EMAIL,
                _("Line {line}: the e-mail address {value} is already on line {other}.").format(
                    line=line, value=normalized, other=first
                ),
            )
        return normalized

    def country(self, line: int, value: str) -> str | None:
        if not value:
            self.error(
                line, Column.COUNTRY, _("Line {line}: the country is missing.").format(line=line)
            )
            return None
        code = resolve_country(value)
        if code is not None:
            return code
        locale = current_locale()
        names = [name for _code, name in suggest_countries(value, locale, limit=3)]
        if names:
            reason = _(
                "Line {line}: the country '{value}' is not recognised; did you mean {suggestions}?"
            ).format(
                line=line,
                value=_quoted(value),
                suggestions=format_list(names, style="or", locale=babel_locale(locale)),
            )
        else:
            reason = _("Line {line}: the country '{value}' is not recognised.").format(
                line=line, value=_quoted(value)
            )
        self.error(line, Column.COUNTRY, reason)
        return None

    def gender(self, line: int, value: str) -> str | None:
        if not value:
            return None
        gender = _gender_index().get(fold_name(value))
        if gender is None:
            self.error(
                line,
                Column.GENDER,
                _(
                    "Line {line}: the gender '{value}' is not recognised; write F or M, or leave "
                    "the cell empty."
                ).format(line=line, value=_quoted(value)),
            )
        return gender

    def language(self, line: int, value: str) -> str | None:
        if not value:
            return None
        try:
            return _language(value)
        except _UnknownLanguage:
            self.error(
                line,
                Column.LANGUAGE,
                _(
                    "Line {line}: the language '{value}' is not recognised; write a language "
                    "such as English, or leave the cell empty."
                ).format(line=line, value=_quoted(value)),
            )
            return None

    def duplicate_person(self, line: int, full_name: str, country: str) -> None:
        first = self.people.setdefault((fold_name(full_name), country), line)
        if first != line:
            self.error(
                line,
                Column.FULL_NAME,
                _("Line {line}: {name} from the same country is already on line {other}.").format(
                    line=line, name=full_name, other=first
                ),
            )


def _validate(table: _Table) -> RosterParseResult:
    if table.too_many_rows:
        return _refuse(
            _("The file has more than {limit} participants; split it into smaller files.").format(
                limit=format_decimal(MAX_ROWS, locale=babel_locale(current_locale()))
            )
        )
    missing = [column for column in _REQUIRED if column not in table.columns]
    if missing:
        errors = [
            RosterError(
                table.header_line,
                column.value,
                _(
                    "Line {line}: the column for {column} is missing; expected a header such "
                    "as '{example}'."
                ).format(
                    line=table.header_line,
                    column=_column_label(column),
                    example=_example_header(column),
                ),
            )
            for column in missing
        ]
        return RosterParseResult(rows=[], errors=errors)
    if not table.rows:
        return _refuse(
            _("The file has a header on line {line} but no participants below it.").format(
                line=table.header_line
            ),
            line=table.header_line,
        )
    checker = _RowChecker(table.columns)
    rows = [row for line, cells in table.rows if (row := checker.check(line, cells)) is not None]
    if checker.errors:
        return RosterParseResult(rows=[], errors=checker.errors)
    return RosterParseResult(rows=rows, errors=[])
