"""Compare a re-imported timetable with the stored one, so the organiser sees what changes.

Sessions are matched by key (the calendar UID, or the date and title of a spreadsheet row).
A stored session whose key the file does not have is then matched, if it can be, with a new
one of the same title on the same day, or failing that with the same start and end: so a
calendar exported afresh (new UIDs), or a spreadsheet replaced by the calendar, is seen as the
same sessions, and a spreadsheet row renamed in place as a rename.
Nothing here touches the database: the caller builds :class:`SessionSnapshot` objects from
stored sessions, shows :func:`render_diff` to the organiser, and applies the diff on consent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Final, Literal

from babel.lists import format_list

from bot.i18n import babel_locale, format_date, format_time, ngettext, use_locale
from bot.i18n import gettext as _
from bot.services.timetable.files.model import ParsedSession

#: A Telegram message holds 4,096 characters; the rest is left for the question around it.
MAX_RENDERED_CHARS: Final = 3_500
_MAX_TITLE_CHARS: Final = 80

SessionStatus = Literal["scheduled", "cancelled"]


@dataclass(frozen=True)
class SessionSnapshot:
    """A stored session as the diff needs it; datetimes are timezone-aware UTC."""

    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    join_url: str | None
    status: SessionStatus = "scheduled"


@dataclass(frozen=True)
class MovedSession:
    """A session whose start or end changed."""

    key: str
    title: str
    old_starts_at: datetime
    old_ends_at: datetime
    new_starts_at: datetime
    new_ends_at: datetime


@dataclass(frozen=True)
class CancelledSession:
    """A scheduled session that the file drops or marks cancelled."""

    key: str
    title: str
    starts_at: datetime


@dataclass(frozen=True)
class LinkChange:
    """A session whose join link changed (``None`` means no link)."""

    key: str
    title: str
    old_url: str | None
    new_url: str | None


@dataclass(frozen=True)
class RenamedSession:
    """A session whose title changed."""

    key: str
    old_title: str
    new_title: str


@dataclass(frozen=True)
class TimetableDiff:
    """What applying a re-imported file would change; each list is in time order."""

    new: list[ParsedSession] = field(default_factory=list)
    moved: list[MovedSession] = field(default_factory=list)
    cancelled: list[CancelledSession] = field(default_factory=list)
    link_changed: list[LinkChange] = field(default_factory=list)
    renamed: list[RenamedSession] = field(default_factory=list)
    restored: list[ParsedSession] = field(default_factory=list)
    unchanged_count: int = 0
    #: Stored key -> the file's key, for sessions matched by day and title or by time.
    rekeyed: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Whether applying the file would change nothing."""
        return not (
            self.new
            or self.moved
            or self.cancelled
            or self.link_changed
            or self.renamed
            or self.restored
        )


def diff_timetable(
    existing: Sequence[SessionSnapshot],
    incoming: Sequence[ParsedSession],
    cancelled_keys: Sequence[str] = (),
) -> TimetableDiff:
    """Compare stored sessions with a freshly parsed file.

    A stored scheduled session that the file no longer contains, or marks cancelled, is
    cancelled; a stored cancelled session that the file contains again is restored (and is
    also reported as moved, renamed or with a new link if those changed). A session that
    both moved and was renamed appears in both lists.
    """
    incoming_by_key = {session.key: session for session in incoming}
    existing_keys = {snapshot.key for snapshot in existing}
    marked_cancelled = set(cancelled_keys)
    rekeyed = _match_rekeyed(
        [s for s in existing if s.key not in incoming_by_key and s.key not in marked_cancelled],
        [s for s in incoming if s.key not in existing_keys],
    )

    moved: list[MovedSession] = []
    cancelled: list[CancelledSession] = []
    link_changed: list[LinkChange] = []
    renamed: list[RenamedSession] = []
    restored: list[ParsedSession] = []
    unchanged = 0

    for old in existing:
        new = incoming_by_key.get(rekeyed.get(old.key, old.key))
        if new is None:
            if old.status == "scheduled":
                cancelled.append(CancelledSession(old.key, old.title, old.starts_at))
            elif old.key in marked_cancelled:
                unchanged += 1
            continue
        changed = False
        if old.status == "cancelled":
            restored.append(new)
            changed = True
        if old.starts_at != new.starts_at or old.ends_at != new.ends_at:
            moved.append(
                MovedSession(
                    old.key,
                    new.title,
                    old.starts_at,
                    old.ends_at,
                    new.starts_at,
                    new.ends_at,
                )
            )
            changed = True
        if old.title != new.title:
            renamed.append(RenamedSession(old.key, old.title, new.title))
            changed = True
        if (old.join_url or None) != (new.join_url or None):
            link_changed.append(LinkChange(old.key, new.title, old.join_url, new.join_url))
            changed = True
        if not changed:
            unchanged += 1

    matched = set(rekeyed.values())
    new_sessions = [
        session
        for session in incoming
        if session.key not in existing_keys and session.key not in matched
    ]
    start_of = {snapshot.key: snapshot.starts_at for snapshot in existing}
    start_of.update({session.key: session.starts_at for session in incoming})
    return TimetableDiff(
        new=sorted(new_sessions, key=lambda s: (s.starts_at, s.key)),
        moved=sorted(moved, key=lambda m: (m.new_starts_at, m.key)),
        cancelled=sorted(cancelled, key=lambda c: (c.starts_at, c.key)),
        link_changed=sorted(link_changed, key=lambda c: (start_of[c.key], c.key)),
        renamed=sorted(renamed, key=lambda r: (start_of[r.key], r.key)),
        restored=sorted(restored, key=lambda s: (s.starts_at, s.key)),
        unchanged_count=unchanged,
        rekeyed=rekeyed,
    )


def _same_title(title: str) -> str:
    return " ".join(title.casefold().split())


def _match_rekeyed(
    stored: Sequence[SessionSnapshot], incoming: Sequence[ParsedSession]
) -> dict[str, str]:
    """Pair stored sessions the file's keys missed with the file's unknown sessions.

    First the same title on the same (UTC) day, the nearest start winning; then, among what
    is left, the same start and end (a renamed spreadsheet row). Each session pairs once.
    """
    pairs: dict[str, str] = {}
    free = list(incoming)
    for old in sorted(stored, key=lambda s: (s.starts_at, s.key)):
        candidates = [
            new
            for new in free
            if _same_title(new.title) == _same_title(old.title)
            and new.starts_at.date() == old.starts_at.date()
        ]
        if candidates:
            best = min(candidates, key=lambda new: abs(new.starts_at - old.starts_at))
            pairs[old.key] = best.key
            free.remove(best)
    for old in sorted(stored, key=lambda s: (s.starts_at, s.key)):
        if old.key in pairs:
            continue
        same_time = [
            new for new in free if new.starts_at == old.starts_at and new.ends_at == old.ends_at
        ]
        if len(same_time) == 1:
            pairs[old.key] = same_time[0].key
            free.remove(same_time[0])
    return pairs


def render_diff(diff: TimetableDiff, tz: tzinfo, locale: str, limit: int = 30) -> str:
    """A plain-text summary of ``diff`` for the organiser, in ``locale``, with times in ``tz``.

    The first line counts the changes ("3 new, 1 moved, 1 cancelled"); one line per change
    follows, at most ``limit`` per kind, then "… and N more". The text always stays under
    :data:`MAX_RENDERED_CHARS` so that it fits into one Telegram message.
    """
    with use_locale(locale):
        return _render(diff, tz, locale, max(limit, 0))


@dataclass(frozen=True)
class _Section:
    summary: str
    total: int
    lines: Iterator[str]


def _render(diff: TimetableDiff, tz: tzinfo, locale: str, limit: int) -> str:
    if diff.is_empty:
        return ngettext(
            "No changes: the {count} session in the file is already in the timetable.",
            "No changes: all {count} sessions in the file are already in the timetable.",
            diff.unchanged_count,
        ).format(count=diff.unchanged_count)

    # Lines are produced lazily: a diff of thousands of sessions shows only a few dozen.
    sections = [
        _Section(
            ngettext("{count} new", "{count} new", len(diff.new)).format(count=len(diff.new)),
            len(diff.new),
            (
                _("New: {title}: {when}").format(
                    title=_clip(s.title), when=_session_when(s, tz, locale)
                )
                for s in diff.new
            ),
        ),
        _Section(
            ngettext("{count} moved", "{count} moved", len(diff.moved)).format(
                count=len(diff.moved)
            ),
            len(diff.moved),
            (_moved_line(m, tz, locale) for m in diff.moved),
        ),
        _Section(
            ngettext("{count} cancelled", "{count} cancelled", len(diff.cancelled)).format(
                count=len(diff.cancelled)
            ),
            len(diff.cancelled),
            (
                _("Cancelled: {title}: {when}").format(
                    title=_clip(c.title), when=_when(c.starts_at, tz, locale)
                )
                for c in diff.cancelled
            ),
        ),
        _Section(
            ngettext("{count} back on", "{count} back on", len(diff.restored)).format(
                count=len(diff.restored)
            ),
            len(diff.restored),
            (
                _("Back on: {title}: {when}").format(
                    title=_clip(s.title), when=_session_when(s, tz, locale)
                )
                for s in diff.restored
            ),
        ),
        _Section(
            ngettext("{count} renamed", "{count} renamed", len(diff.renamed)).format(
                count=len(diff.renamed)
            ),
            len(diff.renamed),
            (
                _("Renamed: {old} → {new}").format(old=_clip(r.old_title), new=_clip(r.new_title))
                for r in diff.renamed
            ),
        ),
        _Section(
            ngettext(
                "{count} link changed", "{count} links changed", len(diff.link_changed)
            ).format(count=len(diff.link_changed)),
            len(diff.link_changed),
            (_link_line(c) for c in diff.link_changed),
        ),
    ]
    sections = [section for section in sections if section.total]
    parts = [section.summary for section in sections]
    if diff.unchanged_count:
        parts.append(
            ngettext("{count} unchanged", "{count} unchanged", diff.unchanged_count).format(
                count=diff.unchanged_count
            )
        )
    summary = format_list(parts, locale=babel_locale(locale))

    # Sections take turns, one line each, so that a flood of new sessions cannot hide the
    # one cancelled session; every "… and N more" line has its room reserved up front.
    chosen: list[list[str]] = [[] for _section in sections]
    used = len(summary) + 2 + sum(len(_more(section.total)) + 1 for section in sections)
    active = list(range(len(sections))) if limit > 0 else []
    while active:
        for index in list(active):
            section = sections[index]
            line = next(section.lines, None) if len(chosen[index]) < limit else None
            if line is None or used + len(line) + 1 >= MAX_RENDERED_CHARS:
                active.remove(index)
                continue
            chosen[index].append(line)
            used += len(line) + 1

    lines = [summary, ""]
    for section, shown in zip(sections, chosen, strict=True):
        lines.extend(shown)
        if section.total > len(shown):
            lines.append(_more(section.total - len(shown)))
    return "\n".join(lines)


def _more(count: int) -> str:
    return ngettext("… and {count} more", "… and {count} more", count).format(count=count)


def _clip(text: str, limit: int = _MAX_TITLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(moment: datetime, tz: tzinfo, locale: str) -> str:
    """ "8 Mar 2027, 19:00": Babel's medium date and short time in the locale's own order."""
    # Babel's medium date-time shows seconds, which no session needs.
    pattern = str(babel_locale(locale).datetime_formats["medium"]).replace("'", "")
    return pattern.replace("{1}", format_date(moment, tz, "medium", locale)).replace(
        "{0}", format_time(moment, tz, "short", locale)
    )


def _session_when(session: ParsedSession, tz: tzinfo, locale: str) -> str:
    if session.all_day:
        return format_date(session.starts_at, tz, "medium", locale)
    return _when(session.starts_at, tz, locale)


def _period(start: datetime, end: datetime, tz: tzinfo, locale: str) -> str:
    if start.astimezone(tz).date() == end.astimezone(tz).date():
        return _("{start}–{end}").format(
            start=_when(start, tz, locale), end=format_time(end, tz, "short", locale)
        )
    return _("{start} – {end}").format(start=_when(start, tz, locale), end=_when(end, tz, locale))


def _moved_line(moved: MovedSession, tz: tzinfo, locale: str) -> str:
    same_length = (moved.old_ends_at - moved.old_starts_at) == (
        moved.new_ends_at - moved.new_starts_at
    )
    if same_length:
        old = _when(moved.old_starts_at, tz, locale)
        new = _when(moved.new_starts_at, tz, locale)
    else:
        old = _period(moved.old_starts_at, moved.old_ends_at, tz, locale)
        new = _period(moved.new_starts_at, moved.new_ends_at, tz, locale)
    return _("Moved: {title}: {old} → {new}").format(title=_clip(moved.title), old=old, new=new)


def _link_line(change: LinkChange) -> str:
    if change.new_url is None:
        return _("Link removed: {title}").format(title=_clip(change.title))
    return _("New link: {title}: {url}").format(
        title=_clip(change.title), url=_short_url(change.new_url)
    )


def _short_url(url: str, limit: int = 160) -> str:
    # A cut-off link would still be clickable in Telegram, and lead nowhere; show the site.
    if len(url) <= limit:
        return url
    scheme, _sep, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0][:limit]}/…"
