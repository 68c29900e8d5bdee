"""Quizzes for organisers: a quiz file (YAML with ``quizzes:``, or a workbook with the sheets
``quizzes`` and ``questions``) sent to the bot is checked and previewed, and stored on
Confirm; ``/quiz_report [COHORT]``, the report and its workbook.

The file's programme is the caption when there is one, else the file's ``programme:``, else the
only programme the organiser runs.
"""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.services import programmes, roles
from bot.services import registration as reg
from bot.services.quizzes import reading
from bot.services.quizzes.library import describe, import_quizzes
from bot.services.quizzes.report import build_report
from handlers.filters import IsAnyAdmin
from handlers.text import h
from handlers.uploads import (
    ConfirmUpload,
    KindOfDocument,
    PendingUpload,
    Previewed,
    not_imported,
    programme_for_file,
)

PENDING = PendingUpload("quizzes")
MAX_FILE_BYTES = 1_000_000


def quiz_document() -> KindOfDocument:
    """A document that is a quiz file (YAML with ``quizzes:``, or its workbook)."""
    return KindOfDocument(
        (".yaml", ".yml", ".xlsx"),
        reading.looks_like_quizzes,
        max_bytes=MAX_FILE_BYTES,
        default_name="quiz.yaml",
    )


async def on_quiz_file(
    message: Message,
    file_bytes: bytes,
    file_name: str,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    admin_scope: set[int] | None,
) -> None:
    summaries = await programmes.summarise(session, admin_scope)
    codes = {p.code for p in summaries}
    caption = (message.caption or "").strip()
    named = reading.read_quiz_file(file_bytes).programme if not caption else None
    code = programme_for_file(codes, caption, named)
    if code is None:
        listed = ", ".join(h(p.code) for p in summaries[:20]) or "—"
        await message.answer(
            _(
                "Which programme are these quizzes for? Send the file again with the "
                "programme's code as its caption: {codes}"
            ).format(codes=listed)
        )
        return
    result = await import_quizzes(session, file_bytes, code, clock.now(), dry_run=True)
    if not result.ok:
        await message.answer(not_imported(file_name, "\n".join(result.errors[:30])))
        return
    summary = describe(result, code, done=False)
    await PENDING.offer(message, state, Previewed(code, file_name, file_bytes), summary)


async def on_confirm(
    query: CallbackQuery,
    callback_data: ConfirmUpload,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    admin_scope: set[int] | None,
) -> None:
    async def run(session: AsyncSession, file: Previewed) -> str:
        result = await import_quizzes(session, file.data, file.code, clock.now())
        if not result.ok:
            return h("\n".join(result.errors[:30]))
        return h(describe(result, file.code, done=True))

    await PENDING.settle(query, callback_data, state, session, admin_scope, run)


async def cmd_quiz_report(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    admin_scope: set[int] | None,
    locale: str,
) -> None:
    words = (command.args or "").split()
    if len(words) > 1:
        await message.answer(_("Usage: /quiz_report [COHORT]"))
        return
    if words:
        cohort = await reg.cohort_in_scope(session, words[0], admin_scope)
        if cohort is None:
            await message.answer(await roles.cohort_outside_scope(session, words[0], admin_scope))
            return
    else:
        cohorts = await reg.cohorts_in_scope(session, admin_scope)
        if not cohorts:
            await message.answer(_("You organise no cohort yet."))
            return
        if len(cohorts) > 1:
            codes = roles.listed([c.code for c in cohorts[:30]])
            await message.answer(
                _("Which cohort? Send /quiz_report COHORT ({codes}).").format(codes=codes)
            )
            return
        cohort = cohorts[0]
    assert cohort.id is not None
    report = await build_report(session, cohort.id, clock.now(), locale)
    await session.commit()
    if report is None:
        return
    await message.answer(report.text())
    if report.questions:
        data = await asyncio.to_thread(report.to_xlsx)
        await message.answer_document(
            BufferedInputFile(data, filename=f"quizzes-{report.cohort_code}.xlsx")
        )


def build_router() -> Router:
    """Quiz files and ``/quiz_report`` for organisers."""
    router = Router(name="quizzes.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(cmd_quiz_report, Command("quiz_report"))
    router.message.register(on_quiz_file, F.document, quiz_document())
    router.callback_query.register(on_confirm, ConfirmUpload.filter(F.kind == PENDING.kind))
    return router
