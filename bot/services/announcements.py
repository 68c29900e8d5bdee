"""Announcements: who hears them, in which language, and when; queued through the outbox.

A campaign holds the organiser's content per language and the audience as chosen (cohorts,
whole programmes, everyone the organiser may reach, the cohorts' group chats, filters by
language and country). Creating it expands the audience into one outbox row per recipient,
in the recipient's language: their own (chosen locale, else the roster's language) -> the
programme's default -> English -> whatever version exists.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import campaigns as campaigns_db
from bot.db import outbox as outbox_db
from bot.db.campaigns import CohortRow
from bot.db.models import Campaign, Programme
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import SUPPORTED_LOCALES, normalize_locale

KIND = "announcement"
FILE_KINDS = ("document", "photo")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class AnnouncementError(Exception):
    """Something about the announcement is wrong; nothing was changed."""


class EmptyAudience(AnnouncementError):
    """Nobody reachable matches the audience."""


class InvalidContent(AnnouncementError):
    """The content is missing, too long, or its HTML is not what Telegram accepts."""


class TimeInPast(AnnouncementError):
    """The requested sending time has already passed."""


class UnknownCohort(AnnouncementError):
    """No cohort has one of the given codes."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = sorted(codes)
        super().__init__(", ".join(self.codes))


class NotAllowed(AnnouncementError):
    """The organiser may not reach this cohort or act on this campaign."""


class CampaignNotFound(AnnouncementError):
    """No campaign has this id."""


class AlreadyFinished(AnnouncementError):
    """The campaign is done or cancelled already."""


# -- who may announce to whom ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """What an organiser may reach: every programme (``programme_ids`` None) or some."""

    user_id: int | None
    programme_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.programme_ids is None

    def allows(self, programme_id: int | None) -> bool:
        """Whether a programme is within reach."""
        return self.programme_ids is None or (
            programme_id is not None and programme_id in self.programme_ids
        )


#: The command line acts for the operators of the installation: everything is in reach.
EVERYTHING = Scope(user_id=None, programme_ids=None)


async def scope_of(session: AsyncSession, user_id: int, admin_ids: Collection[int]) -> Scope | None:
    """The organiser's reach: super-admins everything, others their granted programmes.

    None when the person organises nothing.
    """
    if user_id in admin_ids:
        return Scope(user_id=user_id, programme_ids=None)
    granted = await campaigns_db.granted_programme_ids(session, user_id)
    if not granted:
        return None
    return Scope(user_id=user_id, programme_ids=frozenset(granted))


# -- the audience ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    """The audience as the organiser chose it.

    Cohorts come from ``cohort_ids``, whole ``programme_ids`` and ``everyone`` (every cohort in
    reach). ``private`` sends to each trainee; ``groups`` posts in the cohorts' linked group
    chats. Asking for group chats without naming cohorts means every linked group in reach.
    """

    cohort_ids: tuple[int, ...] = ()
    programme_ids: tuple[int, ...] = ()
    everyone: bool = False
    private: bool = True
    groups: bool = False
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "cohort_ids": list(self.cohort_ids),
            "programme_ids": list(self.programme_ids),
            "everyone": self.everyone,
            "private": self.private,
            "groups": self.groups,
            "languages": list(self.languages),
            "countries": list(self.countries),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Audience:
        return cls(
            cohort_ids=tuple(int(i) for i in data.get("cohort_ids", ())),
            programme_ids=tuple(int(i) for i in data.get("programme_ids", ())),
            everyone=bool(data.get("everyone", False)),
            private=bool(data.get("private", True)),
            groups=bool(data.get("groups", False)),
            languages=tuple(str(x) for x in data.get("languages", ())),
            countries=tuple(str(x) for x in data.get("countries", ())),
        )

    @property
    def names_cohorts(self) -> bool:
        return bool(self.cohort_ids or self.programme_ids or self.everyone)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One chat the announcement goes to, and the language its reader reads."""

    chat_id: int
    user_id: int | None
    reader_language: str
    default_locale: str


@dataclass
class Resolved:
    """The audience expanded into chats, with the figures the organiser is shown."""

    cohorts: list[CohortRow]
    people: list[Recipient] = field(default_factory=list)
    groups: list[Recipient] = field(default_factory=list)
    unreachable: int = 0
    #: Readers per language (people and groups), after the filters.
    reader_languages: Counter[str] = field(default_factory=Counter)
    #: Languages and countries of the audience before the filters (to offer as filters).
    all_languages: Counter[str] = field(default_factory=Counter)
    all_countries: Counter[str] = field(default_factory=Counter)

    @property
    def programme_ids(self) -> list[int]:
        return sorted({c.programme_id for c in self.cohorts})

    @property
    def home_timezone(self) -> str:
        return self.cohorts[0].home_timezone if self.cohorts else "UTC"

    @property
    def default_locale(self) -> str:
        return self.cohorts[0].default_locale if self.cohorts else "en"

    @property
    def total(self) -> int:
        return len(self.people) + len(self.groups)


@dataclass(frozen=True, slots=True)
class Choices:
    """What an organiser can pick from: their cohorts and programmes."""

    cohorts: list[CohortRow]
    programmes: list[Programme]


async def choices(session: AsyncSession, scope: Scope) -> Choices:
    """The cohorts and programmes within the organiser's reach."""
    return Choices(
        cohorts=await campaigns_db.cohorts(session, programme_ids=scope.programme_ids),
        programmes=await campaigns_db.programmes(session, scope.programme_ids),
    )


def reader_language(locale: str | None, roster_language: str | None, default_locale: str) -> str:
    """The language a trainee reads: their choice, else the roster's, else the programme's."""
    return (
        normalize_locale(locale)
        or normalize_locale(roster_language)
        or normalize_locale(default_locale)
        or "en"
    )


def content_language(reader: str, default_locale: str, available: Collection[str]) -> str:
    """The version a reader gets: theirs -> the programme's default -> English -> any."""
    for candidate in (reader, default_locale, "en"):
        if candidate in available:
            return candidate
    for candidate in SUPPORTED_LOCALES:
        if candidate in available:
            return candidate
    return next(iter(sorted(available)))


def languages_missing(content: Mapping[str, Any], readers: Iterable[str]) -> list[str]:
    """Audience languages without their own version, in the interface's order."""
    wanted = set(readers)
    return [code for code in SUPPORTED_LOCALES if code in wanted and code not in content]


def missing_languages(campaign: Campaign) -> list[str]:
    """Which languages of the campaign's audience have no version (they get the default)."""
    readers = campaign.audience.get("reader_languages", {})
    return languages_missing(campaign.content, readers)


async def resolve(session: AsyncSession, audience: Audience, scope: Scope) -> Resolved:
    """Expand the audience into chats; people who blocked the bot are counted, not included.

    A person enrolled in several chosen cohorts gets one message.
    """
    in_reach = await campaigns_db.cohorts(session, programme_ids=scope.programme_ids)
    by_id = {c.id: c for c in in_reach}
    if any(cid not in by_id for cid in audience.cohort_ids) or any(
        not scope.allows(pid) for pid in audience.programme_ids
    ):
        raise NotAllowed
    if audience.everyone or (audience.groups and not audience.names_cohorts):
        chosen = list(in_reach)
    else:
        wanted = set(audience.cohort_ids)
        programmes = set(audience.programme_ids)
        chosen = [c for c in in_reach if c.id in wanted or c.programme_id in programmes]
    resolved = Resolved(cohorts=chosen)
    languages = set(audience.languages)
    countries = {c.upper() for c in audience.countries}
    if audience.private and audience.names_cohorts:
        seen: set[int] = set()
        members = await campaigns_db.active_members(session, [c.id for c in chosen])
        for member in members:
            if member.user_id in seen:
                continue
            seen.add(member.user_id)
            reader = reader_language(member.locale, member.roster_language, member.default_locale)
            country = (member.country or "").upper()
            resolved.all_languages[reader] += 1
            if country:
                resolved.all_countries[country] += 1
            if languages and reader not in languages:
                continue
            if countries and country not in countries:
                continue
            if not member.is_reachable:
                resolved.unreachable += 1
                continue
            resolved.reader_languages[reader] += 1
            resolved.people.append(
                Recipient(member.user_id, member.user_id, reader, member.default_locale)
            )
    if audience.groups:
        seen_groups: set[int] = set()
        for cohort in chosen:
            chat_id = cohort.group_chat_id
            if chat_id is None or chat_id in seen_groups:
                continue
            seen_groups.add(chat_id)
            reader = reader_language(None, None, cohort.default_locale)
            resolved.reader_languages[reader] += 1
            resolved.groups.append(Recipient(chat_id, None, reader, cohort.default_locale))
    return resolved


# -- content ---------------------------------------------------------------------------------

_ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f"unsupported tag <{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"unexpected </{tag}>"
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.plain.append(data)


def check_html(text: str, limit: int) -> str | None:
    """Why Telegram would refuse this HTML text (None when it is fine)."""
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.error:
        return checker.error
    if checker.stack:
        return f"<{checker.stack[-1]}> is not closed"
    length = len("".join(checker.plain))
    if length > limit:
        return f"{length} characters, at most {limit} allowed"
    return None


def plain_to_html(text: str) -> str:
    """Escape plain text for HTML parse mode."""
    return html.escape(text, quote=False)


def validate_content(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Check every version and return it in the stored shape; raises InvalidContent."""
    if not content:
        raise InvalidContent("no version")
    clean: dict[str, dict[str, Any]] = {}
    for language, version in content.items():
        if language not in SUPPORTED_LOCALES:
            raise InvalidContent(f"unsupported language {language}")
        text = str(version.get("text") or "")
        file_id = version.get("file_id")
        file_kind = version.get("file_kind")
        if file_id and file_kind not in FILE_KINDS:
            raise InvalidContent(f"unsupported file kind {file_kind}")
        if not file_id and not text.strip():
            raise InvalidContent(f"the {language} version is empty")
        problem = check_html(text, CAPTION_LIMIT if file_id else TEXT_LIMIT)
        if problem:
            raise InvalidContent(f"{language}: {problem}")
        entry: dict[str, Any] = {"text": text}
        if file_id:
            entry["file_id"] = str(file_id)
            entry["file_kind"] = file_kind
        clean[language] = entry
    return clean


def payload_for(version: Mapping[str, Any], *, pin: bool = False) -> dict[str, Any]:
    """The outbox payload that sends one version (what the sender's transport reads)."""
    text = version.get("text") or ""
    payload: dict[str, Any]
    if version.get("file_id"):
        payload = {"file_id": version["file_id"], "file_kind": version.get("file_kind")}
        if text:
            payload["caption"] = text
    else:
        payload = {"text": text}
    if pin:
        payload["pin"] = True
    return payload


# -- time ------------------------------------------------------------------------------------

_FORMATS = ("%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M")


def parse_local_time(text: str, zone: str) -> datetime | None:
    """A typed time ("2027-03-08 18:00", ISO with or without offset) as aware UTC.

    A time without an offset is read in ``zone``. None when the text is not a time.
    """
    value = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in _FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        try:
            parsed = parsed.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            parsed = parsed.replace(tzinfo=ZoneInfo("UTC"))
    return parsed.astimezone(ZoneInfo("UTC"))


# -- campaigns -------------------------------------------------------------------------------


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
        status=campaigns_db.SCHEDULED if when > now else campaigns_db.RUNNING,
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
    campaign = await campaigns_db.get_campaign(session, campaign_id)
    if campaign is None:
        raise CampaignNotFound(str(campaign_id))
    if not _may_act(campaign, scope):
        raise NotAllowed
    if campaign.status not in campaigns_db.OPEN_STATUSES:
        raise AlreadyFinished(campaign.status)
    cancelled = await outbox_db.cancel_pending(session, campaign_id=campaign_id)
    campaign.status = campaigns_db.CANCELLED
    session.add(campaign)
    await session.commit()
    return cancelled


async def finish_if_done(session: AsyncSession, campaign: Campaign, clock: Clock) -> bool:
    """Close the campaign when none of its rows is pending, claimed or sending.

    A running campaign becomes ``done``; a cancelled one keeps its status and gets its
    finishing time. Commits; returns whether the campaign was closed.
    """
    if campaign.id is None or campaign.finished_at is not None:
        return False
    if campaign.status not in (campaigns_db.RUNNING, campaigns_db.CANCELLED):
        return False
    if await campaigns_db.in_flight_count(session, campaign.id):
        return False
    status = campaigns_db.DONE if campaign.status == campaigns_db.RUNNING else campaign.status
    await campaigns_db.mark_finished(session, campaign, status=status, now=clock.now())
    await session.commit()
    return True


async def start_due(session: AsyncSession, campaigns: Iterable[Campaign], clock: Clock) -> None:
    """Scheduled campaigns whose time has come are running from now on. Commits."""
    now = clock.now()
    changed = False
    for campaign in campaigns:
        if campaign.status == campaigns_db.SCHEDULED and campaign.scheduled_at <= now:
            campaign.status = campaigns_db.RUNNING
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


async def list_campaigns(
    session: AsyncSession, scope: Scope, limit: int = 10
) -> list[CampaignLine]:
    """Open campaigns first, then recent ones, with their row counts."""
    found = await campaigns_db.recent_campaigns(
        session,
        programme_ids=scope.programme_ids,
        created_by=scope.user_id,
        limit=limit,
    )
    counts = await campaigns_db.counts_for(session, [c.id for c in found if c.id is not None])
    return [
        CampaignLine(
            campaign=c,
            counts=counts.get(c.id or 0, {}),
            may_cancel=c.status in campaigns_db.OPEN_STATUSES and _may_act(c, scope),
        )
        for c in found
    ]


async def cohort_ids_by_code(session: AsyncSession, codes: Collection[str]) -> list[int]:
    """The ids of cohorts named by code; raises UnknownCohort naming the codes not found."""
    found = await campaigns_db.cohorts(session, codes=list(codes))
    unknown = set(codes) - {c.code for c in found}
    if unknown:
        raise UnknownCohort(unknown)
    return [c.id for c in found]
