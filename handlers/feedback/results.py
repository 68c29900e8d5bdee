"""Feedback results for organisers: ``/results [COHORT] [SESSION-ID] [xlsx]``.

The summary comes as a message, then the chart as a photo, with a button for the workbook
(``/results COHORT xlsx`` sends it straight away). Organisers see only the cohorts of the
programmes they organise; with several and none named, the cohorts come as buttons. The
report is read, then the transaction ends, then the chart and the workbook are drawn in a
worker thread (matplotlib and openpyxl are slow enough to hold up other people's updates).
"""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import gettext as _
from bot.services import registration as reg
from bot.services import roles
from bot.services.feedback.results import Report, build_report
from handlers.filters import IsAnyAdmin
from handlers.text import h

#: Cohorts offered as buttons at most (more: name one).
MAX_COHORT_BUTTONS = 30


class ResultsCohort(CallbackData, prefix="fbrc"):
    """A cohort picked from the list."""

    cohort_id: int


class ResultsFile(CallbackData, prefix="fbrx"):
    """The workbook of a cohort's results (``session_id`` 0: the whole cohort)."""

    cohort_id: int
    session_id: int


def _usage() -> str:
    return _("Usage: /results [COHORT] [SESSION-ID] [xlsx]")


def _file_button(cohort_id: int, session_id: int | None) -> InlineKeyboardMarkup:
    data = ResultsFile(cohort_id=cohort_id, session_id=session_id or 0).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="📥 " + _("Workbook (XLSX)"), callback_data=data)]
        ]
    )


def _file_name(report: Report) -> str:
    suffix = f"-s{report.session.session_id}" if report.session is not None else ""
    return f"feedback-{report.cohort_code}{suffix}.xlsx"


async def _send_report(
    message: Message, session: AsyncSession, cohort_id: int, session_id: int | None, locale: str
) -> None:
    report = await build_report(session, cohort_id, session_id)
    await session.commit()  # a read: the transaction ends before Telegram is called
    if report is None:
        await message.answer(_("There is no such session in this cohort."))
        return
    if not report.responses:
        await message.answer(report.text(locale))
        return
    await message.answer(report.text(locale), reply_markup=_file_button(cohort_id, session_id))
    chart = await asyncio.to_thread(report.chart_png, locale)
    if chart is not None:
        await message.answer_photo(
            BufferedInputFile(chart, filename=f"feedback-{report.cohort_code}.png")
        )


async def _send_workbook(
    message: Message, session: AsyncSession, cohort_id: int, session_id: int | None, locale: str
) -> None:
    report = await build_report(session, cohort_id, session_id)
    await session.commit()
    if report is None:
        await message.answer(_("There is no such session in this cohort."))
        return
    data = await asyncio.to_thread(report.to_xlsx, locale)
    await message.answer_document(
        BufferedInputFile(data, filename=_file_name(report)),
        caption=_(
            "Feedback of {cohort}: summary, answers per question, typed answers, raw answers."
        ).format(cohort=h(report.cohort_code)),
    )


async def cmd_results(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    admin_scope: set[int] | None,
    locale: str,
) -> None:
    words = (command.args or "").split()
    workbook = bool(words) and words[-1].lower() == "xlsx"
    if workbook:
        words = words[:-1]
    if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
        await message.answer(_usage())
        return
    if not words:
        cohorts = await reg.cohorts_in_scope(session, admin_scope)
        await session.commit()
        if not cohorts:
            await message.answer(_("You organise no cohort yet."))
            return
        if len(cohorts) > 1:
            rows = [
                [
                    InlineKeyboardButton(
                        text=f"{cohort.code} · {cohort.name}"[:60] if cohort.name else cohort.code,
                        callback_data=ResultsCohort(cohort_id=cohort.id or 0).pack(),
                    )
                ]
                for cohort in cohorts[:MAX_COHORT_BUTTONS]
            ]
            await message.answer(
                _("Which cohort's feedback? Or send /results COHORT."),
                reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
            )
            return
        chosen = cohorts[0]
    else:
        found = await reg.cohort_in_scope(session, words[0], admin_scope)
        if found is None:
            await message.answer(await roles.cohort_outside_scope(session, words[0], admin_scope))
            return
        chosen = found
    if chosen.id is None:
        return
    session_id = int(words[1]) if len(words) == 2 else None
    send = _send_workbook if workbook else _send_report
    await send(message, session, chosen.id, session_id, locale)


async def _picked_message(
    query: CallbackQuery, session: AsyncSession, cohort_id: int, scope: set[int] | None
) -> Message | None:
    """The message under the button, when the cohort is still the organiser's."""
    cohort = await roles.cohort_by_id_in_scope(session, cohort_id, scope)
    message = query.message if isinstance(query.message, Message) else None
    if cohort is None or message is None:
        await query.answer(_("This button is no longer active."))
        return None
    await query.answer()
    return message


async def on_cohort_picked(
    query: CallbackQuery,
    callback_data: ResultsCohort,
    session: AsyncSession,
    admin_scope: set[int] | None,
    locale: str,
) -> None:
    message = await _picked_message(query, session, callback_data.cohort_id, admin_scope)
    if message is not None:
        await _send_report(message, session, callback_data.cohort_id, None, locale)


async def on_file_asked(
    query: CallbackQuery,
    callback_data: ResultsFile,
    session: AsyncSession,
    admin_scope: set[int] | None,
    locale: str,
) -> None:
    message = await _picked_message(query, session, callback_data.cohort_id, admin_scope)
    if message is not None:
        await _send_workbook(
            message, session, callback_data.cohort_id, callback_data.session_id or None, locale
        )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="feedback.results")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(cmd_results, Command("results"))
    router.callback_query.register(on_cohort_picked, ResultsCohort.filter())
    router.callback_query.register(on_file_asked, ResultsFile.filter())
    return router
