"""iCalendar timetables: events, repeating series and cancelled occurrences as sessions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from bot.i18n import gettext as _
from bot.services.text_cleaning import clean_block, clean_line
from bot.services.timetable.calendar import EXPORT_UID_SUFFIX
from bot.services.timetable.files.cells import clean_url, slug, url_in_text
from bot.services.timetable.files.model import (
    MAX_OCCURRENCES,
    MAX_SESSIONS,
    RECURRENCE_HORIZON,
    ParsedSession,
    TimetableError,
    TimetableParseResult,
    failed,
    short_reason,
)
from bot.services.timetable.files.zones import localize, resolve_zone_name, zone_label

# icalendar, recurring_ical_events and x_wr_timezone are imported where a file is read:
# only an upload needs them, not every process of the bot.
if TYPE_CHECKING:
    import icalendar

# --------------------------------------------------------------------------------------------
# iCalendar


_SPEAKER_LINE = re.compile(
    r"^\s*(?:speakers?|lecturer|trainer|presenter|докладчик|лектор|спикер|主讲人|主讲|讲师|"
    r"intervenante?|ponente)\s*[:：]\s*(.+?)\s*$",
    re.IGNORECASE,
)


@dataclass
class _IcsContext:
    zone: tzinfo
    default_language: str
    floating_zone: tzinfo | None
    floating_uids: set[str]
    errors: list[TimetableError]
    sessions: list[ParsedSession] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def parse_ics(data: bytes, zone: tzinfo, default_language: str) -> TimetableParseResult:
    import icalendar
    import x_wr_timezone

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # the parser raises ValueError, but odd input can raise others
        return failed(
            _("The calendar file could not be read: {reason}").format(reason=short_reason(exc))
        )
    if not isinstance(calendar, icalendar.Calendar):
        return failed(_("The calendar file could not be read: it has no VCALENDAR."))

    # Google writes floating times and means the calendar's X-WR-TIMEZONE.
    floating_zone: tzinfo | None = None
    x_wr = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    if x_wr:
        floating_zone = resolve_zone_name(x_wr)
        if floating_zone is None:
            return failed(
                _("The calendar names the time zone “{zone}”, which is not recognised.").format(
                    zone=x_wr[:60]
                )
            )

    # Check every event first: the expansion fails as a whole on one bad event, whereas the
    # organiser should learn about every bad event at once.
    errors: list[TimetableError] = []
    valid: list[icalendar.Component] = []
    floating_uids: set[str] = set()
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _uid_of(event)
        if uid is None:
            label = _("Event “{title}” (number {number} in the file)").format(
                title=_summary(event), number=number
            )
        else:
            label = _event_label(event, uid)
        problem = _check_event(event)
        if problem is not None:
            errors.append(
                TimetableError(_("{event}: {problem}").format(event=label, problem=problem))
            )
            continue
        start = event.get("DTSTART").dt
        if uid is None:
            # Without a UID the event is matched like a spreadsheet row: by date and title.
            title = next(iter(_texts_by_language(event, "SUMMARY", default_language).values()), "")
            day = start.date() if isinstance(start, datetime) else start
            uid = f"{day.isoformat()}/{slug(title)}"
            event["UID"] = uid
        if isinstance(start, datetime) and start.tzinfo is None:
            floating_uids.add(uid)
        valid.append(event)
    valid_ids = {id(event) for event in valid}
    calendar.subcomponents = [
        component
        for component in calendar.subcomponents
        if component.name != "VEVENT" or id(component) in valid_ids
    ]

    if floating_zone is not None:
        try:
            calendar = x_wr_timezone.to_standard(calendar, timezone=floating_zone)
        except Exception as exc:  # the conversion walks arbitrary content; report, don't crash
            return failed(
                _("The calendar file could not be read: {reason}").format(reason=short_reason(exc))
            )
        # Applied now; left in place, the expansion would apply it a second time.
        calendar.pop("X-WR-TIMEZONE", None)

    context = _IcsContext(zone, default_language, floating_zone, floating_uids, errors)
    by_uid: dict[str, list[icalendar.Component]] = {}
    for event in calendar.walk("VEVENT"):
        by_uid.setdefault(_uid_of(event) or "", []).append(event)
    for uid, events in by_uid.items():
        masters = [event for event in events if event.get("RECURRENCE-ID") is None]
        if len(masters) > 1:
            context.errors.append(
                TimetableError(
                    _(
                        "Two events have the same UID {uid}: “{first}” and “{second}”. "
                        "Each event needs its own UID."
                    ).format(uid=uid, first=_summary(masters[0]), second=_summary(masters[1]))
                )
            )
            continue
        recurring = len(events) > 1 or any(
            event.get("RRULE") is not None or event.get("RDATE") is not None for event in events
        )
        if recurring:
            _expand_series(context, uid, events)
        else:
            _add_single(context, uid, events[0])
        if len(context.sessions) > MAX_SESSIONS:
            break

    sessions = sorted(context.sessions, key=lambda s: (s.starts_at, s.key))
    return TimetableParseResult(sessions, context.errors, context.cancelled)


def _single(event: icalendar.Component, name: str) -> str:
    """A text property's value; a repeated property (invalid, but seen) counts once."""
    raw = event.get(name)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return str(raw or "").strip()


def _summary(event: icalendar.Component) -> str:
    text = " ".join(_single(event, "SUMMARY").split())
    return text[:80] or "—"


def _event_label(event: icalendar.Component, uid: str) -> str:
    """How an error message names an event; it starts the sentence."""
    return _("Event “{title}” (UID {uid})").format(title=_summary(event), uid=uid)


def _event_source(event: icalendar.Component, uid: str) -> str:
    """How other messages refer to an event ("… comes from event “Opening” (UID …)")."""
    return _("event “{title}” (UID {uid})").format(title=_summary(event), uid=uid)


def _uid_of(event: icalendar.Component) -> str | None:
    uid = _single(event, "UID")
    # Our own export: the part before the suffix is the key the session is stored under.
    return uid.removesuffix(EXPORT_UID_SUFFIX) or None


def _dt_value(event: icalendar.Component, name: str) -> date | datetime | None:
    prop = event.get(name)
    if prop is None:
        return None
    value = prop.dt
    if not isinstance(value, date):
        raise ValueError(f"{name} is not a date or a date-time")
    return value


def _check_event(event: icalendar.Component) -> str | None:
    """Why ``event`` cannot be imported, or ``None``."""
    try:
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            _dt_value(event, name)
        duration = event.get("DURATION")
        if duration is not None and not isinstance(duration.dt, timedelta):
            raise ValueError("DURATION is not a duration")
    except Exception as exc:  # broken properties raise on access, with differing types
        return _("it has an unreadable date or time ({reason}).").format(reason=short_reason(exc))
    if event.get("DTSTART") is None:
        return _("it has no start time (DTSTART).")
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = event.get(name)
        if prop is None:
            continue
        tzid = prop.params.get("TZID")
        # icalendar reads an unknown zone as a floating time, which would silently shift it.
        if tzid and isinstance(prop.dt, datetime) and prop.dt.tzinfo is None:
            return _("its time zone “{zone}” is not recognised.").format(zone=str(tzid)[:60])
    return None


def _language_param(prop: object) -> str | None:
    params = getattr(prop, "params", None)
    language = params.get("LANGUAGE") if params else None
    if not language:
        return None
    return str(language).replace("_", "-").split("-", 1)[0].casefold() or None


def _texts_by_language(
    event: icalendar.Component, name: str, default_language: str
) -> dict[str, str]:
    raw = event.get(name)
    if raw is None:
        return {}
    values = raw if isinstance(raw, list) else [raw]
    result: dict[str, str] = {}
    # The value without LANGUAGE is the file's main language and comes first.
    for prop in sorted(values, key=lambda p: _language_param(p) is not None):
        text = clean_line(str(prop)) if name == "SUMMARY" else clean_block(str(prop))
        language = _language_param(prop) or default_language
        if text and language not in result:
            result[language] = text
    return result


def _categories(event: icalendar.Component) -> str | None:
    raw = event.get("CATEGORIES")
    if raw is None:
        return None
    for item in raw if isinstance(raw, list) else [raw]:
        for category in getattr(item, "cats", [item]):
            text = str(category).strip()
            if text:
                return text.casefold()
    return None


def _series_is_unbounded(events: Iterable[icalendar.Component]) -> bool:
    for event in events:
        raw = event.get("RRULE")
        if raw is None:
            continue
        for rule in raw if isinstance(raw, list) else [raw]:
            if "COUNT" not in rule and "UNTIL" not in rule:
                return True
    return False


def _rough_utc(value: date | datetime, zone: tzinfo) -> datetime:
    """An instant for comparisons and keys, without the gap checks."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone).astimezone(UTC)
    return value.astimezone(UTC)


def _default_end(start: date | datetime) -> date | datetime:
    # RFC 5545: without DTEND or DURATION a timed event has no length, an all-day one a day.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _add_single(context: _IcsContext, uid: str, event: icalendar.Component) -> None:
    start = _dt_value(event, "DTSTART")
    if start is None:
        return
    end = _dt_value(event, "DTEND")
    duration = event.get("DURATION")
    if end is None and duration is not None:
        end = start + duration.dt
    _add_occurrence(context, uid, uid, event, start, end or _default_end(start))


def _expand_series(context: _IcsContext, uid: str, events: list[icalendar.Component]) -> None:
    import icalendar
    import recurring_ical_events

    series = icalendar.Calendar()
    for event in events:
        series.add_component(event)
    master = next((event for event in events if event.get("RECURRENCE-ID") is None), events[0])
    label = _event_label(master, uid)
    first_start = _dt_value(master, "DTSTART")
    horizon: datetime | None = None
    if first_start is not None and _series_is_unbounded(events):
        horizon = _rough_utc(first_start, context.zone) + RECURRENCE_HORIZON
    count = 0
    try:
        for occurrence in recurring_ical_events.of(series).all():
            start = _dt_value(occurrence, "DTSTART")
            if start is None:
                continue
            if horizon is not None and _rough_utc(start, context.zone) > horizon:
                break
            count += 1
            if count > MAX_OCCURRENCES:
                context.errors.append(
                    TimetableError(
                        _(
                            "{event}: it repeats more than {limit} times. Give the repetition "
                            "an end date or a number of occurrences."
                        ).format(event=label, limit=MAX_OCCURRENCES)
                    )
                )
                return
            # The key names the occurrence by its original start, so that moving one
            # occurrence (a RECURRENCE-ID override) keeps its key.
            original = _dt_value(occurrence, "RECURRENCE-ID") or start
            if isinstance(original, datetime):
                key = f"{uid}/{_rough_utc(original, context.zone):%Y-%m-%dT%H:%M:%SZ}"
            else:
                key = f"{uid}/{original.isoformat()}"
            end = _dt_value(occurrence, "DTEND") or _default_end(start)
            _add_occurrence(context, uid, key, occurrence, start, end)
            if len(context.sessions) > MAX_SESSIONS:
                return
    except Exception as exc:  # bad rules only surface while expanding, with varied types
        context.errors.append(
            TimetableError(
                _("{event}: its repetition could not be read ({reason}).").format(
                    event=label, reason=short_reason(exc)
                )
            )
        )


def _add_occurrence(
    context: _IcsContext,
    uid: str,
    key: str,
    event: icalendar.Component,
    start: date | datetime,
    end: date | datetime,
) -> None:
    if _single(event, "STATUS").upper() == "CANCELLED":
        context.cancelled.append(key)
        return
    label = _event_label(event, key)
    floating = uid in context.floating_uids
    starts_at = _event_instant(context, label, start, floating)
    ends_at = _event_instant(context, label, end, floating)
    if starts_at is None or ends_at is None:
        return
    if ends_at < starts_at:
        context.errors.append(
            TimetableError(_("{event}: it ends before it starts.").format(event=label))
        )
        return
    titles = _texts_by_language(event, "SUMMARY", context.default_language)
    if not titles:
        context.errors.append(
            TimetableError(_("{event}: it has no title (SUMMARY).").format(event=label))
        )
        return
    descriptions = _texts_by_language(event, "DESCRIPTION", context.default_language)

    join_url: str | None = None
    url_value = _single(event, "URL")
    if url_value:
        join_url = clean_url(url_value)
        if join_url is None:
            context.errors.append(
                TimetableError(
                    _("{event}: its URL “{url}” is not a web link (https://…).").format(
                        event=label, url=url_value[:100]
                    )
                )
            )
            return
    location = " ".join(_single(event, "LOCATION").split()) or None
    if join_url is None:
        texts = [location or "", *descriptions.values()]
        join_url = next((url for text in texts if (url := url_in_text(text))), None)
    if location is not None and clean_url(location) is not None:
        # A bare link in LOCATION says where to join, not where the session takes place.
        location = None

    speaker: str | None = None
    cleaned: dict[str, str] = {}
    for language, text in descriptions.items():
        lines: list[str] = []
        for line in text.splitlines():
            if match := _SPEAKER_LINE.match(line):
                speaker = speaker or match[1]
            elif join_url and join_url in line and len(line.replace(join_url, "")) <= 40:
                # "Join on ClassIn: https://…" only repeats the join link.
                continue
            else:
                lines.append(line)
        remainder = "\n".join(lines).strip()
        if remainder:
            cleaned[language] = remainder

    context.sessions.append(
        ParsedSession(
            key=key,
            titles=titles,
            descriptions=cleaned,
            speaker=speaker,
            kind=_categories(event),
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=not isinstance(start, datetime),
            join_url=join_url,
            location=location,
            source=_event_source(event, key),
        )
    )


def _event_instant(
    context: _IcsContext, label: str, value: date | datetime, floating: bool
) -> datetime | None:
    if not isinstance(value, datetime):
        # An all-day event covers the day as the programme's zone sees it.
        return datetime.combine(value, time(0), tzinfo=context.zone).astimezone(UTC)
    if value.tzinfo is not None and not floating:
        return value.astimezone(UTC)
    # A floating time means a wall-clock time in the calendar's (or programme's) zone; one
    # that falls into a clock change is not a single instant.
    zone = context.floating_zone if value.tzinfo is not None and context.floating_zone else None
    zone = zone or context.zone
    local = value.replace(tzinfo=None)
    result = localize(local, zone)
    if isinstance(result, datetime):
        return result
    if result == "gap":
        message = _(
            "{event}: {when} does not exist in {zone} because the clocks are put forward at "
            "that moment."
        )
    else:
        message = _(
            "{event}: {when} happens twice in {zone} because the clocks are put back at that "
            "moment. Give the time in UTC instead."
        )
    context.errors.append(
        TimetableError(
            message.format(event=label, when=f"{local:%Y-%m-%d %H:%M}", zone=zone_label(zone))
        )
    )
    return None
