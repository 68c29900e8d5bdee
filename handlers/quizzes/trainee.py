"""Quizzes, trainee side: answers to quiz polls (``poll_answer``) and ``/quiz``.

A vote arrives as a ``poll_answer`` update; the service records it (once), queues the next
question or the score. ``/quiz`` lists the trainee's open quizzes, each with a button that sends
the current question again, and the finished ones with their scores.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PollAnswer,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.services import people
from bot.services.people import Person
from bot.services.quizzes import answering
from bot.services.quizzes.answering import CONTINUE_PREFIX
from bot.services.quizzes.votes import Outcome, Vote, VoteWriter
from bot.services.timetable.views import Viewer, when_text
from handlers.text import h


async def on_poll_answer(
    poll_answer: PollAnswer,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    votes: VoteWriter,
    settings: Settings,
    user: Person | None = None,
) -> None:
    voter = poll_answer.user
    if voter is None:
        return  # a vote on behalf of a chat: not one of ours
    outcome = await votes.record(
        Vote(
            poll_answer.poll_id,
            voter.id,
            list(poll_answer.option_ids),
            clock.now(),
            user,
        )
    )
    if outcome == Outcome.CLOSED:
        locale = await people.locale_for(
            session, voter.id, voter.language_code, settings.default_locale
        )
        await session.commit()
        with use_locale(locale):
            text = _("This quiz has closed, so this answer does not count. See /quiz.")
        await bot.send_message(voter.id, text)


async def cmd_quiz(
    message: Message, session: AsyncSession, clock: Clock, locale: str, user: Person | None = None
) -> None:
    if message.from_user is None:
        return
    now = clock.now()
    lines = await answering.quizzes_of_trainee(session, message.from_user.id, now, locale)
    await session.commit()
    if not lines:
        await message.answer(_("You have no quiz yet. Quizzes open after their sessions."))
        return
    zone = user.timezone if user is not None else None
    viewer = Viewer(locale, zone, zone or "UTC", locale)
    text = ["🧠 <b>" + _("Your quizzes") + "</b>"]
    rows = []
    for line in lines:
        if line.open:
            text.append(
                "▶ "
                + _("{title}: {answered} of {count} answered, open until {when}").format(
                    title=h(line.title),
                    answered=line.answered,
                    count=line.questions,
                    when=when_text(line.closes_at, False, viewer),
                )
            )
            label = _("Continue: {title}").format(title=line.title)[:60]
            rows.append(
                [InlineKeyboardButton(text=label, callback_data=f"{CONTINUE_PREFIX}{line.run_id}")]
            )
        else:
            text.append(
                "✅ "
                + _("{title}: {points} / {total}").format(
                    title=h(line.title), points=f"{line.points:g}", total=f"{line.max_points:g}"
                )
            )
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    await message.answer("\n".join(text), reply_markup=markup)


async def on_continue(query: CallbackQuery, session: AsyncSession, clock: Clock) -> None:
    raw = (query.data or "").removeprefix(CONTINUE_PREFIX)
    if not raw.isdigit():
        await query.answer(_("This button is no longer active."))
        return
    sent = await answering.resend_current(session, query.from_user.id, int(raw), clock.now())
    if sent:
        await query.answer(_("Here is your current question."))
    else:
        await query.answer(_("This quiz is closed or finished. See /quiz."), show_alert=True)


def build_router() -> Router:
    """Poll answers, ``/quiz`` and its Continue buttons."""
    router = Router(name="quizzes.trainee")
    router.poll_answer.register(on_poll_answer)
    router.message.register(cmd_quiz, Command("quiz"), F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(on_continue, F.data.startswith(CONTINUE_PREFIX))
    return router
