"""Quizzes for organisers: ``/quiz_report [COHORT]``, the report as a message and a workbook."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.services import registration as reg
from bot.services import roles
from bot.services.quizzes.report import build_report
from handlers.filters import IsAnyAdmin


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
    """``/quiz_report`` for organisers."""
    router = Router(name="quizzes.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.message.register(cmd_quiz_report, Command("quiz_report"))
    return router
