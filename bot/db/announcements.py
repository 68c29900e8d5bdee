"""Query functions for announcements: campaigns, their audiences and their outbox rows.

They flush, never commit. Programmes and roles are read through :mod:`bot.db.registration`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import outbox as outbox_db
from bot.db.models import (
    Campaign,
    Cohort,
    Enrolment,
    OutboxMessage,
    Programme,
    RosterEntry,
    User,
)
from bot.db.status import CampaignStatus, EnrolmentStatus

SCHEDULED = CampaignStatus.SCHEDULED
RUNNING = CampaignStatus.RUNNING
DONE = CampaignStatus.DONE
CANCELLED = CampaignStatus.CANCELLED
OPEN_STATUSES = (SCHEDULED, RUNNING)
#: Outbox statuses that mean "not settled yet".
IN_FLIGHT = (outbox_db.PENDING, outbox_db.CLAIMED, outbox_db.SENDING)


@dataclass(frozen=True, slots=True)
class CohortRow:
    """A cohort with what an audience needs to know about its programme."""

    id: int
    code: str
    name: str
    programme_id: int
    programme_code: str
    default_locale: str
    home_timezone: str
    group_chat_id: int | None


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One active enrolment with the facts that decide language, filters and reachability."""

    user_id: int
    cohort_id: int
    locale: str | None
    roster_language: str | None
    country: str | None
    is_reachable: bool
    default_locale: str


async def cohorts(
    session: AsyncSession,
    programme_ids: Collection[int] | None = None,
    cohort_ids: Collection[int] | None = None,
    codes: Collection[str] | None = None,
) -> list[CohortRow]:
    """Cohorts (newest first), narrowed to programmes, ids or codes when those are given."""
    columns: list[Any] = [
        Cohort.id,
        Cohort.code,
        Cohort.name,
        Cohort.programme_id,
        Programme.code,
        Programme.default_locale,
        Programme.home_timezone,
        Cohort.group_chat_id,
    ]
    statement = sa_select(*columns).join(Programme, col(Programme.id) == col(Cohort.programme_id))
    if programme_ids is not None:
        statement = statement.where(col(Cohort.programme_id).in_(list(programme_ids)))
    if cohort_ids is not None:
        statement = statement.where(col(Cohort.id).in_(list(cohort_ids)))
    if codes is not None:
        statement = statement.where(col(Cohort.code).in_(list(codes)))
    statement = statement.order_by(col(Cohort.starts_on).desc(), col(Cohort.id).desc())
    rows = (await session.execute(statement)).all()
    return [
        CohortRow(
            id=int(cid or 0),
            code=code,
            name=name,
            programme_id=pid,
            programme_code=pcode,
            default_locale=default_locale,
            home_timezone=home_timezone,
            group_chat_id=group_chat_id,
        )
        for cid, code, name, pid, pcode, default_locale, home_timezone, group_chat_id in rows
    ]


async def active_members(session: AsyncSession, cohort_ids: Collection[int]) -> list[MemberRow]:
    """Every active enrolment of the cohorts, ordered by person, in one query."""
    if not cohort_ids:
        return []
    columns: list[Any] = [
        Enrolment.user_id,
        Enrolment.cohort_id,
        User.locale,
        RosterEntry.language,
        RosterEntry.country,
        User.is_reachable,
        Programme.default_locale,
    ]
    statement = (
        sa_select(*columns)
        .select_from(Enrolment)
        .join(Cohort, col(Cohort.id) == col(Enrolment.cohort_id))
        .join(Programme, col(Programme.id) == col(Cohort.programme_id))
        .outerjoin(User, col(User.id) == col(Enrolment.user_id))
        .outerjoin(RosterEntry, col(RosterEntry.id) == col(Enrolment.roster_entry_id))
        .where(
            col(Enrolment.status) == EnrolmentStatus.ACTIVE,
            col(Enrolment.cohort_id).in_(list(cohort_ids)),
        )
        .order_by(col(Enrolment.user_id), col(Enrolment.cohort_id))
    )
    rows = (await session.execute(statement)).all()
    return [
        MemberRow(
            user_id=user_id,
            cohort_id=cohort_id,
            locale=locale,
            roster_language=language,
            country=country,
            is_reachable=reachable is not False,
            default_locale=default_locale,
        )
        for user_id, cohort_id, locale, language, country, reachable, default_locale in rows
    ]


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign with this id."""
    return await session.get(Campaign, campaign_id)


async def recent_campaigns(
    session: AsyncSession,
    *,
    programme_ids: Collection[int] | None,
    created_by: int | None,
    limit: int = 10,
) -> list[Campaign]:
    """Open campaigns first, then the latest ones; narrowed to a scope unless it is None.

    With a scope, a campaign is visible when its programme is in the scope or the person
    created it.
    """
    statement = select(Campaign)
    if programme_ids is not None:
        condition: ColumnElement[bool] = col(Campaign.programme_id).in_(list(programme_ids))
        if created_by is not None:
            condition = condition | (col(Campaign.created_by) == created_by)
        statement = statement.where(condition)
    open_first = col(Campaign.status).in_(OPEN_STATUSES).desc()
    statement = statement.order_by(open_first, col(Campaign.id).desc()).limit(limit)
    return list((await session.exec(statement)).all())


async def campaigns_to_watch(session: AsyncSession) -> list[Campaign]:
    """Campaigns whose progress is still moving: open ones and cancelled ones not yet closed."""
    statement = (
        select(Campaign)
        .where(
            col(Campaign.status).in_(OPEN_STATUSES)
            | ((col(Campaign.status) == CANCELLED) & col(Campaign.finished_at).is_(None))
        )
        .order_by(col(Campaign.id))
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(statement)).all())


async def counts_for(
    session: AsyncSession, campaign_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Outbox rows per status for several campaigns, in one query."""
    if not campaign_ids:
        return {}
    statement = (
        select(OutboxMessage.campaign_id, OutboxMessage.status, func.count())
        .where(col(OutboxMessage.campaign_id).in_(list(campaign_ids)))
        .group_by(col(OutboxMessage.campaign_id), col(OutboxMessage.status))
    )
    counts: dict[int, dict[str, int]] = {cid: {} for cid in campaign_ids}
    for campaign_id, status, n in (await session.exec(statement)).all():
        if campaign_id is not None:
            counts.setdefault(campaign_id, {})[status] = int(n)
    return counts


async def in_flight_count(session: AsyncSession, campaign_id: int) -> int:
    """How many rows of the campaign are not settled yet (pending, claimed or sending)."""
    statement = select(func.count()).where(
        col(OutboxMessage.campaign_id) == campaign_id, col(OutboxMessage.status).in_(IN_FLIGHT)
    )
    return int((await session.exec(statement)).one())


async def mark_finished(
    session: AsyncSession, campaign: Campaign, *, status: str, now: datetime
) -> None:
    """Close a campaign with its final status."""
    campaign.status = status
    campaign.finished_at = now
    session.add(campaign)
    await session.flush()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def report_mark(campaign: Campaign) -> str:
    """Which final report of the campaign stands: its closing time in microseconds ("" while
    open). A campaign sent again closes anew, so what its earlier report offered is told
    apart from the latest."""
    if campaign.finished_at is None:
        return ""
    return str((campaign.finished_at - _EPOCH) // timedelta(microseconds=1))


async def user_locale(session: AsyncSession, user_id: int) -> tuple[str | None, str | None]:
    """The chosen locale and Telegram's language code of a person (None, None if unknown)."""
    user = await session.get(User, user_id)
    if user is None:
        return None, None
    return user.locale, user.language_code


async def failure_reasons(session: AsyncSession, campaign_id: int | None = None) -> dict[str, int]:
    """Failed outbox rows grouped by reason, for one campaign or the whole outbox."""
    statement = (
        select(OutboxMessage.last_error, func.count())
        .where(col(OutboxMessage.status) == outbox_db.FAILED)
        .group_by(col(OutboxMessage.last_error))
    )
    if campaign_id is not None:
        statement = statement.where(col(OutboxMessage.campaign_id) == campaign_id)
    return {str(reason): int(n) for reason, n in (await session.exec(statement)).all()}
