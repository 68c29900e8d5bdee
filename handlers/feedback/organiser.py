"""Feedback forms, organiser side: a forms file (YAML with ``forms:``, or a workbook with the
sheets ``forms`` and ``questions``) sent to the bot is checked and previewed, and its forms
are stored on Confirm.

The programme is the file's caption when there is one, else the one the file names
(``programme:``), else the only programme the organiser runs. This router comes before the
FAQ's, whose YAML files are lists; a file that is not a forms file goes on to the FAQ.
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
from bot.services import programmes
from bot.services.feedback import files, library
from handlers.filters import IsAnyAdmin
from handlers.text import MESSAGE_CHARS, h

_STATE_KEY = "feedback_forms_file"
#: A forms file is small: a few dozen KB.
MAX_FILE_BYTES = 2 * 1024 * 1024


class ConfirmForms(CallbackData, prefix="fbimp"):
    token: str
    apply: bool


class FormsDocument(Filter):
    """A document that is a forms file; hands its bytes to the handler as ``forms_bytes``."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        document = message.document
        if document is None or (document.file_size or 0) > MAX_FILE_BYTES:
            return False
        name = document.file_name or "feedback.yaml"
        if not name.lower().endswith((".yaml", ".yml", ".xlsx")):
            return False
        buffer = await bot.download(document.file_id)
        if buffer is None:
            return False
        data = buffer.read()
        if not files.looks_like_forms(data, name):
            return False
        return {"forms_bytes": data, "forms_name": name}


def _buttons(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="✅ " + _("Confirm"),
                    callback_data=ConfirmForms(token=token, apply=True).pack(),
                ),
                InlineKeyboardButton(
                    text="✖ " + _("Cancel"),
                    callback_data=ConfirmForms(token=token, apply=False).pack(),
                ),
            ]
        ]
    )


async def on_forms_file(
    message: Message,
    forms_bytes: bytes,
    forms_name: str,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    admin_scope: set[int] | None,
) -> None:
    summaries = await programmes.summarise(session, admin_scope)
    codes = {p.code for p in summaries}
    caption = (message.caption or "").strip()
    named = files.parse_forms(forms_bytes, forms_name).programme if not caption else None
    if caption:
        chosen = [caption] if caption in codes else []
    elif named is not None and named in codes:
        chosen = [named]
    else:
        chosen = sorted(codes) if len(codes) == 1 else []
    if len(chosen) != 1:
        listed = ", ".join(h(p.code) for p in summaries[:20]) or "—"
        await message.answer(
            _(
                "Which programme are these feedback forms for? Send the file again with the "
                "programme's code as its caption: {codes}"
            ).format(codes=listed)
        )
        return
    code = chosen[0]
    outcome = await library.preview(session, code, forms_bytes, forms_name, clock.now())
    if outcome.result is None:
        await message.answer(
            _("The file {name} was not imported; nothing changed. Please fix:").format(
                name=h(forms_name)
            )
            + "\n\n"
            + h(library.describe_problems(outcome.problems, MESSAGE_CHARS - 300))
        )
        return
    token = secrets.token_urlsafe(6)
    await state.update_data(
        {
            _STATE_KEY: {
                "token": token,
                "name": forms_name,
                "code": code,
                "file": base64.b64encode(forms_bytes).decode(),
            }
        }
    )
    summary = h(library.describe_import(outcome.result, done=False))
    await message.answer(summary[: MESSAGE_CHARS - 100], reply_markup=_buttons(token))


async def on_confirm(
    query: CallbackQuery,
    callback_data: ConfirmForms,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    admin_scope: set[int] | None,
) -> None:
    data = await state.get_data()
    stored = data.get(_STATE_KEY)
    if not isinstance(stored, dict) or stored.get("token") != callback_data.token:
        await query.answer(_("This button is no longer active."))
        return
    code = str(stored["code"])
    # The person may have lost the role since the preview.
    if code not in {p.code for p in await programmes.summarise(session, admin_scope)}:
        await query.answer(_("This button is no longer active."))
        return
    data.pop(_STATE_KEY, None)
    await state.set_data(data)
    message = query.message if isinstance(query.message, Message) else None
    if not callback_data.apply:
        await query.answer(_("Cancelled."))
        if message is not None:
            await message.edit_text(_("Import cancelled; nothing changed."))
        return
    outcome = await library.import_forms(
        session, code, base64.b64decode(stored["file"]), str(stored["name"]), clock.now()
    )
    await query.answer()
    if message is None:
        return
    if outcome.result is None:
        await message.edit_text(h(library.describe_problems(outcome.problems, MESSAGE_CHARS - 300)))
        return
    await message.edit_text(h(library.describe_import(outcome.result, done=True))[:MESSAGE_CHARS])


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="feedback.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(on_forms_file, F.document, FormsDocument())
    router.callback_query.register(on_confirm, ConfirmForms.filter())
    return router
