"""The session code a trainer reads aloud: four digits, a new one every minute.

``code = HMAC-SHA256(secret, "<session id>:<minute>") mod 10000``, where the minute counts
whole minutes since the epoch (UTC). The secret is derived from the bot's token, or (with no
token, e.g. a command line without one) a random secret kept in ``app_state``. A typed code
is accepted for the current and the previous minute, so a code read out just before it
rotates still works.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import users as users_db

CODE_DIGITS: Final = 4
ROTATES_EVERY: Final = timedelta(minutes=1)
#: The app_state key of the secret used when the bot has no token.
STATE_KEY: Final = "attendance_code_secret"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def minute_of(moment: datetime) -> int:
    """Whole minutes since the epoch."""
    return int((moment - _EPOCH).total_seconds() // 60)


def code_for(secret: bytes, session_id: int, minute: int) -> str:
    """The code of a session in one minute."""
    digest = hmac.new(secret, f"{session_id}:{minute}".encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def normalise_typed(text: str) -> str:
    """The digits of what a trainee typed ("12 34", "１２３４" -> "1234")."""
    return "".join(str(int(ch)) for ch in text if ch.isdigit())


def is_valid(secret: bytes, session_id: int, typed: str, now: datetime) -> bool:
    """Whether ``typed`` is the session's code this minute or the one before."""
    digits = normalise_typed(typed)
    if len(digits) != CODE_DIGITS:
        return False
    minute = minute_of(now)
    return any(
        hmac.compare_digest(digits, code_for(secret, session_id, m)) for m in (minute, minute - 1)
    )


@dataclass(frozen=True, slots=True)
class ShownCode:
    """A code as a trainer sees it, and when the next one replaces it."""

    code: str
    session_id: int
    rotates_at: datetime


def current_code(secret: bytes, session_id: int, now: datetime) -> ShownCode:
    """The session's code now."""
    minute = minute_of(now)
    return ShownCode(
        code=code_for(secret, session_id, minute),
        session_id=session_id,
        rotates_at=_EPOCH + ROTATES_EVERY * (minute + 1),
    )


async def code_secret(session: AsyncSession, settings: Settings, now: datetime) -> bytes:
    """The secret codes are derived from: from the bot token, else kept in ``app_state``.

    Creating the stored secret flushes; the caller commits.
    """
    token = settings.token
    if token:
        return hashlib.sha256(b"attendance-code:" + token.encode()).digest()
    stored = await users_db.get_state(session, STATE_KEY)
    if not stored:
        stored = secrets.token_hex(32)
        await users_db.set_state(session, STATE_KEY, stored, now)
    return bytes.fromhex(stored)
