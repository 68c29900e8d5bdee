"""What ``trainee-bot demo`` starts from: the sample programme, roster and timetable, imported.

Everything goes through the services the command line uses (``programme import``,
``roster import``, ``timetable import``), so the demo shows the bot as an organiser would
have set it up. The demo's clock starts a little over a day before the first session, so
the reminders lie ahead. The organiser's copy of the timetable is kept here too: moving a
session edits that copy, as an organiser edits their spreadsheet, and the file is sent to the
bot like any other.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.db import feedback as feedback_db
from bot.db import quizzes as quiz_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.services import programmes, timetable
from bot.services.countries import country_name
from bot.services.faq import library as faq_library
from bot.services.feedback import library as feedback_library
from bot.services.quizzes import library as quiz_library
from bot.services.roster import importing as roster_import
from bot.services.timetable.files import parse_timetable

#: The project's sample files (``examples/`` beside the ``bot`` package).
DEFAULT_EXAMPLES: Final = Path(__file__).resolve().parent.parent / "examples"
PROGRAMME_FILE: Final = "programme.yaml"
ROSTER_FILES: Final = ("roster.csv", "roster.xlsx")
TIMETABLE_FILES: Final = ("timetable.csv", "timetable.ics")
FAQ_FILE: Final = "faq.yaml"
FEEDBACK_FILE: Final = "feedback.yaml"
QUIZ_FILE: Final = "quiz.yaml"
#: How long before the first session the demo's clock starts: the day-before reminder is
#: two hours ahead.
LEAD_BEFORE_FIRST: Final = timedelta(days=1, hours=2)
#: The longest ``:wait`` at a time.
MAX_WAIT: Final = timedelta(days=31)

_DURATION = re.compile(r"(\d+)\s*([wdhm])")
_UNIT: Final = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}


class DemoSetupError(Exception):
    """The sample files are missing or could not be imported; the message says which."""


@dataclass(frozen=True)
class Samples:
    """The sample files' names and contents."""

    programme_name: str
    programme_text: str
    roster_name: str
    roster: bytes
    timetable_name: str
    timetable: bytes
    #: The FAQ, when the folder has one.
    faq: bytes | None = None
    #: The feedback forms, when the folder has them.
    feedback: bytes | None = None
    quizzes: bytes | None = None


@dataclass(frozen=True)
class DemoWorld:
    """What was seeded, and the organiser's working copy of the timetable."""

    programme_code: str
    programme_title: str
    home_zone: str
    cohort_id: int
    cohort_code: str
    cohort_name: str
    registration: str
    #: The programme's other cohorts: (code, registration mode).
    other_cohorts: list[tuple[str, str]]
    trainees: int
    sessions: int
    samples: Samples
    #: How many FAQ entries were imported (0 without an FAQ file).
    faq_entries: int = 0
    #: The feedback forms imported: (id, title) in the file's order.
    forms: list[tuple[str, str]] = field(default_factory=list)
    #: The quizzes imported: their English titles.
    quizzes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RosterPerson:
    """One line of the cohort's roster, numbered as ``:trainees`` shows it."""

    number: int
    full_name: str
    organisation: str | None
    country: str | None
    language: str | None
    personal_code: str
    registered: bool

    def describe(self) -> str:
        """ "Amina Nakato, Ministry of …, Uganda (reads English)"."""
        parts = [self.full_name]
        if self.organisation:
            parts.append(self.organisation)
        if self.country:
            parts.append(country_name(self.country, "en"))
        text = ", ".join(parts)
        if self.language:
            text += f" (reads {language_name(self.language)})"
        return text


@dataclass(frozen=True)
class MovedSession:
    """The organiser's edited timetable file and what the edit did."""

    content: bytes
    title: str
    old_start: datetime
    new_start: datetime


def language_name(code: str) -> str:
    """The English name of a language code ("Russian" for ``ru``)."""
    try:
        return Locale.parse(code).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def _first_existing(folder: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise DemoSetupError(f"{folder}: none of {', '.join(names)} is there")


def load_samples(folder: Path) -> Samples:
    """Read the sample programme, roster and timetable from ``folder``."""
    programme = folder / PROGRAMME_FILE
    if not programme.is_file():
        raise DemoSetupError(f"{folder}: {PROGRAMME_FILE} is not there")
    roster = _first_existing(folder, ROSTER_FILES)
    timetable_path = _first_existing(folder, TIMETABLE_FILES)
    try:
        return Samples(
            programme_name=programme.name,
            programme_text=programme.read_text(encoding="utf-8"),
            roster_name=roster.name,
            roster=roster.read_bytes(),
            timetable_name=timetable_path.name,
            timetable=timetable_path.read_bytes(),
            faq=(folder / FAQ_FILE).read_bytes() if (folder / FAQ_FILE).is_file() else None,
            feedback=(
                (folder / FEEDBACK_FILE).read_bytes()
                if (folder / FEEDBACK_FILE).is_file()
                else None
            ),
            quizzes=(folder / QUIZ_FILE).read_bytes() if (folder / QUIZ_FILE).is_file() else None,
        )
    except (OSError, UnicodeDecodeError) as exc:
        raise DemoSetupError(f"{folder}: cannot read the sample files ({exc})") from exc


def _programme_spec(samples: Samples) -> programmes.ProgrammeSpec:
    try:
        return programmes.parse_programme(samples.programme_text)
    except programmes.ProgrammeFileError as exc:
        raise DemoSetupError(f"{samples.programme_name}: {'; '.join(exc.problems)}") from exc


def start_time(samples: Samples) -> datetime:
    """When the demo's clock starts: :data:`LEAD_BEFORE_FIRST` before the first session."""
    spec = _programme_spec(samples)
    parsed = parse_timetable(
        samples.timetable, samples.timetable_name, spec.home_timezone, spec.default_language
    )
    starts = [s.starts_at for s in parsed.sessions if not s.all_day]
    if not parsed.ok or not starts:
        raise DemoSetupError(f"{samples.timetable_name}: no session could be read")
    return (min(starts) - LEAD_BEFORE_FIRST).replace(minute=0, second=0, microsecond=0)


def _demo_cohort(spec: programmes.ProgrammeSpec) -> programmes.CohortSpec:
    for cohort in spec.cohorts:
        if cohort.registration == "roster":
            return cohort
    if not spec.cohorts:
        raise DemoSetupError("the sample programme has no cohort")
    return spec.cohorts[0]


async def seed(
    session_factory: async_sessionmaker[AsyncSession], clock: Clock, samples: Samples
) -> DemoWorld:
    """Import the programme, then the roster and the timetable into its roster cohort."""
    spec = _programme_spec(samples)
    chosen = _demo_cohort(spec)
    async with session_factory() as session:
        try:
            await programmes.import_programme(session, spec, clock.now())
        except programmes.ProgrammeFileError as exc:
            raise DemoSetupError(f"{samples.programme_name}: {'; '.join(exc.problems)}") from exc
        cohort = await reg_db.get_cohort_by_code(session, chosen.code)
        if cohort is None or cohort.id is None:
            raise DemoSetupError(f"cohort {chosen.code} was not created")
        cohort_id = cohort.id
    async with session_factory() as session:
        outcome = await roster_import.import_roster(
            session, cohort_id, samples.roster, samples.roster_name, clock.now()
        )
    if outcome.result is None:
        reasons = "; ".join(e.reason for e in outcome.errors[:5])
        raise DemoSetupError(f"{samples.roster_name}: not imported ({reasons})")
    async with session_factory() as session:
        try:
            applied = await timetable.apply_import(
                session,
                data=samples.timetable,
                filename=samples.timetable_name,
                clock=clock,
                cohort_id=cohort_id,
            )
        except ValueError as exc:
            raise DemoSetupError(f"{samples.timetable_name}: not imported ({exc})") from exc
    faq_entries = 0
    if samples.faq is not None:
        async with session_factory() as session:
            faq = await faq_library.import_faq(
                session, spec.code, samples.faq, FAQ_FILE, clock.now()
            )
        if faq.result is None:
            reasons = "; ".join(p.message for p in faq.problems[:5])
            raise DemoSetupError(f"{FAQ_FILE}: not imported ({reasons})")
        faq_entries = len(faq.result.created) + len(faq.result.updated)
        faq_entries += len(faq.result.unchanged)
    forms: list[tuple[str, str]] = []
    if samples.feedback is not None:
        async with session_factory() as session:
            imported = await feedback_library.import_forms(
                session, spec.code, samples.feedback, FEEDBACK_FILE, clock.now()
            )
            stored = await feedback_db.forms_of_programme(session, cohort.programme_id)
        if imported.result is None:
            reasons = "; ".join(p.message for p in imported.problems[:5])
            raise DemoSetupError(f"{FEEDBACK_FILE}: not imported ({reasons})")
        forms = [(form.key, form.titles.get("en") or form.key) for form in stored]
    quizzes: list[str] = []
    if samples.quizzes is not None:
        async with session_factory() as session:
            loaded = await quiz_library.import_quizzes(
                session, samples.quizzes, spec.code, clock.now()
            )
            if not loaded.ok:
                raise DemoSetupError(f"{QUIZ_FILE}: not imported ({'; '.join(loaded.errors[:5])})")
            stored_quizzes = await quiz_db.quizzes_of_programme(session, cohort.programme_id)
        quizzes = [quiz.titles.get("en") or quiz.key for quiz in stored_quizzes]
    return DemoWorld(
        programme_code=spec.code,
        programme_title=spec.titles.get("en") or next(iter(spec.titles.values())),
        home_zone=spec.home_timezone,
        cohort_id=cohort_id,
        cohort_code=chosen.code,
        cohort_name=chosen.name or chosen.code,
        registration=chosen.registration,
        other_cohorts=[(c.code, c.registration) for c in spec.cohorts if c.code != chosen.code],
        trainees=len(outcome.result.entries),
        sessions=len(applied.diff.new),
        samples=samples,
        faq_entries=faq_entries,
        forms=forms,
        quizzes=quizzes,
    )


async def roster(
    session_factory: async_sessionmaker[AsyncSession], world: DemoWorld
) -> list[RosterPerson]:
    """The demo cohort's roster in file order, numbered from 1, with who has registered."""
    async with session_factory() as session:
        entries = await reg_db.roster_of_cohort(session, world.cohort_id)
    return [
        RosterPerson(
            number=number,
            full_name=entry.full_name,
            organisation=entry.organisation,
            country=entry.country,
            language=entry.language,
            personal_code=entry.personal_code,
            registered=entry.user_id is not None,
        )
        for number, entry in enumerate(entries, start=1)
    ]


@dataclass(frozen=True)
class ClassroomExport:
    """A participant export of the online classroom for one session, as Zoom writes it."""

    session_id: int
    title: str
    starts_at: datetime
    content: bytes


async def classroom_export(
    session_factory: async_sessionmaker[AsyncSession], world: DemoWorld, now: datetime
) -> ClassroomExport | None:
    """The demo cohort's latest started session as Zoom's participant report would have it:
    every registered trainee, every third one only ten minutes, and a guest nobody knows."""
    async with session_factory() as session:
        rows = await timetable_db.sessions_of_cohort(session, world.cohort_id)
        entries = await reg_db.roster_of_cohort(session, world.cohort_id)
    started = [
        row
        for row in rows
        if row.starts_at <= now and row.status == "scheduled" and not row.all_day
    ]
    if not started or started[-1].id is None:
        return None
    row = started[-1]
    minutes = int((row.ends_at - row.starts_at).total_seconds() // 60)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Name (Original Name)", "User Email", "Join Time", "Leave Time", "Duration (Minutes)"]
    )

    def stamp(moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(world.home_zone)).strftime("%m/%d/%Y %I:%M:%S %p")

    registered = [entry for entry in entries if entry.user_id is not None]
    for number, entry in enumerate(registered):
        stay = 10 if number % 3 == 2 else minutes - 2
        joined = row.starts_at + timedelta(minutes=1)
        writer.writerow(
            [
                entry.full_name,
                entry.email or "",
                stamp(joined),
                stamp(joined + timedelta(minutes=stay)),
                stay,
            ]
        )
    writer.writerow(["Guest (iPhone)", "", stamp(row.starts_at), stamp(row.ends_at), minutes])
    title = row.titles.get("en") or next(iter(row.titles.values()), row.key)
    return ClassroomExport(row.id or 0, title, row.starts_at, out.getvalue().encode())


async def next_session(
    session_factory: async_sessionmaker[AsyncSession], world: DemoWorld, now: datetime
) -> tuple[str, datetime] | None:
    """The title and start of the demo cohort's next scheduled session, as the bot stores it."""
    async with session_factory() as session:
        rows = await timetable_db.scheduled_starting_between(
            session, now, now + timedelta(days=400)
        )
    for row in rows:
        if row.cohort_id == world.cohort_id and not row.all_day:
            return timetable.pick_title(row.titles, "en", "en"), row.starts_at
    return None


# --------------------------------------------------------------------------------------------
# Durations and instants as the terminal shows them


def parse_duration(text: str, *, signed: bool = False) -> timedelta | None:
    """ "30m", "2h", "1d", "1h30m" (a bare number is minutes); None when not a duration.

    With ``signed`` a leading ``-`` (or ``+``) is allowed: ``-30m`` moves a session earlier.
    """
    cleaned = text.strip().lower().replace(" ", "")
    sign = 1
    if signed and cleaned[:1] in ("-", "+"):
        sign = -1 if cleaned[0] == "-" else 1
        cleaned = cleaned[1:]
    if cleaned.isdigit():
        return timedelta(minutes=int(cleaned)) * sign
    if not cleaned or _DURATION.sub("", cleaned):
        return None
    total = timedelta()
    for amount, unit in _DURATION.findall(cleaned):
        total += _UNIT.get(unit, timedelta(minutes=1)) * int(amount)
    return total * sign


def describe_duration(delta: timedelta) -> str:
    """ "1 day 2 hours 5 minutes" (whole minutes; "0 minutes" for less than one)."""
    minutes = abs(int(delta.total_seconds())) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{value} {unit}{'' if value == 1 else 's'}"
        for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if value
    ]
    return " ".join(parts) or "0 minutes"


def describe_instant(moment: datetime, zone: str) -> str:
    """ "Sun 7 Mar 2027, 09:00 UTC (17:00 in Asia/Shanghai)"."""
    utc = moment.astimezone(UTC)
    local = moment.astimezone(ZoneInfo(zone))
    text = f"{utc:%a} {utc.day} {utc:%b %Y}, {utc:%H:%M} UTC"
    if local.utcoffset() == utc.utcoffset():
        return text
    day = "" if local.date() == utc.date() else f"{local:%a} {local.day} {local:%b} "
    return f"{text} ({day}{local:%H:%M} in {zone})"


# --------------------------------------------------------------------------------------------
# The organiser's copy of the timetable


class MoveError(ValueError):
    """The session cannot be moved as asked; the message says why."""


def _column(header: list[str], *starts: str) -> int:
    for index, name in enumerate(header):
        if name.strip().lower().startswith(starts):
            return index
    raise MoveError(f"the timetable has no {starts[0]!r} column to edit")


def move_next_session(content: bytes, zone: str, now: datetime, delta: timedelta) -> MovedSession:
    """The timetable with the first session starting after ``now`` moved by ``delta``.

    Only that row's date, start and end change (times are the programme's wall-clock times,
    as in the file). A session moved to another day changes its date, and a spreadsheet
    without an "ID" column names its sessions by date and title, so the bot reads that as
    one session cancelled and a new one added.
    """
    if not delta:
        raise MoveError("a move of 0 minutes changes nothing")
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise MoveError("the timetable is empty")
    header = rows[0]
    day_col = _column(header, "date")
    start_col = _column(header, "start")
    end_col = _column(header, "end")
    title_col = _column(header, "session", "title")
    tz = ZoneInfo(zone)

    def at(day_text: str, clock_text: str) -> datetime:
        day = date.fromisoformat(day_text.strip())
        hour, minute = (int(part) for part in clock_text.strip().split(":")[:2])
        return datetime.combine(day, time(hour, minute), tzinfo=tz)

    candidates: list[tuple[datetime, int]] = []
    for index, row in enumerate(rows[1:], start=1):
        try:
            starts = at(row[day_col], row[start_col])
        except (ValueError, IndexError):
            continue
        if starts > now:
            candidates.append((starts, index))
    if not candidates:
        raise MoveError("no session in the timetable starts after the demo's time")
    old_start, index = min(candidates)
    row = rows[index]
    old_end = at(row[day_col], row[end_col])
    if old_end <= old_start:
        old_end += timedelta(days=1)
    new_start = (old_start.astimezone(UTC) + delta).astimezone(tz)
    new_end = (old_end.astimezone(UTC) + delta).astimezone(tz)
    if new_start <= now:
        raise MoveError("that would put the session in the past")
    if new_end.date() != new_start.date():
        raise MoveError("that would carry the session past midnight; try a smaller move")
    row[day_col] = new_start.date().isoformat()
    row[start_col] = f"{new_start:%H:%M}"
    row[end_col] = f"{new_end:%H:%M}"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return MovedSession(
        content=buffer.getvalue().encode("utf-8"),
        title=row[title_col],
        old_start=old_start,
        new_start=new_start,
    )
