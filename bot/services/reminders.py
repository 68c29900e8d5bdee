"""Reminders before sessions, the morning digest, and each person's choice of them.

Nothing here sends: everything becomes outbox rows that the sender delivers within Telegram's
limits. Each row is written in its reader's language and time zone.

Reminders are planned by a job every few minutes for sessions starting within a horizon, one
row per (session, person, offset, session version), so planning twice changes nothing and a
moved session (new version) gets fresh reminders. Rows are due a little before their mark,
spread so that a large cohort is through the sender's pace by the mark, and never sent after
the session started (``not_after``). A non-urgent reminder (12 hours ahead or more) that would
arrive between 22:00 and 07:00 in the reader's zone comes before 22:00 the evening before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from babel.lists import format_list
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import timetable as timetable_db
from bot.db.models import Programme, TrainingSession
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import babel_locale, format_timedelta, use_locale
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.attendance import checkin
from bot.services.timetable.views import (
    Viewer,
    day_label,
    join_buttons,
    pick_title,
    time_pair,
    viewer_locale,
    when_text,
    zone_info,
)

#: Sessions starting within this time are given their reminders. A day-before reminder may
#: move up to nine hours earlier out of the night, hence more than 24 hours.
DEFAULT_HORIZON: Final = timedelta(hours=34)
#: Reminders this far ahead or more wait out the reader's night; shorter ones go anyway.
URGENT_BELOW: Final = timedelta(hours=12)
QUIET_FROM: Final = time(22, 0)
QUIET_UNTIL: Final = time(7, 0)
#: The sender's pace the spreading plans for (messages per second).
DEFAULT_RATE: Final = 30.0
#: Spread a little wider than the pace strictly needs, so retries and other traffic fit.
SPREAD_MARGIN: Final = 0.9
DIGEST_AT: Final = time(8, 0)
#: Digests are planned this long before 08:00, and still sent this long after it.
DIGEST_LEAD: Final = timedelta(hours=1)
DIGEST_VALID: Final = timedelta(hours=4)
REMINDER_KIND: Final = timetable_db.REMINDER_KIND
DIGEST_KIND: Final = "digest"

#: The choices /reminders offers: preset name -> minutes before (None = the cohort's own).
PRESETS: Final[dict[str, list[int] | None]] = {
    "cohort": None,
    "day15": [1440, 15],
    "hour": [60],
    "15m": [15],
    "off": [],
}


# --------------------------------------------------------------------------------------------
# Text


def describe_offsets(offsets: Sequence[int], locale: str) -> str:
    """ "1 day and 15 minutes before" in ``locale``; "no reminders" for an empty list."""
    with use_locale(locale):
        if not offsets:
            return _("no reminders")
        parts = [
            format_timedelta(timedelta(minutes=minutes), locale)
            for minutes in sorted(offsets, reverse=True)
        ]
        return _("{durations} before").format(
            durations=format_list(parts, locale=babel_locale(locale))
        )


def reminder_text(row: TrainingSession, viewer: Viewer, due: datetime) -> str:
    """A reminder in the current locale: the session, the reader's time, the speaker."""
    title = pick_title(row.titles, viewer.locale, viewer.default_locale)
    lines = [
        f"⏰ <b>{h(title)}</b>",
        when_text(row.starts_at, row.all_day, viewer),
        _("Starts {delta}.").format(
            delta=format_timedelta(row.starts_at - due, viewer.locale, add_direction=True)
        ),
    ]
    if row.speaker:
        lines.append(_("Speaker: {speaker}").format(speaker=h(row.speaker)))
    if row.location:
        lines.append(_("Place: {place}").format(place=h(row.location)))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# When a reminder is due


def _zone_of(member: timetable_db.Member, programme: Programme) -> str:
    return member.timezone or programme.home_timezone


def _in_quiet(moment: datetime, zone: str) -> bool:
    clock = moment.astimezone(zone_info(zone)).time()
    return clock >= QUIET_FROM or clock < QUIET_UNTIL


def _at_local(day: date, clock: time, zone: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone_info(zone)).astimezone(UTC)


def _quiet_start_before(moment: datetime, zone: str) -> datetime:
    local = moment.astimezone(zone_info(zone))
    day = local.date() if local.time() >= QUIET_FROM else local.date() - timedelta(days=1)
    return _at_local(day, QUIET_FROM, zone)


def _quiet_end_after(moment: datetime, zone: str) -> datetime:
    local = moment.astimezone(zone_info(zone))
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return _at_local(day, QUIET_UNTIL, zone)


def in_quiet_hours(moment: datetime, zone: str) -> bool:
    """Whether ``moment`` falls in the reader's night (22:00 to 07:00 in ``zone``)."""
    return _in_quiet(moment, zone)


def daytime_from(moment: datetime, zone: str) -> datetime:
    """``moment``, or the end of the reader's night when it falls inside it."""
    return _quiet_end_after(moment, zone) if _in_quiet(moment, zone) else moment


def reminder_mark(start: datetime, minutes: int, zone: str, now: datetime) -> datetime | None:
    """When a reminder ``minutes`` before ``start`` should arrive, or None if too late.

    Non-urgent reminders leave the reader's night: to 22:00 the evening before, or (when
    that has passed already) to 07:00. A reminder still worth sending is one with at least
    half its lead left; one planned later than that is dropped.
    """
    lead = timedelta(minutes=minutes)
    mark = start - lead
    if lead >= URGENT_BELOW:
        if _in_quiet(mark, zone):
            mark = _quiet_start_before(mark, zone)
        if mark < now and _in_quiet(now, zone):
            mark = _quiet_end_after(now, zone)
    if mark >= start or start - max(mark, now) < lead / 2:
        return None
    return mark


def spread(
    mark: datetime, count: int, rate: float, lead: timedelta, now: datetime
) -> list[datetime]:
    """Due times for ``count`` messages that should all be out by ``mark`` at ``rate``/s.

    The window is what the pace needs (with a margin), never more than half the lead; a
    window that would open in the past opens now.
    """
    if count <= 0:
        return []
    window = min(timedelta(seconds=count / (rate * SPREAD_MARGIN)), lead / 2)
    opens = max(mark - window, now)
    step = window / count
    return [opens + step * index for index in range(count)]


# --------------------------------------------------------------------------------------------
# Planning reminders


@dataclass(frozen=True, slots=True)
class _Candidate:
    key: str
    row: TrainingSession
    member: timetable_db.Member
    programme: Programme
    minutes: int
    mark: datetime


async def plan_reminders(
    session: AsyncSession,
    now: datetime,
    *,
    rate: float = DEFAULT_RATE,
    horizon: timedelta = DEFAULT_HORIZON,
    user_ids: Sequence[int] | None = None,
) -> int:
    """Queue the reminders of sessions starting within ``horizon``; returns how many are new.

    Idempotent: a reminder already in the outbox (in any state) is not queued again; its
    dedupe key is ``reminder:{session_id}:{user_id}:{minutes}:{version}``. ``user_ids``
    limits planning to these people (after they changed their choice). Commits.
    """
    rows = await timetable_db.scheduled_starting_between(session, now, now + horizon)
    if not rows:
        return 0
    cohorts = await timetable_db.programmes_of_cohorts(session, {row.cohort_id for row in rows})
    members = await timetable_db.members_of_cohorts(session, cohorts, user_ids=user_ids)
    by_cohort: dict[int, list[timetable_db.Member]] = defaultdict(list)
    for member in members:
        by_cohort[member.cohort_id].append(member)

    candidates: list[_Candidate] = []
    for row in rows:
        if row.id is None or row.all_day or row.cohort_id not in cohorts:
            continue
        cohort, programme = cohorts[row.cohort_id]
        for member in by_cohort.get(row.cohort_id, []):
            chosen = (
                member.reminder_offsets
                if member.reminder_offsets is not None
                else cohort.reminder_offsets
            )
            zone = _zone_of(member, programme)
            for minutes in sorted({int(m) for m in chosen or [] if int(m) > 0}, reverse=True):
                mark = reminder_mark(row.starts_at, minutes, zone, now)
                if mark is None:
                    continue
                key = f"reminder:{row.id}:{member.user_id}:{minutes}:{row.version}"
                candidates.append(_Candidate(key, row, member, programme, minutes, mark))
    if not candidates:
        return 0
    known = await timetable_db.existing_keys(session, [c.key for c in candidates])
    fresh = [c for c in candidates if c.key not in known]

    groups: dict[datetime, list[_Candidate]] = defaultdict(list)
    for candidate in fresh:
        groups[candidate.mark].append(candidate)
    texts: dict[tuple[int, str, str, datetime], str] = {}
    envelopes: list[Envelope] = []
    for mark, group in sorted(groups.items(), key=lambda item: item[0]):
        group.sort(key=lambda c: (c.row.id or 0, c.member.user_id))
        lead = min(timedelta(minutes=c.minutes) for c in group)
        for candidate, due in zip(group, spread(mark, len(group), rate, lead, now), strict=True):
            member, programme, row = candidate.member, candidate.programme, candidate.row
            locale = viewer_locale(member.locale, member.language_code, programme.default_locale)
            cache_key = (row.id or 0, locale, member.timezone or "", mark)
            text = texts.get(cache_key)
            if text is None:
                viewer = Viewer(
                    locale, member.timezone, programme.home_timezone, programme.default_locale
                )
                with use_locale(locale):
                    text = reminder_text(row, viewer, mark)
                texts[cache_key] = text
            with use_locale(locale):
                buttons = join_buttons(row.join_url)
                if timedelta(minutes=candidate.minutes) <= checkin.BUTTON_LEAD:
                    # Sent shortly before the start: "I'm here" (open 10 minutes before).
                    buttons += checkin.buttons(row.id or 0)
            envelopes.append(
                Envelope(
                    chat_id=member.user_id,
                    user_id=member.user_id,
                    kind=REMINDER_KIND,
                    dedupe_key=candidate.key,
                    due_at=due,
                    not_after=row.starts_at,
                    payload={"text": text, "buttons": buttons},
                )
            )
    added = await enqueue(session, envelopes, now)
    await session.commit()
    return added


# --------------------------------------------------------------------------------------------
# The morning digest


async def plan_digests(session: AsyncSession, now: datetime) -> int:
    """Queue the 08:00 digest of the day's sessions for people who asked for it.

    Planned up to an hour before 08:00 in the reader's zone and still sent until noon, so a
    restart at 09:00 delivers it; one digest per person and local day (dedupe key
    ``digest:{user_id}:{day}``); a day without sessions sends nothing. Commits.
    """
    cohort_ids = await timetable_db.digest_cohort_ids(session)
    if not cohort_ids:
        return 0
    cohorts = await timetable_db.programmes_of_cohorts(session, cohort_ids)
    members = await timetable_db.members_of_cohorts(session, cohort_ids, digest_only=True)
    people: dict[int, list[timetable_db.Member]] = defaultdict(list)
    for member in members:
        people[member.user_id].append(member)
    envelopes: list[Envelope] = []
    for user_id, memberships in people.items():
        first = memberships[0]
        _cohort, programme = cohorts[first.cohort_id]
        zone = first.timezone or programme.home_timezone
        local_day = now.astimezone(zone_info(zone)).date()
        for day in (local_day, local_day + timedelta(days=1)):
            due = _at_local(day, DIGEST_AT, zone)
            if not (now - DIGEST_VALID < due <= now + DIGEST_LEAD):
                continue
            start = _at_local(day, time(0), zone)
            end = _at_local(day + timedelta(days=1), time(0), zone)
            rows = await timetable_db.sessions_between(
                session,
                [m.cohort_id for m in memberships],
                start,
                end,
                include_cancelled=False,
            )
            if not rows:
                continue
            locale = viewer_locale(first.locale, first.language_code, programme.default_locale)
            viewer = Viewer(
                locale, first.timezone, programme.home_timezone, programme.default_locale
            )
            with use_locale(locale):
                text = digest_text(rows, viewer, due)
            envelopes.append(
                Envelope(
                    chat_id=user_id,
                    user_id=user_id,
                    kind=DIGEST_KIND,
                    dedupe_key=f"digest:{user_id}:{day.isoformat()}",
                    due_at=max(due, now),
                    not_after=due + DIGEST_VALID,
                    payload={"text": text},
                )
            )
    added = await enqueue(session, envelopes, now)
    await session.commit()
    return added


def digest_text(rows: Sequence[TrainingSession], viewer: Viewer, day: datetime) -> str:
    """The day's sessions for one reader, in the current locale."""
    lines = [
        "☀️ <b>{title}</b>".format(title=h(_("Today, {day}").format(day=day_label(day, viewer))))
    ]
    for row in rows:
        title = pick_title(row.titles, viewer.locale, viewer.default_locale)
        when = _("all day") if row.all_day else time_pair(row.starts_at, viewer)
        line = f"• {when} — <b>{h(title)}</b>"
        if row.speaker:
            line += " · " + h(row.speaker)
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Change notices


# --------------------------------------------------------------------------------------------
# A person's choice


@dataclass(frozen=True)
class ReminderChoice:
    """What a person chose, and what their cohort would do for them otherwise."""

    enrolled: bool
    offsets: list[int] | None
    cohort_offsets: list[int]
    daily_digest: bool

    @property
    def effective(self) -> list[int]:
        """The offsets in force for this person."""
        return self.offsets if self.offsets is not None else self.cohort_offsets

    @property
    def preset(self) -> str | None:
        """The preset name matching the choice, if any."""
        for name, offsets in PRESETS.items():
            if offsets == self.offsets or (
                offsets is not None
                and self.offsets is not None
                and sorted(offsets) == sorted(self.offsets)
            ):
                return name
        return None


async def reminder_choice(session: AsyncSession, user_id: int) -> ReminderChoice:
    """A person's reminder settings."""
    from bot.db import users as users_db

    user = await users_db.get_user(session, user_id)
    cohorts = await timetable_db.cohorts_of_user(session, user_id)
    return ReminderChoice(
        enrolled=bool(cohorts),
        offsets=None if user is None else user.reminder_offsets,
        cohort_offsets=list(cohorts[0][0].reminder_offsets)
        if cohorts
        else list(PRESETS["day15"] or []),
        daily_digest=bool(user is not None and user.daily_digest),
    )


async def choose_reminders(
    session: AsyncSession,
    user_id: int,
    *,
    clock: Clock,
    preset: str | None = None,
    daily_digest: bool | None = None,
    rate: float = DEFAULT_RATE,
) -> ReminderChoice:
    """Store a person's choice, and re-plan their waiting reminders to match it at once.

    ``preset`` is one of :data:`PRESETS` (``ValueError`` otherwise); ``daily_digest`` turns
    the morning digest on or off. Commits.
    """
    current = await reminder_choice(session, user_id)
    offsets = current.offsets
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown reminder preset {preset!r}")
        chosen = PRESETS[preset]
        offsets = list(chosen) if chosen is not None else None
    digest = current.daily_digest if daily_digest is None else daily_digest
    now = clock.now()
    user = await timetable_db.set_user_reminders(
        session, user_id, offsets=offsets, daily_digest=digest, now=now
    )
    if user is None:
        raise LookupError(user_id)
    if preset is not None:
        await timetable_db.drop_pending_reminders(session, user_id)
    await session.commit()
    if preset is not None:
        await plan_reminders(session, now, rate=rate, user_ids=[user_id])
    return await reminder_choice(session, user_id)
