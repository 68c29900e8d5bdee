"""An organiser sends a quiz file to the real bot: a preview, Confirm stores the quizzes; a file
with problems is refused with the problems named and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db import quizzes as quiz_db
from bot.db import registration as reg_db
from sandbox import Sandbox, SandboxUser
from tests.feedback.support import PROGRAMME, make_programme
from tests.support.e2e import RunningBot

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quiz.yaml"


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
