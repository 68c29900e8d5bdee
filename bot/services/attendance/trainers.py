"""The per-cohort trainer role, and who may mark a cohort's attendance and read its codes.

A trainer trains one or more cohorts (``cohort_trainers``); the programme's admins and the
super-admins grant and revoke it. A trainer may mark the attendance and see the session
codes of their own cohorts; so may the programme's admins and coordinators, and the
super-admins for every cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.db import attendance as attendance_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db.models import Cohort as Cohort  # re-exported for the handlers
from bot.db.models import Programme
from bot.services import roles
from bot.services.roles import GrantOutcome, GrantResult

#: The word organisers type for the role (``/grant USER trainer COHORT``).
TRAINER_WORD = "trainer"


async def change_trainer(
    session: AsyncSession,
    *,
    actor_id: int | None,
    user_id: int,
    cohort_code: str,
    grant: bool,
    settings: Settings,
    now: datetime,
) -> GrantResult:
    """Make someone a trainer of a cohort (or no longer one), and commit.

    ``actor_id`` None is the command line, trusted like a super-admin. The outcome's
    ``programme_code`` holds the cohort's code. A person who may not grant in the cohort's
    programme learns only that, not whether the cohort exists.
    """
    cohort = await timetable_db.cohort_by_code(session, cohort_code.strip())
    trusted = actor_id is None or roles.is_super_admin(actor_id, settings)
    if cohort is None or cohort.id is None:
        return GrantResult(GrantOutcome.UNKNOWN_PROGRAMME if trusted else GrantOutcome.FORBIDDEN)
    if actor_id is not None and not await roles.may_grant(
        session, actor_id, cohort.programme_id, settings
    ):
        return GrantResult(GrantOutcome.FORBIDDEN)
    existing = await attendance_db.find_trainer(session, cohort.id, user_id)
    if grant and existing is None:
        await attendance_db.add_trainer(session, cohort.id, user_id, actor_id, now)
    elif not grant and existing is not None:
        await session.delete(existing)
    else:
        return GrantResult(GrantOutcome.UNCHANGED, cohort.code, TRAINER_WORD)
    await session.commit()
    return GrantResult(GrantOutcome.DONE, cohort.code, TRAINER_WORD)


@dataclass(frozen=True, slots=True)
class Access:
    """What a person may see of attendance: programmes they organise, cohorts they train."""

    #: ``None``: every programme (a super-admin); else the programmes they organise.
    programmes: set[int] | None
    trained: frozenset[int]

    @property
    def anything(self) -> bool:
        """Whether the person may mark any cohort at all."""
        return self.programmes is None or bool(self.programmes) or bool(self.trained)

    def covers(self, cohort: Cohort) -> bool:
        """Whether the person may mark this cohort and see its codes."""
        return cohort.id in self.trained or roles.in_scope(self.programmes, cohort.programme_id)


async def access_of(session: AsyncSession, user_id: int, settings: Settings) -> Access:
    """A person's reach over attendance."""
    scope = await roles.admin_programme_ids(session, user_id, settings)
    trained = await attendance_db.trainer_cohort_ids(session, user_id)
    return Access(programmes=scope, trained=frozenset(trained))


async def cohorts_of(session: AsyncSession, access: Access) -> list[tuple[Cohort, Programme]]:
    """The cohorts a person may mark, in code order."""
    if not access.anything:
        return []
    programmes = None if access.programmes is None else list(access.programmes)
    organised = await reg_db.list_cohorts(session, programmes)
    ids = {c.id for c in organised if c.id is not None} | set(access.trained)
    pairs = await timetable_db.programmes_of_cohorts(session, ids)
    return sorted(pairs.values(), key=lambda pair: pair[0].code)
