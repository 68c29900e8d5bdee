"""Standings on a real database: every part, who is left out, the order, the query count, and
required sessions checked at import or shown as a problem."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Programme
from bot.services import programmes
from bot.services.completion import report
from bot.services.completion.standings import cohort_completion, cohort_standings
from tests.completion.support import (
    ALL_MET,
    BEHIND,
    EXCUSED,
    FORMS_LATE,
    NOW,
    story,
)


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


def _parts(standing: object) -> dict[str, tuple[float | None, bool, bool]]:
    return {p.name: (p.actual, p.met, p.still_possible) for p in standing.parts}  # type: ignore[attr-defined]


async def test_each_trainees_parts_and_verdict(session: AsyncSession, engine: AsyncEngine) -> None:
    setup = await story(session)
    assert setup.cohort.id is not None
    with counted(engine) as statements:
        standings = await cohort_standings(session, setup.cohort.id, NOW)
    # A handful of queries for the whole cohort, never one per trainee.
    assert len(statements) <= 8, statements
    by_user = {s.user_id: s for s in standings}
    # The withdrawn trainee and the trainer are not listed.
    assert set(by_user) == {ALL_MET, BEHIND, FORMS_LATE, EXCUSED}
    assert by_user[ALL_MET].name == setup.names[ALL_MET]
    assert by_user[ALL_MET].enrolment_id > 0

    assert _parts(by_user[ALL_MET]) == {
        "attendance": (1.0, True, True),
        "forms": (1.0, True, True),
        "session:Lecture s2": (1.0, True, True),
    }
    assert (by_user[ALL_MET].completed, by_user[ALL_MET].at_risk) == (True, False)
    # 2 of 4, and at most 3 of 5: out of reach; the required lecture missed.
    assert _parts(by_user[BEHIND]) == {
        "attendance": (0.5, False, False),
        "forms": (0.5, True, True),
        "session:Lecture s2": (0.0, False, False),
    }
    assert (by_user[BEHIND].completed, by_user[BEHIND].at_risk) == (False, True)
    # 3 of 4 is the rule's 75%; no form answered, one still open.
    assert _parts(by_user[FORMS_LATE])["forms"] == (0.0, False, True)
    assert by_user[FORMS_LATE].at_risk
    # Nothing attended, but the coordinator's exception stands.
    excused = by_user[EXCUSED]
    assert (excused.completed, excused.at_risk) == (True, False)
    assert excused.exception == "Medical leave; followed the recordings"
    assert _parts(excused)["attendance"] == (0.0, False, False)

    # At risk first (by name), then the completed.
    order = [s.user_id for s in report.ordered(standings)]
    assert order[:2] == sorted([BEHIND, FORMS_LATE], key=lambda u: setup.names[u])
    assert set(order[2:]) == {ALL_MET, EXCUSED}


async def test_after_the_end_nobody_is_at_risk(session: AsyncSession) -> None:
    setup = await story(session)
    assert setup.cohort.id is not None
    later = NOW + timedelta(days=30)
    table = await cohort_completion(
        session,
        setup.cohort,
        await session.get(Programme, setup.cohort.programme_id),  # type: ignore[arg-type]
        later,
    )
    assert table.ended
    by_user = {s.user_id: s for s in table.standings}
    assert not any(s.at_risk for s in table.standings)
    assert not by_user[BEHIND].completed
    # The fifth lecture came and went unattended: 4 of 5 is still above 75%; 3 of 5 is not.
    assert _parts(by_user[ALL_MET])["attendance"] == (0.8, True, True)
    assert by_user[ALL_MET].completed
    assert not by_user[FORMS_LATE].completed
    lines = report.table_lines(table, html=False)
    assert "The cohort has ended." in lines
    assert any(
        line.startswith(f"• {setup.names[FORMS_LATE]} — not completed:") for line in lines
    ), lines
    assert any(
        line.startswith(f"• {setup.names[EXCUSED]} — completed (exception):")
        and line.endswith("(Medical leave; followed the recordings)")
        for line in lines
    ), lines


async def test_required_sessions_that_match_nothing(session: AsyncSession) -> None:
    setup = await story(session, rule={"required_sessions": ["Lecture s9", "s1"]})
    programme = await session.get(Programme, setup.cohort.programme_id)
    assert programme is not None
    table = await cohort_completion(session, setup.cohort, programme, NOW)
    # Imported before the timetable: the report shows the name as a problem.
    assert table.unmatched == ["Lecture s9"]
    assert report.problems(table) == [
        "Required session 'Lecture s9' matches no session of the cohort's timetable."
    ]
    assert report.to_json(table)["problems"] == report.problems(table)
    # With the timetable in, the file naming it is refused and changes nothing.
    text = (
        "code: DIGITRADE-2027\ntitles: {en: Seminar}\n"
        "completion:\n  required_sessions: [Lecture s2, Lecture s9]\n"
    )
    with pytest.raises(programmes.ProgrammeFileError) as refused:
        await programmes.import_programme(session, programmes.parse_programme(text), NOW)
    assert refused.value.problems == [
        "completion.required_sessions: 'Lecture s9' match no session of the programme's "
        "timetable (use a session's key or title)"
    ]
    await session.refresh(programme)
    assert programme.rules["completion"]["required_sessions"] == ["Lecture s9", "s1"]
    fixed = text.replace(", Lecture s9", "")
    await programmes.import_programme(session, programmes.parse_programme(fixed), NOW)
    await session.refresh(programme)
    assert programme.rules["completion"]["required_sessions"] == ["Lecture s2"]


async def test_a_quiz_score_asked_for_but_none_yet(session: AsyncSession) -> None:
    setup = await story(session, rule={"min_quiz_score": 0.6})
    assert setup.cohort.id is not None
    standings = await cohort_standings(session, setup.cohort.id, NOW)
    for standing in standings:
        quiz = {p.name: p for p in standing.parts}["quizzes"]
        assert (quiz.actual, quiz.met, quiz.still_possible) == (None, False, True)
    assert await cohort_standings(session, 99999, NOW) == []
