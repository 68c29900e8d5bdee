"""Checking each row of a roster: names, countries, e-mail addresses, genders, languages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Final

from babel.core import get_global
from babel.lists import format_list
from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email

from bot.i18n import SUPPORTED_LOCALES, babel_locale, current_locale
from bot.i18n import gettext as _
from bot.services.countries import fold_name, resolve_country, suggest_countries
from bot.services.roster.columns import (
    BRACKETED,
    GENDERS,
    MAX_ROWS,
    REQUIRED,
    Column,
    RosterError,
    RosterParseResult,
    RosterRow,
    Table,
    column_label,
    example_header,
    refuse,
)
from bot.services.text_cleaning import clean_line

_VALUE_PREVIEW: Final = 60


@cache
def _gender_index() -> dict[str, str]:
    return {fold_name(word): gender for gender, words in GENDERS.items() for word in words}


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
    whole = [value, BRACKETED.sub(" ", value), *re.split(r"[/,;|]|\band\b", value)]
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


#: What the roster's table keeps of a name, an organisation or a position, and of a phone.
_MAX_TEXT: Final = 256
_MAX_PHONE: Final = 64


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
        full_name = clean_line(self.cell(cells, Column.FULL_NAME), _MAX_TEXT)
        if not full_name:
            self.error(
                line,
                Column.FULL_NAME,
                _("Line {line}: the full name is missing.").format(line=line),
            )
        email = self.email(line, clean_line(self.cell(cells, Column.EMAIL)))
        country = self.country(line, clean_line(self.cell(cells, Column.COUNTRY)))
        gender = self.gender(line, clean_line(self.cell(cells, Column.GENDER)))
        language = self.language(line, clean_line(self.cell(cells, Column.LANGUAGE)))
        if full_name and country is not None:
            self.duplicate_person(line, full_name, country)
        if len(self.errors) > before or email is None or country is None:
            return None
        return RosterRow(
            line=line,
            full_name=full_name,
            gender=gender,
            country=country,
            organisation=clean_line(self.cell(cells, Column.ORGANISATION), _MAX_TEXT) or None,
            position=clean_line(self.cell(cells, Column.POSITION), _MAX_TEXT) or None,
            email=email,
            language=language,
            phone=clean_line(self.cell(cells, Column.PHONE), _MAX_PHONE) or None,
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


def validate(table: Table) -> RosterParseResult:
    if table.too_many_rows:
        return refuse(
            _("The file has more than {limit} participants; split it into smaller files.").format(
                limit=format_decimal(MAX_ROWS, locale=babel_locale(current_locale()))
            )
        )
    missing = [column for column in REQUIRED if column not in table.columns]
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
                    column=column_label(column),
                    example=example_header(column),
                ),
            )
            for column in missing
        ]
        return RosterParseResult(rows=[], errors=errors)
    if not table.rows:
        return refuse(
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
