"""One trainee at a time, organiser side: ``/trainee NAME-or-EMAIL`` shows a person's card with
Move to cohort, Withdraw (confirmed) and Replace by; ``/audit [COHORT]`` shows the latest
changes to the organiser's cohorts' lists.

Filtered like the roster's router: anyone who organises something; every person and cohort
is then checked against the organiser's scope, so nobody sees or changes people of a
programme they do not organise.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import current_locale
from bot.i18n import gettext as _
from bot.services import registration as reg
from bot.services.countries import country_name
from bot.services.roster import auditing, describe_errors, personal_link
from bot.services.roster import changes as people_changes
from bot.services.roster import importing as roster_import
from handlers.filters import IsAnyAdmin
from handlers.registration.common import cohort_argument
from handlers.text import h

#: Actions on a card: move (list cohorts), withdraw (ask), replace (ask for the line).
MOVE, WITHDRAW, REPLACE = "m", "w", "r"


class TraineePick(CallbackData, prefix="trp"):
    entry_id: int


class TraineeAction(CallbackData, prefix="tra"):
    entry_id: int
    action: str


class TraineeMove(CallbackData, prefix="trm"):
    entry_id: int
    cohort_id: int


class TraineeWithdraw(CallbackData, prefix="trw"):
    entry_id: int
    #: False: Cancel.
    confirm: bool


class ReplaceForm(StatesGroup):
    line = State()


def _card_text(card: people_changes.PersonCard) -> str:
    yes_no = {True: _("yes"), False: _("no"), None: "—"}
    status = reg.status_label(card.status) if card.status else _("invited, not joined yet")
    about = [
        p
        for p in (
            card.email,
            card.organisation,
            country_name(card.country, current_locale()) if card.country else None,
        )
        if p
    ]
    lines = [
        f"<b>{h(card.full_name)}</b>",
        h(" · ".join(about)),
        _("Cohort: {cohort}").format(cohort=h(card.cohort_code)),
        _("Status: {status}").format(status=h(status)),
        _("Reachable: {answer}").format(answer=yes_no[card.reachable]),
        _("Language: {language}").format(language=h(card.locale or "—")),
        _("Time zone: {zone}").format(zone=h(card.timezone or "—")),
    ]
    if card.user_id is not None:
        lines.append(_("Telegram id: {id}").format(id=card.user_id))
    return "\n".join(lines)


def _card_keyboard(card: people_changes.PersonCard) -> InlineKeyboardMarkup | None:
    if not card.can_change:
        return None
    rows = []
    if card.other_cohorts:
        rows.append(
            [
                InlineKeyboardButton(
                    text="➡ " + _("Move to cohort"),
                    callback_data=TraineeAction(entry_id=card.entry_id, action=MOVE).pack(),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text="🚫 " + _("Withdraw"),
                callback_data=TraineeAction(entry_id=card.entry_id, action=WITHDRAW).pack(),
            ),
            InlineKeyboardButton(
                text="🔁 " + _("Replace by"),
                callback_data=TraineeAction(entry_id=card.entry_id, action=REPLACE).pack(),
            ),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _show_card(
    message: Message,
    session: AsyncSession,
    entry_id: int,
    scope: set[int] | None,
    settings: Settings,
    *,
    edit: bool = False,
) -> None:
    card = await people_changes.card(session, entry_id, scope, settings)
    if card is None:
        await message.answer(_("This button is no longer active."))
        return
    if edit:
        await message.edit_text(_card_text(card), reply_markup=_card_keyboard(card))
    else:
        await message.answer(_card_text(card), reply_markup=_card_keyboard(card))


# --- /trainee -------------------------------------------------------------------------------


async def cmd_trainee(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    state: FSMContext,
) -> None:
    query = (command.args or "").strip()
    await state.set_state(None)
    if not query:
        await message.answer(_("Usage: /trainee NAME or E-MAIL"))
        return
    found = await people_changes.find_people(session, query, admin_scope)
    if not found:
        await message.answer(
            _("Nobody matching {query} among the programmes you organise.").format(query=h(query))
        )
        return
    if len(found) == 1 and found[0].id is not None:
        await _show_card(message, session, found[0].id, admin_scope, settings)
        return
    codes = {c.id: c.code for c in await reg.cohorts_in_scope(session, admin_scope)}
    rows = [
        [
            InlineKeyboardButton(
                text=(
                    f"{entry.full_name} · {codes.get(entry.cohort_id, '')}"
                    + (" · " + _("withdrawn") if entry.withdrawn_at is not None else "")
                )[:60],
                callback_data=TraineePick(entry_id=entry.id).pack(),
            )
        ]
        for entry in found[: people_changes.MAX_MATCHES]
        if entry.id is not None
    ]
    more = len(found) > people_changes.MAX_MATCHES
    text = _("Several people match {query}; which one?").format(query=h(query))
    if more:
        text += "\n" + _("Only the first {count} are listed; type more of the name.").format(
            count=people_changes.MAX_MATCHES
        )
    await message.answer(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def on_pick(
    query: CallbackQuery,
    callback_data: TraineePick,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer()
        return
    await query.answer()
    await _show_card(
        query.message, session, callback_data.entry_id, admin_scope, settings, edit=True
    )


async def on_action(
    query: CallbackQuery,
    callback_data: TraineeAction,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    state: FSMContext,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    card = await people_changes.card(session, callback_data.entry_id, admin_scope, settings)
    if message is None or card is None or not card.can_change:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if callback_data.action == MOVE:
        rows = [
            [
                InlineKeyboardButton(
                    text=code,
                    callback_data=TraineeMove(entry_id=card.entry_id, cohort_id=cohort_id).pack(),
                )
            ]
            for cohort_id, code in card.other_cohorts[:30]
        ]
        await message.edit_text(
            _("Move {name} from {cohort} to which cohort?").format(
                name=h(card.full_name), cohort=h(card.cohort_code)
            ),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )
    elif callback_data.action == WITHDRAW:
        await message.edit_text(
            _(
                "Withdraw {name} from {cohort}? Their personal link stops working and they are "
                "told. Their attendance and answers stay."
            ).format(name=h(card.full_name), cohort=h(card.cohort_code)),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text="✅ " + _("Yes, withdraw"),
                            callback_data=TraineeWithdraw(
                                entry_id=card.entry_id, confirm=True
                            ).pack(),
                        ),
                        InlineKeyboardButton(
                            text="✖ " + _("Cancel"),
                            callback_data=TraineeWithdraw(
                                entry_id=card.entry_id, confirm=False
                            ).pack(),
                        ),
                    ]
                ]
            ),
        )
    else:
        await state.set_state(ReplaceForm.line)
        await state.update_data(replace_entry_id=card.entry_id)
        await message.edit_reply_markup(reply_markup=None)
        await message.answer(
            _(
                "Who replaces {name} in {cohort}? Send one line: full name, e-mail, country, "
                "organisation, position (the last two may be left out), or a header line and "
                "one row as in a roster file."
            ).format(name=h(card.full_name), cohort=h(card.cohort_code))
        )


def _actor(query: CallbackQuery | Message) -> people_changes.Actor:
    who = query.from_user.id if query.from_user is not None else None
    return people_changes.Actor(who, people_changes.TELEGRAM)


async def on_move(
    query: CallbackQuery,
    callback_data: TraineeMove,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    clock: Clock,
    sender: reg.Waker | None = None,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    result = await people_changes.move_person(
        session,
        callback_data.entry_id,
        callback_data.cohort_id,
        admin_scope,
        settings,
        clock.now(),
        _actor(query),
    )
    reg.wake(sender)
    Outcome = people_changes.Outcome
    if result.outcome in (Outcome.UNKNOWN, Outcome.GONE, Outcome.OTHER_PROGRAMME) or (
        message is None
    ):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if result.outcome == Outcome.FULL:
        text = _("{cohort} is full; raise its capacity first, or withdraw someone.").format(
            cohort=h(result.target_code)
        )
    elif result.outcome in (Outcome.ALREADY_THERE, Outcome.SAME_COHORT):
        text = _("{name} is already in {cohort}.").format(
            name=h(result.name), cohort=h(result.target_code)
        )
    else:
        text = _(
            "{name} moved from {old} to {new}. I have told them; they now get the timetable "
            "and reminders of {new}."
        ).format(name=h(result.name), old=h(result.cohort_code), new=h(result.target_code))
    await message.edit_text(text)


async def on_withdraw(
    query: CallbackQuery,
    callback_data: TraineeWithdraw,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    clock: Clock,
    sender: reg.Waker | None = None,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        await query.answer()
        return
    if not callback_data.confirm:
        await query.answer()
        await _show_card(message, session, callback_data.entry_id, admin_scope, settings, edit=True)
        return
    result = await people_changes.withdraw_person(
        session, callback_data.entry_id, admin_scope, settings, clock.now(), _actor(query)
    )
    reg.wake(sender)
    if result.outcome != people_changes.Outcome.DONE:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await message.edit_text(
        _("{name} is withdrawn from {cohort}; their personal link no longer works.").format(
            name=h(result.name), cohort=h(result.cohort_code)
        )
    )


async def on_replace_line(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
    sender: reg.Waker | None = None,
) -> None:
    data = await state.get_data()
    entry_id = data.get("replace_entry_id")
    if not isinstance(entry_id, int):
        await state.set_state(None)
        return
    result = await people_changes.replace_person(
        session, entry_id, message.text or "", admin_scope, settings, clock.now(), _actor(message)
    )
    reg.wake(sender)
    if result.outcome == people_changes.Outcome.BAD_LINE:
        await message.answer(
            h(describe_errors(result.errors, 3000))
            + "\n\n"
            + _("Send the line again, or /trainee to start over.")
        )
        return
    await state.set_state(None)
    new = result.new_entry
    if result.outcome != people_changes.Outcome.DONE or new is None:
        await message.answer(_("{name} can no longer be replaced.").format(name=h(result.name)))
        return
    username = await roster_import.bot_username(session, settings)
    link = personal_link(username, new.personal_code) if username else new.personal_code
    await message.answer(
        _(
            "{new} replaces {old} in {cohort}. The old personal link no longer works. "
            "Send {new} their own link:\n{link}"
        ).format(
            new=h(new.full_name), old=h(result.name), cohort=h(result.cohort_code), link=h(link)
        )
    )


# --- /audit ---------------------------------------------------------------------------------


async def cmd_audit(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    admin_scope: set[int] | None,
) -> None:
    code = (command.args or "").strip()
    if code:
        cohort = await cohort_argument(message, session, code, admin_scope, "")
        if cohort is None or cohort.id is None:
            return
        ids, heading = [cohort.id], _("Changes to the list of {cohort}").format(cohort=cohort.code)
    else:
        cohorts = await reg.cohorts_in_scope(session, admin_scope)
        ids = [c.id for c in cohorts if c.id is not None]
        heading = _("Changes to your cohorts' lists")
    await message.answer(await auditing.audit_text(session, ids, heading))


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="trainees")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(cmd_trainee, Command("trainee"))
    router.message.register(cmd_audit, Command("audit"))
    router.message.register(on_replace_line, ReplaceForm.line, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_pick, TraineePick.filter())
    router.callback_query.register(on_action, TraineeAction.filter())
    router.callback_query.register(on_move, TraineeMove.filter())
    router.callback_query.register(on_withdraw, TraineeWithdraw.filter())
    return router
