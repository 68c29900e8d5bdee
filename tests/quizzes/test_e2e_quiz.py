"""Quizzes end to end: a lecture ends, each trainee gets the quiz as Telegram quiz polls in their
language, one question at a time, answers, and sees the score in /quiz; the organiser reads the
report; a trainee may not. The real bot, polling the sandbox over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.scheduling import jobs
from sandbox import Sandbox, SandboxUser
from tests.quizzes.support import cohort_with_quiz
from tests.support.e2e import RunningBot
from tests.timetable.support import add_trainee


async def _plan(bot: RunningBot, clock: ManualClock, sandbox: Sandbox) -> None:
    await jobs.plan_quizzes(bot.session_factory, clock, bot.app.sender)
    await jobs.wait_until_delivered(bot.session_factory, clock, bot.app.sender)
    await sandbox.settle()


async def test_trainees_answer_the_quiz_polls_and_see_their_score(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock, admin: SandboxUser
) -> None:
    amina = SandboxUser(id=8201, first_name="Amina", language_code="en")
    wei = SandboxUser(id=8202, first_name="Wei", language_code="zh")
    starts = clock.now() + timedelta(hours=1)
    async with running_bot.session_factory() as session:
        cohort, _lecture = await cohort_with_quiz(session, starts, clock.now())
        await add_trainee(session, amina.id, cohort, locale="en", first_name="Amina")
        await add_trainee(session, wei.id, cohort, locale="zh", first_name="Wei")

    await _plan(running_bot, clock, sandbox)
    assert sandbox.bot_messages(amina.id) == []  # the lecture has not ended

    clock.advance(timedelta(hours=3))
    await _plan(running_bot, clock, sandbox)
    intro = await sandbox.next_bot_message(amina.id)
    assert "Check: trade rules" in intro.content
    assert "2 questions" in intro.content
    first = await sandbox.next_bot_message(amina.id)
    assert first.poll is not None
    assert first.poll["type"] == "quiz"
    assert first.poll["is_anonymous"] is False
    assert first.poll["question"] == "1/2 Which body runs the e-commerce talks?"
    assert first.poll["explanation"] == "The WTO's Joint Statement Initiative."
    assert sandbox.bot_messages(amina.id)[-1] == first  # one question at a time

    await sandbox.next_bot_message(wei.id)
    chinese = await sandbox.next_bot_message(wei.id)
    assert chinese.poll is not None
    assert chinese.poll["question"] == "1/2 哪个机构主持电子商务谈判？"
    assert [o["text"] for o in chinese.poll["options"]] == ["世贸组织", "世卫组织", "国际劳工组织"]

    # Answered at once, before the sender has written the poll's outcome: it still counts.
    await sandbox.answer_poll(amina, [0])
    with pytest.raises(ValueError, match="cannot be voted again"):
        await sandbox.answer_poll(amina, [1], poll_id=first.poll["id"])
    second = await sandbox.next_bot_message(amina.id)
    assert second.poll is not None
    assert second.poll["question"].startswith("2/2 What is a single window?")
    await sandbox.answer_poll(amina, [2])  # wrong
    score = await sandbox.next_bot_message(amina.id)
    assert "Your score: 1 / 3" in score.content

    await sandbox.send_text(amina, "/quiz")
    listing = await sandbox.next_bot_message(amina.id)
    assert "Check: trade rules: 1 / 3" in listing.content

    await sandbox.send_text(admin, "/quiz_report DT27-A")
    report = await sandbox.next_bot_message(admin.id)
    assert "Quizzes of DT27-A" in report.content
    assert "0% · Check: trade rules #2" in report.content
    assert "A tax" in report.content  # the wrong answer chosen most
    assert "Amina: 1 / 3" in report.content
    workbook = await sandbox.next_bot_message(admin.id)
    assert workbook.document_name == "quizzes-DT27-A.xlsx"

    await sandbox.send_text(amina, "/quiz_report DT27-A")
    refused = await sandbox.next_bot_message(amina.id)
    assert "Quizzes of" not in refused.content


async def test_an_answer_after_the_quiz_closed_does_not_count(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    amina = SandboxUser(id=8211, first_name="Amina", language_code="en")
    starts = clock.now() + timedelta(hours=1)
    async with running_bot.session_factory() as session:
        cohort, _lecture = await cohort_with_quiz(session, starts, clock.now())
        await add_trainee(session, amina.id, cohort, locale="en", first_name="Amina")
    clock.advance(timedelta(hours=3))
    await _plan(running_bot, clock, sandbox)
    await sandbox.next_bot_message(amina.id)
    await sandbox.next_bot_message(amina.id)
    clock.advance(timedelta(hours=30))  # the 24 hours are over
    await sandbox.answer_poll(amina, [0])
    notice = await sandbox.next_bot_message(amina.id)
    assert "This quiz has closed" in notice.content
    await sandbox.send_text(amina, "/quiz")
    listing = await sandbox.next_bot_message(amina.id)
    assert "Check: trade rules: 0 / 3" in listing.content


async def test_a_vote_in_someone_elses_forwarded_poll_counts_for_no_one(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    amina = SandboxUser(id=8221, first_name="Amina", language_code="en")
    bob = SandboxUser(id=8222, first_name="Bob", language_code="en")
    starts = clock.now() + timedelta(hours=1)
    async with running_bot.session_factory() as session:
        cohort, _lecture = await cohort_with_quiz(session, starts, clock.now())
        await add_trainee(session, amina.id, cohort, locale="en", first_name="Amina")
        await add_trainee(session, bob.id, cohort, locale="en", first_name="Bob")
    clock.advance(timedelta(hours=3))
    await _plan(running_bot, clock, sandbox)
    await sandbox.next_bot_message(amina.id)
    amina_poll = await sandbox.next_bot_message(amina.id)
    await sandbox.next_bot_message(bob.id)
    bob_poll = await sandbox.next_bot_message(bob.id)
    assert amina_poll.poll is not None
    assert bob_poll.poll is not None

    # Amina forwards her question to Bob, who answers it there (right, as it happens).
    await sandbox.answer_poll(bob, [0], poll_id=amina_poll.poll["id"])
    await sandbox.settle()
    assert sandbox.bot_messages(bob.id)[-1] == bob_poll  # Bob's own question is still open
    assert sandbox.bot_messages(amina.id)[-1] == amina_poll  # and so is Amina's
    await sandbox.send_text(bob, "/quiz")
    listing = await sandbox.next_bot_message(bob.id)
    assert "Check: trade rules: 0 of 2 answered" in listing.content

    # Each still answers their own question.
    await sandbox.answer_poll(amina, [0], poll_id=amina_poll.poll["id"])
    following = await sandbox.next_bot_message(amina.id)
    assert following.poll is not None
    assert following.poll["question"].startswith("2/2")
