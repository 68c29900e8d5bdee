"""The staff inbox around the question: the /faq menu, linking refused to outsiders, admins'
private chats without a staff group, Claim and Close, raising a question again, and a
trainee's questions erased with /forgetme. The real bot against the sandbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from bot.db import outbox as outbox_db
from bot.db.faq import FaqAsk, FaqEntry, StaffQuestion
from bot.scheduling import jobs
from sandbox import Sandbox, SandboxChat, SandboxUser
from tests.faq.e2e_support import ask, button, delivered, link_staff, setup
from tests.faq.import_support import FAQ_YAML
from tests.support.e2e import RunningBot
from tests.timetable.support import make_cohort

PROGRAMME = "DIGITRADE-2027"
STAFF = SandboxChat(id=-1003000000002, type="supergroup", title="Team")
OFF_TOPIC = "who won the football match yesterday"


async def test_the_faq_menu_goes_from_topics_to_questions_to_an_answer(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    trainee = SandboxUser(id=7201, first_name="Wei", language_code="zh")
    await setup(running_bot, clock, (trainee, "zh"))
    menu = await ask(sandbox, trainee, "/faq")
    labels = [row[0].text for row in menu.buttons]
    assert len(labels) == 6  # the sample's six categories, each once
    await sandbox.press_button(trainee, menu.message_id, menu.buttons[0][0].callback_data or "")
    await sandbox.settle()
    [questions] = [e for e in sandbox.transcript(trainee.id) if e.message_id == menu.message_id]
    assert any("ClassIn" in row[0].text for row in questions.buttons)
    await sandbox.press_button(trainee, menu.message_id, button(questions, "ClassIn"))
    answer = await sandbox.next_bot_message(trainee.id)
    assert "安装ClassIn" in answer.content


async def test_only_a_programme_admin_links_the_staff_group(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    trainee = SandboxUser(id=7202, first_name="Ana", language_code="en")
    await setup(running_bot, clock, (trainee, "en"))
    await sandbox.create_forum(admin, STAFF)
    await sandbox.join_chat(trainee, STAFF)
    await sandbox.settle()
    sandbox.unread_bot_messages(STAFF.id)
    await sandbox.send_text(trainee, f"/link_staff {PROGRAMME}", chat=STAFF)
    refused = await sandbox.next_bot_message(STAFF.id)
    assert "Only a programme admin" in refused.content
    await sandbox.send_text(admin, "/link_staff NOPE", chat=STAFF)
    unknown = await sandbox.next_bot_message(STAFF.id)
    assert "There is no programme NOPE" in unknown.content


async def test_without_a_staff_group_the_admins_answer_by_replying(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    trainee = SandboxUser(id=7203, first_name="Amina", language_code="en")
    await setup(running_bot, clock, (trainee, "en"))
    await ask(sandbox, trainee, OFF_TOPIC)
    copy = await sandbox.next_bot_message(admin.id)
    assert "Question from Amina" in copy.content
    assert OFF_TOPIC in copy.content
    await sandbox.send_text(admin, "Nobody we know.")  # not a reply: not passed on
    await sandbox.settle()
    assert sandbox.unread_bot_messages(trainee.id) == []
    await sandbox.send_text(admin, "Argentina won, 2 to 1.", reply_to_message_id=copy.message_id)
    answer = await sandbox.next_bot_message(trainee.id)
    assert "Argentina won, 2 to 1." in answer.content


async def test_a_reply_before_the_copy_is_on_record_still_reaches_the_trainee(
    running_bot: RunningBot,
    sandbox: Sandbox,
    clock: ManualClock,
    admin: SandboxUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trainee = SandboxUser(id=7210, first_name="Amina", language_code="en")
    await setup(running_bot, clock, (trainee, "en"))

    # The sender writes what it sent down in batches: a quick reply can come before the
    # copy's message id is on record.
    async def not_yet_recorded(*_: object) -> None:
        return None

    monkeypatch.setattr(outbox_db, "sent_row", not_yet_recorded)
    await ask(sandbox, trainee, OFF_TOPIC)
    copy = await sandbox.next_bot_message(admin.id)
    await sandbox.send_text(admin, "Argentina won, 2 to 1.", reply_to_message_id=copy.message_id)
    answer = await sandbox.next_bot_message(trainee.id)
    assert "Argentina won, 2 to 1." in answer.content
    confirmation = await sandbox.next_bot_message(admin.id)
    assert "Sent to the trainee" in confirmation.content


async def test_hidden_characters_in_a_question_and_its_answer_do_not_travel(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    trainee = SandboxUser(id=7209, first_name="Amina", language_code="en")
    await setup(running_bot, clock, (trainee, "en"))
    await ask(sandbox, trainee, "who won\u200b the \u202efootball match\ufeff yesterday")
    copy = await sandbox.next_bot_message(admin.id)
    assert OFF_TOPIC in copy.content
    assert "\u202e" not in copy.content
    # The copy's message id is on record once the sender wrote its outcome down.
    await delivered(running_bot, clock)
    await sandbox.send_text(
        admin, "Argentina\u2066 won,\n\n\n\n2 to 1.\u200b", reply_to_message_id=copy.message_id
    )
    answer = await sandbox.next_bot_message(trainee.id)
    assert "Argentina won,\n\n2 to 1." in answer.content
    assert "\u2066" not in answer.content
    async with running_bot.session_factory() as session:
        [logged] = (await session.exec(select(FaqAsk))).all()
        [question] = (await session.exec(select(StaffQuestion))).all()
    assert logged.text == OFF_TOPIC
    assert question.text == OFF_TOPIC


async def test_claim_close_and_inbox(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    trainee = SandboxUser(id=7204, first_name="Jean", language_code="fr")
    await setup(running_bot, clock, (trainee, "fr"))
    await link_staff(sandbox, admin, STAFF)
    await ask(sandbox, trainee, "quel est le meilleur restaurant de pékin")
    await delivered(running_bot, clock)
    [topic] = sandbox.topics(STAFF.id)
    [question] = sandbox.bot_messages_in_topic(STAFF.id, topic.message_thread_id)

    sandbox.unread_bot_messages(STAFF.id)
    await sandbox.send_text(admin, "/inbox", chat=STAFF)
    listed = await sandbox.next_bot_message(STAFF.id)
    assert "meilleur restaurant" in listed.content

    await sandbox.press_button(admin, question.message_id, button(question, "Claim"), STAFF.id)
    await sandbox.settle()
    await sandbox.press_button(admin, question.message_id, button(question, "Close"), STAFF.id)
    await sandbox.settle()
    async with running_bot.session_factory() as session:
        [stored] = (await session.exec(select(StaffQuestion))).all()
    assert stored.status == "closed"
    assert stored.claimed_by == admin.id
    sandbox.unread_bot_messages(STAFF.id)
    await sandbox.send_text(admin, "/inbox", chat=STAFF)
    empty = await sandbox.next_bot_message(STAFF.id)
    assert "No open questions" in empty.content


async def test_an_unanswered_question_is_raised_again_once(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    trainee = SandboxUser(id=7205, first_name="Olga", language_code="ru")
    await setup(running_bot, clock, (trainee, "ru"))
    await link_staff(sandbox, admin, STAFF)
    await ask(sandbox, trainee, "какая погода будет завтра в пекине")
    await delivered(running_bot, clock)
    [topic] = sandbox.topics(STAFF.id)
    app = running_bot.app
    clock.advance(timedelta(hours=5))
    for _round in range(2):
        await jobs.raise_questions_again(app.session_factory, clock, app.sender)
        await jobs.wait_until_delivered(app.session_factory, clock, app.sender)
        await sandbox.settle()
    posted = sandbox.bot_messages_in_topic(STAFF.id, topic.message_thread_id)
    assert len(posted) == 2
    assert "Still unanswered after 4 h" in posted[1].content


async def test_forgetme_erases_the_questions_and_closes_the_topic(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    trainee = SandboxUser(id=7206, first_name="Omar", language_code="en")
    await setup(running_bot, clock, (trainee, "en"))
    await link_staff(sandbox, admin, STAFF)
    await ask(sandbox, trainee, OFF_TOPIC)
    await delivered(running_bot, clock)
    [before] = sandbox.topics(STAFF.id)
    assert "Omar" in before.name

    await sandbox.send_text(trainee, "/mydata")
    data = await sandbox.next_bot_message(trainee.id)
    assert data.document_bytes is not None
    mine = json.loads(data.document_bytes)
    assert mine["questions"]["to_staff"][0]["text"] == OFF_TOPIC

    asked = await ask(sandbox, trainee, "/forgetme")
    await sandbox.press_button(trainee, asked.message_id, asked.buttons[0][0].callback_data or "")
    await sandbox.settle()
    await jobs.wait_until_delivered(running_bot.session_factory, clock, running_bot.app.sender)
    await sandbox.settle()
    [after] = sandbox.topics(STAFF.id)
    assert after.closed
    assert "Omar" not in after.name
    async with running_bot.session_factory() as session:
        questions = (await session.exec(select(StaffQuestion))).all()
        asks = (await session.exec(select(FaqAsk))).all()
    assert [q.text for q in questions] == [None]
    assert all(a.text is None and a.user_id is None for a in asks)


async def test_an_faq_file_sent_by_an_organiser_is_previewed_then_imported(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    async with running_bot.session_factory() as session:
        await make_cohort(session, "DT27-A", programme_code=PROGRAMME)
    broken = b"- id: visa\n  category: logistics\n  xx:\n    q: What?\n    a: That.\n"
    await sandbox.send_document(admin, "faq.yaml", broken)
    refused = await sandbox.next_bot_message(admin.id)
    assert "was not imported; nothing changed" in refused.content
    assert "xx" in refused.content

    await sandbox.send_document(admin, "faq.yaml", FAQ_YAML.read_bytes())
    preview = await sandbox.next_bot_message(admin.id)
    assert "ready to import" in preview.content
    assert "New: 15" in preview.content
    async with running_bot.session_factory() as session:
        assert (await session.exec(select(FaqEntry))).all() == []
    await sandbox.press_button(admin, preview.message_id, button(preview, "Confirm"))
    await sandbox.settle()
    [done] = [e for e in sandbox.transcript(admin.id) if e.message_id == preview.message_id]
    assert "imported" in done.content
    async with running_bot.session_factory() as session:
        assert len((await session.exec(select(FaqEntry))).all()) == 15


async def test_a_trainee_sending_a_file_is_not_taken_for_an_organiser(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    trainee = SandboxUser(id=7207, first_name="Ivo", language_code="en")
    await setup(running_bot, clock, (trainee, "en"))
    await sandbox.send_document(trainee, "faq.yaml", FAQ_YAML.read_bytes())
    await sandbox.settle()
    async with running_bot.session_factory() as session:
        entries = (await session.exec(select(FaqEntry))).all()
    assert len(entries) == 15  # the ones imported by the set-up, untouched
    assert all(e.updated_at == entries[0].updated_at for e in entries)
