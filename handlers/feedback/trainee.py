"""Feedback, trainee side: the form's buttons, typed answers, and /feedback (the open forms).

While a trainee answers a form they are in the ``FeedbackAnswer.answering`` state, so a typed
message is their answer (or a hint to use the buttons), never a question for the FAQ; they
leave it when the form is in, when they press Later, or with /feedback. Commands still work
in the meantime.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.services.feedback import answering
from bot.services.feedback.answering import Outcome, Step
from bot.services.feedback.planning import start_data
from bot.services.people import Person
from handlers.text import fit_lines, h


class FeedbackAnswer(StatesGroup):
    answering = State()


def keyboard(rows: answering.Buttons) -> InlineKeyboardMarkup | None:
    """The step's buttons as an inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton.model_validate(b) for b in row] for row in rows]
    )


def _zone(user: Person | None) -> str | None:
    return user.timezone if user is not None else None


async def _follow(state: FSMContext, step: Step) -> None:
    """Enter or leave the answering state as the step says."""
    if step.outcome == Outcome.SHOWN or step.outcome == Outcome.WANTS_BUTTON:
        await state.set_state(FeedbackAnswer.answering)
        await state.update_data(feedback_request=step.request_id)
    elif step.outcome in (Outcome.DONE, Outcome.PAUSED, Outcome.CLOSED, Outcome.LOCKED):
        await state.clear()


async def on_button(
    query: CallbackQuery,
    session: AsyncSession,
    clock: Clock,
    locale: str,
    state: FSMContext,
    user: Person | None = None,
) -> None:
    step = await answering.press(
        session, query.data or "", query.from_user.id, clock.now(), locale=locale, zone=_zone(user)
    )
    if step is None:
        await query.answer(_("This button is no longer active."))
        return
    if step.outcome == Outcome.NOT_YOURS:
        # A forwarded button: the owner's state is theirs, not ours to change.
        await query.answer(step.notice, show_alert=True)
        return
    await _follow(state, step)
    if not step.text:
        await query.answer(step.notice, show_alert=step.outcome != Outcome.INVALID)
        return
    await query.answer(step.notice or None)
    message = query.message
    if not isinstance(message, Message):
        return
    markup = keyboard(step.buttons)
    if step.below:
        # Start (or Change) keeps the message it was pressed on (it says what the form is
        # about); the questions come below it, and every later step edits them in place.
        await message.answer(step.text, reply_markup=markup)
        return
    await message.edit_text(step.text, reply_markup=markup)


async def on_typed(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    locale: str,
    state: FSMContext,
    user: Person | None = None,
) -> None:
    if message.from_user is None:
        return
    data = await state.get_data()
    request_id = data.get("feedback_request")
    if not isinstance(request_id, int):
        await state.clear()
        return
    step = await answering.typed(
        session,
        request_id,
        message.text or "",
        message.from_user.id,
        clock.now(),
        locale=locale,
        zone=_zone(user),
    )
    await _follow(state, step)
    if step.text:
        await message.answer(step.text, reply_markup=keyboard(step.buttons))
    elif step.notice:
        await message.answer(step.notice)


async def on_not_text(message: Message, locale: str) -> None:
    await message.answer(_("Please answer with the buttons, or type your answer as text."))


async def cmd_feedback(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    locale: str,
    state: FSMContext,
    user: Person | None = None,
) -> None:
    if message.from_user is None:
        return
    if await state.get_state() == FeedbackAnswer.answering.state:
        await state.clear()
    forms = await answering.open_forms(
        session, message.from_user.id, clock.now(), locale=locale, zone=_zone(user)
    )
    if not forms:
        await message.answer(_("You have no open feedback forms. Thank you for your answers!"))
        return
    lines = ["📝 <b>" + _("Your feedback forms") + "</b>"]
    rows = []
    for form in forms:
        if form.answered:
            state_line = _("answered; you can change it until {when}").format(when=form.closes)
            label = "✏️ " + _("Change: {title}").format(title=form.title)
        elif form.given:
            state_line = _("{given} of {total} answered, open until {when}").format(
                given=form.given, total=form.total, when=form.closes
            )
            label = "▶ " + _("Continue: {title}").format(title=form.title)
        else:
            state_line = _("not started, open until {when}").format(when=form.closes)
            label = "▶ " + _("Start: {title}").format(title=form.title)
        lines.append(f"• <b>{h(form.title)}</b>: {form.about}\n  {state_line}")
        rows.append(
            [InlineKeyboardButton(text=label[:60], callback_data=start_data(form.request_id))]
        )
    await message.answer(
        fit_lines(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows[:20])
    )


def build_router() -> Router:
    router = Router(name="feedback.trainee")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_feedback, Command("feedback"))
    router.callback_query.register(on_button, F.data.startswith("fb:"))
    router.message.register(
        on_typed, StateFilter(FeedbackAnswer.answering), F.text, ~F.text.startswith("/")
    )
    router.message.register(on_not_text, StateFilter(FeedbackAnswer.answering), ~F.text)
    return router
