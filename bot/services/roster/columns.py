"""A roster's columns: the headers organisers may write for each, and finding the header row.

Also the rows, problems and results that reading a roster file gives back.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from bot.i18n import current_locale
from bot.i18n import gettext as _
from bot.services.countries import fold_name

#: At most this many participants in one file.
MAX_ROWS: Final = 10_000
#: The header is looked for among this many first rows (title rows may come before it).
HEADER_SEARCH_ROWS: Final = 20
#: A row is the header when at least this many of its cells name a known column.
MIN_HEADER_MATCHES: Final = 2
BRACKETED = re.compile(r"[(（\[][^)）\]]*[)）\]]")


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


REQUIRED: Final = (Column.FULL_NAME, Column.COUNTRY, Column.EMAIL)

#: Header names organisers use, by column and by interface language. The first name in a
#: language is the one quoted back when the column is missing.
HEADERS: Final[Mapping[Column, Mapping[str, tuple[str, ...]]]] = {
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
GENDERS: Final[Mapping[str, tuple[str, ...]]] = {
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


@dataclass(frozen=True, slots=True)
class Table:
    """The part of a file below its header, before validation."""

    header_line: int
    columns: Mapping[Column, int]
    rows: list[tuple[int, list[str]]]
    too_many_rows: bool


def refuse(reason: str, line: int | None = None) -> RosterParseResult:
    return RosterParseResult(rows=[], errors=[RosterError(line, None, reason)])


@cache
def _header_index() -> dict[str, Column]:
    """Folded header name -> column."""
    index: dict[str, Column] = {}
    for column, by_language in HEADERS.items():
        for names in by_language.values():
            for name in names:
                index.setdefault(fold_name(name), column)
    return index


def _header_column(cell: str) -> Column | None:
    """The column a header cell names, ignoring notes in brackets ("Phone (WhatsApp)")."""
    index = _header_index()
    without_notes = BRACKETED.sub(" ", cell)
    for candidate in (without_notes, *re.split(r"[/|]", without_notes), cell):
        column = index.get(fold_name(candidate))
        if column is not None:
            return column
    return None


def match_header(cells: Sequence[str]) -> dict[Column, int]:
    """Column -> cell position for a candidate header row; the first of duplicates wins."""
    found: dict[Column, int] = {}
    for position, cell in enumerate(cells):
        column = _header_column(cell) if cell else None
        if column is not None and column not in found:
            found[column] = position
    return found


def example_header(column: Column) -> str:
    """A header name for ``column`` in the reader's language, to quote in a message."""
    by_language = HEADERS[column]
    return by_language.get(current_locale(), by_language["en"])[0]


def column_label(column: Column) -> str:
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


def collect(rows: Iterator[tuple[int, list[str]]]) -> Table | None:
    """Find the header among the first rows, then gather the non-empty rows below it."""
    head: list[tuple[int, list[str]]] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    best: tuple[int, int, dict[Column, int]] | None = None
    for position, (line, cells) in enumerate(head):
        columns = match_header(cells)
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
    return Table(header_line, columns, body, too_many)
