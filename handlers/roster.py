"""The roster, organiser side: /roster exports a cohort's roster with each person's status (and
its audit log); a roster sent as a CSV or XLSX file is checked, previewed as a diff (added,
changed, no longer in the file, with a "Tell them" toggle) and applied on Confirm.

Filtered like registration's organiser router: anyone who organises something, each cohort
then checked against the person's scope.
"""

from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
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
from bot.services import registration as reg
from bot.services import roles
from bot.services.roster import MAX_FILE_BYTES
from bot.services.roster import importing as roster_import
from handlers.filters import IsAnyAdmin
from handlers.registration.common import cohort_argument
from handlers.text import h

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096


class RosterCohort(CallbackData, prefix="rimp"):
    cohort_id: int


class RosterConfirm(CallbackData, prefix="rimpok"):
    cohort_id: int
    confirm: bool
    #: Tell the people no longer in the file that they were withdrawn.
    tell: bool = True


class RosterTell(CallbackData, prefix="rimptell"):
    """The preview's "Tell them" toggle: ``tell`` is the state the press turns it to."""

    cohort_id: int
    tell: bool


#: Room kept for HTML escaping of the preview's names.
PREVIEW_LIMIT = MESSAGE_LIMIT - 300


def _preview_keyboard(cohort_id: int, tell: bool, missing: bool) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text="✅ " + _("Confirm"),
                callback_data=RosterConfirm(cohort_id=cohort_id, confirm=True, tell=tell).pack(),
            ),
            InlineKeyboardButton(
                text="✖ " + _("Cancel"),
                callback_data=RosterConfirm(cohort_id=cohort_id, confirm=False, tell=tell).pack(),
            ),
        ]
    ]
    if missing:
        rows.append(
            [
                InlineKeyboardButton(
                    text=("☑ " if tell else "☐ ") + _("Tell them"),
                    callback_data=RosterTell(cohort_id=cohort_id, tell=not tell).pack(),
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- /roster CODE [xlsx] --------------------------------------------------------------------


async def cmd_roster(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
) -> None:
    parts = (command.args or "").split()
    cohort = await cohort_argument(
        message,
        session,
        parts[0] if parts else "",
        admin_scope,
        _("Usage: /roster COHORT_CODE [xlsx]"),
    )
    if cohort is None:
        return
    fmt = "xlsx" if len(parts) > 1 and parts[1].lower() == "xlsx" else "csv"
    username = await roster_import.bot_username(session, settings)
    content = await roster_import.roster_export(session, cohort, username, fmt)
    await message.answer_document(
        BufferedInputFile(content, filename=f"roster-{cohort.code}.{fmt}"),
        caption=_("Roster of {cohort}, with each person's status.").format(cohort=h(cohort.code)),
    )
    audit_file = await roster_import.audit_export(session, cohort) if fmt == "csv" else None
    if audit_file is not None:
        await message.answer_document(
            BufferedInputFile(audit_file, filename=f"audit-{cohort.code}.csv"),
            caption=_("The audit log of {cohort}: every change to its list.").format(
                cohort=h(cohort.code)
            ),
        )


# --- a roster sent as a file ----------------------------------------------------------------


def _fmt_of(filename: str) -> str:
    return "xlsx" if filename.lower().endswith(".xlsx") else "csv"


async def on_roster_file(
    message: Message,
    session: AsyncSession,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
) -> None:
    if message.document is None:
        return
    document = message.document
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await message.answer(
            _("The file is larger than {limit} MB; split it into smaller files.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
        return
    cohorts = await reg.cohorts_in_scope(session, admin_scope)
    if not cohorts:
        await message.answer(_("You organise no cohort yet, so there is nothing to import into."))
        return
    await state.update_data(
        roster_file_id=document.file_id,
        roster_file_name=document.file_name or "roster.csv",
        roster_tell=True,
    )
    caption = (message.caption or "").strip()
    chosen = [c for c in cohorts if c.code == caption] if caption else []
    if len(cohorts) == 1 or chosen:
        cohort = (chosen or cohorts)[0]
        if cohort.id is not None:
            await _preview(message, message.bot, session, state, cohort.id, cohort.code, clock)
        return
    rows = [
        [
            InlineKeyboardButton(
                text=f"{c.code} — {c.name}"[:60] if c.name else c.code,
                callback_data=RosterCohort(cohort_id=c.id).pack(),
            )
        ]
        for c in cohorts[:50]
        if c.id is not None
    ]
    await message.answer(
        _("Which cohort is this roster for?"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def _download(bot: Bot | None, file_id: str) -> bytes | None:
    if bot is None:
        return None
    buffer = io.BytesIO()
    try:
        await bot.download(file_id, destination=buffer)
    except (TelegramAPIError, OSError) as exc:
        log.warning("roster download failed: %s", exc)
        return None
    return buffer.getvalue()


async def _checked_cohort(
    session: AsyncSession, scope: set[int] | None, cohort_id: int
) -> str | None:
    cohort = await roles.cohort_by_id_in_scope(session, cohort_id, scope)
    return None if cohort is None else cohort.code


async def _preview(
    message: Message,
    bot: Bot | None,
    session: AsyncSession,
    state: FSMContext,
    cohort_id: int,
    cohort_code: str,
    clock: Clock,
) -> None:
    data = await state.get_data()
    file_id = data.get("roster_file_id")
    if not isinstance(file_id, str):
        await message.answer(_("Send the roster file again, please."))
        return
    content = await _download(bot, file_id)
    if content is None:
        await message.answer(_("I could not download the file; send it again, please."))
        return
    outcome = await roster_import.import_roster(
        session,
        cohort_id,
        content,
        str(data.get("roster_file_name", "roster.csv")),
        clock.now(),
        dry_run=True,
    )
    if outcome.result is None:
        await state.update_data(roster_file_id=None)
        await message.answer(h(roster_import.describe_errors(outcome.errors, MESSAGE_LIMIT - 200)))
        return
    tell = data.get("roster_tell", True) is not False
    await message.answer(
        h(
            roster_import.describe_result(
                outcome.result, cohort_code, done=False, tell=tell, limit=PREVIEW_LIMIT
            )
        ),
        reply_markup=_preview_keyboard(cohort_id, tell, bool(outcome.result.missing)),
    )


async def on_roster_tell(
    query: CallbackQuery,
    callback_data: RosterTell,
    session: AsyncSession,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
) -> None:
    """Tick or untick "Tell them": the preview is shown again with the new choice."""
    code = await _checked_cohort(session, admin_scope, callback_data.cohort_id)
    data = await state.get_data()
    message = query.message if isinstance(query.message, Message) else None
    if code is None or message is None or not isinstance(data.get("roster_file_id"), str):
        await query.answer(_("This button is no longer active."))
        return
    content = await _download(bot, str(data["roster_file_id"]))
    if content is None:
        await query.answer(_("I could not download the file; send it again, please."))
        return
    outcome = await roster_import.import_roster(
        session,
        callback_data.cohort_id,
        content,
        str(data.get("roster_file_name", "roster.csv")),
        clock.now(),
        dry_run=True,
    )
    if outcome.result is None:
        await query.answer(_("This button is no longer active."))
        return
    await state.update_data(roster_tell=callback_data.tell)
    await query.answer(
        _("They will be told.") if callback_data.tell else _("They will not be told.")
    )
    await message.edit_text(
        h(
            roster_import.describe_result(
                outcome.result, code, done=False, tell=callback_data.tell, limit=PREVIEW_LIMIT
            )
        ),
        reply_markup=_preview_keyboard(callback_data.cohort_id, callback_data.tell, True),
    )


async def on_roster_cohort(
    query: CallbackQuery,
    callback_data: RosterCohort,
    session: AsyncSession,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
) -> None:
    code = await _checked_cohort(session, admin_scope, callback_data.cohort_id)
    if code is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _preview(query.message, bot, session, state, callback_data.cohort_id, code, clock)


async def on_roster_confirm(
    query: CallbackQuery,
    callback_data: RosterConfirm,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    sender: reg.Waker | None = None,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    code = await _checked_cohort(session, admin_scope, callback_data.cohort_id)
    data = await state.get_data()
    file_id = data.get("roster_file_id")
    if code is None or message is None or not isinstance(file_id, str):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if not callback_data.confirm:
        await state.update_data(roster_file_id=None)
        await message.edit_text(_("Import cancelled; nothing was changed."))
        return
    content = await _download(bot, file_id)
    if content is None:
        await message.answer(_("I could not download the file; send it again, please."))
        return
    filename = str(data.get("roster_file_name", "roster.csv"))
    outcome = await roster_import.import_roster(
        session,
        callback_data.cohort_id,
        content,
        filename,
        clock.now(),
        missing=roster_import.Withdrawal(
            withdraw=True, tell=callback_data.tell, actor_id=query.from_user.id
        ),
        settings=settings,
    )
    reg.wake(sender)
    await state.update_data(roster_file_id=None, roster_tell=None)
    if outcome.result is None:
        await message.edit_text(
            h(roster_import.describe_errors(outcome.errors, MESSAGE_LIMIT - 200))
        )
        return
    await message.edit_text(
        h(
            roster_import.describe_result(
                outcome.result, code, done=True, tell=callback_data.tell, limit=PREVIEW_LIMIT
            )
        )
    )
    username = await roster_import.bot_username(session, settings)
    if username is None:
        await message.answer(
            _("I do not know my own username yet, so I cannot make the personal links.")
        )
        return
    fmt = _fmt_of(filename)
    await message.answer_document(
        BufferedInputFile(
            roster_import.links_file(outcome.result.entries, username, fmt),
            filename=f"links-{code}.{fmt}",
        ),
        caption=_("Personal invite links for {cohort}: send each person their own.").format(
            cohort=h(code)
        ),
    )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="roster")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(cmd_roster, Command("roster"))
    router.message.register(on_roster_file, F.document)
    router.callback_query.register(on_roster_cohort, RosterCohort.filter())
    router.callback_query.register(on_roster_confirm, RosterConfirm.filter())
    router.callback_query.register(on_roster_tell, RosterTell.filter())
    return router
