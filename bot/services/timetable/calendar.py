"""Calendar files of a timetable, for a cohort or for one trainee, that Google, Apple and Outlook
calendars import.

Every time is written in UTC ("…Z"), which every calendar application understands without a
VTIMEZONE; ``X-WR-TIMEZONE`` only tells Google which zone to show the calendar in. UIDs are
derived from the session key and ``SEQUENCE`` from its version, so importing the file again
after a change updates the existing entries instead of adding duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import timetable as timetable_db
from bot.db.models import TrainingSession
from bot.i18n import gettext as _
from bot.services.timetable.cohorts import UnknownCohort, find_cohort
from bot.services.timetable.views import cohort_name, pick_title

if TYPE_CHECKING:  # imported where a file is built: only an export needs it
    import icalendar

#: Appended to a session key to make the event's UID; stripped again when the file is read.
EXPORT_UID_SUFFIX: Final = "@trainee-assistant"
PRODID: Final = "-//Trainee Assistant//Timetable export//EN"
#: How long before a session calendar applications remind the reader.
REMINDER_BEFORE: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class CalendarEvent:
    """A session as it goes into the exported calendar; datetimes are timezone-aware."""

    key: str
    title: str
    description: str | None
    speaker: str | None
    starts_at: datetime
    ends_at: datetime
    join_url: str | None
    location: str | None
    cancelled: bool = False
    sequence: int = 0
    all_day: bool = False


def event_uid(key: str) -> str:
    """The UID a session has in exported calendars (stable for the session's lifetime)."""
    return f"{key}{EXPORT_UID_SUFFIX}"


def build_ics(
    sessions: Sequence[CalendarEvent],
    calendar_name: str,
    tz_name: str,
    *,
    generated_at: datetime | None = None,
) -> bytes:
    """Build an RFC 5545 calendar (METHOD:PUBLISH) with one VEVENT per session.

    ``tz_name`` is the programme's IANA zone: it names the zone calendar applications show
    the calendar in, and decides which calendar day an all-day session falls on.
    ``generated_at`` is the DTSTAMP (now, unless given). Raises ``ValueError`` for an
    unknown zone or a naive datetime.
    """
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz_name!r}") from exc
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)

    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    calendar.add("name", calendar_name)
    calendar.add("x-wr-timezone", tz_name)

    for session in sorted(sessions, key=lambda s: (s.starts_at, s.key)):
        calendar.add_component(_event(session, zone, stamp))
    ical: bytes = calendar.to_ical()
    return ical


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive {what}: every stored time is timezone-aware UTC")
    return value.astimezone(UTC)


def _event(session: CalendarEvent, zone: ZoneInfo, stamp: datetime) -> icalendar.Event:
    starts_at = _utc(session.starts_at, "starts_at")
    ends_at = _utc(session.ends_at, "ends_at")
    import icalendar

    event = icalendar.Event()
    event.add("uid", event_uid(session.key))
    event.add("dtstamp", stamp)
    if session.all_day:
        first_day = starts_at.astimezone(zone).date()
        local_end = ends_at.astimezone(zone)
        # DTEND of an all-day event is the day after the last one; a session ending during
        # a day still covers that day.
        end_day = (
            local_end.date()
            if local_end.time() == datetime.min.time()
            else (local_end.date() + timedelta(days=1))
        )
        event.add("dtstart", first_day)
        event.add("dtend", max(end_day, first_day + timedelta(days=1)))
    else:
        event.add("dtstart", starts_at)
        event.add("dtend", max(ends_at, starts_at))
    event.add("summary", session.title)
    description = _description(session)
    if description:
        event.add("description", description)
    if session.join_url:
        event.add("url", session.join_url)
    # Calendar applications show LOCATION prominently and make links in it clickable, so an
    # online session without a place gets its join link there.
    location = session.location or session.join_url
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if session.cancelled else "CONFIRMED")
    event.add("sequence", max(session.sequence, 0))
    if not session.cancelled and not session.all_day:
        event.add_component(_reminder(session.title))
    return event


def _description(session: CalendarEvent) -> str:
    parts: list[str] = []
    if session.description and session.description.strip():
        parts.append(session.description.strip())
    details: list[str] = []
    if session.speaker:
        details.append(_("Speaker: {speaker}").format(speaker=session.speaker))
    if session.join_url:
        details.append(_("Join: {url}").format(url=session.join_url))
    if details:
        parts.append("\n".join(details))
    return "\n\n".join(parts)


def _reminder(title: str) -> icalendar.Alarm:
    import icalendar

    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -REMINDER_BEFORE)
    alarm.add("description", title)
    return alarm


# --------------------------------------------------------------------------------------------
# A cohort's or a trainee's calendar


def _events(
    rows: Sequence[TrainingSession], locale: str, default_locale: str, prefix: str = ""
) -> list[CalendarEvent]:
    return [
        CalendarEvent(
            key=prefix + row.key,
            title=pick_title(row.titles, locale, default_locale),
            description=pick_title(row.descriptions, locale, default_locale) or None,
            speaker=row.speaker,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            join_url=row.join_url,
            location=row.location,
            cancelled=row.status == timetable_db.CANCELLED,
            sequence=row.version - 1,
            all_day=row.all_day,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CalendarFile:
    """An exported calendar: its name, file name and content."""

    name: str
    filename: str
    content: bytes


def _filename(code: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", code).strip("-") or "timetable"
    return f"{safe}.ics"


async def cohort_calendar(
    session: AsyncSession, *, cohort_code: str, now: datetime, locale: str | None = None
) -> CalendarFile:
    """A cohort's whole timetable as an iCalendar file (titles in ``locale`` or the default)."""
    cohort, programme = await find_cohort(session, cohort_code, None)
    if cohort.id is None:
        raise UnknownCohort(cohort_code)
    language = locale or programme.default_locale
    rows = await timetable_db.sessions_of_cohort(session, cohort.id)
    name = cohort_name(cohort, programme, language)
    content = build_ics(
        _events(rows, language, programme.default_locale),
        name,
        programme.home_timezone,
        generated_at=now,
    )
    return CalendarFile(name=name, filename=_filename(cohort.code), content=content)


async def trainee_calendar(
    session: AsyncSession, *, user_id: int, locale: str, now: datetime
) -> CalendarFile | None:
    """The sessions of every cohort of the reader as one calendar; None without a cohort."""
    cohorts = await timetable_db.cohorts_of_user(session, user_id)
    if not cohorts:
        return None
    events: list[CalendarEvent] = []
    seen: set[str] = set()
    for cohort, programme in cohorts:
        if cohort.id is None:
            continue
        rows = await timetable_db.sessions_of_cohort(session, cohort.id)
        # Two cohorts fed the same file share keys; their events must not share UIDs.
        clash = any(row.key in seen for row in rows)
        prefix = f"{cohort.code}/" if clash else ""
        batch = _events(rows, locale, programme.default_locale, prefix)
        seen.update(event.key for event in batch)
        events.extend(batch)
    first_cohort, first_programme = cohorts[0]
    name = cohort_name(first_cohort, first_programme, locale)
    content = build_ics(events, name, first_programme.home_timezone, generated_at=now)
    return CalendarFile(name=name, filename=_filename(first_cohort.code), content=content)
