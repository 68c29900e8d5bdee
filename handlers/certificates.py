"""Certificates in the bot: ``/certificate`` sends a trainee theirs again, ``/start
verify-CODE`` (the certificate's QR code) and ``/verify CODE`` check one."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import current_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.certificates import issuing, verifying
from bot.services.certificates.verifying import DEEP_LINK_PREFIX


async def _answer_verification(
    message: Message, session: AsyncSession, clock: Clock, text: str
) -> None:
    if message.from_user is None:
        return
    result = await verifying.verify(session, text, clock.now(), message.from_user.id)
    await message.answer(verifying.verification_text(result, current_locale()))


async def cmd_start_verify(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock
) -> None:
    code = (command.args or "")[len(DEEP_LINK_PREFIX) :]
    await _answer_verification(message, session, clock, code)


async def cmd_verify(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock
) -> None:
    if not (command.args or "").strip():
        await message.answer(
            _("Send /verify and the certificate's code, e.g. /verify ABCDE-12345.")
        )
        return
    await _answer_verification(message, session, clock, command.args or "")


async def cmd_certificate(message: Message, session: AsyncSession) -> None:
    if message.from_user is None:
        return
    mine = await issuing.certificates_of(session, message.from_user.id)
    if not mine:
        await message.answer(
            _(
                "You have no certificate yet. Certificates are issued once a programme ends, "
                "to the trainees who completed it."
            )
        )
        return
    certificate = mine[0]
    if certificate.status == "revoked":
        await message.answer(issuing.revoked_text(certificate, current_locale()))
        return
    if certificate.pdf is None and certificate.file_id is None:
        await message.answer(
            _("Your certificate's file is not available; please ask the organisers.")
        )
        return
    document: str | BufferedInputFile = certificate.file_id or BufferedInputFile(
        certificate.pdf or b"", filename=certificate.file_name or "certificate.pdf"
    )
    certificate_id, known = certificate.id, certificate.file_id
    await session.commit()
    sent = await message.answer_document(
        document,
        caption=_("Your certificate of completion: {programme}").format(
            programme=h(certificate.programme_title)
        ),
    )
    if sent.document is not None and sent.document.file_id != known and certificate_id:
        await issuing.remember_file_id(session, certificate_id, sent.document.file_id)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="certificates")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(
        cmd_start_verify,
        CommandStart(deep_link=True, magic=F.args.startswith(DEEP_LINK_PREFIX)),
    )
    router.message.register(cmd_verify, Command("verify"))
    router.message.register(cmd_certificate, Command("certificate"))
    return router
