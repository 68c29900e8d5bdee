"""Quiz files on a real database: the example imports, again changes nothing, a bad file is
refused whole with errors naming the quiz, the question and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.db import quizzes as quiz_db
from bot.services.quizzes.files import parse_quizzes
from bot.services.quizzes.library import import_quizzes, question_in
from tests.feedback.support import PROGRAMME, make_programme

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quiz.yaml"

GOOD = """
quizzes:
  - key: fine
    titles: {en: Fine}
    at_end: true
    questions:
      - text: {en: "Fine?"}
        options: {en: ["a", "b"]}
        correct: 1
  - key: q1
    titles: {en: One}
    at_end: true
    questions:
      - text: {en: "Two plus two?"}
        options: {en: ["3", "4"], zh: ["三", "四"]}
        correct: 2
"""


def _with(old: str, new: str) -> bytes:
    assert old in GOOD
    return GOOD.replace(old, new).encode()


async def test_the_example_imports_and_again_changes_nothing(
    session: AsyncSession, clock: ManualClock
) -> None:
    programme_id = await make_programme(session)
    first = await import_quizzes(session, EXAMPLE.read_bytes(), PROGRAMME, clock.now())
    assert first.ok, first.errors
    assert first.created == ["digital-economy", "single-window"]
    again = await import_quizzes(session, EXAMPLE.read_bytes(), None, clock.now())
    assert again.unchanged == ["digital-economy", "single-window"]
    assert again.created == again.updated == []
    stored = await quiz_db.quizzes_of_programme(session, programme_id)
    assert [quiz.key for quiz in stored] == ["digital-economy", "single-window"]
    question = stored[0].questions[1]
    assert question["correct"] == 0  # stored 0-based; the file says 1
    assert question["points"] == 2
    # The Russian explanation is missing: English stands in for it, the rest stays Russian.
    russian = question_in(question, "ru", "en")
    assert russian["q"].startswith("Что в основном")
    assert russian["explanation"].startswith("It covers infrastructure")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (_with("        correct: 2\n", ""), "quiz q1, question 1, correct: missing"),
        (_with("correct: 2", "correct: 3"), "quiz q1, question 1, correct: option 3 does not"),
        (_with('zh: ["三", "四"]', 'zh: ["三"]'), "quiz q1, question 1, options: the languages"),
        (_with('"Two plus two?"', '"' + "x" * 301 + '"'), "text.en: 301 characters, at most 300"),
        (_with('["3", "4"]', '["3", "' + "y" * 101 + '"]'), "options.en[2]: an option has 1"),
        (
            _with(
                "        correct: 2\n",
                "        correct: 2\n        explanation: " + "z" * 201 + "\n",
            ),
            "explanation.en: 201 characters, at most 200",
        ),
        (
            _with('["3", "4"]', str([str(i) for i in range(13)])),
            "13 options, a quiz poll has 2 to 12",
        ),
        (_with("at_end: true", "open_hours: 5"), "after_session: give either"),
        (b"quizzes: [oops", "not valid YAML"),
    ],
)
async def test_a_bad_file_is_refused_whole(
    session: AsyncSession, clock: ManualClock, data: bytes, error: str
) -> None:
    programme_id = await make_programme(session)
    result = await import_quizzes(session, data, PROGRAMME, clock.now())
    assert not result.ok
    assert any(error in problem for problem in result.errors), result.errors
    assert await quiz_db.quizzes_of_programme(session, programme_id) == []


async def test_an_unknown_programme_is_explained(session: AsyncSession, clock: ManualClock) -> None:
    result = await import_quizzes(session, GOOD.encode(), "NOPE", clock.now())
    assert result.errors == ["No programme has the code NOPE."]


def test_every_problem_is_listed() -> None:
    parsed = parse_quizzes(_with("correct: 2", "correct: 0").replace(b"One", b""))
    assert "quiz q1, titles: missing" in parsed.errors
    assert any(problem.startswith("quiz q1, question 1, correct:") for problem in parsed.errors)
