"""Feedback forms, organiser side: a forms file (YAML with ``forms:``, or a workbook with the
sheets ``forms`` and ``questions``) sent to the bot is checked and previewed, and its forms
are stored on Confirm.

The programme is the file's caption when there is one, else the one the file names
(``programme:``), else the only programme the organiser runs. This router comes before the
FAQ's, whose YAML files are lists; a file that is not a forms file goes on to the FAQ.
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
from bot.services.feedback import files, library
from handlers.filters import IsAnyAdmin
from handlers.text import MESSAGE_CHARS, h
from handlers.uploads import (
    ConfirmUpload,
    KindOfDocument,
    PendingUpload,
    Previewed,
    not_imported,
    programme_for_file,
)

PENDING = PendingUpload("forms")


def forms_document() -> KindOfDocument:
    """A document that is a feedback forms file (YAML with ``forms:``, or such a workbook)."""
    return KindOfDocument(
        (".yaml", ".yml", ".xlsx"),
        files.looks_like_forms,
        max_bytes=files.MAX_FILE_BYTES,
        default_name="feedback.yaml",
    )


async def on_forms_file(
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
    named = files.parse_forms(file_bytes, file_name).programme if not caption else None
    code = programme_for_file(codes, caption, named)
    if code is None:
        listed = ", ".join(h(p.code) for p in summaries[:20]) or "—"
        await message.answer(
            _(
                "Which programme are these feedback forms for? Send the file again with the "
                "programme's code as its caption: {codes}"
            ).format(codes=listed)
        )
        return
    outcome = await library.preview(session, code, file_bytes, file_name, clock.now())
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
        outcome = await library.import_forms(session, file.code, file.data, file.name, clock.now())
        if outcome.result is None:
            return h(library.describe_problems(outcome.problems, MESSAGE_CHARS - 300))
        return h(library.describe_import(outcome.result, done=True))

    await PENDING.settle(query, callback_data, state, session, admin_scope, run)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="feedback.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(on_forms_file, F.document, forms_document())
    router.callback_query.register(on_confirm, ConfirmUpload.filter(F.kind == PENDING.kind))
    return router
