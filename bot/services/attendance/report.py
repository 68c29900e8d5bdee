"""Attendance figures: per held session and per trainee of a cohort, and a trainee's own.

A session is *held* once it has started (scheduled, with a time; cancelled and all-day
sessions take no attendance). A trainee *attended* a session when marked present or late.
Figures count the cohort's active trainees only. The report is plain data (rows of
numbers and labels, :meth:`AttendanceReport.to_json`) so that charts and spreadsheets can be
made from it; :func:`report_text` is the short summary the bot and the command line show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import attendance as attendance_db
from bot.db import timetable as timetable_db
from bot.db.attendance import ATTENDED, Presence
from bot.db.models import Cohort, Programme
from bot.i18n import gettext as _
from bot.markup import h
from bot.services.attendance.marking import held_sessions
from bot.services.attendance.rules import rules_of
from bot.services.timetable.views import Viewer, day_label, local_time, pick_title


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One held session: how many trainees had each mark, and the share who attended."""

    session_id: int
    label: str
    starts_at: datetime
    present: int
    late: int
    absent: int
    excused: int
    unmarked: int
    #: (present + late) / the cohort's trainees; None for a cohort without trainees.
    share: float | None

    @property
    def attended(self) -> int:
        """Present or late."""
        return self.present + self.late


@dataclass(frozen=True, slots=True)
class TraineeRow:
    """One trainee: sessions attended of those held, the share, and whether below the rule."""

    user_id: int
    name: str
    attended: int
    held: int
    #: attended / held; None while nothing was held.
    share: float | None
    below_threshold: bool


@dataclass(frozen=True)
class AttendanceReport:
    """A cohort's attendance up to ``generated_at``."""

    cohort_id: int
    cohort_code: str
    programme_code: str
    min_share: float
    generated_at: datetime
    sessions: list[SessionRow] = field(default_factory=list)
    trainees: list[TraineeRow] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """Attended marks over every (trainee, held session) pair; None if there is none."""
        possible = sum(row.held for row in self.trainees)
        if not possible:
            return None
        return sum(row.attended for row in self.trainees) / possible

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "cohort": self.cohort_code,
            "programme": self.programme_code,
            "min_share": self.min_share,
            "generated_at": self.generated_at.isoformat(),
            "share": self.share,
            "sessions": [
                {
                    "session_id": row.session_id,
                    "label": row.label,
                    "starts_at": row.starts_at.isoformat(),
                    "present": row.present,
                    "late": row.late,
                    "absent": row.absent,
                    "excused": row.excused,
                    "unmarked": row.unmarked,
                    "share": row.share,
                }
                for row in self.sessions
            ],
            "trainees": [
                {
                    "user_id": row.user_id,
                    "name": row.name,
                    "attended": row.attended,
                    "held": row.held,
                    "share": row.share,
                    "below_threshold": row.below_threshold,
                }
                for row in self.trainees
            ],
        }


async def cohort_report(
    session: AsyncSession, cohort: Cohort, programme: Programme, now: datetime, locale: str
) -> AttendanceReport:
    """The attendance report of a cohort; labels in ``locale`` and the programme's time."""
    assert cohort.id is not None
    rules = rules_of(programme)
    held = await held_sessions(session, cohort.id, now)
    trainees = await attendance_db.cohort_trainees(session, cohort.id)
    people = {t.user_id for t in trainees}
    marks = await attendance_db.marks_of_sessions(session, [r.id for r in held if r.id])
    by_session: dict[int, dict[int, str]] = {}
    for mark in marks:
        if mark.user_id in people:
            by_session.setdefault(mark.session_id, {})[mark.user_id] = mark.status
    viewer = Viewer(locale, None, programme.home_timezone, programme.default_locale)
    session_rows: list[SessionRow] = []
    for row in held:
        statuses = list(by_session.get(row.id or 0, {}).values())
        counts = {status: statuses.count(status) for status in Presence}
        attended = counts[Presence.PRESENT] + counts[Presence.LATE]
        title = pick_title(row.titles, locale, programme.default_locale)
        session_rows.append(
            SessionRow(
                session_id=row.id or 0,
                label=f"{day_label(row.starts_at, viewer)} {local_time(row.starts_at, viewer)}"
                f" — {title}",
                starts_at=row.starts_at,
                present=counts[Presence.PRESENT],
                late=counts[Presence.LATE],
                absent=counts[Presence.ABSENT],
                excused=counts[Presence.EXCUSED],
                unmarked=len(trainees) - len(statuses),
                share=attended / len(trainees) if trainees else None,
            )
        )
    trainee_rows: list[TraineeRow] = []
    for trainee in trainees:
        attended = sum(
            1 for row in held if by_session.get(row.id or 0, {}).get(trainee.user_id) in ATTENDED
        )
        share = attended / len(held) if held else None
        trainee_rows.append(
            TraineeRow(
                user_id=trainee.user_id,
                name=trainee.name,
                attended=attended,
                held=len(held),
                share=share,
                below_threshold=share is not None and share < rules.min_share,
            )
        )
    return AttendanceReport(
        cohort_id=cohort.id,
        cohort_code=cohort.code,
        programme_code=programme.code,
        min_share=rules.min_share,
        generated_at=now,
        sessions=session_rows,
        trainees=trainee_rows,
    )


async def report_of_code(
    session: AsyncSession, code: str, now: datetime, locale: str
) -> AttendanceReport | None:
    """The report of the cohort with this code; None when there is no such cohort."""
    cohort = await timetable_db.cohort_by_code(session, code)
    if cohort is None or cohort.id is None:
        return None
    pair = await timetable_db.cohort_with_programme(session, cohort.id)
    if pair is None:
        return None
    return await cohort_report(session, pair[0], pair[1], now, locale)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def report_text(report: AttendanceReport, *, html: bool = True) -> str:
    """A short summary in the current locale: each session's counts, who is below the rule."""
    esc = h if html else str
    lines = [
        _("Attendance of {cohort}: {share} over {count} sessions held (rule: {rule}).").format(
            cohort=esc(report.cohort_code),
            share=_percent(report.share),
            count=len(report.sessions),
            rule=_percent(report.min_share),
        )
    ]
    if not report.sessions:
        lines.append(_("No session has been held yet."))
    for row in report.sessions:
        lines.append(
            "• "
            + esc(row.label)
            + ": "
            + _(
                "{present} present, {late} late, {absent} absent, {excused} excused, "
                "{unmarked} unmarked ({share})"
            ).format(
                present=row.present,
                late=row.late,
                absent=row.absent,
                excused=row.excused,
                unmarked=row.unmarked,
                share=_percent(row.share),
            )
        )
    below = [row for row in report.trainees if row.below_threshold]
    if report.sessions:
        lines.append("")
        if below:
            lines.append(_("Below the rule ({rule}):").format(rule=_percent(report.min_share)))
            lines += [
                "• "
                + _("{name}: {attended} of {held} ({share})").format(
                    name=esc(row.name),
                    attended=row.attended,
                    held=row.held,
                    share=_percent(row.share),
                )
                for row in below
            ]
        else:
            lines.append(_("Nobody is below the rule."))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class TraineeFigures:
    """A trainee's attendance in one cohort, for ``/progress``."""

    cohort_id: int
    cohort_code: str
    attended: int
    held: int
    #: attended / held; None while nothing was held.
    share: float | None
    #: The programme's rule (0.8 = 80%).
    min_share: float
    below_threshold: bool


async def trainee_attendance(
    session: AsyncSession, user_id: int, now: datetime
) -> list[TraineeFigures]:
    """The person's attendance in each cohort they are active in: attended of held."""
    out: list[TraineeFigures] = []
    own = {
        mark.session_id: mark.status for mark in await attendance_db.marks_of_user(session, user_id)
    }
    for cohort, programme in await timetable_db.cohorts_of_user(session, user_id):
        if cohort.id is None:
            continue
        rules = rules_of(programme)
        held = await held_sessions(session, cohort.id, now)
        attended = sum(1 for row in held if own.get(row.id or 0) in ATTENDED)
        share = attended / len(held) if held else None
        out.append(
            TraineeFigures(
                cohort_id=cohort.id,
                cohort_code=cohort.code,
                attended=attended,
                held=len(held),
                share=share,
                min_share=rules.min_share,
                below_threshold=share is not None and share < rules.min_share,
            )
        )
    return out
