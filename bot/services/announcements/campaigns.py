"""Announcement campaigns: created with one outbox row per recipient, listed, cancelled,
started when due and closed when every row has settled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import announcements as announcements_db
from bot.db import outbox as outbox_db
from bot.db.models import Campaign
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import ngettext
from bot.services.announcements.audience import (
    Audience,
    Scope,
    content_language,
    languages_missing,
    resolve,
)
from bot.services.announcements.content import payload_for, validate_content
from bot.services.announcements.errors import (
    AlreadyFinished,
    CampaignNotFound,
    EmptyAudience,
    NotAllowed,
    TimeInPast,
)

KIND = "announcement"


class Organiser(Protocol):
    """What the announcement screens read of the organiser: their own time zone, if set."""

    @property
    def timezone(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """What creating a campaign did."""

    campaign_id: int
    people: int
    groups: int
    unreachable: int
    queued: int
    missing_languages: list[str]
    scheduled_at: datetime
    status: str


async def create_campaign(
    session: AsyncSession,
    *,
    scope: Scope,
    audience: Audience,
    content: Mapping[str, Any],
    clock: Clock,
    scheduled_at: datetime | None = None,
    pin: bool = False,
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
) -> CampaignReport:
    """Create the campaign and queue one outbox row per recipient, in one transaction.

    Raises InvalidContent, TimeInPast, NotAllowed or EmptyAudience and then changes nothing.
    """
    clean = validate_content(content)
    now = clock.now()
    when = scheduled_at or now
    if when.tzinfo is None:
        raise ValueError("scheduled_at must be timezone-aware")
    if when < now:
        raise TimeInPast(when.isoformat())
    resolved = await resolve(session, audience, scope)
    if resolved.total == 0:
        raise EmptyAudience
    programme_ids = resolved.programme_ids
    stored_audience = audience.to_json() | {
        "resolved_cohort_ids": [c.id for c in resolved.cohorts],
        "resolved_programme_ids": programme_ids,
        "reader_languages": dict(resolved.reader_languages),
        "people": len(resolved.people),
        "groups_count": len(resolved.groups),
        "unreachable": resolved.unreachable,
    }
    campaign = Campaign(
        kind=KIND,
        created_by=scope.user_id,
        programme_id=programme_ids[0] if len(programme_ids) == 1 else None,
        audience=stored_audience,
        content=clean,
        status=announcements_db.SCHEDULED if when > now else announcements_db.RUNNING,
        pin=pin,
        scheduled_at=when,
        progress_chat_id=progress_chat_id,
        progress_message_id=progress_message_id,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    campaign_id = campaign.id
    if campaign_id is None:
        raise RuntimeError("the campaign got no id")
    available = list(clean)
    private_payloads: dict[str, dict[str, Any]] = {}
    group_payloads: dict[str, dict[str, Any]] = {}
    envelopes: list[Envelope] = []
    prefix = f"campaign:{campaign_id}:"
    for recipients, payloads, is_group in (
        (resolved.people, private_payloads, False),
        (resolved.groups, group_payloads, True),
    ):
        for recipient in recipients:
            language = content_language(
                recipient.reader_language, recipient.default_locale, available
            )
            payload = payloads.get(language)
            if payload is None:
                payload = payload_for(clean[language], pin=pin and is_group)
                payloads[language] = payload
            envelopes.append(
                Envelope(
                    chat_id=recipient.chat_id,
                    kind=KIND,
                    dedupe_key=f"{prefix}{recipient.chat_id}",
                    due_at=when,
                    payload=payload,
                    user_id=recipient.user_id,
                    campaign_id=campaign_id,
                )
            )
    queued = await enqueue(session, envelopes, now)
    await session.commit()
    return CampaignReport(
        campaign_id=campaign_id,
        people=len(resolved.people),
        groups=len(resolved.groups),
        unreachable=resolved.unreachable,
        queued=queued,
        missing_languages=languages_missing(clean, resolved.reader_languages),
        scheduled_at=when,
        status=campaign.status,
    )


def _may_act(campaign: Campaign, scope: Scope) -> bool:
    if scope.everything or (scope.user_id is not None and campaign.created_by == scope.user_id):
        return True
    programmes = campaign.audience.get("resolved_programme_ids") or (
        [campaign.programme_id] if campaign.programme_id is not None else []
    )
    return bool(programmes) and all(scope.allows(int(p)) for p in programmes)


async def cancel_campaign(
    session: AsyncSession, campaign_id: int, scope: Scope, clock: Clock
) -> int:
    """Stop a scheduled or running campaign: its queued rows are cancelled; returns how many.

    What is already being sent still settles; the progress loop then closes the campaign.
    """
    campaign = await announcements_db.get_campaign(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound(str(campaign_id))
    if not _may_act(campaign, scope):
        raise NotAllowed
    if campaign.status not in announcements_db.OPEN_STATUSES:
        raise AlreadyFinished(campaign.status)
    cancelled = await outbox_db.cancel_pending(session, campaign_id=campaign_id)
    campaign.status = announcements_db.CANCELLED
    session.add(campaign)
    await session.commit()
    return cancelled


@dataclass(frozen=True, slots=True)
class ResendOffer:
    """What sending a finished campaign again would do, as its final report stands."""

    campaign_id: int
    #: Rows that failed for a reason worth trying again (a server error, a restart).
    count: int
    #: Of those, rows caught mid-send by a restart: the person may already have the message.
    interrupted: int
    #: Rows that failed for a reason that stays (blocked the bot, account deleted, ...).
    not_retried: int


def describe_resend(offer: ResendOffer) -> str:
    """What sending again would do, for the organiser to confirm (in the current locale)."""
    lines = [
        ngettext(
            "📣 Announcement #{id}: send it again to the {count} chat it failed for?",
            "📣 Announcement #{id}: send it again to the {count} chats it failed for?",
            offer.count,
        ).format(id=offer.campaign_id, count=offer.count)
    ]
    if offer.interrupted:
        lines.append(
            ngettext(
                "{count} of them was being sent when the bot restarted: that person may already "
                "have it (Telegram cannot tell us) and would then get it twice.",
                "{count} of them were being sent when the bot restarted: they may already have "
                "it (Telegram cannot tell us) and would then get it twice.",
                offer.interrupted,
            ).format(count=offer.interrupted)
        )
    if offer.not_retried:
        lines.append(
            ngettext(
                "{count} other failure (blocked the bot, account deleted…) is not tried again.",
                "{count} other failures (blocked the bot, account deleted…) are not tried again.",
                offer.not_retried,
            ).format(count=offer.not_retried)
        )
    return "\n\n".join(lines)


async def _resendable(
    session: AsyncSession, campaign_id: int, scope: Scope, mark: str
) -> Campaign | None:
    """The campaign when its final report ``mark`` still stands (None when it does not)."""
    campaign = await announcements_db.get_campaign(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound(str(campaign_id))
    if not _may_act(campaign, scope):
        raise NotAllowed
    if campaign.status != announcements_db.DONE or announcements_db.report_mark(campaign) != mark:
        return None
    return campaign


async def resend_offer(
    session: AsyncSession, campaign_id: int, scope: Scope, mark: str
) -> ResendOffer:
    """How many of a finished campaign's failed rows would be sent again; changes nothing.

    ``mark`` names the final report the organiser saw
    (:func:`bot.db.announcements.report_mark`); once the campaign was sent again that report
    no longer stands, and nothing is offered. Raises CampaignNotFound or NotAllowed (the same
    rule as cancelling).
    """
    if await _resendable(session, campaign_id, scope, mark) is None:
        return ResendOffer(campaign_id, 0, 0, 0)
    kinds = await outbox_db.retryable_counts(session, campaign_id)
    failed = (await outbox_db.counts_by_status(session, campaign_id)).get(outbox_db.FAILED, 0)
    count = sum(kinds.values())
    return ResendOffer(
        campaign_id=campaign_id,
        count=count,
        interrupted=kinds.get(outbox_db.Failure.INTERRUPTED, 0),
        not_retried=failed - count,
    )


async def resend_failed(
    session: AsyncSession, campaign_id: int, scope: Scope, mark: str, clock: Clock
) -> int:
    """Queue again the failed rows worth trying again and reopen the campaign; returns how many.

    The rows go back to the outbox as new, so the sender delivers them under the one rate
    budget, and the progress loop follows the campaign again and writes a new final report.
    Only the report ``mark`` names is acted on, and one guarded ``UPDATE`` takes the rows: a
    second press, here or on another replica, queues nothing more (0, and no change). Commits;
    raises CampaignNotFound or NotAllowed.
    """
    campaign = await _resendable(session, campaign_id, scope, mark)
    if campaign is None:
        return 0
    queued = await outbox_db.requeue_retryable(session, campaign_id, clock.now())
    if not queued:
        return 0
    campaign.status = announcements_db.RUNNING
    campaign.finished_at = None
    session.add(campaign)
    await session.commit()
    return queued


async def finish_if_done(session: AsyncSession, campaign: Campaign, clock: Clock) -> bool:
    """Close the campaign when none of its rows is pending, claimed or sending.

    A running campaign becomes ``done``; a cancelled one keeps its status and gets its
    finishing time. Commits; returns whether the campaign was closed.
    """
    if campaign.id is None or campaign.finished_at is not None:
        return False
    if campaign.status not in (announcements_db.RUNNING, announcements_db.CANCELLED):
        return False
    if await announcements_db.in_flight_count(session, campaign.id):
        return False
    status = (
        announcements_db.DONE if campaign.status == announcements_db.RUNNING else campaign.status
    )
    await announcements_db.mark_finished(session, campaign, status=status, now=clock.now())
    await session.commit()
    return True


async def start_due(session: AsyncSession, campaigns: Iterable[Campaign], clock: Clock) -> None:
    """Scheduled campaigns whose time has come are running from now on. Commits."""
    now = clock.now()
    changed = False
    for campaign in campaigns:
        if campaign.status == announcements_db.SCHEDULED and campaign.scheduled_at <= now:
            campaign.status = announcements_db.RUNNING
            session.add(campaign)
            changed = True
    if changed:
        await session.commit()


@dataclass(frozen=True, slots=True)
class CampaignLine:
    """A campaign as the organiser's list shows it."""

    campaign: Campaign
    counts: dict[str, int]
    may_cancel: bool
    #: Failed rows that may be sent again (a server error, a restart), when this organiser may.
    may_send_again: int = 0
    #: Which final report stands (:func:`bot.db.announcements.report_mark`), for its button.
    mark: str = ""


async def list_campaigns(
    session: AsyncSession, scope: Scope, limit: int = 10
) -> list[CampaignLine]:
    """Open campaigns first, then recent ones, with their row counts."""
    found = await announcements_db.recent_campaigns(
        session,
        programme_ids=scope.programme_ids,
        created_by=scope.user_id,
        limit=limit,
    )
    counts = await announcements_db.counts_for(session, [c.id for c in found if c.id is not None])
    finished = [
        c.id
        for c in found
        if c.id is not None and c.status == announcements_db.DONE and _may_act(c, scope)
    ]
    again = await outbox_db.retryable_by_campaign(session, finished)
    return [
        CampaignLine(
            campaign=c,
            counts=counts.get(c.id or 0, {}),
            may_cancel=c.status in announcements_db.OPEN_STATUSES and _may_act(c, scope),
            may_send_again=again.get(c.id or 0, 0),
            mark=announcements_db.report_mark(c),
        )
        for c in found
    ]
