"""Timetables: importing an organiser's file, applying it, and what each trainee sees of it.

Every time is stored in UTC and shown in the reader's own zone and language, with the
programme's home time beside it ("19:00 Shanghai / 14:00 your time"). Titles are shown in the
reader's language, else the programme's default language, else English.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_interval, format_skeleton, get_timezone_location
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Programme, TrainingSession
from bot.i18n import SUPPORTED_LOCALES, babel_locale, format_time, normalize_locale
from bot.i18n import gettext as _
from bot.services import reminders
from bot.services.calendar_export import CalendarEvent, build_ics
from bot.services.timetable_diff import SessionSnapshot, TimetableDiff, diff_timetable, render_diff
from bot.services.timetable_file import (
    ParsedSession,
    TimetableError,
    TimetableParseResult,
    parse_timetable,
)

#: How many sessions /schedule lists at most in one message (a week rarely has more than 20).
MAX_WEEK_SESSIONS: Final = 40

# --------------------------------------------------------------------------------------------
# Telling a timetable from other files


_DATE_WORDS: Final = frozenset(
    ["date", "day", "дата", "день", "日期", "fecha", "día", "dia", "jour"]
)
_START_WORDS: Final = frozenset(
    [
        "start",
        "start time",
        "starts",
        "begin",
        "time",
        "начало",
        "время",
        "время начала",
        "开始",
        "开始时间",
        "时间",
        "début",
        "debut",
        "heure",
        "heure de début",
        "inicio",
        "hora",
        "hora de inicio",
    ]
)
_HEADER_ROWS: Final = 30


def _header_word(cell: object) -> str:
    text = " ".join(unicodedata.normalize("NFKC", str(cell or "")).split()).casefold()
    # "Start (Beijing time)" is a start column whatever the bracket says.
    return re.split(r"\s*[(\[（【]", text, maxsplit=1)[0].strip(" :*")


def _rows_look_like_timetable(rows: Sequence[Sequence[object]]) -> bool:
    for cells in rows[:_HEADER_ROWS]:
        words = {_header_word(cell) for cell in cells}
        if words & _START_WORDS and (words & _DATE_WORDS or len(words) >= 3):
            return True
    return False


def looks_like_timetable(data: bytes, filename: str) -> bool:
    """Whether a file sent to the bot is a timetable (not a roster or anything else).

    A calendar file is always a timetable; a spreadsheet is one when a header row within
    its first rows names a start (or time) column next to a date column.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if head[:15].upper().startswith(b"BEGIN:VCALENDAR") or suffix in {"ics", "ical", "vcs"}:
        return True
    if head.startswith(b"PK\x03\x04"):
        return _rows_look_like_timetable(_xlsx_rows(data))
    if suffix not in {"csv", "txt", "tsv", ""} or b"\x00" in head[:512]:
        return False
    text = _decode(data[:65536])
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if _rows_look_like_timetable(rows):
            return True
    return False


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The first 64 KiB may end inside a character; the header rows are what matter.
        return data.decode("utf-8-sig", errors="replace")


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged workbook is simply not recognised here
        return []
    rows: list[list[object]] = []
    try:
        for sheet in workbook.worksheets:
            for values in sheet.iter_rows(max_row=_HEADER_ROWS, values_only=True):
                rows.append(list(values))
    finally:
        workbook.close()
    return rows


# --------------------------------------------------------------------------------------------
# How times and titles are shown


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
        return _zone(self.zone or self.home_zone)


@cache
def _zone(name: str) -> ZoneInfo:
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
    city: str = get_timezone_location(_zone(zone), babel_locale(locale), return_city=True)
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
        moment.astimezone(_zone(viewer.zone)).utcoffset()
        == moment.astimezone(_zone(viewer.home_zone)).utcoffset()
    )


def time_pair(moment: datetime, viewer: Viewer) -> str:
    """ "19:00 Shanghai / 14:00 your time", or one time when both clocks agree."""
    home = _zone(viewer.home_zone)
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
        local_time=format_time(moment, _zone(viewer.zone), "short", viewer.locale),
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


# --------------------------------------------------------------------------------------------
# Import


class UnknownCohort(LookupError):
    """No cohort has this code or id."""


@dataclass(frozen=True)
class ImportPreview:
    """What a file would change in a cohort's timetable; ``errors`` means it is refused."""

    cohort_id: int
    cohort_code: str
    errors: list[TimetableError]
    diff: TimetableDiff | None
    text: str
    home_zone: str

    @property
    def ok(self) -> bool:
        """Whether the file can be applied."""
        return not self.errors and self.diff is not None


@dataclass(frozen=True)
class ApplyResult:
    """What applying a file did."""

    diff: TimetableDiff
    notices: int
    cancelled_reminders: int


async def _cohort(
    session: AsyncSession, cohort_code: str | None, cohort_id: int | None
) -> tuple[Cohort, Programme]:
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


def _snapshot(row: TrainingSession, default_locale: str) -> SessionSnapshot:
    return SessionSnapshot(
        key=row.key,
        title=pick_title(row.titles, default_locale, default_locale),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        join_url=row.join_url,
        status="cancelled" if row.status == timetable_db.CANCELLED else "scheduled",
    )


def parse_for(programme: Programme, data: bytes, filename: str) -> TimetableParseResult:
    """Read a timetable file in the programme's zone and language."""
    return parse_timetable(data, filename, programme.home_timezone, programme.default_locale)


def format_errors(errors: Sequence[TimetableError], limit: int = 25) -> list[str]:
    """One line per problem ("Row 4: …"), at most ``limit`` and a count of the rest."""
    lines = [error.message for error in errors[:limit]]
    if len(errors) > limit:
        lines.append(_("… and {count} more problems").format(count=len(errors) - limit))
    return lines


async def preview_import(
    session: AsyncSession,
    *,
    data: bytes,
    filename: str,
    locale: str,
    cohort_code: str | None = None,
    cohort_id: int | None = None,
) -> ImportPreview:
    """Parse a file for a cohort and compare it with the stored timetable; changes nothing.

    Raises :class:`UnknownCohort`. A bad file comes back with ``errors`` (every problem found,
    each naming its row or event) and is applied by nobody.
    """
    cohort, programme = await _cohort(session, cohort_code, cohort_id)
    if cohort.id is None:
        raise UnknownCohort(cohort_code)
    parsed = parse_for(programme, data, filename)
    if not parsed.ok:
        return ImportPreview(
            cohort.id, cohort.code, parsed.errors, None, "", programme.home_timezone
        )
    stored = await timetable_db.sessions_of_cohort(session, cohort.id)
    diff = diff_timetable(
        [_snapshot(row, programme.default_locale) for row in stored],
        parsed.sessions,
        parsed.cancelled_keys,
    )
    text = render_diff(diff, _zone(programme.home_timezone), locale)
    return ImportPreview(cohort.id, cohort.code, [], diff, text, programme.home_timezone)


def _fill(row: TrainingSession, parsed: ParsedSession) -> None:
    row.titles = dict(parsed.titles)
    row.descriptions = dict(parsed.descriptions)
    row.speaker = parsed.speaker[:256] if parsed.speaker else None
    row.kind = parsed.kind[:64] if parsed.kind else None
    row.all_day = parsed.all_day
    row.location = parsed.location[:512] if parsed.location else None


async def apply_import(
    session: AsyncSession,
    *,
    data: bytes,
    filename: str,
    clock: Clock,
    cohort_id: int | None = None,
    cohort_code: str | None = None,
) -> ApplyResult:
    """Write a file into a cohort's timetable in one transaction, and tell its trainees.

    The file is compared again with what is stored now (someone may have applied another
    file since the preview). Moved, cancelled, restored and renamed sessions and new links
    bump the session's version and cancel its queued reminders (the planner queues them
    afresh with the new version); the cohort's trainees get one change notice each. Raises
    :class:`UnknownCohort`, or ``ValueError`` with the problems when the file is bad.
    """
    cohort, programme = await _cohort(session, cohort_code, cohort_id)
    if cohort.id is None:
        raise UnknownCohort(cohort_code)
    parsed = parse_for(programme, data, filename)
    if not parsed.ok:
        raise ValueError("\n".join(format_errors(parsed.errors)))
    now = clock.now()
    stored = await timetable_db.sessions_of_cohort(session, cohort.id)
    first_publication = not stored
    by_key = {row.key: row for row in stored}
    diff = diff_timetable(
        [_snapshot(row, programme.default_locale) for row in stored],
        parsed.sessions,
        parsed.cancelled_keys,
    )
    incoming = {item.key: item for item in parsed.sessions}
    # Sessions matched by day and title (or time) take the file's key, so that the next
    # import of the same file matches them directly.
    stored_key = {new: old for old, new in diff.rekeyed.items()}
    for old_key, new_key in diff.rekeyed.items():
        by_key[old_key].key = new_key[:255]
    changes: list[reminders.SessionChange] = []
    cancelled_reminders = 0

    def old_title(row: TrainingSession) -> str:
        return pick_title(row.titles, programme.default_locale, programme.default_locale)

    for item in diff.new:
        row = TrainingSession(
            cohort_id=cohort.id,
            key=item.key[:255],
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            join_url=item.join_url[:1024] if item.join_url else None,
            status=timetable_db.SCHEDULED,
            version=1,
            created_at=now,
            updated_at=now,
        )
        _fill(row, item)
        await timetable_db.add_session(session, row)
        by_key[row.key] = row
        changes.append(reminders.SessionChange.of(row, "new"))

    moved = {m.key: m for m in diff.moved}
    links = {c.key for c in diff.link_changed}
    renamed = {r.key: r for r in diff.renamed}
    restored = {s.key for s in diff.restored}
    for key in sorted(set(moved) | links | set(renamed) | restored):
        row = by_key[key]
        item = incoming[diff.rekeyed.get(key, key)]
        kinds: list[str] = []
        previous_start = row.starts_at
        previous_title = old_title(row)
        if key in restored:
            kinds.append("restored")
        if key in moved:
            kinds.append("moved")
        if key in links:
            kinds.append("link")
        if key in renamed:
            kinds.append("renamed")
        # A new title bumps the version too, so reminders already queued are planned again
        # under the name trainees will see in the timetable.
        bump = bool({"restored", "moved", "link", "renamed"} & set(kinds))
        row.starts_at = item.starts_at
        row.ends_at = item.ends_at
        row.join_url = item.join_url[:1024] if item.join_url else None
        row.status = timetable_db.SCHEDULED
        _fill(row, item)
        row.updated_at = now
        if bump and row.id is not None:
            row.version += 1
            cancelled_reminders += await timetable_db.cancel_session_reminders(session, row.id)
        for kind in kinds:
            changes.append(
                reminders.SessionChange.of(
                    row, kind, old_starts_at=previous_start, old_title=previous_title
                )
            )
    # Fields that the diff does not report (speaker, description, place) follow the file too.
    for key, item in incoming.items():
        key = stored_key.get(key, key)
        row = by_key[key]
        if key not in moved and key not in links and key not in renamed and key not in restored:
            _fill(row, item)

    for gone in diff.cancelled:
        row = by_key[gone.key]
        row.status = timetable_db.CANCELLED
        row.version += 1
        row.updated_at = now
        if row.id is not None:
            cancelled_reminders += await timetable_db.cancel_session_reminders(session, row.id)
        changes.append(reminders.SessionChange.of(row, "cancelled"))

    await session.flush()
    notices = await reminders.queue_change_notices(
        session,
        cohort=cohort,
        programme=programme,
        changes=changes,
        now=now,
        first_publication=first_publication,
    )
    await session.commit()
    return ApplyResult(diff=diff, notices=notices, cancelled_reminders=cancelled_reminders)


# --------------------------------------------------------------------------------------------
# What a trainee sees


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


def _cohort_name(cohort: Cohort, programme: Programme, locale: str) -> str:
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
        cohort_names=[_cohort_name(c, p, viewer.locale) for c, p in cohorts],
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
        cohort_names=[_cohort_name(c, p, viewer.locale) for c, p in cohorts],
    )


def week_title(first_day: date, viewer: Viewer) -> str:
    """ "8–14 Mar 2027" in the reader's language."""
    return str(
        format_interval(
            first_day, first_day + timedelta(days=6), "yMMMd", locale=babel_locale(viewer.locale)
        )
    )


# --------------------------------------------------------------------------------------------
# Calendar files


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
    cohort, programme = await _cohort(session, cohort_code, None)
    if cohort.id is None:
        raise UnknownCohort(cohort_code)
    language = locale or programme.default_locale
    rows = await timetable_db.sessions_of_cohort(session, cohort.id)
    name = _cohort_name(cohort, programme, language)
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
    name = _cohort_name(first_cohort, first_programme, locale)
    content = build_ics(events, name, first_programme.home_timezone, generated_at=now)
    return CalendarFile(name=name, filename=_filename(first_cohort.code), content=content)


__all__ = [
    "ApplyResult",
    "CalendarFile",
    "ImportPreview",
    "SessionView",
    "TraineeTimetable",
    "UnknownCohort",
    "Viewer",
    "apply_import",
    "cohort_calendar",
    "day_label",
    "looks_like_timetable",
    "next_session",
    "pick_title",
    "place_name",
    "preview_import",
    "time_pair",
    "today",
    "trainee_calendar",
    "week",
    "week_title",
    "when_text",
]
