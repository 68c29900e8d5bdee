"""/schedule, /today, /next and /calendar: the timetable in the trainee's own time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import format_timedelta
from bot.i18n import gettext as _
from bot.services import people, timetable
from bot.services.attendance import checkin
from bot.services.timetable import SessionView, TraineeTimetable, Viewer
from handlers.text import fit_lines, h

#: Room kept under Telegram's 4,096 characters for the closing lines.
MAX_TEXT = 3800
MAX_JOIN_BUTTONS = 3


class WeekPage(CallbackData, prefix="ttw"):
    start: str


# --------------------------------------------------------------------------------------------
# Rendering (pure: the tests call these too)


def not_enrolled_text() -> str:
    """What a person without a cohort is told."""
    return _(
        "You are not in any cohort yet, so there is no timetable to show. Open the personal "
        "link from your invitation (or the cohort link your organisers sent) to register."
    )


def zone_hint(viewer: Viewer) -> str | None:
    """A nudge to set a time zone when times are shown in the programme's."""
    if viewer.zone is not None:
        return None
    return _(
        "Times are in {place} time, the programme's. Tell me your time zone with /timezone "
        "to see them in your own clock."
    ).format(place=h(timetable.place_name(viewer.home_zone, viewer.locale)))


def session_line(item: SessionView, viewer: Viewer) -> str:
    """ "• 19:00 Shanghai / 14:00 your time — <b>Title</b> · Speaker"."""
    when = _("all day") if item.all_day else timetable.time_pair(item.starts_at, viewer)
    line = f"• {when} — <b>{h(item.title)}</b>"
    if item.speaker:
        line += f" · {h(item.speaker)}"
    if item.cancelled:
        line = "• <s>{body}</s> {note}".format(body=line[2:], note=_("(cancelled)"))
    return line


def _days(view: TraineeTimetable) -> list[str]:
    lines: list[str] = []
    current: str | None = None
    used = 0
    for index, item in enumerate(view.sessions):
        day = timetable.day_label(item.starts_at, view.viewer)
        block: list[str] = []
        if day != current:
            block += ["", f"<b>{h(day)}</b>"]
            current = day
        block.append(session_line(item, view.viewer))
        size = sum(len(line) + 1 for line in block)
        if used + size > MAX_TEXT:
            rest = len(view.sessions) - index
            lines.append(_("… and {count} more").format(count=rest))
            break
        lines += block
        used += size
    return lines


def render_week(view: TraineeTimetable, first_day: date) -> str:
    """The /schedule message for one week."""
    if not view.enrolled:
        return not_enrolled_text()
    lines = [f"🗓 <b>{h(timetable.week_title(first_day, view.viewer))}</b>"]
    hint = zone_hint(view.viewer)
    if hint:
        lines.append(hint)
    if view.sessions:
        lines += _days(view)
    else:
        lines += ["", _("No sessions this week.")]
    return "\n".join(lines)


def render_today(view: TraineeTimetable, now: datetime) -> str:
    """The /today message."""
    if not view.enrolled:
        return not_enrolled_text()
    title = _("Today, {day}").format(day=timetable.day_label(now, view.viewer))
    lines = [f"📅 <b>{h(title)}</b>"]
    hint = zone_hint(view.viewer)
    if hint:
        lines.append(hint)
    if not view.sessions:
        lines += ["", _("No sessions today. /next shows the next one.")]
        return "\n".join(lines)
    lines.append("")
    lines += [session_line(item, view.viewer) for item in view.sessions]
    return fit_lines(lines)


def render_next(view: TraineeTimetable, now: datetime) -> str:
    """The /next message: the session, its time in the reader's clock, a countdown."""
    if not view.enrolled:
        return not_enrolled_text()
    if not view.sessions:
        return _("There are no more sessions in your timetable.")
    item = view.sessions[0]
    viewer = view.viewer
    lines = [
        f"⏭ <b>{h(item.title)}</b>",
        timetable.when_text(item.starts_at, item.all_day, viewer),
    ]
    if item.starts_at > now:
        lines.append(
            _("Starts {countdown}.").format(
                countdown=format_timedelta(item.starts_at - now, viewer.locale, add_direction=True)
            )
        )
    else:
        lines.append(
            _("On now: it started {ago} ago.").format(
                ago=format_timedelta(now - item.starts_at, viewer.locale)
            )
        )
    if item.speaker:
        lines.append(_("Speaker: {speaker}").format(speaker=h(item.speaker)))
    if item.location:
        lines.append(_("Place: {place}").format(place=h(item.location)))
    hint = zone_hint(viewer)
    if hint:
        lines += ["", hint]
    return "\n".join(lines)


def join_keyboard(items: list[SessionView]) -> InlineKeyboardMarkup | None:
    """Join buttons for the sessions that have a link."""
    rows: list[list[InlineKeyboardButton]] = []
    for item in items:
        if item.join_url and not item.cancelled and len(rows) < MAX_JOIN_BUTTONS:
            label = _("Join") if len(items) == 1 else _("Join: {title}").format(title=item.title)
            rows.append([InlineKeyboardButton(text="▶ " + label[:60], url=item.join_url)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def week_keyboard(first_day: date) -> InlineKeyboardMarkup:
    """Previous and next week."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="◀ " + _("Previous week"),
                    callback_data=WeekPage(
                        start=(first_day - timedelta(days=7)).isoformat()
                    ).pack(),
                ),
                InlineKeyboardButton(
                    text=_("Next week") + " ▶",
                    callback_data=WeekPage(
                        start=(first_day + timedelta(days=7)).isoformat()
                    ).pack(),
                ),
            ]
        ]
    )


# --------------------------------------------------------------------------------------------
# Commands


async def _week_message(
    session: AsyncSession,
    user_id: int,
    user_zone: str | None,
    locale: str,
    clock: Clock,
    start: date | None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    view = await timetable.week(
        session, user_id=user_id, locale=locale, zone=user_zone, now=clock.now(), start=start
    )
    if not view.enrolled:
        return not_enrolled_text(), None
    first_day = start or timetable.week_start_of(clock.now(), view.viewer.display_zone)
    return render_week(view, first_day), week_keyboard(first_day)


async def cmd_schedule(
    message: Message, session: AsyncSession, user: people.Person | None, locale: str, clock: Clock
) -> None:
    if message.from_user is None:
        return
    text, keyboard = await _week_message(
        session, message.from_user.id, people.zone_of(user), locale, clock, None
    )
    await message.answer(text, reply_markup=keyboard)


async def on_week_page(
    query: CallbackQuery,
    callback_data: WeekPage,
    session: AsyncSession,
    user: people.Person | None,
    locale: str,
    clock: Clock,
) -> None:
    try:
        start = date.fromisoformat(callback_data.start)
    except ValueError:
        await query.answer(_("This button is no longer active."))
        return
    start -= timedelta(days=start.weekday())
    text, keyboard = await _week_message(
        session, query.from_user.id, people.zone_of(user), locale, clock, start
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)


async def cmd_today(
    message: Message, session: AsyncSession, user: people.Person | None, locale: str, clock: Clock
) -> None:
    if message.from_user is None:
        return
    now = clock.now()
    view = await timetable.today(
        session, user_id=message.from_user.id, locale=locale, zone=people.zone_of(user), now=now
    )
    await message.answer(render_today(view, now), reply_markup=join_keyboard(view.sessions))


async def cmd_next(
    message: Message, session: AsyncSession, user: people.Person | None, locale: str, clock: Clock
) -> None:
    if message.from_user is None:
        return
    now = clock.now()
    view = await timetable.next_session(
        session, user_id=message.from_user.id, locale=locale, zone=people.zone_of(user), now=now
    )
    keyboard = join_keyboard(view.sessions)
    item = view.sessions[0] if view.sessions else None
    if item is not None and checkin.window_open(item.starts_at, item.all_day, now):
        # Check-in is open: "I'm here" under the session.
        here = InlineKeyboardButton(
            text=checkin.button_label(), callback_data=checkin.callback_data(item.session_id)
        )
        rows = [*(keyboard.inline_keyboard if keyboard else []), [here]]
        keyboard = InlineKeyboardMarkup(inline_keyboard=rows)
    await message.answer(render_next(view, now), reply_markup=keyboard)


async def cmd_calendar(message: Message, session: AsyncSession, locale: str, clock: Clock) -> None:
    if message.from_user is None:
        return
    calendar = await timetable.trainee_calendar(
        session, user_id=message.from_user.id, locale=locale, now=clock.now()
    )
    if calendar is None:
        await message.answer(not_enrolled_text())
        return
    await message.answer_document(
        BufferedInputFile(calendar.content, filename=calendar.filename),
        caption=_(
            "Your timetable as a calendar file. Open it to add every session to your "
            "calendar; import it again after a change and the sessions are updated."
        ),
    )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="timetable.trainee")
    router.message.register(cmd_schedule, Command("schedule"))
    router.callback_query.register(on_week_page, WeekPage.filter())
    router.message.register(cmd_today, Command("today"))
    router.message.register(cmd_next, Command("next"))
    router.message.register(cmd_calendar, Command("calendar"))
    return router
