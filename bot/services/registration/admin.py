"""What organisers see of registration: requests awaiting approval, cohorts in their scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import registration as reg_db
from bot.db.models import Cohort
from bot.services import roles


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A registration awaiting approval."""

    enrolment_id: int
    cohort_code: str
    full_name: str
    organisation: str | None
    country: str | None
    email: str | None
    requested_at: datetime


async def pending_requests(session: AsyncSession, scope: set[int] | None) -> list[PendingRequest]:
    """Requests awaiting approval in the cohorts of ``scope`` (None = all)."""
    cohorts = {c.id: c for c in await reg_db.list_cohorts(session, scope) if c.id is not None}
    requests = []
    for enrolment in await reg_db.pending_enrolments(session, list(cohorts)):
        if enrolment.id is None:
            continue
        entry = (
            await reg_db.get_entry(session, enrolment.roster_entry_id)
            if enrolment.roster_entry_id is not None
            else None
        )
        requests.append(
            PendingRequest(
                enrolment_id=enrolment.id,
                cohort_code=cohorts[enrolment.cohort_id].code,
                full_name=entry.full_name if entry else str(enrolment.user_id),
                organisation=entry.organisation if entry else None,
                country=entry.country if entry else None,
                email=entry.email if entry else None,
                requested_at=enrolment.created_at,
            )
        )
    return requests


async def cohorts_in_scope(session: AsyncSession, scope: set[int] | None) -> list[Cohort]:
    """The cohorts of the programmes in ``scope`` (None = all), by programme and code."""
    return await reg_db.list_cohorts(session, scope)


async def cohort_in_scope(
    session: AsyncSession, code: str, scope: set[int] | None
) -> Cohort | None:
    """The cohort with this code if the scope covers it (else None, as if unknown)."""
    cohort = await reg_db.get_cohort_by_code(session, code.strip())
    if cohort is None or not roles.in_scope(scope, cohort.programme_id):
        return None
    return cohort
