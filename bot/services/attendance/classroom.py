"""The online classroom's participant report matched to a cohort's roster, and marked.

Each row of the report (see :mod:`bot.services.attendance.classroom_files`) is matched to
the roster by e-mail, then by phone (digits only; the last nine digits when both numbers
have that many, so a missing country code still matches), then by the exact name ignoring
case, accents and punctuation (a bracketed part, as Zoom adds for a renamed person, may be
left out). A name shared by two people matches neither: nothing is guessed, and rows that
match nobody are listed. A person on several rows (they rejoined) gets the sum of their
minutes.

Minutes at or above the threshold (``--threshold``, else the programme's
``present_minutes``, else 60% of the session's length) make a trainee present; fewer,
however many, make them absent, with their minutes kept on the mark so that a trainer can
judge; trainees of the cohort missing from the report are absent too. All with source
``classroom``: a trainer's mark stays, a trainee's own check-in is replaced.

A report whose people are mostly on another cohort's roster, or on none of this cohort's,
is refused whole, as is an unreadable one: nothing changes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import attendance as attendance_db
from bot.db import registration as reg_db
from bot.db.attendance import SOURCE_RANK, MarkSource, Presence
from bot.i18n import gettext as _
from bot.services.attendance.classroom_files import ReportRow, read_report
from bot.services.attendance.marking import session_and_cohort
from bot.services.attendance.rules import rules_of
from bot.services.countries import fold_name

_BRACKETED = re.compile(r"[(（\[][^)）\]]*[)）\]]")
#: Phone numbers are compared on this many last digits when both have as many.
PHONE_DIGITS = 9


@dataclass(frozen=True, slots=True)
class _Person:
    key: str
    cohort_id: int
    user_id: int | None
    name: str
    email: str | None
    phone: str | None


def phone_key(phone: str | None) -> str | None:
    """A phone number's digits (the last :data:`PHONE_DIGITS` when there are that many)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 5:
        return None
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else digits


def name_keys(name: str) -> list[str]:
    """The name folded, and folded without a bracketed part."""
    keys = [fold_name(name), fold_name(_BRACKETED.sub("", name))]
    return [key for key in dict.fromkeys(keys) if key]


class _Index:
    """People found by e-mail, phone or name; a key shared by two people finds nobody."""

    def __init__(self, people: list[_Person]) -> None:
        self.by: dict[str, dict[str, set[str]]] = {
            "email": defaultdict(set),
            "phone": defaultdict(set),
            "name": defaultdict(set),
        }
        self.people = {person.key: person for person in people}
        for person in people:
            if person.email:
                self.by["email"][person.email.strip().casefold()].add(person.key)
            phone = phone_key(person.phone)
            if phone:
                self.by["phone"][phone].add(person.key)
            for key in name_keys(person.name):
                self.by["name"][key].add(person.key)

    def find(self, row: ReportRow) -> _Person | None:
        lookups = [
            ("email", [row.email.strip().casefold()] if row.email else []),
            ("phone", [key] if (key := phone_key(row.phone)) else []),
            ("name", name_keys(row.name)),
        ]
        for kind, keys in lookups:
            for key in keys:
                found = self.by[kind].get(key, set())
                if len(found) == 1:
                    return self.people[next(iter(found))]
                if len(found) > 1:
                    return None
        return None


@dataclass(frozen=True, slots=True)
class MatchedPerson:
    """A trainee of the cohort found in the report (or missing from it: 0 minutes)."""

    user_id: int | None
    name: str
    minutes: int
    status: str


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    """A row of the report that matched nobody of the cohort."""

    line: int
    name: str
    email: str | None
    phone: str | None
    minutes: int


@dataclass
class ClassroomImport:
    """What importing a report did (or, with problems, why it was refused)."""

    session_id: int
    cohort_code: str = ""
    threshold: int = 0
    matched: list[MatchedPerson] = field(default_factory=list)
    missing: list[MatchedPerson] = field(default_factory=list)
    #: On the cohort's roster but not registered with the bot: cannot be marked.
    unregistered: list[str] = field(default_factory=list)
    unmatched: list[UnmatchedRow] = field(default_factory=list)
    changed: int = 0
    #: Marks left as they were because a trainer set them.
    kept: int = 0
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Whether the report was accepted."""
        return not self.problems

    def count(self, status: str) -> int:
        """How many trainees the report gives this status."""
        return sum(1 for p in [*self.matched, *self.missing] if p.status == status)

    def to_json(self) -> dict[str, Any]:
        """The outcome as JSON-ready data."""
        return {
            "session_id": self.session_id,
            "cohort": self.cohort_code,
            "imported": self.ok and not self.dry_run,
            "threshold_minutes": self.threshold,
            "present": self.count(Presence.PRESENT),
            "absent": self.count(Presence.ABSENT),
            "changed": self.changed,
            "kept_trainer_marks": self.kept,
            "matched": [
                {"user_id": p.user_id, "name": p.name, "minutes": p.minutes, "status": p.status}
                for p in self.matched
            ],
            "not_in_report": [p.name for p in self.missing],
            "not_registered": self.unregistered,
            "unmatched_rows": [
                {"line": r.line, "name": r.name, "email": r.email, "minutes": r.minutes}
                for r in self.unmatched
            ],
            "problems": self.problems,
        }


async def _people_of_cohort(session: AsyncSession, cohort_id: int) -> list[_Person]:
    people: list[_Person] = []
    seen_entries: set[int] = set()
    for trainee in await attendance_db.cohort_trainees(session, cohort_id):
        if trainee.roster_entry_id is not None:
            seen_entries.add(trainee.roster_entry_id)
        people.append(
            _Person(
                key=f"u{trainee.user_id}",
                cohort_id=cohort_id,
                user_id=trainee.user_id,
                name=trainee.name,
                email=trainee.email,
                phone=trainee.phone,
            )
        )
    for entry in await reg_db.roster_of_cohort(session, cohort_id):
        if entry.id in seen_entries or not entry.full_name:
            continue
        people.append(
            _Person(
                key=f"e{entry.id}",
                cohort_id=cohort_id,
                user_id=None,
                name=entry.full_name,
                email=entry.email,
                phone=entry.phone,
            )
        )
    return people


async def _people_elsewhere(session: AsyncSession, cohort_id: int) -> list[_Person]:
    return [
        _Person(
            key=f"e{entry.id}",
            cohort_id=entry.cohort_id,
            user_id=entry.user_id,
            name=entry.full_name,
            email=entry.email,
            phone=entry.phone,
        )
        for entry in await attendance_db.roster_entries(session, exclude_cohort_id=cohort_id)
        if entry.full_name or entry.email
    ]


async def import_report(
    session: AsyncSession,
    *,
    session_id: int,
    data: bytes,
    now: datetime,
    threshold: int | None = None,
    dry_run: bool = False,
) -> ClassroomImport:
    """Read a participant report and mark the session's cohort from it; commits unless
    ``dry_run`` or refused (then nothing changes)."""
    outcome = ClassroomImport(session_id=session_id, dry_run=dry_run)
    found = await session_and_cohort(session, session_id)
    if found is None:
        outcome.problems.append(
            _("There is no session {id} that takes attendance.").format(id=session_id)
        )
        return outcome
    row, cohort, programme = found
    assert cohort.id is not None
    outcome.cohort_code = cohort.code
    report = read_report(data)
    if not report.ok:
        outcome.problems = list(report.problems)
        return outcome
    outcome.threshold = threshold or rules_of(programme).present_threshold(row)

    here = _Index(await _people_of_cohort(session, cohort.id))
    elsewhere = _Index(await _people_elsewhere(session, cohort.id))
    minutes: dict[str, float] = defaultdict(float)
    other_cohorts: dict[int, int] = defaultdict(int)
    for report_row in report.rows:
        person = here.find(report_row)
        if person is not None:
            minutes[person.key] += report_row.minutes
            continue
        other = elsewhere.find(report_row)
        if other is not None:
            other_cohorts[other.cohort_id] += 1
        outcome.unmatched.append(
            UnmatchedRow(
                line=report_row.line,
                name=report_row.name,
                email=report_row.email,
                phone=report_row.phone,
                minutes=round(report_row.minutes),
            )
        )
    matched_here = len(minutes)
    if matched_here == 0 or sum(other_cohorts.values()) > matched_here:
        codes = []
        for other_id in sorted(other_cohorts, key=lambda c: -other_cohorts[c]):
            other_cohort = await reg_db.get_cohort(session, other_id)
            if other_cohort is not None:
                codes.append(other_cohort.code)
        if codes:
            outcome.problems.append(
                _(
                    "Most people in this report are on the roster of {others}, not of "
                    "{cohort}: is it the report of another cohort's session?"
                ).format(others=", ".join(codes), cohort=cohort.code)
            )
        else:
            outcome.problems.append(
                _("Nobody in this report is on the roster of {cohort}.").format(cohort=cohort.code)
            )
        return outcome

    marks = await attendance_db.marks_of_session(session, session_id)
    for person in here.people.values():
        total = round(minutes.get(person.key, 0.0))
        status = Presence.PRESENT if total >= outcome.threshold else Presence.ABSENT
        if person.user_id is None:
            if person.key in minutes:
                outcome.unregistered.append(person.name)
            continue
        seen = MatchedPerson(person.user_id, person.name, total, status)
        (outcome.matched if person.key in minutes else outcome.missing).append(seen)
        current = marks.get(person.user_id)
        if (
            current is not None
            and SOURCE_RANK[MarkSource(current.source)] > SOURCE_RANK[MarkSource.CLASSROOM]
        ):
            outcome.kept += 1
            continue
        if dry_run:
            changed = current is None or (current.status, current.source, current.minutes) != (
                status,
                MarkSource.CLASSROOM,
                total,
            )
        else:
            _mark, changed = await attendance_db.set_mark(
                session,
                session_id=session_id,
                cohort_id=cohort.id,
                user_id=person.user_id,
                status=status,
                source=MarkSource.CLASSROOM,
                set_by=None,
                now=now,
                minutes=total,
            )
        outcome.changed += changed
    outcome.matched.sort(key=lambda p: p.name.casefold())
    outcome.missing.sort(key=lambda p: p.name.casefold())
    if not dry_run:
        await session.commit()
    return outcome


def describe_import(outcome: ClassroomImport) -> str:
    """What an accepted report did, in the current locale."""
    lines = [
        _(
            "Session {id} ({cohort}): {present} present, {absent} absent (present from "
            "{threshold} minutes); {changed} marks changed, {kept} trainer marks kept."
        ).format(
            id=outcome.session_id,
            cohort=outcome.cohort_code,
            present=outcome.count(Presence.PRESENT),
            absent=outcome.count(Presence.ABSENT),
            threshold=outcome.threshold,
            changed=outcome.changed,
            kept=outcome.kept,
        )
    ]
    if outcome.missing:
        lines.append(
            _("Not in the report (absent): {names}").format(
                names=", ".join(p.name for p in outcome.missing)
            )
        )
    if outcome.unregistered:
        lines.append(
            _("On the roster but not registered with the bot (not marked): {names}").format(
                names=", ".join(outcome.unregistered)
            )
        )
    if outcome.unmatched:
        lines.append(_("Rows that match nobody in the cohort (not marked):"))
        for row in outcome.unmatched:
            who = " · ".join(part for part in (row.name, row.email, row.phone) if part)
            lines.append(
                "  "
                + _("line {line}: {who}, {minutes} min").format(
                    line=row.line, who=who, minutes=row.minutes
                )
            )
    return "\n".join(lines)
