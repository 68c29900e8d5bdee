"""Notices to a cohort's trainees when sessions are published, moved, cancelled or renamed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Programme, TrainingSession
from bot.delivery.outbox import Envelope, enqueue
from bot.i18n import gettext as _
from bot.i18n import ngettext, use_locale
from bot.markup import h
from bot.services.timetable.views import Viewer, join_buttons, pick_title, viewer_locale, when_text

NOTICE_KIND: Final = "timetable_notice"
_MAX_NOTICE_CHARS: Final = 3500


@dataclass(frozen=True, slots=True)
class SessionChange:
    """One change of one session, as a trainee is told about it."""

    session_id: int
    kind: str  # new, moved, cancelled, restored, link, renamed
    titles: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    join_url: str | None
    version: int
    old_starts_at: datetime | None = None
    old_title: str | None = None

    @classmethod
    def of(
        cls,
        row: TrainingSession,
        kind: str,
        *,
        old_starts_at: datetime | None = None,
        old_title: str | None = None,
    ) -> SessionChange:
        """The change ``kind`` of the session as stored now."""
        return cls(
            session_id=row.id or 0,
            kind=kind,
            titles=dict(row.titles),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            all_day=row.all_day,
            join_url=row.join_url,
            version=row.version,
            old_starts_at=old_starts_at,
            old_title=old_title,
        )

    def matters(self, now: datetime) -> bool:
        """Whether trainees still care: the session (before or after the change) is ahead."""
        return self.ends_at > now or (self.old_starts_at is not None and self.old_starts_at > now)


_ORDER: Final = {"cancelled": 0, "moved": 1, "restored": 2, "link": 3, "new": 4, "renamed": 5}


def _change_line(change: SessionChange, viewer: Viewer) -> str:
    title = h(pick_title(change.titles, viewer.locale, viewer.default_locale))
    when = when_text(change.starts_at, change.all_day, viewer)
    if change.kind == "moved" and change.old_starts_at is not None:
        return _("Moved: <b>{title}</b>, from {old} to {new}").format(
            title=title, old=when_text(change.old_starts_at, change.all_day, viewer), new=when
        )
    if change.kind == "cancelled":
        return _("Cancelled: <b>{title}</b>, {when}").format(title=title, when=when)
    if change.kind == "restored":
        return _("Back on: <b>{title}</b>, {when}").format(title=title, when=when)
    if change.kind == "link":
        return _("New join link: <b>{title}</b>, {when}").format(title=title, when=when)
    if change.kind == "renamed":
        return _("Renamed: {old} → <b>{title}</b>").format(
            old=h(change.old_title or ""), title=title
        )
    return _("New: <b>{title}</b>, {when}").format(title=title, when=when)


def notice_text(
    changes: Sequence[SessionChange], viewer: Viewer, cohort_name: str, first: bool
) -> str:
    """A change notice in the current locale, short enough for one message."""
    if first:
        start = min(change.starts_at for change in changes)
        header = ngettext(
            "📅 The timetable of {cohort} is out: {count} session, the first on {when}.",
            "📅 The timetable of {cohort} is out: {count} sessions, the first on {when}.",
            len(changes),
        ).format(
            cohort=h(cohort_name),
            count=len(changes),
            when=when_text(start, False, viewer),
        )
        return "\n".join(
            [header, _("/schedule shows this week, /calendar adds it all to your calendar.")]
        )
    lines = [
        "📢 <b>{title}</b>".format(
            title=h(_("Timetable change: {cohort}").format(cohort=cohort_name))
        )
    ]
    used = len(lines[0])
    ordered = sorted(changes, key=lambda c: (_ORDER.get(c.kind, 9), c.starts_at, c.session_id))
    for index, change in enumerate(ordered):
        line = "• " + _change_line(change, viewer)
        if used + len(line) > _MAX_NOTICE_CHARS:
            rest = len(ordered) - index
            lines.append(
                ngettext("… and {count} more change", "… and {count} more changes", rest).format(
                    count=rest
                )
            )
            break
        lines.append(line)
        used += len(line) + 1
    lines.append(_("/schedule shows the week as it is now."))
    return "\n".join(lines)


def _notice_key(cohort_id: int, user_id: int, changes: Sequence[SessionChange]) -> str:
    parts = sorted(
        f"{c.session_id}:{c.version}:{c.kind}:{sorted(c.titles.items())}" for c in changes
    )
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]
    return f"timetable_notice:{cohort_id}:{user_id}:{digest}"


async def queue_change_notices(
    session: AsyncSession,
    *,
    cohort: Cohort,
    programme: Programme,
    changes: Sequence[SessionChange],
    now: datetime,
    first_publication: bool = False,
) -> int:
    """Queue one notice per member of the cohort about changes still ahead; returns how many.

    Each member reads it in their language and time zone. The dedupe key carries the
    sessions' versions, so applying the same file twice tells nobody twice. Flushes only.
    """
    relevant = [change for change in changes if change.matters(now)]
    if first_publication:
        relevant = [change for change in relevant if change.kind == "new"]
    if not relevant or cohort.id is None:
        return 0
    members = await timetable_db.members_of_cohorts(session, [cohort.id])
    single_link = (
        relevant[0].join_url if len(relevant) == 1 and relevant[0].kind != "cancelled" else None
    )
    not_after = None if first_publication else max(c.ends_at for c in relevant)
    envelopes: list[Envelope] = []
    texts: dict[tuple[str, str], tuple[str, list[list[dict[str, str]]]]] = {}
    for member in members:
        locale = viewer_locale(member.locale, member.language_code, programme.default_locale)
        cached = texts.get((locale, member.timezone or ""))
        if cached is None:
            viewer = Viewer(
                locale, member.timezone, programme.home_timezone, programme.default_locale
            )
            with use_locale(locale):
                name = (
                    cohort.name
                    or pick_title(programme.titles, locale, programme.default_locale)
                    or cohort.code
                )
                cached = (
                    notice_text(relevant, viewer, name, first_publication),
                    join_buttons(single_link),
                )
            texts[(locale, member.timezone or "")] = cached
        text, buttons = cached
        payload: dict[str, Any] = {"text": text}
        if buttons:
            payload["buttons"] = buttons
        envelopes.append(
            Envelope(
                chat_id=member.user_id,
                user_id=member.user_id,
                kind=NOTICE_KIND,
                dedupe_key=_notice_key(cohort.id, member.user_id, relevant),
                due_at=now,
                not_after=not_after,
                payload=payload,
            )
        )
    return await enqueue(session, envelopes, now)
