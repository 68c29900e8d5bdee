"""Feedback end to end: a lecture ends, its form reaches each trainee in their language, one
answers it question by question, another ignores it and is nudged in their morning. The real
bot, polling the sandbox over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.clock import ManualClock
from bot.db.feedback import FeedbackRequest, FeedbackResponse
from bot.scheduling import jobs
from sandbox import Sandbox, SandboxUser
from sandbox.models import TranscriptEntry
from tests.faq.e2e_support import button
from tests.feedback.form_support import lecture_cohort, lecture_form
from tests.support.e2e import RunningBot
from tests.timetable.support import add_trainee

LECTURE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai, the programme's home


async def _plan(bot: RunningBot, clock: ManualClock, sandbox: Sandbox) -> None:
    await jobs.plan_feedback(bot.session_factory, clock, bot.app.sender)
    await jobs.wait_until_delivered(bot.session_factory, clock, bot.app.sender)
    await sandbox.settle()


async def _press(sandbox: Sandbox, user: SandboxUser, entry: TranscriptEntry, label: str) -> str:
    query = await sandbox.press_button(user, entry.message_id, button(entry, label))
    await sandbox.settle()
    return query


def _latest(sandbox: Sandbox, user: SandboxUser) -> TranscriptEntry:
    return sandbox.bot_messages(user.id)[-1]


async def _setup(bot: RunningBot, clock: ManualClock, *people: tuple[SandboxUser, str]) -> int:
    async with bot.session_factory() as session:
        cohort, _lecture = await lecture_cohort(session, LECTURE)
        for person, locale in people:
            await add_trainee(
                session, person.id, cohort, locale=locale, first_name=person.first_name
            )
        form = await lecture_form(session, cohort)
        assert form.id is not None
        return form.id


async def test_a_trainee_answers_the_form_and_one_who_did_not_is_nudged_in_their_morning(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    amina = SandboxUser(id=8101, first_name="Amina", language_code="en")
    pierre = SandboxUser(id=8102, first_name="Pierre", language_code="fr")
    await _setup(running_bot, clock, (amina, "en"), (pierre, "fr"))

    # Nothing before the lecture ends and its 15 minutes pass.
    clock.advance(timedelta(minutes=100))
    await _plan(running_bot, clock, sandbox)
    assert sandbox.bot_messages(amina.id) == []
    clock.advance(timedelta(minutes=6))  # 10:46 UTC, 18:46 in Shanghai
    await _plan(running_bot, clock, sandbox)

    invitation = await sandbox.next_bot_message(amina.id)
    assert "After the lecture" in invitation.content
    assert "Digital trade rules" in invitation.content
    assert "4 questions" in invitation.content
    french = await sandbox.next_bot_message(pierre.id)
    assert "Après la conférence" in french.content
    assert "Les règles du commerce numérique" in french.content

    await _press(sandbox, amina, invitation, "Start")
    first = await sandbox.next_bot_message(amina.id)
    assert "1 of 4" in first.content
    assert "How useful was the session?" in first.content
    await _press(sandbox, amina, first, "4 ⭐")
    second = _latest(sandbox, amina)
    assert second.message_id == first.message_id  # the question is edited in place
    assert "2 of 4" in second.content
    assert "The pace was" in second.content

    # A word typed where a button is asked is not taken (nor sent to the FAQ).
    await sandbox.send_text(amina, "it was fine")
    hint = await sandbox.next_bot_message(amina.id)
    assert "answer with the buttons" in hint.content
    assert "2 of 4" in hint.content

    # Back to the first question, its answer still ticked, then on again.
    await _press(sandbox, amina, hint, "Back")
    again = _latest(sandbox, amina)
    assert "1 of 4" in again.content
    assert "✅ 4 ⭐" in [b.text for row in again.buttons for b in row]
    await _press(sandbox, amina, again, "Keep")
    await _press(sandbox, amina, _latest(sandbox, amina), "Right")
    multi = _latest(sandbox, amina)
    assert "3 of 4" in multi.content
    await _press(sandbox, amina, multi, "Cases")
    await _press(sandbox, amina, _latest(sandbox, amina), "Tools")
    ticked = _latest(sandbox, amina)
    assert "☑️ Cases" in [b.text for row in ticked.buttons for b in row]
    await _press(sandbox, amina, ticked, "Done")
    last = _latest(sandbox, amina)
    assert "4 of 4" in last.content
    assert "Type your answer" in last.content

    await sandbox.send_text(amina, "More   case studies, please")
    thanks = await sandbox.next_bot_message(amina.id)
    assert "Thank you!" in thanks.content
    assert "4 of 5" in thanks.content
    assert "Cases, Tools" in thanks.content
    assert "More case studies, please" in thanks.content

    # Pierre ignored it. The first nudge is due 12 hours after the form (06:46 in Shanghai),
    # inside his night: it waits for 07:00 there, 23:00 UTC.
    clock.advance(timedelta(hours=12, minutes=4))  # 22:50 UTC
    await _plan(running_bot, clock, sandbox)
    assert sandbox.unread_bot_messages(pierre.id) == []
    clock.advance(timedelta(minutes=15))  # 23:05 UTC
    await _plan(running_bot, clock, sandbox)
    nudge = await sandbox.next_bot_message(pierre.id)
    assert "Après la conférence" in nudge.content
    assert sandbox.unread_bot_messages(amina.id) == []

    async with running_bot.session_factory() as session:
        [response] = (await session.exec(select(FeedbackResponse))).all()
        assert response.user_id == amina.id
        assert response.answers == {
            "overall": 4,
            "pace": 1,
            "topics": [0, 2],
            "comment": "More case studies, please",
        }


async def test_a_forwarded_button_a_closed_form_and_changing_answers(
    running_bot: RunningBot, sandbox: Sandbox, clock: ManualClock
) -> None:
    amina = SandboxUser(id=8111, first_name="Amina", language_code="en")
    omar = SandboxUser(id=8112, first_name="Omar", language_code="en")
    await _setup(running_bot, clock, (amina, "en"), (omar, "en"))
    clock.advance(timedelta(minutes=106))
    await _plan(running_bot, clock, sandbox)
    invitation = await sandbox.next_bot_message(amina.id)
    await sandbox.next_bot_message(omar.id)

    # Omar presses Amina's Start (her message forwarded to him): refused, nothing changes.
    query = await sandbox.press_button(
        omar, invitation.message_id, button(invitation, "Start"), chat_id=amina.id
    )
    await sandbox.settle()
    assert "someone else's" in sandbox.callback_answers[query]["text"]
    assert sandbox.unread_bot_messages(omar.id) == []

    # Amina answers, skipping what may be skipped, then changes her rating.
    await _press(sandbox, amina, invitation, "Start")
    first = await sandbox.next_bot_message(amina.id)
    await _press(sandbox, amina, first, "2 ⭐")
    await _press(sandbox, amina, _latest(sandbox, amina), "Too fast")
    await _press(sandbox, amina, _latest(sandbox, amina), "Skip")
    await _press(sandbox, amina, _latest(sandbox, amina), "Skip")
    done = _latest(sandbox, amina)
    assert "Thank you!" in done.content
    await _press(sandbox, amina, done, "Change answers")
    change = await sandbox.next_bot_message(amina.id)
    assert "1 of 4" in change.content
    await _press(sandbox, amina, change, "5 ⭐")
    await _press(sandbox, amina, _latest(sandbox, amina), "Keep")
    await _press(sandbox, amina, _latest(sandbox, amina), "Skip")
    await _press(sandbox, amina, _latest(sandbox, amina), "Skip")
    assert "changed answers" in _latest(sandbox, amina).content

    # /feedback lists what is still open: hers to change.
    await sandbox.send_text(amina, "/feedback")
    listing = await sandbox.next_bot_message(amina.id)
    assert "you can change it until" in listing.content

    # Two days later the form is closed: Omar's Start says so and changes nothing.
    clock.advance(timedelta(hours=49))
    await _plan(running_bot, clock, sandbox)
    async with running_bot.session_factory() as session:
        requests = (await session.exec(select(FeedbackRequest))).all()
        omars = next(r for r in requests if r.user_id == omar.id)
        assert omars.status == "closed"
        [response] = (await session.exec(select(FeedbackResponse))).all()
        assert response.answers == {"overall": 5, "pace": 2}
    omar_invitation = sandbox.bot_messages(omar.id)[0]
    query = await _press(sandbox, omar, omar_invitation, "Start")
    assert "closed" in sandbox.callback_answers[query]["text"]
    await sandbox.send_text(omar, "/feedback")
    assert "no open feedback forms" in (await sandbox.next_bot_message(omar.id)).content
