"""The certificates' PDFs for the transport: it is handed :class:`CertificateFiles` (in
``bot.app``) and asks it for a certificate's bytes when a payload names one, then tells it
the file id Telegram gave the document, so later sends reuse the file."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import certificates as certificates_db


class CertificateFiles:
    """Loads certificates' PDFs and records their Telegram file ids."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, certificate_id: int) -> tuple[bytes, str, str | None] | None:
        """(PDF bytes, file name, file id if sent before); None when it is gone."""
        async with self._sessions() as session:
            row = await certificates_db.by_id(session, certificate_id)
            if row is None or row.pdf is None:
                return None
            return row.pdf, row.file_name or f"certificate-{row.code}.pdf", row.file_id

    async def remember(self, certificate_id: int, file_id: str) -> None:
        async with self._sessions() as session:
            await certificates_db.set_file_id(session, certificate_id, file_id)
            await session.commit()
