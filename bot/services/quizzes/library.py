"""Importing quiz files into a programme (idempotent), exporting them as a workbook, and the
texts in a reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import quizzes as quiz_db
from bot.db import registration as registration_db
from bot.db.quizzes import Quiz
from bot.i18n import gettext as _
from bot.services.quizzes import sheets
from bot.services.quizzes.files import QuizFile, QuizSpec
from bot.services.quizzes.reading import read_quiz_file


@dataclass(slots=True)
class ImportResult:
    """What an import did, or why it changed nothing."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file went in."""
        return not self.errors


def pick(texts: dict[str, Any], locale: str, default_locale: str) -> Any:
    """The reader's language, else the programme's default, else English, else any."""
    for lang in (locale, default_locale, "en"):
        value = texts.get(lang)
        if value:
            return value
    return next((value for value in texts.values() if value), None)


def question_in(question: dict[str, Any], locale: str, default_locale: str) -> dict[str, Any]:
    """A question's text, options and explanation in one language, each falling back alone
    (the options always come from one language, so their order never mixes)."""
    texts: dict[str, dict[str, Any]] = question.get("texts", {})
    part = {
        name: pick({lang: t.get(name) for lang, t in texts.items()}, locale, default_locale)
        for name in ("q", "options", "explanation")
    }
    return part


def quiz_title(quiz: Quiz, locale: str, default_locale: str) -> str:
    """A quiz's title in the reader's language."""
    return str(pick(quiz.titles, locale, default_locale) or quiz.key)


async def import_quizzes(
    session: AsyncSession,
    data: bytes,
    programme_code: str | None,
    now: datetime,
    *,
    dry_run: bool = False,
) -> ImportResult:
    """Import a quiz file into a programme (the file's ``programme`` if none given); commits
    only when the whole file is good. Importing the same file again changes nothing."""
    result = ImportResult()
    parsed: QuizFile = read_quiz_file(data)
    if parsed.errors:
        result.errors = parsed.errors
        return result
    code = programme_code or parsed.programme
    if not code:
        result.errors.append(_("Say which programme the quizzes are for (--programme CODE)."))
        return result
    if programme_code and parsed.programme and parsed.programme.lower() != programme_code.lower():
        result.errors.append(
            _("The file is for programme {file}, not {given}.").format(
                file=parsed.programme, given=programme_code
            )
        )
        return result
    programme = await registration_db.get_programme_by_code(session, code)
    if programme is None or programme.id is None:
        result.errors.append(_("No programme has the code {code}.").format(code=code))
        return result
    existing = {
        quiz.key.lower(): quiz for quiz in await quiz_db.quizzes_of_programme(session, programme.id)
    }
    for position, spec in enumerate(parsed.quizzes):
        values: dict[str, Any] = {
            "titles": spec.titles,
            "attach": spec.attach,
            "session_ref": spec.session_ref,
            "delay_minutes": spec.delay_minutes,
            "open_hours": spec.open_hours,
            "questions": spec.questions,
            "position": position,
        }
        quiz = existing.get(spec.key.lower())
        if quiz is None:
            session.add(
                Quiz(
                    programme_id=programme.id,
                    key=spec.key,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            result.created.append(spec.key)
            continue
        if all(getattr(quiz, name) == value for name, value in values.items()):
            result.unchanged.append(spec.key)
            continue
        for name, value in values.items():
            setattr(quiz, name, value)
        quiz.updated_at = now
        session.add(quiz)
        result.updated.append(spec.key)
    if dry_run:
        await session.rollback()
    else:
        await session.commit()
    return result


def spec_of(quiz: Quiz) -> QuizSpec:
    """A stored quiz as a file would give it."""
    return QuizSpec(
        key=quiz.key,
        titles=dict(quiz.titles),
        attach=quiz.attach,
        session_ref=quiz.session_ref,
        delay_minutes=quiz.delay_minutes,
        open_hours=quiz.open_hours,
        questions=list(quiz.questions),
    )


async def export_quizzes(session: AsyncSession, programme_code: str) -> bytes | None:
    """The programme's quizzes as a workbook (:mod:`bot.services.quizzes.sheets`), read back
    to the same quizzes; None when no programme has this code."""
    programme = await registration_db.get_programme_by_code(session, programme_code)
    if programme is None or programme.id is None:
        return None
    quizzes = await quiz_db.quizzes_of_programme(session, programme.id)
    return sheets.workbook_bytes([spec_of(quiz) for quiz in quizzes], programme.code)


def describe(result: ImportResult, code: str, *, done: bool) -> str:
    """What an import did (or, before Confirm, would do), as plain text."""
    head = (
        _("Quizzes of {code} imported.") if done else _("Quizzes of {code}: confirm to import.")
    ).format(code=code)
    lines = [head]
    for label, keys in (
        (_("New"), result.created),
        (_("Updated"), result.updated),
        (_("Unchanged"), result.unchanged),
    ):
        if keys:
            lines.append(f"{label}: {len(keys)} ({', '.join(keys)})")
    return "\n".join(lines)
