"""Personal links: binding a roster entry to the account that opened it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import Enrolment, RosterEntry
from bot.delivery.outbox import Waker
from bot.i18n import SUPPORTED_LOCALES
from bot.services import people
from bot.services.registration.codes import report_taken
from bot.services.registration.notify import wake
from bot.services.registration.views import (
    EndedCohort,
    EnrolmentView,
    cohort_ended,
    ended_cohort,
    view_of,
)


class BindOutcome(StrEnum):
    """What pressing Yes on a personal link did."""

    BOUND = "bound"
    ALREADY = "already"
    TAKEN = "taken"
    ENDED = "ended"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class BindResult:
    """The outcome; for a new binding, the cohort and what was learnt about the person."""

    outcome: BindOutcome
    cohort_id: int | None = None
    locale_set: str | None = None
    zone_set: str | None = None
    #: Zones to ask about when the roster's country has clocks that differ.
    zone_choices: list[str] = field(default_factory=list)
    #: The cohort as the welcome shows it (in the language given to the bind call).
    view: EnrolmentView | None = None
    #: The cohort, when it is over and the code was not bound.
    ended: EndedCohort | None = None


async def bind_personal_code(
    session: AsyncSession,
    code: str,
    user_id: int,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
    locale: str = "en",
) -> BindResult:
    """Bind a personal code to this account (once), enrol them, learn language and zone.

    The binding is a conditional update, so two accounts pressing Yes at once cannot both
    win. Everything is read before the first write, so the write lock (one writer at a time
    on SQLite) is held for the three writes and the commit only.
    """
    now = clock.now()
    entry = await reg_db.get_entry_by_code(session, code)
    cohort = None if entry is None else await reg_db.get_cohort(session, entry.cohort_id)
    if (
        entry is None
        or entry.id is None
        or entry.withdrawn_at is not None
        or cohort is None
        or cohort.id is None
    ):
        await session.commit()  # nothing was written; returns the connection
        return BindResult(BindOutcome.UNKNOWN)
    if entry.user_id == user_id:
        await session.commit()
        return BindResult(BindOutcome.ALREADY, cohort.id)
    if await cohort_ended(session, cohort, now):
        await session.commit()
        return BindResult(BindOutcome.ENDED, cohort.id, ended=ended_cohort(cohort))
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    user = await users_db.get_user(session, user_id)
    programme = await reg_db.get_programme(session, cohort.programme_id)
    result = await session.execute(
        update(RosterEntry)
        .where(
            col(RosterEntry.id) == entry.id,
            col(RosterEntry.user_id).is_(None),
            col(RosterEntry.withdrawn_at).is_(None),
        )
        .values(user_id=user_id, bound_at=now, updated_at=now)
    )
    if (result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        # The update touched nothing, so there is nothing to undo.
        await report_taken(session, entry, cohort, user_id, settings, now)
        await session.commit()
        wake(sender)
        return BindResult(BindOutcome.TAKEN)
    if enrolment is None:
        enrolment = Enrolment(
            user_id=user_id,
            cohort_id=cohort.id,
            roster_entry_id=entry.id,
            status=reg_db.ACTIVE,
            role="trainee",
            created_at=now,
            updated_at=now,
        )
        session.add(enrolment)
    else:
        enrolment.status = reg_db.ACTIVE
        enrolment.roster_entry_id = entry.id
        enrolment.updated_at = now
    locale_set = zone_set = None
    choices: list[str] = []
    if user is not None:
        if user.locale is None and entry.language in SUPPORTED_LOCALES:
            user.locale = locale_set = entry.language
        guess = people.zone_from_country(user, entry.country, now)
        zone_set, choices = guess.zone, list(guess.choices)
        user.updated_at = now
    await session.flush()
    view = None
    if enrolment.id is not None:
        view = view_of(enrolment, cohort, programme, locale_set or locale)
    await session.commit()
    return BindResult(BindOutcome.BOUND, cohort.id, locale_set, zone_set, choices, view)
