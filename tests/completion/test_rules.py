"""The completion rule as a programme file writes it, and each part's pure logic."""

from __future__ import annotations

import pytest

from bot.db.models import Programme
from bot.services import programmes
from bot.services.completion.rules import rules_of
from bot.services.completion.standings import (
    attendance_part,
    forms_part,
    quiz_part,
    session_part,
    verdict,
)
from tests.timetable.support import EXAMPLES

FILE = """
code: P1
titles: {en: Programme}
attendance:
  min_share: 0.7
completion:
  forms: all
  min_quiz_score: 0.6
  required_sessions: [opening, "Closing ceremony"]
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(programmes.ProgrammeFileError) as refused:
        programmes.parse_programme(text)
    return refused.value.problems


def test_the_file_section_and_its_defaults() -> None:
    spec = programmes.parse_programme(FILE)
    assert spec.completion is not None
    programme = Programme(
        code="P1",
        titles={"en": "P"},
        rules={"attendance": spec.attendance.stored() if spec.attendance else {}}
        | {"completion": spec.completion.stored()},
    )
    rules = rules_of(programme)
    # The attendance share comes from the attendance section when completion leaves it out.
    assert rules.min_attendance == 0.7
    assert rules.forms == 1.0
    assert rules.min_quiz_score == 0.6
    assert rules.required_sessions == ("opening", "Closing ceremony")
    # No section at all: attendance alone, at the default 80%.
    bare = rules_of(Programme(code="P2", titles={"en": "P"}))
    assert (bare.min_attendance, bare.forms, bare.min_quiz_score) == (0.8, None, None)
    assert bare.required_sessions == ()
    # The sample file documents the section and parses.
    sample = programmes.parse_programme((EXAMPLES / "programme.yaml").read_text())
    assert sample.completion is not None


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("min_attendance: 1.2", "completion.min_attendance"),
        ("forms: most", "completion.forms"),
        ("forms: 2", "completion.forms"),
        ("min_quiz_score: -0.1", "completion.min_quiz_score"),
        ("required_sessions: opening", "completion.required_sessions"),
        ('required_sessions: [""]', "completion.required_sessions"),
        ("certificates: yes", "completion.certificates"),
    ],
)
def test_bad_values_name_the_field(line: str, field: str) -> None:
    problems = _problems(f"code: P1\ntitles: {{en: P}}\ncompletion:\n  {line}\n")
    assert any(problem.startswith(field + ":") for problem in problems), problems


def test_attendance_part() -> None:
    # 3 of 4 held, 6 in all: 75% so far against 80%, and 5 of 6 still reachable.
    part = attendance_part(0.8, attended=3, held=4, total=6)
    assert (part.actual, part.met, part.still_possible, part.behind) == (0.75, False, True, True)
    # 8 of 10 is exactly 80%.
    assert attendance_part(0.8, 8, 10, 10).met
    # Nothing held yet: nothing to count, not met, still possible, not behind.
    early = attendance_part(0.8, 0, 0, 5)
    assert (early.actual, early.met, early.still_possible, early.behind) == (
        None,
        False,
        True,
        False,
    )
    # Out of reach: 1 of 3 held, 2 left of 5.
    assert not attendance_part(0.8, 1, 3, 5).still_possible


def test_forms_part() -> None:
    assert forms_part(1.0, sent=3, answered=3, still_open=0, ended=False).met
    late = forms_part(1.0, sent=3, answered=2, still_open=1, ended=False)
    assert (late.met, late.still_possible, late.behind) == (False, True, True)
    # Nothing reached the trainee: nothing asked of them.
    none = forms_part(0.5, sent=0, answered=0, still_open=0, ended=True)
    assert (none.actual, none.met) == (None, True)
    assert not forms_part(1.0, 2, 1, 0, ended=True).still_possible


def test_quiz_part_from_figures() -> None:
    assert quiz_part(0.6, 0.75, ended=False).met
    below = quiz_part(0.6, 0.5, ended=False)
    assert (below.met, below.still_possible, below.behind) == (False, True, True)
    # No score yet: not met, nothing to count, not behind while the cohort runs.
    nothing = quiz_part(0.6, None, ended=False)
    assert (nothing.actual, nothing.met, nothing.behind) == (None, False, False)
    assert not quiz_part(0.6, None, ended=True).still_possible


def test_sessions_and_the_verdict() -> None:
    attended = session_part("opening", held=True, attended=True, upcoming=False)
    missed = session_part("closing", held=True, attended=False, upcoming=False)
    coming = session_part("closing", held=False, attended=False, upcoming=True)
    assert (attended.met, attended.actual) == (True, 1.0)
    assert (missed.met, missed.still_possible, missed.behind) == (False, False, True)
    assert (coming.actual, coming.behind) == (None, False)
    running = verdict(1, 1, "A", (attended, coming), None, ended=False)
    assert (running.completed, running.at_risk) == (False, False)
    risky = verdict(1, 1, "A", (attended, missed), None, ended=False)
    assert (risky.completed, risky.at_risk) == (False, True)
    excused = verdict(1, 1, "A", (attended, missed), "Illness", ended=True)
    assert (excused.completed, excused.at_risk, excused.exception) == (True, False, "Illness")
    assert not verdict(1, 1, "A", (missed,), None, ended=True).at_risk
