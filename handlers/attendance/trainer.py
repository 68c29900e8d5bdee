"""The trainer's side of attendance: ``/attendance`` (the sheet), ``/code``, ``/attendance_report``.

Trainers are not necessarily organisers, so this router has no admin filter: each command
asks :func:`bot.services.attendance.trainers.access_of` what the person may see and refuses
anyone who trains and organises nothing. With several cohorts and no code given, the person
picks one.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
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

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import people, roles
from bot.services.attendance import checkin, codes, exports, marking, report, trainers
from bot.services.attendance.marking import MarkOutcome, Sheet
from bot.services.timetable.views import Viewer, local_time, when_text
from handlers.attendance.common import icon, presence_label, source_note
from handlers.text import h

MESSAGE_LIMIT = 4096
#: Telegram allows 100 buttons under a message; one row is "everyone present".
MAX_PEOPLE_BUTTONS = 96
MAX_COHORT_BUTTONS = 30


class PickCohort(CallbackData, prefix="atc"):
    action: str  # "s" the sheet, "k" the code, "r" the report
    cohort_id: int


class Toggle(CallbackData, prefix="atm"):
    session_id: int
    user_id: int


class AllPresent(CallbackData, prefix="ata"):
    session_id: int


class RefreshCode(CallbackData, prefix="atr"):
    session_id: int
    minute: int  # the minute of the code shown: a press within it changes nothing


def refused_text() -> str:
    """What someone who trains and organises nothing is told."""
    return _("Only a cohort's trainers and its programme's organisers can do this.")


# --------------------------------------------------------------------------------------------
# Choosing the cohort


async def _cohort(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    command: CommandObject,
    action: str,
) -> tuple[trainers.Cohort, trainers.Access] | None:
    """The cohort the command is about; asks which (or refuses) and returns None otherwise."""
    if message.from_user is None:
        return None
    access = await trainers.access_of(session, message.from_user.id, settings)
    if not access.anything:
        await message.answer(refused_text())
        return None
    cohorts = [pair[0] for pair in await trainers.cohorts_of(session, access)]
    code = (command.args or "").strip()
    if code:
        chosen = [c for c in cohorts if c.code.casefold() == code.casefold()]
        if not chosen:
            refusal = _("{cohort} is not one of your cohorts.").format(cohort=h(code))
            if cohorts:
                refusal += " " + _("Yours: {cohorts}.").format(
                    cohorts=h(roles.listed([c.code for c in cohorts[:MAX_COHORT_BUTTONS]]))
                )
            await message.answer(refusal)
            return None
        return chosen[0], access
    if not cohorts:
        await message.answer(_("You have no cohort yet."))
        return None
    if len(cohorts) == 1:
        return cohorts[0], access
    rows = [
        [
            InlineKeyboardButton(
                text=f"{c.code} {c.name}"[:60],
                callback_data=PickCohort(action=action, cohort_id=c.id or 0).pack(),
            )
        ]
        for c in cohorts[:MAX_COHORT_BUTTONS]
    ]
    await message.answer(
        _("Which cohort?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )
    return None


# --------------------------------------------------------------------------------------------
# The sheet


def sheet_text(sheet: Sheet, viewer: Viewer) -> str:
    """The sheet: the session, each trainee with their mark, the counts."""
    lines = [
        f"📋 <b>{h(sheet.title)}</b> ({h(sheet.cohort_code)})",
        when_text(sheet.starts_at, False, viewer),
        "",
    ]
    if not sheet.rows:
        lines.append(_("The cohort has no active trainees."))
    for row in sheet.rows:
        lines.append(
            f"{icon(row.status)} {h(row.name)} — {presence_label(row.status)}"
            + source_note(row.source)
        )
    lines += [
        "",
        _(
            "{present} present, {late} late, {absent} absent, {excused} excused, "
            "{unmarked} unmarked"
        ).format(
            present=sheet.count("present"),
            late=sheet.count("late"),
            absent=sheet.count("absent"),
            excused=sheet.count("excused"),
            unmarked=sheet.count(None),
        ),
        _("Press a name to change the mark: present, late, absent, excused."),
    ]
    text = "\n".join(lines)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def sheet_keyboard(sheet: Sheet) -> InlineKeyboardMarkup:
    """A button per trainee (two a row), and "everyone present"."""
    buttons = [
        InlineKeyboardButton(
            text=f"{icon(row.status)} {row.name}"[:40],
            callback_data=Toggle(session_id=sheet.session_id, user_id=row.user_id).pack(),
        )
        for row in sheet.rows[:MAX_PEOPLE_BUTTONS]
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                text="✅ " + _("Everyone present"),
                callback_data=AllPresent(session_id=sheet.session_id).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _viewer(user: people.Person | None, locale: str, sheet: Sheet) -> Viewer:
    return Viewer(locale, people.zone_of(user), sheet.home_zone)


async def _send_sheet(
    message: Message,
    session: AsyncSession,
    cohort: trainers.Cohort,
    access: trainers.Access,
    user: people.Person | None,
    locale: str,
    now: datetime,
) -> None:
    assert cohort.id is not None
    row = await marking.current_session(session, cohort.id, now)
    if row is None or row.id is None:
        await message.answer(
            _("No session of {cohort} has started yet.").format(cohort=h(cohort.code))
        )
        return
    found = await marking.sheet(session, row.id, locale, access)
    if not isinstance(found, Sheet):
        await message.answer(refused_text())
        return
    await message.answer(
        sheet_text(found, _viewer(user, locale, found)), reply_markup=sheet_keyboard(found)
    )


async def cmd_attendance(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user: people.Person | None,
    locale: str,
) -> None:
    chosen = await _cohort(message, session, settings, command, "s")
    if chosen is not None:
        await _send_sheet(message, session, chosen[0], chosen[1], user, locale, clock.now())


async def _refresh_sheet(
    query: CallbackQuery,
    session: AsyncSession,
    session_id: int,
    access: trainers.Access,
    user: people.Person | None,
    locale: str,
    note: str | None = None,
) -> None:
    found = await marking.sheet(session, session_id, locale, access)
    if not isinstance(found, Sheet):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(note)
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # two presses at once: nothing new to show
            await query.message.edit_text(
                sheet_text(found, _viewer(user, locale, found)), reply_markup=sheet_keyboard(found)
            )


async def on_toggle(
    query: CallbackQuery,
    callback_data: Toggle,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user: people.Person | None,
    locale: str,
) -> None:
    access = await trainers.access_of(session, query.from_user.id, settings)
    outcome = await marking.toggle(
        session,
        session_id=callback_data.session_id,
        user_id=callback_data.user_id,
        actor_id=query.from_user.id,
        now=clock.now(),
        access=access,
    )
    if outcome == MarkOutcome.UNCHANGED:
        await query.answer()
        return
    if outcome != MarkOutcome.DONE:
        await query.answer(
            refused_text()
            if outcome == MarkOutcome.FORBIDDEN
            else _("This button is no longer active.")
        )
        return
    await _refresh_sheet(query, session, callback_data.session_id, access, user, locale)


async def on_all_present(
    query: CallbackQuery,
    callback_data: AllPresent,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user: people.Person | None,
    locale: str,
) -> None:
    access = await trainers.access_of(session, query.from_user.id, settings)
    outcome = await marking.everyone_present(
        session,
        session_id=callback_data.session_id,
        actor_id=query.from_user.id,
        now=clock.now(),
        access=access,
    )
    if isinstance(outcome, MarkOutcome):
        await query.answer(
            refused_text()
            if outcome == MarkOutcome.FORBIDDEN
            else _("This button is no longer active.")
        )
        return
    if outcome == 0:
        await query.answer(_("Nothing to change."))
        return
    note = _("{count} marked present.").format(count=outcome)
    await _refresh_sheet(query, session, callback_data.session_id, access, user, locale, note)


# --------------------------------------------------------------------------------------------
# The code


async def _code_view(
    session: AsyncSession,
    settings: Settings,
    cohort: trainers.Cohort,
    user: people.Person | None,
    locale: str,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup | None]:
    assert cohort.id is not None
    row = await marking.current_session(session, cohort.id, now)
    if row is None or row.id is None or not checkin.is_open(row, now):
        return (
            _("No session of {cohort} has check-in open now.").format(cohort=h(cohort.code)),
            None,
        )
    found = await marking.sheet(session, row.id, locale)
    title = found.title if isinstance(found, Sheet) else ""
    home = found.home_zone if isinstance(found, Sheet) else "UTC"
    secret = await codes.code_secret(session, settings, now)
    await session.commit()
    shown = codes.current_code(secret, row.id, now)
    viewer = Viewer(locale, people.zone_of(user), home)
    _opens, closes = checkin.window_of(row.starts_at)
    text = "\n".join(
        [
            _("Check-in code for {title} ({cohort}):").format(
                title=f"<b>{h(title)}</b>", cohort=h(cohort.code)
            ),
            f"<b>{shown.code}</b>",
            _(
                "It changes every minute, next at {time}; the previous code still works for "
                "a minute. Check-in closes at {closes}."
            ).format(time=local_time(shown.rotates_at, viewer), closes=local_time(closes, viewer)),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="🔄 " + _("Refresh"),
                    callback_data=RefreshCode(
                        session_id=row.id, minute=codes.minute_of(now)
                    ).pack(),
                )
            ]
        ]
    )
    return text, keyboard


async def cmd_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user: people.Person | None,
    locale: str,
) -> None:
    chosen = await _cohort(message, session, settings, command, "k")
    if chosen is None:
        return
    text, keyboard = await _code_view(session, settings, chosen[0], user, locale, clock.now())
    await message.answer(text, reply_markup=keyboard)


async def on_refresh_code(
    query: CallbackQuery,
    callback_data: RefreshCode,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user: people.Person | None,
    locale: str,
) -> None:
    access = await trainers.access_of(session, query.from_user.id, settings)
    found = await marking.session_and_cohort(session, callback_data.session_id)
    if found is None or not access.covers(found[1]):
        await query.answer(_("This button is no longer active."))
        return
    now = clock.now()
    if codes.minute_of(now) == callback_data.minute:
        await query.answer(_("The code has not changed yet."))
        return
    text, keyboard = await _code_view(session, settings, found[1], user, locale, now)
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # two presses at once: nothing new to show
            await query.message.edit_text(text, reply_markup=keyboard)


# --------------------------------------------------------------------------------------------
# The report


def _chunks(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + 1 + len(line) > MESSAGE_LIMIT:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*out, current] if current else out


async def _send_report(
    message: Message, session: AsyncSession, cohort: trainers.Cohort, locale: str, now: datetime
) -> None:
    found = await report.report_of_code(session, cohort.code, now, locale)
    if found is None:
        await message.answer(_("There is no cohort {cohort}.").format(cohort=h(cohort.code)))
        return
    for text in _chunks(report.report_text(found)):
        await message.answer(text)
    chart = await asyncio.to_thread(exports.chart_png, found, locale)
    if chart is not None:
        await message.answer_photo(
            BufferedInputFile(chart, filename=f"attendance-{found.cohort_code}.png")
        )
    workbook = await asyncio.to_thread(exports.to_xlsx, found, locale)
    await message.answer_document(
        BufferedInputFile(workbook, filename=f"attendance-{found.cohort_code}.xlsx"),
        caption=_("Attendance of {cohort}: per session and per trainee.").format(
            cohort=h(found.cohort_code)
        ),
    )


async def cmd_report(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    locale: str,
) -> None:
    chosen = await _cohort(message, session, settings, command, "r")
    if chosen is not None:
        await _send_report(message, session, chosen[0], locale, clock.now())


async def on_pick_cohort(
    query: CallbackQuery,
    callback_data: PickCohort,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user: people.Person | None,
    locale: str,
) -> None:
    access = await trainers.access_of(session, query.from_user.id, settings)
    cohorts = {c.id: c for c, _p in await trainers.cohorts_of(session, access)}
    cohort = cohorts.get(callback_data.cohort_id)
    if cohort is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    now = clock.now()
    if callback_data.action == "s":
        await _send_sheet(query.message, session, cohort, access, user, locale, now)
    elif callback_data.action == "k":
        text, keyboard = await _code_view(session, settings, cohort, user, locale, now)
        await query.message.answer(text, reply_markup=keyboard)
    else:
        await _send_report(query.message, session, cohort, locale, now)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="attendance.trainer")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_attendance, Command("attendance"))
    router.message.register(cmd_code, Command("code"))
    router.message.register(cmd_report, Command("attendance_report"))
    router.callback_query.register(on_pick_cohort, PickCohort.filter())
    router.callback_query.register(on_toggle, Toggle.filter())
    router.callback_query.register(on_all_present, AllPresent.filter())
    router.callback_query.register(on_refresh_code, RefreshCode.filter())
    return router
