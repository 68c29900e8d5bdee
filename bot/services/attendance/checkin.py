"""A trainee's own "I'm here": the window it is open in, the code when asked, the mark.

"I'm here" is open from :data:`~bot.services.attendance.rules.OPENS_BEFORE` before a
session's start until :data:`~bot.services.attendance.rules.CLOSES_AFTER` after it. Inside
the window the trainee is marked present (late after the programme's
``late_after_minutes``) with source ``self``, or ``code`` when the programme asks for the
code read aloud and they typed it right. Anything else changes nothing and says why: wrong
code, too early, too late, already checked in, already marked by a trainer or the
classroom's report, or not in the session's cohort (a forwarded button).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import attendance as attendance_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db.attendance import MarkSource, Presence
from bot.db.models import TrainingSession
from bot.i18n import gettext as _
from bot.services.attendance import codes
from bot.services.attendance.rules import CLOSES_AFTER, OPENS_BEFORE, rules_of

#: The callback data of "I'm here" is ``atin:<session id>`` (well under Telegram's 64 bytes).
CALLBACK_PREFIX: Final = "atin"
#: Reminders sent at most this long before the start carry "I'm here".
BUTTON_LEAD: Final = timedelta(minutes=15)


def window_of(starts_at: datetime) -> tuple[datetime, datetime]:
    """When "I'm here" opens and closes for a session starting at ``starts_at``."""
    return starts_at - OPENS_BEFORE, starts_at + CLOSES_AFTER


def is_open(row: TrainingSession, now: datetime) -> bool:
    """Whether a session's check-in is open now (never for all-day or cancelled ones)."""
    if row.all_day or row.status == timetable_db.CANCELLED:
        return False
    opens, closes = window_of(row.starts_at)
    return opens <= now <= closes


def window_open(starts_at: datetime, all_day: bool, now: datetime) -> bool:
    """:func:`is_open` for a session known only by its start (the timetable's views)."""
    opens, closes = window_of(starts_at)
    return not all_day and opens <= now <= closes


def callback_data(session_id: int) -> str:
    """The data of the "I'm here" button of a session."""
    return f"{CALLBACK_PREFIX}:{session_id}"


def button_label() -> str:
    """The "I'm here" button's text, in the current locale."""
    return "✋ " + _("I'm here")


def buttons(session_id: int) -> list[list[dict[str, str]]]:
    """The "I'm here" row of an outbox payload."""
    return [[{"text": button_label(), "callback_data": callback_data(session_id)}]]


class CheckIn(StrEnum):
    """What became of an "I'm here"."""

    DONE = "done"
    NEEDS_CODE = "needs_code"
    WRONG_CODE = "wrong_code"
    NOT_YET = "not_yet"
    CLOSED = "closed"
    ALREADY = "already"
    MARKED = "marked"  # a trainer or the classroom's report marked them already
    NOT_IN_COHORT = "not_in_cohort"
    UNKNOWN = "unknown"  # no such session, or it was cancelled


@dataclass(frozen=True, slots=True)
class CheckInResult:
    """The outcome; the mark's status when there is one, and when the window opens."""

    outcome: CheckIn
    status: str | None = None
    opens_at: datetime | None = None
    session_id: int | None = None
    #: The programme's home zone, to say when check-in opens.
    home_zone: str = "UTC"


async def check_in(
    session: AsyncSession,
    *,
    user_id: int,
    session_id: int,
    now: datetime,
    settings: Settings,
    code: str | None = None,
) -> CheckInResult:
    """A trainee says they are here (with the typed ``code`` when the programme asks one).

    Commits when it marked them; changes nothing otherwise.
    """
    row = await timetable_db.get_session(session, session_id)
    if row is None or row.id is None or row.status == timetable_db.CANCELLED or row.all_day:
        return CheckInResult(CheckIn.UNKNOWN)
    enrolment = await reg_db.find_enrolment(session, user_id, row.cohort_id)
    if enrolment is None or enrolment.status != reg_db.ACTIVE:
        return CheckInResult(CheckIn.NOT_IN_COHORT, session_id=row.id)
    mark = await attendance_db.get_mark(session, row.id, user_id)
    if mark is not None:
        own = mark.source in (MarkSource.SELF, MarkSource.CODE)
        return CheckInResult(
            CheckIn.ALREADY if own else CheckIn.MARKED, mark.status, session_id=row.id
        )
    pair = await timetable_db.cohort_with_programme(session, row.cohort_id)
    opens, closes = window_of(row.starts_at)
    if now < opens:
        home = pair[1].home_timezone if pair is not None else "UTC"
        return CheckInResult(CheckIn.NOT_YET, opens_at=opens, session_id=row.id, home_zone=home)
    if now > closes:
        return CheckInResult(CheckIn.CLOSED, session_id=row.id)
    rules = rules_of(pair[1] if pair is not None else None)
    source = MarkSource.SELF
    if rules.asks_code:
        if code is None:
            return CheckInResult(CheckIn.NEEDS_CODE, session_id=row.id)
        secret = await codes.code_secret(session, settings, now)
        if not codes.is_valid(secret, row.id, code, now):
            await session.commit()  # a secret made just now is kept
            return CheckInResult(CheckIn.WRONG_CODE, session_id=row.id)
        source = MarkSource.CODE
    late = now > row.starts_at + timedelta(minutes=rules.late_after_minutes)
    status = Presence.LATE if late else Presence.PRESENT
    await attendance_db.set_mark(
        session,
        session_id=row.id,
        cohort_id=row.cohort_id,
        user_id=user_id,
        status=status,
        source=source,
        set_by=user_id,
        now=now,
    )
    await session.commit()
    return CheckInResult(CheckIn.DONE, status, session_id=row.id)


async def asks_code(session: AsyncSession, session_id: int) -> bool:
    """Whether the programme of this session wants the code typed."""
    row = await timetable_db.get_session(session, session_id)
    if row is None:
        return False
    pair = await timetable_db.cohort_with_programme(session, row.cohort_id)
    return rules_of(pair[1] if pair is not None else None).asks_code
