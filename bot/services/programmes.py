"""Programmes as code: a YAML file describes a programme and its cohorts.

Importing the same file twice changes nothing; each programme and cohort is reported as
created, updated or unchanged. Cohorts missing from the file are kept (they may hold
trainees); a file only ever adds or changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import completion as completion_db
from bot.db import registration as reg_db
from bot.db import timetable as timetable_db
from bot.db.models import Cohort, Programme
from bot.i18n import SUPPORTED_LOCALES
from bot.services.attendance.rules import AttendanceSpec
from bot.services.completion.rules import CompletionSpec, unmatched_sessions

#: Codes travel in deep links (``?start=<code>``), which allow only these characters.
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_CODE_RE = re.compile(CODE_PATTERN)
_OFFSET_RE = re.compile(r"^\s*(\d+)\s*([mhd]?)\s*$")
_OFFSET_UNITS = {"": 1, "m": 1, "h": 60, "d": 1440}
#: A reminder more than four weeks ahead is almost certainly a typo.
MAX_OFFSET_MINUTES = 28 * 1440

Code = Annotated[str, Field(pattern=CODE_PATTERN)]


class ProgrammeFileError(ValueError):
    """The file cannot be imported; ``problems`` name each field at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _check_zone(value: str) -> str:
    if "/" not in value and value != "UTC":
        raise ValueError("is not an IANA time zone name such as Asia/Shanghai")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not an IANA time zone name such as Asia/Shanghai") from None
    return value


def _offset_minutes(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be minutes (15) or a duration such as 15m, 2h, 1d")
    if isinstance(value, int):
        minutes = value
    else:
        match = _OFFSET_RE.match(str(value).lower())
        if match is None:
            raise ValueError("must be minutes (15) or a duration such as 15m, 2h, 1d")
        minutes = int(match[1]) * _OFFSET_UNITS[match[2]]
    if not 0 < minutes <= MAX_OFFSET_MINUTES:
        raise ValueError(f"must be between 1 minute and {MAX_OFFSET_MINUTES // 1440} days")
    return minutes


def _check_titles(value: dict[str, str]) -> dict[str, str]:
    for language, title in value.items():
        if language not in SUPPORTED_LOCALES:
            raise ValueError(f"language {language!r} is not one of {', '.join(SUPPORTED_LOCALES)}")
        if not str(title).strip():
            raise ValueError(f"the {language} title is empty")
    return {language: str(title).strip() for language, title in value.items()}


class CohortSpec(BaseModel):
    """One cohort as the file describes it."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: str = Field(default="", max_length=256)
    starts_on: date | None = None
    ends_on: date | None = None
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    registration: Literal["roster", "open", "approval"] = "roster"
    reminders: list[int] = Field(default_factory=lambda: [1440, 15], max_length=10)

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError("must be a list such as [1d, 15m]")
        return sorted({_offset_minutes(item) for item in value}, reverse=True)

    @model_validator(mode="after")
    def _dates(self) -> CohortSpec:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class ProgrammeSpec(BaseModel):
    """A programme file: the programme and its cohorts."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    titles: dict[str, str] = Field(min_length=1)
    home_timezone: str = "UTC"
    default_language: str = "en"
    starts_on: date | None = None
    ends_on: date | None = None
    cohorts: list[CohortSpec] = Field(default_factory=list)
    #: Attendance rules (``min_share``, ``check_in``, ``present_minutes``,
    #: ``late_after_minutes``); None keeps the defaults.
    attendance: AttendanceSpec | None = None
    #: The completion rule (``min_attendance``, ``forms``, ``min_quiz_score``,
    #: ``required_sessions``); None: attendance alone decides.
    completion: CompletionSpec | None = None

    _titles = field_validator("titles")(_check_titles)
    _zone = field_validator("home_timezone")(_check_zone)

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProgrammeSpec:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        seen: set[str] = set()
        for cohort in self.cohorts:
            if cohort.code in seen:
                raise ValueError(f"cohort code {cohort.code!r} appears twice")
            seen.add(cohort.code)
        return self


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "file"


def parse_programme(text: str) -> ProgrammeSpec:
    """Read and validate a programme file; raises :class:`ProgrammeFileError` naming fields."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ProgrammeFileError([f"file: not valid YAML{where}"]) from None
    if not isinstance(data, dict):
        raise ProgrammeFileError(["file: expected a mapping with code, titles and cohorts"])
    try:
        return ProgrammeSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{_location(tuple(error['loc']))}: {message}")
        raise ProgrammeFileError(problems) from None


class Change(StrEnum):
    """What an import did to one programme or cohort."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class ProgrammeImport:
    """The outcome of importing a programme file."""

    programme: tuple[str, Change]
    cohorts: list[tuple[str, Change]] = field(default_factory=list)

    def count(self, change: Change) -> int:
        """How many programmes and cohorts had this outcome."""
        return [self.programme[1], *(c for _code, c in self.cohorts)].count(change)


async def _rules(session: AsyncSession, spec: ProgrammeSpec) -> dict[str, Any]:
    """The programme's rules after this file: its ``attendance`` section replaces the old one."""
    existing = await reg_db.get_programme_by_code(session, spec.code)
    rules = dict(existing.rules or {}) if existing is not None else {}
    if spec.attendance is None:
        rules.pop("attendance", None)
    else:
        rules["attendance"] = spec.attendance.stored()
    if spec.completion is None:
        rules.pop("completion", None)
    else:
        rules["completion"] = spec.completion.stored()
    return rules


async def _check_required_sessions(session: AsyncSession, spec: ProgrammeSpec) -> None:
    """Refuse required sessions that match none of the programme's sessions, once it has some.

    Before the timetable is imported there is nothing to match; the completion report then
    shows a name that matches no session as a problem.
    """
    if spec.completion is None or not spec.completion.required_sessions:
        return
    programme = await reg_db.get_programme_by_code(session, spec.code)
    if programme is None or programme.id is None:
        return
    rows = await completion_db.sessions_of_programme(session, programme.id)
    if not rows:
        return
    missing = unmatched_sessions(spec.completion.required_sessions, rows)
    if missing:
        raise ProgrammeFileError(
            [
                "completion.required_sessions: "
                + ", ".join(repr(name) for name in missing)
                + " match no session of the programme's timetable (use a session's key or title)"
            ]
        )


def _apply(target: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


async def import_programme(
    session: AsyncSession, spec: ProgrammeSpec, now: datetime
) -> ProgrammeImport:
    """Create or update the programme and its cohorts, and commit.

    A cohort code already used by another programme is refused (cohort codes are global,
    because they are what trainees type or follow in a link).
    """
    for position, cohort_spec in enumerate(spec.cohorts):
        existing = await reg_db.get_cohort_by_code(session, cohort_spec.code)
        if existing is not None:
            owner = await reg_db.get_programme(session, existing.programme_id)
            if owner is not None and owner.code != spec.code:
                raise ProgrammeFileError(
                    [
                        f"cohorts[{position}].code: {cohort_spec.code!r} already belongs to "
                        f"programme {owner.code!r}"
                    ]
                )
    await _check_required_sessions(session, spec)
    values: dict[str, Any] = {
        "titles": dict(spec.titles),
        "home_timezone": spec.home_timezone,
        "default_locale": spec.default_language,
        "starts_on": spec.starts_on,
        "ends_on": spec.ends_on,
    }
    values["rules"] = await _rules(session, spec)
    programme = await reg_db.get_programme_by_code(session, spec.code)
    if programme is None:
        programme = Programme(code=spec.code, created_at=now, updated_at=now, **values)
        session.add(programme)
        await session.flush()
        outcome = ProgrammeImport((spec.code, Change.CREATED))
    elif _apply(programme, values):
        programme.updated_at = now
        outcome = ProgrammeImport((spec.code, Change.UPDATED))
    else:
        outcome = ProgrammeImport((spec.code, Change.UNCHANGED))
    if programme.id is None:
        raise RuntimeError("the programme has no id after flush")
    for cohort_spec in spec.cohorts:
        cohort_values: dict[str, Any] = {
            "name": cohort_spec.name,
            "starts_on": cohort_spec.starts_on,
            "ends_on": cohort_spec.ends_on,
            "capacity": cohort_spec.capacity,
            "registration_mode": cohort_spec.registration,
            "reminder_offsets": list(cohort_spec.reminders),
        }
        cohort = await reg_db.get_cohort_by_code(session, cohort_spec.code)
        if cohort is None:
            session.add(
                Cohort(
                    programme_id=programme.id,
                    code=cohort_spec.code,
                    created_at=now,
                    updated_at=now,
                    **cohort_values,
                )
            )
            outcome.cohorts.append((cohort_spec.code, Change.CREATED))
        else:
            offsets_before = list(cohort.reminder_offsets or [])
            if not _apply(cohort, cohort_values):
                outcome.cohorts.append((cohort_spec.code, Change.UNCHANGED))
                continue
            cohort.updated_at = now
            outcome.cohorts.append((cohort_spec.code, Change.UPDATED))
            if offsets_before != cohort_values["reminder_offsets"] and cohort.id is not None:
                # Reminders already queued under the old offsets go; the planner's next run
                # queues the new ones.
                await timetable_db.drop_cohort_pending_reminders(session, cohort.id)
    await session.commit()
    return outcome


@dataclass(frozen=True, slots=True)
class CohortSummary:
    """A cohort with its figures, for listings."""

    id: int
    code: str
    name: str
    programme_id: int
    programme_code: str
    registration_mode: str
    capacity: int | None
    starts_on: date | None
    ends_on: date | None
    group_linked: bool
    registered: int
    invited: int
    pending: int
    waiting: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class ProgrammeSummary:
    """A programme with its cohorts."""

    id: int
    code: str
    titles: dict[str, str]
    home_timezone: str
    default_locale: str
    starts_on: date | None
    ends_on: date | None
    cohorts: list[CohortSummary]

    def title(self, locale: str) -> str:
        """The title in ``locale``, else the default language, else English, else the code."""
        for language in (locale, self.default_locale, "en"):
            if self.titles.get(language):
                return self.titles[language]
        return next(iter(self.titles.values()), self.code)


async def summarise(
    session: AsyncSession, programme_ids: set[int] | None = None
) -> list[ProgrammeSummary]:
    """Programmes and cohorts with their counts; only ``programme_ids`` when not None."""
    programmes = await reg_db.list_programmes(session, programme_ids)
    cohorts = await reg_db.list_cohorts(session, [p.id for p in programmes if p.id is not None])
    counts = await reg_db.cohort_counts(session, [c.id for c in cohorts if c.id is not None])
    codes = {p.id: p.code for p in programmes}
    by_programme: dict[int, list[CohortSummary]] = {}
    for cohort in cohorts:
        if cohort.id is None:
            continue
        figures = counts.get(cohort.id, {})
        by_programme.setdefault(cohort.programme_id, []).append(
            CohortSummary(
                id=cohort.id,
                code=cohort.code,
                name=cohort.name,
                programme_id=cohort.programme_id,
                programme_code=codes.get(cohort.programme_id, ""),
                registration_mode=cohort.registration_mode,
                capacity=cohort.capacity,
                starts_on=cohort.starts_on,
                ends_on=cohort.ends_on,
                group_linked=cohort.group_chat_id is not None,
                registered=figures.get(reg_db.ACTIVE, 0),
                invited=figures.get("invited", 0),
                pending=figures.get(reg_db.PENDING, 0),
                waiting=figures.get(reg_db.WAITING, 0),
                withdrawn=figures.get(reg_db.WITHDRAWN, 0),
            )
        )
    return [
        ProgrammeSummary(
            id=p.id,
            code=p.code,
            titles=dict(p.titles),
            home_timezone=p.home_timezone,
            default_locale=p.default_locale,
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            cohorts=by_programme.get(p.id, []),
        )
        for p in programmes
        if p.id is not None
    ]


def is_code(text: str) -> bool:
    """Whether ``text`` could be a programme or cohort code."""
    return bool(_CODE_RE.match(text))
