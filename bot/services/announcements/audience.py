"""Who an announcement reaches: the organiser's scope, the audience chosen, and its chats.

A reader's language is their own (chosen locale, else the roster's language) -> the
programme's default -> English -> whatever version exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import announcements as announcements_db
from bot.db import registration as reg_db
from bot.db.announcements import CohortRow
from bot.db.models import Campaign, Programme
from bot.i18n import SUPPORTED_LOCALES, normalize_locale
from bot.services import roles
from bot.services.announcements.errors import NotAllowed, UnknownCohort

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


def scope_for(user_id: int, programme_ids: Collection[int] | None) -> Scope:
    """The scope of an organiser whose programmes are known (None: every programme)."""
    return Scope(
        user_id=user_id,
        programme_ids=None if programme_ids is None else frozenset(programme_ids),
    )


async def scope_of(session: AsyncSession, user_id: int, admin_ids: Collection[int]) -> Scope | None:
    """The organiser's reach: super-admins everything, others the programmes they organise.

    None when the person organises nothing (see :func:`bot.services.roles.staff_programme_ids`).
    """
    if user_id in admin_ids:
        return Scope(user_id=user_id, programme_ids=None)
    granted = await roles.staff_programme_ids(session, user_id)
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
        cohorts=await announcements_db.cohorts(session, programme_ids=scope.programme_ids),
        programmes=await reg_db.list_programmes(session, scope.programme_ids),
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
    in_reach = await announcements_db.cohorts(session, programme_ids=scope.programme_ids)
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
        members = await announcements_db.active_members(session, [c.id for c in chosen])
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


async def cohort_ids_by_code(session: AsyncSession, codes: Collection[str]) -> list[int]:
    """The ids of cohorts named by code; raises UnknownCohort naming the codes not found."""
    found = await announcements_db.cohorts(session, codes=list(codes))
    unknown = set(codes) - {c.code for c in found}
    if unknown:
        raise UnknownCohort(unknown)
    return [c.id for c in found]
