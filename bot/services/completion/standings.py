"""Each active trainee's standing against their programme's completion rule.

:func:`cohort_standings` reads a whole cohort in a handful of queries (its trainees, its
sessions, the attended marks, the forms' counts, the exceptions, the quiz scores) and builds
each part with the pure functions below, which tests can feed figures directly.

A part is *met* when the figures so far reach its threshold, and *still possible* when what
is left of the cohort could still bring it there. A trainee is *at risk* while the cohort
runs and a part is falling behind (below its threshold so far, or out of reach).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import completion as completion_db
from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Programme, TrainingSession
from bot.services.attendance.marking import markable
from bot.services.completion.quizzes import quiz_shares
from bot.services.completion.rules import CompletionRules, rules_of, session_matches

#: Float noise must not fail 0.8 of 10 sessions.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the rule for one trainee."""

    name: str  # "attendance", "forms", "quizzes", "session:<key>"
    required: float | None  # threshold (share) or None for a required session
    actual: float | None  # the trainee's figure so far (share), None when nothing to count yet
    met: bool
    still_possible: bool  # can still be met before the cohort ends

    @property
    def behind(self) -> bool:
        """Not met, and below its threshold so far or out of reach."""
        if self.met:
            return False
        if not self.still_possible:
            return True
        if self.required is None:
            return False
        return self.actual is not None and self.actual + _EPSILON < self.required


@dataclass(frozen=True, slots=True)
class Standing:
    """A trainee's standing against the rule."""

    user_id: int
    enrolment_id: int
    name: str  # as on the roster / the registration
    parts: tuple[Part, ...]
    completed: bool  # every part met, or an exception recorded
    exception: str | None  # the coordinator's reason when marked by exception
    at_risk: bool  # not yet met, the cohort has not ended, and a part is falling behind


def _reaches(value: float, required: float) -> bool:
    return value + _EPSILON >= required


def attendance_part(required: float, attended: int, held: int, total: int) -> Part:
    """Attended of ``held`` sessions so far, ``total`` in the whole timetable."""
    actual = attended / held if held else None
    met = _reaches(actual, required) if actual is not None else required <= 0
    best = (attended + max(0, total - held)) / total if total else 1.0
    return Part("attendance", required, actual, met, met or _reaches(best, required))


def forms_part(required: float, sent: int, answered: int, still_open: int, ended: bool) -> Part:
    """Answered of the ``sent`` forms that reached the trainee; ``still_open`` can be answered."""
    actual = answered / sent if sent else None
    met = actual is None or _reaches(actual, required)
    possible = met or (sent > 0 and _reaches((answered + still_open) / sent, required))
    return Part("forms", required, actual, met, possible or not ended)


def quiz_part(required: float, share: float | None, ended: bool) -> Part:
    """The mean share of points over the quizzes that opened; None before any score."""
    met = share is not None and _reaches(share, required)
    return Part("quizzes", required, share, met, met or not ended)


def session_part(key: str, held: bool, attended: bool, upcoming: bool) -> Part:
    """A required session: attended, or still to come."""
    actual = (1.0 if attended else 0.0) if held else None
    return Part(f"session:{key}", None, actual, attended, attended or upcoming)


def verdict(
    user_id: int,
    enrolment_id: int,
    name: str,
    parts: tuple[Part, ...],
    exception: str | None,
    ended: bool,
) -> Standing:
    """The standing from its parts: completed when all are met or by exception."""
    completed = exception is not None or all(part.met for part in parts)
    at_risk = not completed and not ended and any(part.behind for part in parts)
    return Standing(user_id, enrolment_id, name, parts, completed, exception, at_risk)


def cohort_end(
    cohort: Cohort, programme: Programme, sessions: list[TrainingSession]
) -> datetime | None:
    """When the cohort ends: the end of its (else the programme's) last day in the programme's
    time zone, else the end of its last session; None without either."""
    last_day = cohort.ends_on or programme.ends_on
    if last_day is not None:
        zone = ZoneInfo(programme.home_timezone)
        return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    ends = [row.ends_at for row in sessions if markable(row)]
    return max(ends) if ends else None


@dataclass(frozen=True)
class CohortCompletion:
    """A cohort's standings, with what the table needs around them."""

    cohort: Cohort
    programme: Programme
    rules: CompletionRules
    ends_at: datetime | None
    ended: bool
    standings: list[Standing] = field(default_factory=list)
    #: Required sessions that match none of the cohort's sessions.
    unmatched: list[str] = field(default_factory=list)


async def cohort_completion(
    session: AsyncSession,
    cohort: Cohort,
    programme: Programme,
    now: datetime,
    only_user: int | None = None,
) -> CohortCompletion:
    """Every active trainee's standing in the cohort (only ``only_user``'s when given), in a
    handful of queries."""
    assert cohort.id is not None
    rules = rules_of(programme)
    sessions = await timetable_db.sessions_of_cohort(session, cohort.id)
    countable = [row for row in sessions if markable(row) and row.id is not None]
    held_ids = [row.id for row in countable if row.starts_at <= now and row.id is not None]
    ends_at = cohort_end(cohort, programme, sessions)
    ended = ends_at is not None and now >= ends_at
    members = await completion_db.active_trainees(session, cohort.id)
    if only_user is not None:
        members = [m for m in members if m.user_id == only_user]
    attended = await completion_db.attended_pairs(session, held_ids)
    per_user: dict[int, int] = {}
    for user_id, _session_id in attended:
        per_user[user_id] = per_user.get(user_id, 0) + 1
    forms = (
        await completion_db.form_counts(session, cohort.id, [m.user_id for m in members], now)
        if rules.forms is not None
        else {}
    )
    quizzes = await quiz_shares(session, cohort.id, now) if rules.min_quiz_score is not None else {}
    exceptions = await completion_db.exceptions_of_cohort(session, cohort.id)
    required: list[tuple[str, list[TrainingSession]]] = []
    unmatched: list[str] = []
    for name in rules.required_sessions:
        matches = [row for row in countable if session_matches(name, row)]
        if not matches:
            unmatched.append(name)
        # Named as the rule names it (a title reads better than a generated key).
        required.append((name, matches))
    standings = []
    for member in members:
        parts = [
            attendance_part(
                rules.min_attendance, per_user.get(member.user_id, 0), len(held_ids), len(countable)
            )
        ]
        if rules.forms is not None:
            sent, answered, still_open = forms.get(member.user_id, (0, 0, 0))
            parts.append(forms_part(rules.forms, sent, answered, still_open, ended))
        if rules.min_quiz_score is not None:
            parts.append(quiz_part(rules.min_quiz_score, quizzes.get(member.user_id), ended))
        for key, matches in required:
            held = [row for row in matches if row.starts_at <= now]
            parts.append(
                session_part(
                    key,
                    held=bool(held),
                    attended=any((member.user_id, row.id) in attended for row in held),
                    upcoming=len(held) < len(matches),
                )
            )
        exception = exceptions.get(member.user_id)
        standings.append(
            verdict(
                member.user_id,
                member.enrolment_id,
                member.name,
                tuple(parts),
                exception.reason if exception is not None else None,
                ended,
            )
        )
    return CohortCompletion(cohort, programme, rules, ends_at, ended, standings, unmatched)


async def completion_of_cohort(
    session: AsyncSession, cohort_id: int, now: datetime
) -> CohortCompletion | None:
    """The completion table of a cohort by id; None for an unknown cohort."""
    pair = await timetable_db.cohort_with_programme(session, cohort_id)
    if pair is None:
        return None
    return await cohort_completion(session, pair[0], pair[1], now)


async def cohort_standings(session: AsyncSession, cohort_id: int, now: datetime) -> list[Standing]:
    """Every active trainee's standing in the cohort; empty for an unknown cohort."""
    table = await completion_of_cohort(session, cohort_id, now)
    return table.standings if table is not None else []


async def completion_of_code(
    session: AsyncSession, code: str, now: datetime
) -> CohortCompletion | None:
    """The completion table of the cohort with this code; None when there is none."""
    cohort = await timetable_db.cohort_by_code(session, code)
    if cohort is None or cohort.id is None:
        return None
    pair = await timetable_db.cohort_with_programme(session, cohort.id)
    if pair is None:
        return None
    return await cohort_completion(session, pair[0], pair[1], now)
