"""Who of a cohort may have a certificate: those the completion rule says completed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.completion.standings import cohort_standings


async def completed_users(
    session: AsyncSession, cohort_id: int, now: datetime
) -> dict[int, str | None]:
    """The cohort's trainees who completed, by user id, each with the exception that let them
    complete (None when they met every part of the programme's rule)."""
    return {
        standing.user_id: standing.exception
        for standing in await cohort_standings(session, cohort_id, now)
        if standing.completed
    }
