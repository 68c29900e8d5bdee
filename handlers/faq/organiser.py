"""The FAQ, organiser side: an FAQ file (YAML, or a workbook with the FAQ's columns) sent to
the bot is checked and previewed, and replaces the programme's FAQ on Confirm.

The programme is the one the organiser runs, or the one whose code is the file's caption.
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
from bot.services.faq import files, library
from handlers.filters import IsAnyAdmin
from handlers.text import MESSAGE_CHARS, h

_STATE_KEY = "faq_file"
#: An FAQ file is text: a few hundred KB at most.
MAX_FILE_BYTES = 2 * 1024 * 1024


class ConfirmFaq(CallbackData, prefix="faqimp"):
    token: str
    apply: bool


class FaqDocument(Filter):
    """A document that is an FAQ; hands its bytes to the handler as ``faq_bytes``."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        document = message.document
        if document is None or (document.file_size or 0) > MAX_FILE_BYTES:
            return False
        name = document.file_name or "faq.yaml"
        if not name.lower().endswith((".yaml", ".yml", ".xlsx")):
            return False
        buffer = await bot.download(document.file_id)
        if buffer is None:
            return False
        data = buffer.read()
        if not files.looks_like_faq(data, name):
            return False
        return {"faq_bytes": data, "faq_name": name}


async def on_faq_file(
    message: Message,
    faq_bytes: bytes,
    faq_name: str,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    admin_scope: set[int] | None,
) -> None:
    summaries = await programmes.summarise(session, admin_scope)
    caption = (message.caption or "").strip()
    chosen = [p for p in summaries if p.code == caption] if caption else summaries
    if len(chosen) != 1:
        codes = ", ".join(h(p.code) for p in summaries[:20]) or "—"
        await message.answer(
            _(
                "Which programme is this FAQ for? Send the file again with the programme's code "
                "as its caption: {codes}"
            ).format(codes=codes)
        )
        return
    code = chosen[0].code
    outcome = await library.import_faq(
        session, code, faq_bytes, faq_name, clock.now(), dry_run=True
    )
    if outcome.result is None:
        await message.answer(
            _("The file {name} was not imported; nothing changed. Please fix:").format(
                name=h(faq_name)
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
                "name": faq_name,
                "code": code,
                "file": base64.b64encode(faq_bytes).decode(),
            }
        }
    )
    summary = h(library.describe_import(outcome.result, done=False))
    await message.answer(
        summary[: MESSAGE_CHARS - 100],
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text="✅ " + _("Confirm"),
                        callback_data=ConfirmFaq(token=token, apply=True).pack(),
                    ),
                    InlineKeyboardButton(
                        text="✖ " + _("Cancel"),
                        callback_data=ConfirmFaq(token=token, apply=False).pack(),
                    ),
                ]
            ]
        ),
    )


async def on_confirm(
    query: CallbackQuery,
    callback_data: ConfirmFaq,
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
    outcome = await library.import_faq(
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
    router = Router(name="faq.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(on_faq_file, F.document, FaqDocument())
    router.callback_query.register(on_confirm, ConfirmFaq.filter())
    return router
