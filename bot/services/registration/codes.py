"""What a /start payload is: a personal link or a cohort link, and who it is for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.db import users as users_db
from bot.db.models import Cohort, RosterEntry
from bot.delivery.outbox import Waker
from bot.i18n import gettext as _
from bot.markup import h
from bot.services import roles
from bot.services.registration.notify import tell, wake
from bot.services.registration.views import EndedCohort, cohort_ended, ended_cohort


class CodeState(StrEnum):
    """A personal code as seen by the person who opened it."""

    FREE = "free"
    YOURS = "yours"
    TAKEN = "taken"
    #: The organisers took the person off the roster: the link no longer binds.
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class PersonalInvite:
    """A personal link: who the roster says it is for."""

    code: str
    full_name: str
    organisation: str | None
    country: str | None
    cohort_code: str
    state: CodeState


@dataclass(frozen=True, slots=True)
class CohortInvite:
    """A cohort link, and this person's standing in the cohort if any."""

    cohort_id: int
    code: str
    name: str
    mode: str
    status: str | None


async def open_start_code(
    session: AsyncSession,
    payload: str,
    user_id: int,
    settings: Settings,
    clock: Clock,
    sender: Waker | None = None,
) -> PersonalInvite | CohortInvite | EndedCohort | None:
    """What ``/start <payload>`` refers to; None for an unknown code.

    A personal code bound to someone else is reported to the programme's staff (once per
    code and account) and comes back as ``TAKEN``. A free personal code or a cohort link of
    a cohort that is over (its last day has passed in the programme's home time zone) comes
    back as :class:`EndedCohort`, so nobody joins it.
    """
    now = clock.now()
    entry = await reg_db.get_entry_by_code(session, payload)
    if entry is not None:
        cohort = await reg_db.get_cohort(session, entry.cohort_id)
        if cohort is None:
            return None
        if entry.withdrawn_at is not None:
            state = CodeState.WITHDRAWN
        elif entry.user_id is None:
            if await cohort_ended(session, cohort, now):
                await session.commit()  # nothing was written; returns the connection
                return ended_cohort(cohort)
            state = CodeState.FREE
        elif entry.user_id == user_id:
            state = CodeState.YOURS
        else:
            state = CodeState.TAKEN
            await report_taken(session, entry, cohort, user_id, settings, now)
        # Ending the transaction also returns the connection while the bot answers.
        await session.commit()
        if state == CodeState.TAKEN:
            wake(sender)
        return PersonalInvite(
            code=entry.personal_code,
            full_name=entry.full_name,
            organisation=entry.organisation,
            country=entry.country,
            cohort_code=cohort.code,
            state=state,
        )
    cohort = await reg_db.get_cohort_by_code(session, payload)
    if cohort is None or cohort.id is None:
        await session.commit()
        return None
    enrolment = await reg_db.find_enrolment(session, user_id, cohort.id)
    if (enrolment is None or enrolment.status != reg_db.ACTIVE) and await cohort_ended(
        session, cohort, now
    ):
        await session.commit()
        return ended_cohort(cohort)
    invite = CohortInvite(
        cohort_id=cohort.id,
        code=cohort.code,
        name=cohort.name,
        mode=cohort.registration_mode,
        status=enrolment.status if enrolment else None,
    )
    # Nothing was written; ending the read returns the connection while the bot answers.
    await session.commit()
    return invite


async def report_taken(
    session: AsyncSession,
    entry: RosterEntry,
    cohort: Cohort,
    user_id: int,
    settings: Settings,
    now: datetime,
) -> None:
    someone = await users_db.get_user(session, user_id)
    who = " ".join(p for p in (someone.first_name, someone.last_name) if p) if someone else ""
    handle = f" @{someone.username}" if someone and someone.username else ""
    for admin_id in await roles.programme_staff(session, cohort.programme_id, settings):

        def render(admin_id: int = admin_id) -> str:
            return _(
                "⚠️ Someone else opened the personal link of {name} ({cohort}), which is "
                "already used by another account. Telegram account: {who}{handle} (id {id}). "
                "The link was refused; if the trainee changed phones, contact them."
            ).format(
                name=h(entry.full_name),
                cohort=h(cohort.code),
                who=h(who),
                handle=h(handle),
                id=user_id,
            )

        await tell(
            session,
            settings,
            admin_id,
            "admin_alert",
            f"code-taken:{entry.id}:{user_id}:{admin_id}",
            now,
            render,
        )
