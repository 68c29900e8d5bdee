"""Files organisers send to the bot: read once, recognised by kind, previewed, confirmed.

A document goes past several routers (timetable, feedback forms, FAQ, ...), each asking "is
this mine?". :class:`KindOfDocument` answers that for one kind; the bytes are downloaded once
per update (:func:`document_bytes`), however many kinds look at them.

The FAQ and the feedback forms then share one flow (:class:`PendingUpload`): the preview is
kept in the conversation's state under a short token that the Confirm and Cancel buttons carry,
so a button under an older preview does nothing; Confirm imports what was previewed, for the
programme chosen then, if the person still organises it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import gettext as _
from bot.services import programmes
from handlers.text import MESSAGE_CHARS, h


async def document_bytes(
    message: Message, bot: Bot, downloads: dict[str, bytes] | None = None
) -> bytes | None:
    """The message's document, fetched once per update however many routers look at it.

    ``downloads`` is the update's own (``DownloadsMiddleware``); without it, fetched anew.
    """
    document = message.document
    if document is None:
        return None
    key = document.file_unique_id
    if downloads is not None and key in downloads:
        return downloads[key]
    buffer = await bot.download(document.file_id)
    if buffer is None:
        return None
    data = buffer.read()
    if downloads is not None:
        downloads[key] = data
    return data


class KindOfDocument(Filter):
    """A document of one kind: the name's ending, the size and a look at the content agree.

    Hands the handler ``file_bytes`` and ``file_name``.
    """

    def __init__(
        self,
        suffixes: Collection[str],
        looks_like: Callable[[bytes, str], bool],
        *,
        max_bytes: int,
        default_name: str,
    ) -> None:
        self.suffixes = tuple(suffix.lower() for suffix in suffixes)
        self.looks_like = looks_like
        self.max_bytes = max_bytes
        self.default_name = default_name

    async def __call__(
        self, message: Message, bot: Bot, downloads: dict[str, bytes] | None = None
    ) -> bool | dict[str, Any]:
        document = message.document
        if document is None or (document.file_size or 0) > self.max_bytes:
            return False
        name = document.file_name or self.default_name
        if not name.lower().endswith(self.suffixes):
            return False
        data = await document_bytes(message, bot, downloads)
        if data is None or not self.looks_like(data, name):
            return False
        return {"file_bytes": data, "file_name": name}


class ConfirmUpload(CallbackData, prefix="upl"):
    """Confirm or Cancel under a preview; ``kind`` names the flow (``faq``, ``forms``)."""

    kind: str
    token: str
    apply: bool


@dataclass(frozen=True, slots=True)
class Previewed:
    """What was previewed, as kept until Confirm."""

    code: str
    name: str
    data: bytes


#: Imports what was previewed; answers the text to show in place of the preview (escaped).
Importer = Callable[[AsyncSession, Previewed], Awaitable[str]]


def programme_for_file(codes: set[str], caption: str, named: str | None) -> str | None:
    """The programme an organiser's file is for: the caption's code, else the file's own
    ``programme:`` line, else the only programme they run; None when that does not say."""
    if caption:
        return caption if caption in codes else None
    if named is not None and named in codes:
        return named
    return next(iter(codes)) if len(codes) == 1 else None


def not_imported(name: str, problems: str) -> str:
    """The answer to a file with problems (``problems`` as plain text, escaped here)."""
    return (
        _("The file {name} was not imported; nothing changed. Please fix:").format(name=h(name))
        + "\n\n"
        + h(problems)
    )


class PendingUpload:
    """One kind of file's preview and Confirm, kept in the conversation's state."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._key = f"upload_{kind}"

    def keyboard(self, token: str) -> InlineKeyboardMarkup:
        """Confirm and Cancel for the preview with this token."""

        def button(text: str, apply: bool) -> InlineKeyboardButton:
            data = ConfirmUpload(kind=self.kind, token=token, apply=apply)
            return InlineKeyboardButton(text=text, callback_data=data.pack())

        return InlineKeyboardMarkup(
            inline_keyboard=[
                [button("✅ " + _("Confirm"), True), button("✖ " + _("Cancel"), False)]
            ]
        )

    async def offer(
        self, message: Message, state: FSMContext, file: Previewed, summary: str
    ) -> None:
        """Keep the file and show its preview (``summary``, plain text) with the buttons."""
        token = secrets.token_urlsafe(6)
        kept = {"token": token, "code": file.code, "name": file.name}
        kept["file"] = base64.b64encode(file.data).decode()
        await state.update_data({self._key: kept})
        await message.answer(h(summary)[: MESSAGE_CHARS - 100], reply_markup=self.keyboard(token))

    async def settle(
        self,
        query: CallbackQuery,
        pressed: ConfirmUpload,
        state: FSMContext,
        session: AsyncSession,
        admin_scope: set[int] | None,
        run: Importer,
    ) -> None:
        """Confirm (import what was previewed) or Cancel; a stale button does nothing."""
        data = await state.get_data()
        kept = data.get(self._key)
        if not isinstance(kept, dict) or kept.get("token") != pressed.token:
            await query.answer(_("This button is no longer active."))
            return
        code = str(kept["code"])
        # The person may have lost the role since the preview.
        if code not in {p.code for p in await programmes.summarise(session, admin_scope)}:
            await query.answer(_("This button is no longer active."))
            return
        data.pop(self._key, None)
        await state.set_data(data)
        message = query.message if isinstance(query.message, Message) else None
        if not pressed.apply:
            await query.answer(_("Cancelled."))
            if message is not None:
                await message.edit_text(_("Import cancelled; nothing changed."))
            return
        file = Previewed(code, str(kept["name"]), base64.b64decode(kept["file"]))
        text = await run(session, file)
        await query.answer()
        if message is not None:
            await message.edit_text(text[:MESSAGE_CHARS])
