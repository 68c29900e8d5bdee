"""An organiser sends a quiz file to the real bot: a preview, Confirm stores the quizzes; a file
with problems is refused with the problems named and changes nothing. The workbook goes the same
way, while a feedback workbook and a roster still go where they went."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.db import quizzes as quiz_db
from bot.db import registration as reg_db
from bot.services.feedback.files import parse_forms
from bot.services.feedback.sheets import workbook_bytes
from sandbox import Sandbox, SandboxUser
from tests.feedback.support import FEEDBACK_YAML, PROGRAMME, make_programme
from tests.support.e2e import RunningBot

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "quiz.yaml"


async def _keys(bot: RunningBot) -> list[str]:
    async with bot.session_factory() as session:
        programme = await reg_db.get_programme_by_code(session, PROGRAMME)
        assert programme is not None
        return [q.key for q in await quiz_db.quizzes_of_programme(session, programme.id or 0)]


async def test_organiser_previews_and_confirms_a_quiz_file(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
    bad = EXAMPLE.read_bytes().replace(b"        correct: 3\n", b"        correct: 9\n")
    await sandbox.send_document(admin, "quiz.yaml", bad)
    refused = await sandbox.next_bot_message(admin.id)
    assert "was not imported; nothing changed" in refused.content
    assert "quiz digital-economy, question 1, correct: option 9 does not exist" in refused.content
    assert await _keys(running_bot) == []

    await sandbox.send_document(admin, "quiz.yaml", EXAMPLE.read_bytes())
    preview = await sandbox.next_bot_message(admin.id)
    assert "Quizzes of DIGITRADE-2027: confirm to import." in preview.content
    assert "New: 2 (digital-economy, single-window)" in preview.content
    assert await _keys(running_bot) == []
    await sandbox.press_button(admin, preview.message_id, preview.buttons[0][0].callback_data or "")
    await sandbox.settle()
    [done] = [m for m in sandbox.bot_messages(admin.id) if m.message_id == preview.message_id]
    assert "Quizzes of DIGITRADE-2027 imported." in done.content
    assert await _keys(running_bot) == ["digital-economy", "single-window"]


def _with_long_question() -> bytes:
    book = load_workbook(EXAMPLES / "quiz.xlsx")
    book["questions"]["D2"] = "x" * 301
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_the_workbook_is_previewed_and_confirmed_like_the_yaml(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
    await sandbox.send_document(admin, "quiz.xlsx", _with_long_question())
    refused = await sandbox.next_bot_message(admin.id)
    assert "The file quiz.xlsx was not imported; nothing changed." in refused.content
    assert (
        "Sheet “questions”, row 2, column “text” (quiz digital-economy, question 1): "
        "301 characters, at most 300"
    ) in refused.content
    assert await _keys(running_bot) == []

    await sandbox.send_document(admin, "quiz.xlsx", (EXAMPLES / "quiz.xlsx").read_bytes())
    preview = await sandbox.next_bot_message(admin.id)
    assert "Quizzes of DIGITRADE-2027: confirm to import." in preview.content
    assert "New: 2 (digital-economy, single-window)" in preview.content
    assert await _keys(running_bot) == []
    await sandbox.press_button(admin, preview.message_id, preview.buttons[0][0].callback_data or "")
    await sandbox.settle()
    [done] = [m for m in sandbox.bot_messages(admin.id) if m.message_id == preview.message_id]
    assert "Quizzes of DIGITRADE-2027 imported." in done.content
    assert await _keys(running_bot) == ["digital-economy", "single-window"]


async def test_a_feedback_workbook_and_a_roster_are_not_quizzes(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
    forms = workbook_bytes(parse_forms(FEEDBACK_YAML.read_bytes()).forms)
    await sandbox.send_document(admin, "forms.xlsx", forms)
    preview = await sandbox.next_bot_message(admin.id)
    assert "Feedback forms for DIGITRADE-2027, ready to import:" in preview.content
    await sandbox.send_document(admin, "roster.xlsx", (EXAMPLES / "roster.xlsx").read_bytes())
    answer = await sandbox.next_bot_message(admin.id)
    # The roster flow's answer (the programme has no cohort to take the trainees yet).
    assert "You organise no cohort yet, so there is nothing to import into." in answer.content
    assert await _keys(running_bot) == []
