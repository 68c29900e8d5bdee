"""Exceptions: a coordinator marks a trainee as completed whatever the rule says, with a reason.

Each change is kept with who, when and why, and written to the cohort's audit log. A reason
is required; the trainee is named by their name (as on the roster or the registration), their
e-mail or their Telegram id, and must be an active trainee of the cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import audit
from bot.db import completion as completion_db
from bot.db.completion import Member
from bot.db.models import Cohort
from bot.i18n import gettext as _

#: The longest reason kept.
MAX_REASON: Final = 1000
ACTION_SET: Final = "completion_exception"
ACTION_REMOVED: Final = "completion_exception_removed"


class ExceptionRefused(ValueError):
    """The exception cannot be recorded; the message says why (in the current locale)."""


@dataclass(frozen=True, slots=True)
class ExceptionChange:
    """What was done."""

    cohort_code: str
    name: str
    user_id: int
    reason: str | None
    removed: bool


def find_trainee(members: list[Member], who: str) -> Member:
    """The one active trainee named by ``who`` (name, e-mail or Telegram id)."""
    wanted = " ".join(who.split()).casefold()
    if not wanted:
        raise ExceptionRefused(_("Name the trainee: their name, e-mail or Telegram id."))
    found = [
        m
        for m in members
        if wanted in (" ".join(m.name.split()).casefold(), (m.email or "").casefold())
        or wanted == str(m.user_id)
    ]
    if not found:
        raise ExceptionRefused(
            _("No active trainee of this cohort is called {who}.").format(who=who.strip())
        )
    if len(found) > 1:
        raise ExceptionRefused(
            _("Several trainees are called {who}: use their e-mail or Telegram id.").format(
                who=who.strip()
            )
        )
    return found[0]


async def change_exception(
    session: AsyncSession,
    cohort: Cohort,
    who: str,
    reason: str | None,
    *,
    remove: bool,
    actor_id: int | None,
    interface: str,
    now: datetime,
) -> ExceptionChange:
    """Record (or with ``remove``, drop) the trainee's exception, audit it, and commit."""
    assert cohort.id is not None
    text = " ".join((reason or "").split())
    if not remove and not text:
        raise ExceptionRefused(_("A reason is required: say why this trainee completes."))
    if len(text) > MAX_REASON:
        raise ExceptionRefused(
            _("The reason is too long (at most {count} characters).").format(count=MAX_REASON)
        )
    member = find_trainee(await completion_db.active_trainees(session, cohort.id), who)
    if remove:
        if not await completion_db.remove_exception(session, cohort.id, member.user_id):
            raise ExceptionRefused(_("{name} has no exception to remove.").format(name=member.name))
    else:
        await completion_db.set_exception(
            session,
            cohort_id=cohort.id,
            user_id=member.user_id,
            reason=text,
            set_by=actor_id,
            interface=interface,
            now=now,
        )
    await audit.record(
        session,
        action=ACTION_REMOVED if remove else ACTION_SET,
        interface=interface,
        now=now,
        actor_id=actor_id,
        cohort_id=cohort.id,
        user_id=member.user_id,
        details={"name": member.name, **({} if remove else {"reason": text})},
    )
    await session.commit()
    return ExceptionChange(cohort.code, member.name, member.user_id, text or None, remove)


def change_text(change: ExceptionChange) -> str:
    """What the organiser hears (plain text)."""
    if change.removed:
        return _("{name}'s exception in {cohort} was removed.").format(
            name=change.name, cohort=change.cohort_code
        )
    return _("{name} completes {cohort} by exception: {reason}").format(
        name=change.name, cohort=change.cohort_code, reason=change.reason
    )
