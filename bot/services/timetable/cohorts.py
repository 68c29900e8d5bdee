"""Finding the cohort a timetable belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Programme
from bot.services import roles


class UnknownCohort(LookupError):
    """No cohort has this code or id."""


async def find_cohort(
    session: AsyncSession, cohort_code: str | None, cohort_id: int | None
) -> tuple[Cohort, Programme]:
    """The cohort (by id when given, else by code) and its programme; raises UnknownCohort."""
    cohort: Cohort | None = None
    if cohort_id is not None:
        found = await timetable_db.cohort_with_programme(session, cohort_id)
        if found is not None:
            return found
    elif cohort_code is not None:
        cohort = await timetable_db.cohort_by_code(session, cohort_code)
    if cohort is None or cohort.id is None:
        raise UnknownCohort(cohort_code or cohort_id)
    found = await timetable_db.cohort_with_programme(session, cohort.id)
    if found is None:
        raise UnknownCohort(cohort_code or cohort_id)
    return found


@dataclass(frozen=True, slots=True)
class CohortChoice:
    """A cohort an organiser may send a timetable for: its id, code and name."""

    cohort_id: int
    code: str
    name: str | None


def _choice(cohort: Cohort) -> CohortChoice:
    return CohortChoice(cohort_id=cohort.id or 0, code=cohort.code, name=cohort.name)


async def cohort_in_scope(
    session: AsyncSession, code: str, scope: set[int] | None
) -> CohortChoice | None:
    """The cohort with this code when its programme is inside ``scope``, else ``None``."""
    cohort = await timetable_db.cohort_by_code(session, code)
    if cohort is None or cohort.id is None or not roles.in_scope(scope, cohort.programme_id):
        return None
    return _choice(cohort)


async def cohorts_in_scope(session: AsyncSession, scope: set[int] | None) -> list[CohortChoice]:
    """The cohorts of the programmes inside ``scope`` (all with ``None``), by programme and code."""
    return [_choice(cohort) for cohort in await reg_db.list_cohorts(session, scope)]
