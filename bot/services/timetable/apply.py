"""Importing a timetable file into a cohort: the preview, then storing it and telling trainees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import timetable as timetable_db
from bot.db.models import Programme, TrainingSession
from bot.i18n import gettext as _
from bot.services.timetable.cohorts import UnknownCohort, find_cohort
from bot.services.timetable.diff import SessionSnapshot, TimetableDiff, diff_timetable, render_diff
from bot.services.timetable.files import (
    ParsedSession,
    TimetableError,
    TimetableParseResult,
    parse_timetable,
)
from bot.services.timetable.notices import SessionChange, queue_change_notices
from bot.services.timetable.views import pick_title, zone_info


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
    cohort, programme = await find_cohort(session, cohort_code, cohort_id)
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
    text = render_diff(diff, zone_info(programme.home_timezone), locale)
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
    cohort, programme = await find_cohort(session, cohort_code, cohort_id)
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
    changes: list[SessionChange] = []
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
        changes.append(SessionChange.of(row, "new"))

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
                SessionChange.of(row, kind, old_starts_at=previous_start, old_title=previous_title)
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
        changes.append(SessionChange.of(row, "cancelled"))

    await session.flush()
    notices = await queue_change_notices(
        session,
        cohort=cohort,
        programme=programme,
        changes=changes,
        now=now,
        first_publication=first_publication,
    )
    await session.commit()
    return ApplyResult(diff=diff, notices=notices, cancelled_reminders=cancelled_reminders)
