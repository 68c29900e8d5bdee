"""Live progress of running campaigns: the organiser's message becomes a progress bar.

Every few seconds each running campaign's progress message is edited (sent, failed, waiting,
rate, time left); an edit only happens when the text changed, because Telegram refuses an
edit to the same text. When no row of a campaign is left to send, the message becomes the
final report, with the failures grouped by kind of reason (in the organiser's language), and the
campaign is closed. Starting and closing campaigns is the announcements service's business: the
application hands those two steps in (:class:`CampaignSteps`), and the buttons a final report
carries when some rows failed for a reason worth trying again (:data:`ReportButtons`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import announcements as announcements_db
from bot.db import outbox as outbox_db
from bot.db.models import Campaign
from bot.i18n import babel_locale, format_timedelta, normalize_locale, use_locale
from bot.i18n import gettext as _

log = logging.getLogger(__name__)


class CampaignSteps(Protocol):
    """How campaigns start and close (the announcements service implements both; each commits)."""

    async def start_due(
        self, session: AsyncSession, campaigns: Iterable[Campaign], clock: Clock
    ) -> None:
        """Scheduled campaigns whose time has come are running from now on."""

    async def finish_if_done(self, session: AsyncSession, campaign: Campaign, clock: Clock) -> bool:
        """Close the campaign when none of its rows is left to send; whether it was closed."""


#: The buttons under a finished campaign's final report, built in the organiser's locale from the
#: campaign's id, the report's mark (:func:`bot.db.announcements.report_mark`) and how many
#: failed rows are worth trying again (never called with none).
ReportButtons = Callable[[int, str, int], InlineKeyboardMarkup]

BAR_CELLS = 12
RATE_WINDOW = 30.0


def _number(value: float, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def _bar(done: int, total: int) -> str:
    share = done / total if total else 1.0
    filled = min(BAR_CELLS, round(share * BAR_CELLS))
    return "▰" * filled + "▱" * (BAR_CELLS - filled) + f" {round(share * 100)}%"


def render_progress(campaign_id: int, counts: Mapping[str, int], rate: float | None) -> str:
    """The progress bar text in the current locale (HTML-safe: numbers and our own words)."""
    sent = counts.get(outbox_db.SENT, 0)
    failed = counts.get(outbox_db.FAILED, 0)
    other = counts.get(outbox_db.EXPIRED, 0) + counts.get(outbox_db.CANCELLED, 0)
    waiting = sum(counts.get(s, 0) for s in announcements_db.IN_FLIGHT)
    total = sent + failed + other + waiting
    lines = [
        _("📣 Announcement #{id}: sending").format(id=campaign_id),
        _bar(sent + failed + other, total),
        _("Sent: {sent} · Failed: {failed} · Waiting: {waiting}").format(
            sent=_number(sent), failed=_number(failed), waiting=_number(waiting)
        ),
    ]
    if rate is not None and rate > 0:
        left = timedelta(seconds=max(1.0, waiting / rate))
        lines.append(
            _("Speed: {rate} a second · about {left} left").format(
                rate=_number(rate, 1), left=format_timedelta(left)
            )
        )
    else:
        lines.append(_("Speed: measuring…"))
    return "\n".join(lines)


def failure_label(failure: outbox_db.Failure) -> str:
    """What a kind of failure is called in the final report, in the current locale."""
    labels = {
        outbox_db.Failure.BLOCKED: _("blocked the bot"),
        outbox_db.Failure.DEACTIVATED: _("account deleted"),
        outbox_db.Failure.REMOVED: _("bot removed from the group"),
        outbox_db.Failure.CHAT_NOT_FOUND: _("chat not found"),
        outbox_db.Failure.SERVER_ERROR: _("Telegram server error"),
        outbox_db.Failure.INTERRUPTED: _("interrupted by a restart"),
        outbox_db.Failure.EXPIRED: _("expired before it could be sent"),
        outbox_db.Failure.OTHER: _("other reason"),
    }
    return labels[failure]


def render_final(
    campaign_id: int, status: str, counts: Mapping[str, int], failures: Mapping[str, int]
) -> str:
    """The final report in the current locale.

    ``failures`` counts failed rows by their ``last_error``; the report counts them by kind of
    reason (blocked the bot, account deleted, ...), never quoting Telegram's English.
    """
    sent = counts.get(outbox_db.SENT, 0)
    failed = counts.get(outbox_db.FAILED, 0)
    expired = counts.get(outbox_db.EXPIRED, 0)
    cancelled = counts.get(outbox_db.CANCELLED, 0)
    total = sum(counts.values())
    if status == announcements_db.CANCELLED:
        head = _("📣 Announcement #{id}: cancelled").format(id=campaign_id)
    else:
        head = _("📣 Announcement #{id}: finished").format(id=campaign_id)
    lines = [
        head,
        _("Delivered: {sent} of {total}").format(sent=_number(sent), total=_number(total)),
    ]
    if failed:
        lines.append(_("Not delivered: {failed}").format(failed=_number(failed)))
    if expired:
        lines.append(_("Dropped as too late: {expired}").format(expired=_number(expired)))
    if cancelled:
        lines.append(
            _("Cancelled before sending: {cancelled}").format(cancelled=_number(cancelled))
        )
    kinds: Counter[outbox_db.Failure] = Counter()
    for reason, n in failures.items():
        kinds[outbox_db.failure_of(reason)] += n
    if kinds:
        lines.append(_("Reasons:"))
        order = list(outbox_db.Failure)
        ranked = sorted(kinds.items(), key=lambda item: (-item[1], order.index(item[0])))
        for failure, n in ranked:
            lines.append(f"• {failure_label(failure)}: {_number(n)}")
    return "\n".join(lines)


@dataclass
class _Watch:
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    last_text: str | None = None
    locale: str | None = None

    def rate(self, now: float, settled: int) -> float | None:
        self.samples.append((now, settled))
        while self.samples and now - self.samples[0][0] > RATE_WINDOW:
            self.samples.popleft()
        first_at, first = self.samples[0]
        if now - first_at < 0.5 or settled <= first:
            return None
        return (settled - first) / (now - first_at)


class ProgressReporter:
    """Keeps the progress messages of open campaigns up to date; one :meth:`tick` per round."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        steps: CampaignSteps,
        buttons: ReportButtons | None = None,
    ) -> None:
        self._sf = session_factory
        self._bot = bot
        self._clock = clock
        self._steps = steps
        self._buttons = buttons
        self._watches: dict[int, _Watch] = {}

    async def tick(self) -> None:
        """Start due campaigns, refresh progress bars, close and report finished campaigns."""
        async with self._sf() as session:
            campaigns = await announcements_db.campaigns_to_watch(session)
            await self._steps.start_due(session, campaigns, self._clock)
            for campaign in campaigns:
                if campaign.id is None or campaign.status == announcements_db.SCHEDULED:
                    continue
                watch = self._watches.setdefault(campaign.id, _Watch())
                if watch.locale is None:
                    watch.locale = await self._locale_of(session, campaign)
                if await self._steps.finish_if_done(session, campaign, self._clock):
                    counts = await outbox_db.counts_by_status(session, campaign.id)
                    failures = await outbox_db.failures_by_reason(session, campaign.id)
                    retryable = 0
                    if self._buttons is not None and campaign.status == announcements_db.DONE:
                        kinds = await outbox_db.retryable_counts(session, campaign.id)
                        retryable = sum(kinds.values())
                    with use_locale(watch.locale):
                        text = render_final(campaign.id, campaign.status, counts, failures)
                        markup = None
                        if self._buttons is not None and retryable:
                            mark = announcements_db.report_mark(campaign)
                            markup = self._buttons(campaign.id, mark, retryable)
                    await self._show(campaign, watch, text, markup)
                    del self._watches[campaign.id]
                    continue
                counts = await outbox_db.counts_by_status(session, campaign.id)
                settled = sum(n for s, n in counts.items() if s not in announcements_db.IN_FLIGHT)
                rate = watch.rate(time.monotonic(), settled)
                with use_locale(watch.locale):
                    text = render_progress(campaign.id, counts, rate)
                await self._show(campaign, watch, text)

    async def _locale_of(self, session: AsyncSession, campaign: Campaign) -> str:
        if campaign.created_by is None:
            return "en"
        locale, language_code = await announcements_db.user_locale(session, campaign.created_by)
        return normalize_locale(locale) or normalize_locale(language_code) or "en"

    async def _show(
        self,
        campaign: Campaign,
        watch: _Watch,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        chat_id, message_id = campaign.progress_chat_id, campaign.progress_message_id
        if chat_id is None or message_id is None or text == watch.last_text:
            return
        try:
            await self._bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except TelegramRetryAfter:
            return  # the next round tries again
        except TelegramAPIError as exc:
            # "message is not modified" after a restart, or the organiser deleted it.
            log.info("progress of campaign %s not shown: %s", campaign.id, exc)
        watch.last_text = text


async def run_progress(
    session_factory: async_sessionmaker[AsyncSession],
    bot: Bot,
    clock: Clock,
    steps: CampaignSteps,
    *,
    buttons: ReportButtons | None = None,
    every: float = 3.0,
    stop: asyncio.Event,
) -> None:
    """Refresh progress messages every ``every`` seconds until ``stop`` is set."""
    reporter = ProgressReporter(session_factory, bot, clock, steps, buttons)
    while not stop.is_set():
        try:
            await reporter.tick()
        except Exception:
            log.exception("campaign progress round failed; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
