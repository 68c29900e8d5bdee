"""An organiser sends a timetable file (.csv, .xlsx, .ics) in private chat: diff, then Confirm.

Super-admins and the staff of a programme (admins, coordinators) may do this, each for the
cohorts of the programmes they organise. The cohort comes from the caption (its code) or from
buttons. The file waits in the
conversation's state under a short token that the buttons carry, so a button under an older
file never applies a newer one. Files that are not timetables (rosters) pass on untouched.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.services import roles, timetable
from bot.services.timetable import MAX_FILE_BYTES
from handlers.filters import IsAnyAdmin
from handlers.text import fit_lines, h
from handlers.uploads import document_bytes

MAX_TEXT = 3900
MAX_COHORT_BUTTONS = 20
_STATE_KEY = "timetable_upload"


class PickCohort(CallbackData, prefix="ttc"):
    token: str
    cohort_id: int


class ConfirmImport(CallbackData, prefix="tta"):
    token: str
    apply: bool


class TimetableDocument(Filter):
    """A document that is a timetable; hands its bytes to the handler as ``timetable_bytes``."""

    async def __call__(
        self, message: Message, bot: Bot, downloads: dict[str, bytes] | None = None
    ) -> bool | dict[str, Any]:
        document = message.document
        if document is None or (document.file_size or 0) > MAX_FILE_BYTES:
            return False
        name = document.file_name or "timetable"
        lowered = name.lower()
        if not lowered.endswith((".csv", ".xlsx", ".xlsm", ".ics", ".ical", ".txt", ".tsv")):
            return False
        data = await document_bytes(message, bot, downloads)
        if data is None or not timetable.looks_like_timetable(data, name):
            return False
        return {"timetable_bytes": data, "timetable_name": name}


def _clip(text: str) -> str:
    return fit_lines(text.split("\n"), MAX_TEXT)


async def _remember(state: FSMContext, data: bytes, name: str) -> str:
    token = secrets.token_urlsafe(6)
    # Base64 keeps the state JSON-friendly for Redis storage; timetables are a few KB.
    await state.update_data(
        {_STATE_KEY: {"token": token, "name": name, "file": base64.b64encode(data).decode()}}
    )
    return token


async def _recall(state: FSMContext, token: str) -> tuple[bytes, str] | None:
    stored = (await state.get_data()).get(_STATE_KEY)
    if not isinstance(stored, dict) or stored.get("token") != token:
        return None
    return base64.b64decode(stored["file"]), str(stored["name"])


async def _forget(state: FSMContext) -> None:
    data = await state.get_data()
    data.pop(_STATE_KEY, None)
    await state.set_data(data)


def _confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="✅ " + _("Confirm"),
                    callback_data=ConfirmImport(token=token, apply=True).pack(),
                ),
                InlineKeyboardButton(
                    text="✖ " + _("Cancel"),
                    callback_data=ConfirmImport(token=token, apply=False).pack(),
                ),
            ]
        ]
    )


async def _preview(
    session: AsyncSession,
    state: FSMContext,
    token: str,
    data: bytes,
    name: str,
    cohort_id: int,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    try:
        preview = await timetable.preview_import(
            session, data=data, filename=name, locale=locale, cohort_id=cohort_id
        )
    except timetable.UnknownCohort:
        await _forget(state)
        return _("That cohort no longer exists. Send the file again."), None
    if not preview.ok:
        await _forget(state)
        lines = [
            _("The file {name} was not imported; nothing changed. Please fix:").format(
                name=h(name)
            ),
            "",
        ]
        lines += [h(line) for line in timetable.format_errors(preview.errors)]
        return _clip("\n".join(lines)), None
    header = _("Timetable of {cohort} from {name} (times in {zone}):").format(
        cohort=h(preview.cohort_code), name=h(name), zone=h(preview.home_zone)
    )
    if preview.diff is not None and preview.diff.is_empty:
        await _forget(state)
        return _clip(f"{header}\n\n{h(preview.text)}"), None
    await state.update_data(
        {
            _STATE_KEY: {
                **(await state.get_data())[_STATE_KEY],
                "cohort_id": cohort_id,
            }
        }
    )
    body = f"{header}\n\n{h(preview.text)}\n\n" + _("Apply these changes?")
    return _clip(body), _confirm_keyboard(token)


async def on_timetable_file(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    locale: str,
    admin_scope: set[int] | None,
    timetable_bytes: bytes,
    timetable_name: str,
) -> None:
    token = await _remember(state, timetable_bytes, timetable_name)
    caption = (message.caption or "").strip()
    if caption:
        for word in [caption, *caption.replace(",", " ").split()]:
            cohort = await timetable.cohort_in_scope(session, word[:64], admin_scope)
            if cohort is not None:
                text, keyboard = await _preview(
                    session, state, token, timetable_bytes, timetable_name, cohort.cohort_id, locale
                )
                await message.answer(text, reply_markup=keyboard)
                return
    cohorts = (await timetable.cohorts_in_scope(session, admin_scope))[:MAX_COHORT_BUTTONS]
    if not cohorts:
        await _forget(state)
        await message.answer(_("There are no cohorts yet. Create the cohort first."))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=(f"{cohort.code} — {cohort.name}" if cohort.name else cohort.code)[:60],
                callback_data=PickCohort(token=token, cohort_id=cohort.cohort_id).pack(),
            )
        ]
        for cohort in cohorts
    ]
    prompt = _("Which cohort is the timetable {name} for?").format(name=h(timetable_name))
    if caption:
        prompt = _("There is no cohort “{code}”.").format(code=h(caption[:64])) + "\n" + prompt
    await message.answer(prompt, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def on_cohort_picked(
    query: CallbackQuery,
    callback_data: PickCohort,
    state: FSMContext,
    session: AsyncSession,
    locale: str,
    admin_scope: set[int] | None,
) -> None:
    stored = await _recall(state, callback_data.token)
    allowed = await roles.cohort_by_id_in_scope(session, callback_data.cohort_id, admin_scope)
    if stored is None or allowed is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    data, name = stored
    text, keyboard = await _preview(
        session, state, callback_data.token, data, name, callback_data.cohort_id, locale
    )
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)


async def on_confirm_import(
    query: CallbackQuery,
    callback_data: ConfirmImport,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    admin_scope: set[int] | None,
    sender: timetable.Waker | None = None,
) -> None:
    stored = await _recall(state, callback_data.token)
    cohort_id = ((await state.get_data()).get(_STATE_KEY) or {}).get("cohort_id")
    if (
        stored is None
        or not isinstance(cohort_id, int)
        # The person may have lost the role since the preview.
        or await roles.cohort_by_id_in_scope(session, cohort_id, admin_scope) is None
    ):
        await query.answer(_("This button is no longer active."))
        return
    await _forget(state)
    if not callback_data.apply:
        await query.answer(_("Cancelled."))
        if isinstance(query.message, Message):
            await query.message.edit_text(_("Import cancelled; nothing changed."))
        return
    data, name = stored
    try:
        result = await timetable.apply_import(
            session, data=data, filename=name, clock=clock, cohort_id=cohort_id
        )
    except (timetable.UnknownCohort, ValueError):
        await query.answer(_("The file can no longer be applied. Send it again."))
        return
    if sender is not None:
        sender.wake()
    await query.answer(_("Applied."))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            ngettext(
                "✅ The timetable is updated. A change notice is on its way to {count} person.",
                "✅ The timetable is updated. Change notices are on their way to {count} people.",
                result.notices,
            ).format(count=result.notices)
        )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="timetable.organiser")
    router.message.filter(IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(
        on_timetable_file, F.chat.type == ChatType.PRIVATE, F.document, TimetableDocument()
    )
    router.callback_query.register(on_cohort_picked, PickCohort.filter())
    router.callback_query.register(on_confirm_import, ConfirmImport.filter())
    return router
