"""A programme's FAQ as stored: importing a file over it, exporting it, loading it to match.

An import replaces the programme's FAQ with the file's entries, all or nothing: a file with
any problem changes nothing. Entries are matched across imports by their id; an entry whose
category and texts are the same is unchanged (its place in the file is kept without counting
as a change), entries the file no longer has are removed. An export read back in is
unchanged, whether YAML or XLSX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import yaml
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import faq as faq_db
from bot.db import registration as reg_db
from bot.db.faq import FaqEntry
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.markup import problem_list
from bot.services.faq.files import (
    LANGUAGES,
    MESSAGE_LIMIT,
    FaqProblem,
    LanguageText,
    ParsedEntry,
    parse_faq,
)
from bot.services.spreadsheets import write_workbook

#: Export formats by file suffix.
FORMATS: Final = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx"}
#: The spreadsheet's columns, as :mod:`bot.services.faq.files` reads them back.
XLSX_HEADER: Final = ("id", "category", "language", "question", "answer", "keywords")


class UnknownProgramme(LookupError):
    """No programme has this code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class FaqText:
    """An entry as the matcher takes it (the same fields as ``matching.EntryText``)."""

    id: str
    category: str
    questions: Mapping[str, str]
    answers: Mapping[str, str]
    keywords: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class FaqImport:
    """What an import did (or would do), by entry id, in file order (removed: stored order)."""

    programme_code: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Entry id -> the languages it has no text in (entries with every language left out).
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the import changes anything stored."""
        return bool(self.created or self.updated or self.removed)

    def as_json(self) -> dict[str, Any]:
        """The figures for scripts (``trainee-bot faq import --json``)."""
        return {
            "programme": self.programme_code,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "missing_languages": self.missing,
        }


@dataclass(frozen=True, slots=True)
class FaqOutcome:
    """Either the import's figures or the file's problems (never both)."""

    problems: list[FaqProblem]
    result: FaqImport | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was (or can be) imported."""
        return not self.problems and self.result is not None


def stored_texts(entry: ParsedEntry) -> dict[str, dict[str, Any]]:
    """An entry's texts as the ``texts`` column keeps them."""
    return {
        code: {"q": text.question, "a": text.answer, "keywords": list(text.keywords)}
        for code, text in entry.texts.items()
    }


def _language_text(value: Mapping[str, Any]) -> LanguageText:
    return LanguageText(
        question=str(value.get("q", "")),
        answer=str(value.get("a", "")),
        keywords=tuple(str(word) for word in value.get("keywords") or ()),
    )


def _as_parsed(entry: FaqEntry) -> ParsedEntry:
    texts = {code: _language_text(entry.texts[code]) for code in LANGUAGES if code in entry.texts}
    return ParsedEntry(entry.key, entry.category, texts)


async def programme_id_of(session: AsyncSession, programme_code: str) -> int:
    """The id of the programme with this code; raises :class:`UnknownProgramme`."""
    programme = await reg_db.get_programme_by_code(session, programme_code)
    if programme is None or programme.id is None:
        raise UnknownProgramme(programme_code)
    return programme.id


async def import_faq(
    session: AsyncSession,
    programme_code: str,
    data: bytes,
    filename: str,
    now: datetime,
    *,
    dry_run: bool = False,
) -> FaqOutcome:
    """Read an FAQ file and make it the programme's FAQ, all or nothing; commits.

    A file with problems comes back with every one of them (texts in the current locale) and
    nothing is written; so does ``dry_run``, with the figures an import would have. Raises
    :class:`UnknownProgramme`.
    """
    programme_id = await programme_id_of(session, programme_code)
    parsed = parse_faq(data, filename)
    if not parsed.ok:
        return FaqOutcome(problems=list(parsed.problems))
    try:
        result = await replace_entries(
            session, programme_id, programme_code, parsed.entries, now, dry_run=dry_run
        )
    except Exception:
        await session.rollback()
        raise
    return FaqOutcome(problems=[], result=result)


async def replace_entries(
    session: AsyncSession,
    programme_id: int,
    programme_code: str,
    entries: Sequence[ParsedEntry],
    now: datetime,
    *,
    dry_run: bool = False,
) -> FaqImport:
    """Make ``entries`` (valid, ids unique) the programme's FAQ; commits unless ``dry_run``."""
    stored = {
        entry.key: entry for entry in await faq_db.entries_of_programme(session, programme_id)
    }
    result = FaqImport(programme_code=programme_code)
    keys = {entry.key for entry in entries}
    removed = [entry for key, entry in stored.items() if key not in keys]
    result.removed.extend(entry.key for entry in removed)
    for position, entry in enumerate(entries):
        missing = entry.missing_languages()
        if missing:
            result.missing[entry.key] = missing
        texts = stored_texts(entry)
        row = stored.get(entry.key)
        if row is None:
            result.created.append(entry.key)
            if not dry_run:
                session.add(
                    FaqEntry(
                        programme_id=programme_id,
                        key=entry.key,
                        category=entry.category,
                        texts=texts,
                        position=position,
                        created_at=now,
                        updated_at=now,
                    )
                )
            continue
        if row.category == entry.category and row.texts == texts:
            result.unchanged.append(entry.key)
        else:
            result.updated.append(entry.key)
            if not dry_run:
                row.category = entry.category
                row.texts = texts
                row.updated_at = now
        if not dry_run and row.position != position:
            row.position = position
    if dry_run:
        return result
    await faq_db.delete_entries(session, removed)
    await session.commit()
    return result


async def load_entries(session: AsyncSession, programme_id: int) -> list[FaqText]:
    """The programme's entries for the matcher, in the order of the organisers' file."""
    found: list[FaqText] = []
    for entry in await faq_db.entries_of_programme(session, programme_id):
        texts = _as_parsed(entry).texts
        found.append(
            FaqText(
                id=entry.key,
                category=entry.category,
                questions={code: text.question for code, text in texts.items()},
                answers={code: text.answer for code, text in texts.items()},
                keywords={code: tuple(text.keywords) for code, text in texts.items()},
            )
        )
    return found


# --- texts for organisers ------------------------------------------------------------------


def describe_problems(problems: Sequence[FaqProblem], limit: int = MESSAGE_LIMIT) -> str:
    """The file's problems as plain text of at most ``limit`` characters (not escaped)."""
    header = ngettext(
        "The FAQ was not imported, nothing changed: {count} problem. Fix it and send the file "
        "again.",
        "The FAQ was not imported, nothing changed: {count} problems. Fix them and send the "
        "file again.",
        len(problems),
    ).format(count=len(problems))
    return problem_list(header, [item.message for item in problems], limit)


def describe_import(result: FaqImport, *, done: bool) -> str:
    """Figures of an import (``done``) or of what confirming would do, and missing languages."""
    head = (
        _("FAQ of {programme} imported.") if done else _("FAQ for {programme}, ready to import:")
    ).format(programme=result.programme_code)
    lines = [
        head,
        _("New: {created}").format(created=len(result.created)),
        _("Updated: {updated}").format(updated=len(result.updated)),
        _("Unchanged: {unchanged}").format(unchanged=len(result.unchanged)),
        _("Removed: {removed}").format(removed=len(result.removed)),
    ]
    if result.removed:
        lines.append(_("Removed entries: {ids}").format(ids=", ".join(result.removed)))
    if result.missing:
        lines.append(_("Entries missing languages:"))
        lines.extend(
            f"  {key}: {', '.join(codes)}" for key, codes in sorted(result.missing.items())
        )
    else:
        lines.append(_("Every entry is in every language."))
    return "\n".join(lines)


# --- export --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Writes texts with line breaks as ``|`` blocks, the way people write them by hand."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def yaml_bytes(entries: Sequence[ParsedEntry], programme_code: str) -> bytes:
    """The entries in the shape of ``examples/faq.yaml``."""
    data: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {"id": entry.key, "category": entry.category}
        for code, text in entry.texts.items():
            language: dict[str, Any] = {"q": text.question, "a": text.answer}
            if text.keywords:
                language["keywords"] = list(text.keywords)
            item[code] = language
        data.append(item)
    body = yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1_000_000, indent=2
    )
    head = f"# FAQ of {programme_code}: trainee-bot faq import FILE --programme {programme_code}\n"
    return (head + body).encode("utf-8")


def xlsx_bytes(entries: Sequence[ParsedEntry]) -> bytes:
    """The entries as a workbook, one row per entry and language."""
    # The import takes the apostrophe that neutralises a formula off again.
    rows = [
        (entry.key, entry.category, code, text.question, text.answer, "; ".join(text.keywords))
        for entry in entries
        for code, text in entry.texts.items()
    ]
    return write_workbook({"FAQ": (list(XLSX_HEADER), rows)})


async def export_faq(session: AsyncSession, programme_code: str, fmt: str) -> bytes:
    """The programme's FAQ as ``yaml`` or ``xlsx`` bytes; raises :class:`UnknownProgramme`."""
    if fmt not in FORMATS.values():
        raise ValueError(f"unknown format {fmt!r}")
    programme_id = await programme_id_of(session, programme_code)
    entries = [
        _as_parsed(entry) for entry in await faq_db.entries_of_programme(session, programme_id)
    ]
    if fmt == "xlsx":
        return xlsx_bytes(entries)
    return yaml_bytes(entries, programme_code)
