"""What a trainee reads of the timetable: their zone and language, titles, times, their week.

Every time is stored in UTC and shown in the reader's own zone and language, with the
programme's home time beside it ("19:00 Shanghai / 14:00 your time"). Titles are shown in the
reader's language, else the programme's default language, else English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_interval, format_skeleton, get_timezone_location
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Programme, TrainingSession
from bot.i18n import SUPPORTED_LOCALES, babel_locale, format_time, normalize_locale
from bot.i18n import gettext as _

#: How many sessions /schedule lists at most in one message (a week rarely has more than 20).
MAX_WEEK_SESSIONS: Final = 40


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is reading: their language, their zone (None if not told yet), the home zone."""

    locale: str
    zone: str | None
    home_zone: str
    default_locale: str = "en"

    @property
    def display_zone(self) -> ZoneInfo:
        """The zone times are shown in: the reader's, or the programme's until they set one."""
        return zone_info(self.zone or self.home_zone)


@cache
def zone_info(name: str) -> ZoneInfo:
    """The zone of this IANA name; UTC for a name this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def pick_title(titles: Mapping[str, str], locale: str, default_locale: str) -> str:
    """The title in ``locale``, else the programme's language, else English, else any."""
    for language in (locale, default_locale, "en"):
        text = titles.get(language)
        if text:
            return text
    return next((text for text in titles.values() if text), "")


def place_name(zone: str, locale: str) -> str:
    """The city a zone is named after, as the reader's language writes it ("Shanghai")."""
    if zone in ("UTC", "Etc/UTC", "Etc/GMT"):
        return "UTC"
    city: str = get_timezone_location(zone_info(zone), babel_locale(locale), return_city=True)
    return city


def viewer_locale(locale: str | None, language_code: str | None, fallback: str) -> str:
    """The language to write to a person in: their choice, Telegram's hint, then ``fallback``."""
    if locale in SUPPORTED_LOCALES:
        return str(locale)
    return normalize_locale(language_code) or (fallback if fallback in SUPPORTED_LOCALES else "en")


def _same_clock(moment: datetime, viewer: Viewer) -> bool:
    if viewer.zone is None:
        return False
    return (
        moment.astimezone(zone_info(viewer.zone)).utcoffset()
        == moment.astimezone(zone_info(viewer.home_zone)).utcoffset()
    )


def time_pair(moment: datetime, viewer: Viewer) -> str:
    """ "19:00 Shanghai / 14:00 your time", or one time when both clocks agree."""
    home = zone_info(viewer.home_zone)
    home_time = format_time(moment, home, "short", viewer.locale)
    if viewer.zone is None:
        return _("{time} {place}").format(
            time=home_time, place=place_name(viewer.home_zone, viewer.locale)
        )
    if _same_clock(moment, viewer):
        return home_time
    return _("{home_time} {home_place} / {local_time} your time").format(
        home_time=home_time,
        home_place=place_name(viewer.home_zone, viewer.locale),
        local_time=format_time(moment, zone_info(viewer.zone), "short", viewer.locale),
    )


def day_label(moment: datetime, viewer: Viewer) -> str:
    """The reader's calendar day of ``moment``: "Mon 8 Mar"."""
    local = moment.astimezone(viewer.display_zone)
    return str(format_skeleton("MMMEd", local, locale=babel_locale(viewer.locale)))


def when_text(starts_at: datetime, all_day: bool, viewer: Viewer) -> str:
    """Day and time of a session for the reader: "Mon 8 Mar, 19:00 Shanghai / 14:00 your time"."""
    if all_day:
        return _("{day}, all day").format(day=day_label(starts_at, viewer))
    return _("{day}, {time}").format(
        day=day_label(starts_at, viewer), time=time_pair(starts_at, viewer)
    )


def local_time(moment: datetime, viewer: Viewer) -> str:
    """The reader's clock time of ``moment`` ("14:00")."""
    return format_time(moment, viewer.display_zone, "short", viewer.locale)


def join_buttons(url: str | None) -> list[list[dict[str, str]]]:
    """The Join button under a message about a session with a link, as an outbox payload."""
    if not url:
        return []
    return [[{"text": "▶ " + _("Join"), "url": url}]]


@dataclass(frozen=True)
class SessionView:
    """One session as a reader sees it."""

    session_id: int
    title: str
    speaker: str | None
    kind: str | None
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    join_url: str | None
    location: str | None
    cancelled: bool
    cohort_code: str
    version: int


@dataclass(frozen=True)
class TraineeTimetable:
    """A reader's sessions between two instants, and how to show them."""

    viewer: Viewer
    sessions: list[SessionView] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    cohort_names: list[str] = field(default_factory=list)

    @property
    def enrolled(self) -> bool:
        """Whether the person belongs to any cohort."""
        return bool(self.cohort_names)


def _view(row: TrainingSession, viewer: Viewer, cohort_code: str) -> SessionView:
    return SessionView(
        session_id=row.id or 0,
        title=pick_title(row.titles, viewer.locale, viewer.default_locale),
        speaker=row.speaker,
        kind=row.kind,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        all_day=row.all_day,
        join_url=row.join_url,
        location=row.location,
        cancelled=row.status == timetable_db.CANCELLED,
        cohort_code=cohort_code,
        version=row.version,
    )


async def _viewer(
    session: AsyncSession, user_id: int, locale: str, zone: str | None
) -> tuple[Viewer, list[tuple[Cohort, Programme]]]:
    cohorts = await timetable_db.cohorts_of_user(session, user_id)
    home = cohorts[0][1].home_timezone if cohorts else (zone or "UTC")
    default_locale = cohorts[0][1].default_locale if cohorts else "en"
    return Viewer(locale=locale, zone=zone, home_zone=home, default_locale=default_locale), cohorts


def cohort_name(cohort: Cohort, programme: Programme, locale: str) -> str:
    """A cohort as readers know it: its name, else its programme's title, else its code."""
    title = pick_title(programme.titles, locale, programme.default_locale)
    return cohort.name or title or cohort.code


def week_start_of(now: datetime, zone: tzinfo) -> date:
    """Monday of the reader's current week."""
    today = now.astimezone(zone).date()
    return today - timedelta(days=today.weekday())


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


async def week(
    session: AsyncSession,
    *,
    user_id: int,
    locale: str,
    zone: str | None,
    now: datetime,
    start: date | None = None,
) -> TraineeTimetable:
    """The reader's sessions in one week (Monday to Sunday of their own calendar)."""
    viewer, cohorts = await _viewer(session, user_id, locale, zone)
    first_day = start or week_start_of(now, viewer.display_zone)
    return await _between(
        session,
        viewer,
        cohorts,
        _local_midnight(first_day, viewer.display_zone),
        _local_midnight(first_day + timedelta(days=7), viewer.display_zone),
    )


async def today(
    session: AsyncSession, *, user_id: int, locale: str, zone: str | None, now: datetime
) -> TraineeTimetable:
    """The reader's sessions on their own calendar day."""
    viewer, cohorts = await _viewer(session, user_id, locale, zone)
    day = now.astimezone(viewer.display_zone).date()
    return await _between(
        session,
        viewer,
        cohorts,
        _local_midnight(day, viewer.display_zone),
        _local_midnight(day + timedelta(days=1), viewer.display_zone),
    )


async def _between(
    session: AsyncSession,
    viewer: Viewer,
    cohorts: list[tuple[Cohort, Programme]],
    start: datetime,
    end: datetime,
) -> TraineeTimetable:
    codes = {cohort.id: cohort.code for cohort, _p in cohorts if cohort.id is not None}
    rows = await timetable_db.sessions_between(session, list(codes), start, end)
    return TraineeTimetable(
        viewer=viewer,
        sessions=[_view(row, viewer, codes.get(row.cohort_id, "")) for row in rows],
        start=start,
        end=end,
        cohort_names=[cohort_name(c, p, viewer.locale) for c, p in cohorts],
    )


async def next_session(
    session: AsyncSession, *, user_id: int, locale: str, zone: str | None, now: datetime
) -> TraineeTimetable:
    """The reader's next session (or the one running now), if any."""
    viewer, cohorts = await _viewer(session, user_id, locale, zone)
    codes = {cohort.id: cohort.code for cohort, _p in cohorts if cohort.id is not None}
    rows = await timetable_db.next_sessions(session, list(codes), now, limit=1)
    return TraineeTimetable(
        viewer=viewer,
        sessions=[_view(row, viewer, codes.get(row.cohort_id, "")) for row in rows],
        cohort_names=[cohort_name(c, p, viewer.locale) for c, p in cohorts],
    )


def week_title(first_day: date, viewer: Viewer) -> str:
    """ "8–14 Mar 2027" in the reader's language."""
    return str(
        format_interval(
            first_day, first_day + timedelta(days=6), "yMMMd", locale=babel_locale(viewer.locale)
        )
    )
