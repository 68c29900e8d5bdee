"""The FAQ, organiser side: an FAQ file (YAML, or a workbook with the FAQ's columns) sent to
the bot is checked and previewed, and replaces the programme's FAQ on Confirm.

The programme is the one the organiser runs, or the one whose code is the file's caption.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.services import programmes
from bot.services.faq import files, library
from handlers.filters import IsAnyAdmin
from handlers.text import MESSAGE_CHARS, h
from handlers.uploads import (
    ConfirmUpload,
    KindOfDocument,
    PendingUpload,
    Previewed,
    not_imported,
)

PENDING = PendingUpload("faq")


def faq_document() -> KindOfDocument:
    """A document that is an FAQ (YAML or a workbook with the FAQ's columns)."""
    return KindOfDocument(
        (".yaml", ".yml", ".xlsx"),
        files.looks_like_faq,
        max_bytes=files.MAX_FILE_BYTES,
        default_name="faq.yaml",
    )


async def on_faq_file(
    message: Message,
    file_bytes: bytes,
    file_name: str,
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
        session, code, file_bytes, file_name, clock.now(), dry_run=True
    )
    if outcome.result is None:
        problems = library.describe_problems(outcome.problems, MESSAGE_CHARS - 300)
        await message.answer(not_imported(file_name, problems))
        return
    summary = library.describe_import(outcome.result, done=False)
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
        outcome = await library.import_faq(session, file.code, file.data, file.name, clock.now())
        if outcome.result is None:
            return h(library.describe_problems(outcome.problems, MESSAGE_CHARS - 300))
        return h(library.describe_import(outcome.result, done=True))

    await PENDING.settle(query, callback_data, state, session, admin_scope, run)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="faq.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(on_faq_file, F.document, faq_document())
    router.callback_query.register(on_confirm, ConfirmUpload.filter(F.kind == PENDING.kind))
    return router
