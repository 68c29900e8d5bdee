"""A programme's feedback forms as stored: importing a file over them, previewing, exporting.

An import is all or nothing: a file with any problem changes nothing. Forms are matched across
imports by their id; a form whose title, questions and settings are the same is unchanged
(its place in the file is kept without counting as a change). Forms the file does not have
are kept as they are, after the file's. One commit. An export read back in is unchanged,
whether YAML or XLSX. An unknown programme is an outcome (:attr:`FormsOutcome.unknown`), not
an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import feedback as feedback_db
from bot.db import registration as reg_db
from bot.db.feedback import FeedbackForm, FormTrigger, QuestionKind
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.markup import problem_list
from bot.services.feedback import sheets
from bot.services.feedback.files import forms_yaml, parse_forms
from bot.services.feedback.forms import (
    LANGUAGES,
    FormsProblem,
    ParsedForm,
    ParsedQuestion,
    QuestionText,
)

#: Export formats by file suffix.
FORMATS: Final = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx"}
#: Telegram's limit for one message.
MESSAGE_LIMIT: Final = 4096


@dataclass(frozen=True)
class FormsImport:
    """What an import did (or would do), by form id in file order; ``kept``: stored forms the
    file does not have, left as they are."""

    programme_code: str
    forms: list[ParsedForm] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the import changes anything stored."""
        return bool(self.created or self.updated)

    def as_json(self) -> dict[str, Any]:
        """The figures for scripts (``trainee-bot feedback import --json``)."""
        return {
            "programme": self.programme_code,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept": self.kept,
            "forms": {
                form.key: {
                    "trigger": form.trigger.value,
                    "questions": len(form.questions),
                    "languages": form.languages(),
                }
                for form in self.forms
            },
        }


@dataclass(frozen=True, slots=True)
class FormsOutcome:
    """Either the import's figures or the problems (never both); ``unknown`` when no
    programme has the code (the one problem then says so)."""

    problems: list[FormsProblem]
    result: FormsImport | None = None
    unknown: bool = False

    @property
    def ok(self) -> bool:
        """Whether the file was (or can be) imported."""
        return not self.problems and self.result is not None


def _unknown(code: str) -> FormsOutcome:
    message = _("There is no programme {code}.").format(code=code)
    return FormsOutcome(problems=[FormsProblem(message)], unknown=True)


def form_from_row(row: FeedbackForm) -> ParsedForm:
    """A stored form in the shape a file gives (for exports and comparisons)."""
    questions: list[ParsedQuestion] = []
    for item in row.questions:
        texts = item.get("texts") or {}
        questions.append(
            ParsedQuestion(
                key=str(item.get("id", "")),
                kind=QuestionKind(str(item.get("kind"))),
                skip=bool(item.get("skip", False)),
                texts={
                    code: QuestionText(
                        str(texts[code].get("q", "")),
                        tuple(str(option) for option in texts[code].get("options") or ()),
                    )
                    for code in LANGUAGES
                    if code in texts
                },
            )
        )
    return ParsedForm(
        key=row.key,
        titles={code: row.titles[code] for code in LANGUAGES if code in row.titles},
        trigger=FormTrigger(row.trigger),
        trigger_values=tuple(row.trigger_values),
        questions=tuple(questions),
        delay_minutes=row.delay_minutes,
        open_hours=row.open_hours,
        anonymous=row.anonymous,
        nudges=row.nudges,
        nudge_every_hours=row.nudge_every_hours,
    )


def _stored_columns(row: FeedbackForm) -> dict[str, Any]:
    return {
        "titles": row.titles,
        "questions": row.questions,
        "trigger": row.trigger,
        "trigger_values": row.trigger_values,
        "delay_minutes": row.delay_minutes,
        "open_hours": row.open_hours,
        "anonymous": row.anonymous,
        "nudges": row.nudges,
        "nudge_every_hours": row.nudge_every_hours,
    }


async def import_forms(
    session: AsyncSession,
    programme_code: str,
    data: bytes,
    filename: str,
    now: datetime,
    *,
    dry_run: bool = False,
) -> FormsOutcome:
    """Read a forms file and store its forms for the programme, all or nothing; commits once.

    A file with problems comes back with every one of them (texts in the current locale) and
    nothing is written; so does ``dry_run``, with the figures an import would have.
    """
    programme = await reg_db.get_programme_by_code(session, programme_code)
    if programme is None or programme.id is None:
        return _unknown(programme_code)
    parsed = parse_forms(data, filename, default_language=programme.default_locale)
    if not parsed.ok:
        return FormsOutcome(problems=list(parsed.problems))
    if parsed.programme is not None and parsed.programme != programme.code:
        message = _(
            "The file is for the programme {file}, not {code}; change its “programme:” line "
            "or import it into {file}."
        ).format(file=parsed.programme, code=programme.code)
        return FormsOutcome(problems=[FormsProblem(message)])
    try:
        result = await _store(
            session, programme.id, programme.code, parsed.forms, now, dry_run=dry_run
        )
    except Exception:
        await session.rollback()
        raise
    return FormsOutcome(problems=[], result=result)


async def preview(
    session: AsyncSession, programme_code: str, data: bytes, filename: str, now: datetime
) -> FormsOutcome:
    """What importing the file would do, changing nothing (the bot's Confirm step)."""
    return await import_forms(session, programme_code, data, filename, now, dry_run=True)


async def _store(
    session: AsyncSession,
    programme_id: int,
    programme_code: str,
    forms: Sequence[ParsedForm],
    now: datetime,
    *,
    dry_run: bool,
) -> FormsImport:
    rows = await feedback_db.forms_of_programme(session, programme_id)
    stored = {row.key: row for row in rows}
    keys = {form.key for form in forms}
    result = FormsImport(
        programme_code=programme_code,
        forms=list(forms),
        kept=[row.key for row in rows if row.key not in keys],
    )
    for position, form in enumerate(forms):
        columns = form.columns()
        row = stored.get(form.key)
        if row is None:
            result.created.append(form.key)
            if not dry_run:
                session.add(
                    FeedbackForm(
                        programme_id=programme_id,
                        key=form.key,
                        position=position,
                        created_at=now,
                        updated_at=now,
                        **columns,
                    )
                )
            continue
        if _stored_columns(row) == columns:
            result.unchanged.append(form.key)
        else:
            result.updated.append(form.key)
            if not dry_run:
                for name, value in columns.items():
                    setattr(row, name, value)
                row.updated_at = now
        if not dry_run and row.position != position:
            row.position = position
    if dry_run:
        return result
    # Forms left out of the file keep their order, after the file's.
    for offset, key in enumerate(result.kept):
        if stored[key].position != len(forms) + offset:
            stored[key].position = len(forms) + offset
    await session.commit()
    return result


async def export_forms(session: AsyncSession, programme_code: str, fmt: str) -> bytes | None:
    """The programme's forms as ``yaml`` or ``xlsx`` bytes; None when there is no programme
    with this code."""
    if fmt not in FORMATS.values():
        raise ValueError(f"unknown format {fmt!r}")
    programme = await reg_db.get_programme_by_code(session, programme_code)
    if programme is None or programme.id is None:
        return None
    forms = [
        form_from_row(row) for row in await feedback_db.forms_of_programme(session, programme.id)
    ]
    if fmt == "xlsx":
        return sheets.workbook_bytes(forms)
    return forms_yaml(forms, programme.code)


# --- texts for organisers ------------------------------------------------------------------


def describe_problems(problems: Sequence[FormsProblem], limit: int = MESSAGE_LIMIT) -> str:
    """The file's problems as plain text of at most ``limit`` characters (not escaped)."""
    header = ngettext(
        "The feedback forms were not imported, nothing changed: {count} problem. Fix it and "
        "send the file again.",
        "The feedback forms were not imported, nothing changed: {count} problems. Fix them and "
        "send the file again.",
        len(problems),
    ).format(count=len(problems))
    return problem_list(header, [item.message for item in problems], limit)


def describe_when(form: ParsedForm) -> str:
    """When the form is sent, in a few words."""
    if form.trigger is FormTrigger.END:
        when = _("at the end of the programme")
    elif form.trigger is FormTrigger.AFTER_KIND:
        when = _("after every session of kind {kinds}").format(kinds=", ".join(form.trigger_values))
    else:
        when = ngettext(
            "after {count} named session", "after {count} named sessions", len(form.trigger_values)
        ).format(count=len(form.trigger_values))
    return _("{when}, {minutes} min after it ends, open {hours} h").format(
        when=when, minutes=form.delay_minutes, hours=form.open_hours
    )


def describe_import(result: FormsImport, *, done: bool) -> str:
    """Figures of an import (``done``) or of what confirming would do, form by form."""
    head = (
        _("Feedback forms of {programme} imported.")
        if done
        else _("Feedback forms for {programme}, ready to import:")
    ).format(programme=result.programme_code)
    lines = [
        head,
        _("New: {created}").format(created=len(result.created)),
        _("Updated: {updated}").format(updated=len(result.updated)),
        _("Unchanged: {unchanged}").format(unchanged=len(result.unchanged)),
        "",
    ]
    status = {key: _("new") for key in result.created}
    status.update({key: _("updated") for key in result.updated})
    status.update({key: _("unchanged") for key in result.unchanged})
    for form in result.forms:
        notes = [status.get(form.key, "")]
        if form.anonymous:
            notes.append(_("anonymous"))
        lines.append(f"• {form.key} ({', '.join(notes)}): {describe_when(form)}")
        skipped = sum(1 for question in form.questions if question.skip)
        lines.append(
            "  "
            + ngettext(
                "{count} question ({skip} may be skipped)",
                "{count} questions ({skip} may be skipped)",
                len(form.questions),
            ).format(count=len(form.questions), skip=skipped)
            + "; "
            + ", ".join(form.languages())
        )
    if result.kept:
        lines.append("")
        lines.append(
            _("Kept as they are (not in the file): {ids}").format(ids=", ".join(result.kept))
        )
    return "\n".join(lines)
