"""Verifying a certificate by its code: what anyone may learn (holder, programme, dates,
status), with a limit on how many codes one Telegram user may try.

The limit (:data:`LIMIT` look-ups per :data:`WINDOW`) is counted in the database
(``certificate_lookups``), so a restart does not reset it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import certificates as certificates_db
from bot.db.certificates import Certificate, CertificateStatus
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.certificates import codes
from bot.services.certificates.issuing import date_span

LIMIT: Final = 10
WINDOW: Final = timedelta(minutes=10)
#: The deep link's prefix: ``/start verify-ABCDE12345``.
DEEP_LINK_PREFIX: Final = "verify-"


class Outcome(Enum):
    FOUND = "found"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    LIMITED = "limited"


@dataclass(frozen=True, slots=True)
class Verification:
    outcome: Outcome
    code: str
    certificate: Certificate | None = None

    def to_json(self) -> dict[str, Any]:
        if self.certificate is None:
            return {"code": self.code, "result": self.outcome.value}
        c = self.certificate
        return {
            "code": codes.shown(c.code),
            "result": self.outcome.value,
            "holder": c.holder_name,
            "programme": c.programme_title,
            "starts_on": c.starts_on.isoformat() if c.starts_on else None,
            "ends_on": c.ends_on.isoformat() if c.ends_on else None,
            "hours": c.hours,
            "status": c.status,
            "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
        }


async def verify(
    session: AsyncSession, text: str, now: datetime, user_id: int | None = None
) -> Verification:
    """Look a code up; a Telegram user's look-ups are counted and limited (commits)."""
    if user_id is not None:
        if await certificates_db.count_lookups(session, user_id, now - WINDOW) >= LIMIT:
            return Verification(Outcome.LIMITED, text)
        await certificates_db.add_lookup(session, user_id, now, now - WINDOW)
        await session.commit()
    code = codes.normalise(text)
    if code is None:
        return Verification(Outcome.MALFORMED, text)
    certificate = await certificates_db.by_code(session, code)
    if certificate is None:
        return Verification(Outcome.UNKNOWN, codes.shown(code))
    return Verification(Outcome.FOUND, codes.shown(code), certificate)


def status_line(certificate: Certificate, locale: str) -> str:
    if certificate.status == CertificateStatus.REVOKED and certificate.revoked_at is not None:
        return _("Status: revoked on {date}").format(
            date=date_span(certificate.revoked_at.date(), None, locale)
        )
    return _("Status: valid")


def verification_text(result: Verification, locale: str, *, html: bool = True) -> str:
    """What the bot (or the command line) answers, in the current locale."""
    esc = h if html else str
    if result.outcome is Outcome.LIMITED:
        return _("Too many certificate look-ups. Please try again in a few minutes.")
    if result.outcome is Outcome.MALFORMED:
        return _(
            "That is not a certificate code. A code has ten letters and digits, like ABCDE-12345."
        )
    if result.outcome is Outcome.UNKNOWN or result.certificate is None:
        return _("There is no certificate with the code {code}.").format(code=esc(result.code))
    c = result.certificate
    return "\n".join(
        [
            _("Certificate {code}").format(code=esc(result.code)),
            _("Holder: {name}").format(name=esc(c.holder_name)),
            _("Programme: {title}").format(title=esc(c.programme_title)),
            _("Dates: {dates}").format(dates=date_span(c.starts_on, c.ends_on, locale)),
            status_line(c, locale),
        ]
    )
