"""An organiser sends a forms file to the real bot (polling the sandbox): a preview, then
Confirm stores the forms. A trainee's file is no import, and the FAQ's file is still an FAQ."""

from __future__ import annotations

import pytest

from bot.db import feedback as feedback_db
from bot.db import registration as reg_db
from bot.services.feedback.files import parse_forms
from bot.services.feedback.sheets import workbook_bytes
from handlers.uploads import ConfirmUpload
from sandbox import Sandbox, SandboxUser, TranscriptEntry
from tests.faq.import_support import FAQ_YAML
from tests.feedback.support import FEEDBACK_YAML, PROGRAMME, make_programme, sample_text
from tests.support.e2e import RunningBot
from tests.timetable.support import add_trainee, make_cohort

pytestmark = pytest.mark.e2e


def _edited(sandbox: Sandbox, chat_id: int, message_id: int) -> TranscriptEntry:
    [found] = [m for m in sandbox.bot_messages(chat_id) if m.message_id == message_id]
    return found


async def _forms(bot: RunningBot, code: str = PROGRAMME) -> list[str]:
    """The ids of the programme's stored forms, in order."""
    async with bot.session_factory() as session:
        programme = await reg_db.get_programme_by_code(session, code)
        assert programme is not None
        assert programme.id is not None
        return [form.key for form in await feedback_db.forms_of_programme(session, programme.id)]


async def test_organiser_previews_and_confirms_the_forms(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
        await make_programme(session, "OTHER-2027")
    # No caption: of the two programmes, the one the file names.
    await sandbox.send_document(admin, "feedback.yaml", FEEDBACK_YAML.read_bytes())
    preview = await sandbox.next_bot_message(admin.id)
    assert "Feedback forms for DIGITRADE-2027, ready to import:" in preview.content
    assert "New: 2" in preview.content
    assert "after-lecture (new): after every session of kind lecture" in preview.content
    assert "end-of-programme (new, anonymous)" in preview.content
    assert "en, zh, ru, fr, es, ar" in preview.content
    labels = [button.text for row in preview.buttons for button in row]
    assert labels == ["✅ Confirm", "✖ Cancel"]
    data = [button.callback_data or "" for row in preview.buttons for button in row]
    assert all(len(item.encode()) <= 64 for item in data)
    assert ConfirmUpload.unpack(data[0]).apply is True
    assert await _forms(running_bot) == []

    await sandbox.press_button(admin, preview.message_id, data[0])
    await sandbox.settle()
    done = _edited(sandbox, admin.id, preview.message_id)
    assert "Feedback forms of DIGITRADE-2027 imported." in done.content
    assert await _forms(running_bot) == ["after-lecture", "end-of-programme"]
    assert await _forms(running_bot, "OTHER-2027") == []

    # The same file again: nothing new; Cancel keeps everything as it is.
    await sandbox.send_document(admin, "feedback.yaml", FEEDBACK_YAML.read_bytes())
    again = await sandbox.next_bot_message(admin.id)
    assert "Unchanged: 2" in again.content
    await sandbox.press_button(admin, again.message_id, again.buttons[0][1].callback_data or "")
    await sandbox.settle()
    assert "Import cancelled" in _edited(sandbox, admin.id, again.message_id).content
    # The old buttons no longer do anything.
    query = await sandbox.press_button(admin, preview.message_id, data[0])
    await sandbox.settle()
    assert sandbox.callback_answers[query]["text"] == "This button is no longer active."


async def test_a_bad_file_is_explained_and_the_caption_names_the_programme(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
        await make_programme(session, "OTHER-2027")
    bad = sample_text().replace("        kind: nps", "        kind: stars", 1)
    await sandbox.send_document(admin, "feedback.yaml", bad.encode(), caption=PROGRAMME)
    answer = await sandbox.next_bot_message(admin.id)
    assert "was not imported; nothing changed" in answer.content
    assert "• Line 39, form “after-lecture”, question “recommend”: unknown question kind" in (
        answer.content
    )
    assert answer.buttons == []

    # A file without a programme line and no caption: the bot asks which programme.
    text = sample_text().replace("programme: DIGITRADE-2027\n", "")
    await sandbox.send_document(admin, "feedback.yaml", text.encode())
    ask = await sandbox.next_bot_message(admin.id)
    assert "Which programme are these feedback forms for?" in ask.content
    await sandbox.send_document(admin, "feedback.yaml", text.encode(), caption="OTHER-2027")
    preview = await sandbox.next_bot_message(admin.id)
    assert "Feedback forms for OTHER-2027, ready to import:" in preview.content


async def test_the_workbook_is_a_forms_file_too(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
    workbook = workbook_bytes(parse_forms(FEEDBACK_YAML.read_bytes()).forms)
    await sandbox.send_document(admin, "forms.xlsx", workbook)
    preview = await sandbox.next_bot_message(admin.id)
    assert "Feedback forms for DIGITRADE-2027, ready to import:" in preview.content
    await sandbox.press_button(admin, preview.message_id, preview.buttons[0][0].callback_data or "")
    await sandbox.settle()
    assert await _forms(running_bot) == ["after-lecture", "end-of-programme"]


async def test_a_trainees_file_is_no_import_and_the_faq_file_is_still_an_faq(
    running_bot: RunningBot, sandbox: Sandbox, admin: SandboxUser, trainee: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_programme(session)
        cohort = await make_cohort(session, "DT27-A", programme_code=PROGRAMME)
        await add_trainee(session, trainee.id, cohort, locale="en", first_name="Amina")
    await sandbox.send_document(trainee, "feedback.yaml", FEEDBACK_YAML.read_bytes())
    await sandbox.settle()
    assert not any("ready to import" in m.content for m in sandbox.bot_messages(trainee.id))
    assert await _forms(running_bot) == []

    await sandbox.send_document(admin, "faq.yaml", FAQ_YAML.read_bytes())
    preview = await sandbox.next_bot_message(admin.id)
    assert "FAQ for DIGITRADE-2027, ready to import:" in preview.content
    assert ConfirmUpload.unpack(preview.buttons[0][0].callback_data or "").kind == "faq"
    # Looked at as a forms file first, then as an FAQ: fetched from Telegram once (and the
    # trainee's file never, since only organisers' files are read).
    fetched = [r for r in sandbox.requests if r.method == "getFile"]
    assert len(fetched) == 1
