"""The trainee's "I'm here": the button (on /next and on the reminder), and the typed code.

When the programme asks for the code read aloud in the session, pressing the button asks
for it and waits in :class:`CheckInForm` (so the FAQ, which takes free text only outside any
state, does not read the code as a question); :data:`MAX_TRIES` wrong codes end the wait.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import people
from bot.services.attendance import checkin
from bot.services.attendance.checkin import CheckIn, CheckInResult
from bot.services.timetable.views import Viewer, time_pair
from handlers.attendance.common import presence_label

#: Wrong codes accepted in a row before the trainee has to press "I'm here" again.
MAX_TRIES = 3


class CheckInButton(CallbackData, prefix=checkin.CALLBACK_PREFIX):
    session_id: int


class CheckInForm(StatesGroup):
    code = State()


def outcome_text(result: CheckInResult, locale: str, zone: str | None) -> str:
    """What the trainee is told, in the current locale."""
    status = presence_label(result.status)
    if result.outcome == CheckIn.DONE:
        return _("✅ You are checked in: {status}.").format(status=status)
    if result.outcome == CheckIn.NOT_YET and result.opens_at is not None:
        viewer = Viewer(locale, zone, result.home_zone)
        return _("Check-in is not open yet: it opens at {time}.").format(
            time=time_pair(result.opens_at, viewer)
        )
    if result.outcome == CheckIn.CLOSED:
        return _("Check-in for this session is closed.")
    if result.outcome == CheckIn.ALREADY:
        return _("You have already checked in ({status}); nothing changed.").format(status=status)
    if result.outcome == CheckIn.MARKED:
        return _("Your attendance is already marked ({status}); nothing changed.").format(
            status=status
        )
    if result.outcome == CheckIn.NOT_IN_COHORT:
        return _("This button is for the trainees of the session's cohort; you are not one.")
    if result.outcome == CheckIn.WRONG_CODE:
        return _("That is not the session's code.")
    return _("This session is no longer on the timetable.")


async def on_check_in(
    query: CallbackQuery,
    callback_data: CheckInButton,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    state: FSMContext,
    user: people.Person | None,
    locale: str,
) -> None:
    result = await checkin.check_in(
        session,
        user_id=query.from_user.id,
        session_id=callback_data.session_id,
        now=clock.now(),
        settings=settings,
    )
    if result.outcome != CheckIn.NEEDS_CODE:
        await query.answer(outcome_text(result, locale, people.zone_of(user)), show_alert=True)
        return
    await state.set_state(CheckInForm.code)
    await state.update_data(session_id=callback_data.session_id, tries=0)
    await query.answer()
    if query.bot is not None:
        await query.bot.send_message(
            query.from_user.id,
            _("Type the 4-digit code your trainer shows or reads out in the session."),
        )


async def on_code(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    state: FSMContext,
    user: people.Person | None,
    locale: str,
) -> None:
    if message.from_user is None or message.text is None:
        return
    data = await state.get_data()
    session_id = data.get("session_id")
    if not isinstance(session_id, int):
        await state.clear()
        return
    result = await checkin.check_in(
        session,
        user_id=message.from_user.id,
        session_id=session_id,
        now=clock.now(),
        settings=settings,
        code=message.text,
    )
    if result.outcome == CheckIn.WRONG_CODE:
        tries = int(data.get("tries", 0)) + 1
        if tries < MAX_TRIES:
            await state.update_data(tries=tries)
            await message.answer(_("That is not the session's code. Type it again: 4 digits."))
            return
        await state.clear()
        await message.answer(
            _("That is not the session's code. Press “I'm here” again to try once more.")
        )
        return
    await state.clear()
    await message.answer(outcome_text(result, locale, people.zone_of(user)))


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="attendance.trainee")
    router.callback_query.register(on_check_in, CheckInButton.filter())
    router.message.register(
        on_code,
        StateFilter(CheckInForm.code),
        F.chat.type == ChatType.PRIVATE,
        F.text,
        ~F.text.startswith("/"),
    )
    return router
