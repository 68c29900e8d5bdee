"""A programme's completion rule: the ``completion:`` section of its file, with defaults.

Every part is optional: a share of held sessions attended (default: the attendance
section's ``min_share``), feedback forms answered (a share of those that reached the trainee,
or ``all``), a mean quiz score (0..1), and sessions that must be attended, named by the
timetable's session key or a title. Stored as plain data in ``Programme.rules["completion"]``
and read back through :func:`rules_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.db.models import Programme, TrainingSession
from bot.services.attendance.rules import rules_of as attendance_rules_of


class CompletionSpec(BaseModel):
    """The ``completion:`` section of a programme file."""

    model_config = ConfigDict(extra="forbid")

    #: Share of held sessions attended; None: the attendance section's ``min_share``.
    min_attendance: float | None = Field(default=None, ge=0, le=1)
    #: Share of the forms that reached the trainee that they answered, or ``all``.
    forms: float | Literal["all"] | None = None
    #: Mean share of points over the cohort's quizzes.
    min_quiz_score: float | None = Field(default=None, ge=0, le=1)
    #: Sessions that must be attended: a session's key or title.
    required_sessions: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("forms", mode="before")
    @classmethod
    def _forms(cls, value: Any) -> Any:
        if value is None or value == "all":
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError('must be a share between 0 and 1 (0.8 = 80%) or "all"')
        if not 0 <= value <= 1:
            raise ValueError('must be a share between 0 and 1 (0.8 = 80%) or "all"')
        return float(value)

    @field_validator("required_sessions", mode="before")
    @classmethod
    def _sessions(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError("must be a list of session keys or titles")
        out: list[str] = []
        for item in value:
            name = str(item).strip() if isinstance(item, str | int) else ""
            if not name:
                raise ValueError("each entry must be a session key or title (not empty)")
            if name not in out:
                out.append(name)
        return out

    def stored(self) -> dict[str, Any]:
        """What goes into ``Programme.rules["completion"]``."""
        return self.model_dump()


@dataclass(frozen=True, slots=True)
class CompletionRules:
    """A programme's completion rule, defaults filled in."""

    min_attendance: float
    #: None: forms do not count; 1.0 for ``all``.
    forms: float | None = None
    min_quiz_score: float | None = None
    required_sessions: tuple[str, ...] = ()


def rules_of(programme: Programme | None) -> CompletionRules:
    """The programme's completion rule; the attendance share alone when it sets none."""
    attendance = attendance_rules_of(programme).min_share
    stored = (programme.rules or {}).get("completion") if programme is not None else None
    if not isinstance(stored, dict):
        return CompletionRules(min_attendance=attendance)
    try:
        spec = CompletionSpec.model_validate(stored)
    except ValueError:
        return CompletionRules(min_attendance=attendance)
    return CompletionRules(
        min_attendance=attendance if spec.min_attendance is None else spec.min_attendance,
        forms=1.0 if spec.forms == "all" else spec.forms,
        min_quiz_score=spec.min_quiz_score,
        required_sessions=tuple(spec.required_sessions),
    )


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def session_matches(name: str, row: TrainingSession) -> bool:
    """Whether ``name`` is this session's key or one of its titles (case and spacing aside)."""
    wanted = _norm(name)
    return wanted == _norm(row.key) or any(wanted == _norm(t) for t in row.titles.values())


def unmatched_sessions(
    names: tuple[str, ...] | list[str], rows: list[TrainingSession]
) -> list[str]:
    """The required names that match none of ``rows``."""
    return [name for name in names if not any(session_matches(name, row) for row in rows)]
