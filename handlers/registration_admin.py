"""Registration, organiser side: cohorts, rosters, requests, invitations and roles.

The router lets through anyone who organises something (a super-admin, or a programme admin
or coordinator of any programme); each command then checks that the programme in question is
inside the person's scope, and answers as if an outside cohort did not exist.
"""

from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db import registration as reg_db
from bot.db.models import Cohort
from bot.delivery.sender import Sender
from bot.i18n import gettext as _
from bot.services import programmes, roles
from bot.services import registration as reg
from bot.services.countries import country_name
from bot.services.roster import MAX_FILE_BYTES
from bot.services.roster import importing as roster_import
from handlers.filters import IsAnyAdmin
from handlers.menus import set_chat_menu
from handlers.text import h

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
#: At most this many requests are shown with buttons at once; /pending again shows the rest.
MAX_PENDING_SHOWN = 20


class RosterCohort(CallbackData, prefix="rimp"):
    cohort_id: int


class RosterConfirm(CallbackData, prefix="rimpok"):
    cohort_id: int
    confirm: bool


class RequestDecision(CallbackData, prefix=reg.DECISION_PREFIX):
    action: str  # "a" approve, "r" reject
    enrolment_id: int


def chunks(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines joined into as few messages as fit Telegram's limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = line[: limit - 1]
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


async def _cohort_argument(
    message: Message, session: AsyncSession, code: str, scope: set[int] | None, usage: str
) -> Cohort | None:
    """The cohort a command names, or ``None`` after telling the person how to name one."""
    if not code:
        await message.answer(usage)
        return None
    cohort = await reg.cohort_in_scope(session, code, scope)
    if cohort is None:
        await message.answer(
            _("There is no cohort {code} among the programmes you organise.").format(code=h(code))
        )
    return cohort


# --- /cohorts -------------------------------------------------------------------------------


async def cmd_cohorts(
    message: Message, session: AsyncSession, admin_scope: set[int] | None, locale: str
) -> None:
    summaries = await programmes.summarise(session, admin_scope)
    if not summaries:
        await message.answer(_("You organise no programme yet."))
        return
    modes = {
        "roster": _("personal links"),
        "open": _("open"),
        "approval": _("with approval"),
    }
    lines: list[str] = []
    for programme in summaries:
        lines.append(f"<b>{h(programme.title(locale))}</b> ({h(programme.code)})")
        if not programme.cohorts:
            lines.append(_("  no cohorts"))
        for c in programme.cohorts:
            capacity = (
                _("capacity {capacity}").format(capacity=c.capacity)
                if c.capacity is not None
                else _("no limit")
            )
            lines.append(
                f"• <code>{h(c.code)}</code> {h(c.name)} — {modes.get(c.registration_mode, '')},"
                f" {capacity}"
            )
            lines.append(
                "  "
                + _(
                    "registered {registered} · invited, not joined {invited} · pending "
                    "{pending} · waiting {waiting}"
                ).format(
                    registered=c.registered,
                    invited=c.invited,
                    pending=c.pending,
                    waiting=c.waiting,
                )
            )
        lines.append("")
    for text in chunks(lines):
        await message.answer(text)


# --- /roster CODE [xlsx] --------------------------------------------------------------------


async def cmd_roster(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
) -> None:
    parts = (command.args or "").split()
    cohort = await _cohort_argument(
        message,
        session,
        parts[0] if parts else "",
        admin_scope,
        _("Usage: /roster COHORT_CODE [xlsx]"),
    )
    if cohort is None:
        return
    fmt = "xlsx" if len(parts) > 1 and parts[1].lower() == "xlsx" else "csv"
    username = await roster_import.bot_username(session, settings)
    content = await roster_import.roster_export(session, cohort, username, fmt)
    await message.answer_document(
        BufferedInputFile(content, filename=f"roster-{cohort.code}.{fmt}"),
        caption=_("Roster of {cohort}, with each person's status.").format(cohort=h(cohort.code)),
    )


# --- /pending and decisions -----------------------------------------------------------------


def _request_text(request: reg.PendingRequest, locale: str) -> str:
    country = country_name(request.country, locale) if request.country else "—"
    return "\n".join(
        [
            _("Request for {cohort}:").format(cohort=h(request.cohort_code)),
            h(request.full_name),
            h(request.organisation or "—"),
            h(country),
            h(request.email or "—"),
        ]
    )


def _decision_keyboard(enrolment_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="✅ " + _("Approve"),
                    callback_data=RequestDecision(action="a", enrolment_id=enrolment_id).pack(),
                ),
                InlineKeyboardButton(
                    text="✖ " + _("Reject"),
                    callback_data=RequestDecision(action="r", enrolment_id=enrolment_id).pack(),
                ),
            ]
        ]
    )


async def cmd_pending(
    message: Message, session: AsyncSession, admin_scope: set[int] | None, locale: str
) -> None:
    requests = await reg.pending_requests(session, admin_scope)
    if not requests:
        await message.answer(_("No registration requests are waiting."))
        return
    for request in requests[:MAX_PENDING_SHOWN]:
        await message.answer(
            _request_text(request, locale), reply_markup=_decision_keyboard(request.enrolment_id)
        )
    rest = len(requests) - MAX_PENDING_SHOWN
    if rest > 0:
        await message.answer(
            _("…and {count} more; decide these, then send /pending again.").format(count=rest)
        )


async def on_decision(
    query: CallbackQuery,
    callback_data: RequestDecision,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    sender: Sender | None = None,
) -> None:
    if callback_data.action not in ("a", "r"):
        await query.answer(_("This button is no longer active."))
        return
    decision = await reg.decide(
        session,
        query.from_user.id,
        callback_data.enrolment_id,
        callback_data.action == "a",
        settings,
        clock,
        sender,
    )
    if decision.outcome in (reg.DecisionOutcome.UNKNOWN, reg.DecisionOutcome.FORBIDDEN):
        await query.answer(_("This button is no longer active."))
        return
    name, cohort = h(decision.full_name), h(decision.cohort_code)
    if decision.outcome == reg.DecisionOutcome.APPROVED:
        text = _("✅ Approved: {name} ({cohort}).").format(name=name, cohort=cohort)
    elif decision.outcome == reg.DecisionOutcome.REJECTED:
        text = _("✖ Rejected: {name} ({cohort}).").format(name=name, cohort=cohort)
    else:
        text = _("Already decided: {name} ({cohort}).").format(name=name, cohort=cohort)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=None)


# --- /invite CODE ---------------------------------------------------------------------------


async def cmd_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
) -> None:
    code = (command.args or "").strip()
    cohort = await _cohort_argument(
        message, session, code, admin_scope, _("Usage: /invite COHORT_CODE")
    )
    if cohort is None:
        return
    if cohort.registration_mode not in ("open", "approval"):
        await message.answer(
            _(
                "{cohort} takes nominated trainees only: each has a personal link, listed in "
                "the roster export (/roster {cohort})."
            ).format(cohort=h(cohort.code))
        )
        return
    username = await roster_import.bot_username(session, settings)
    if username is None:
        await message.answer(_("I do not know my own username yet; restart me and try again."))
        return
    link = roster_import.personal_link(username, cohort.code)
    note = (
        _("Anyone with this link can register; the organisers approve each request.")
        if cohort.registration_mode == "approval"
        else _("Anyone with this link can register.")
    )
    await message.answer(
        _("Cohort link for {cohort}:").format(cohort=h(cohort.code)) + f"\n{link}\n\n{note}"
    )


# --- /grant and /revoke ---------------------------------------------------------------------


async def _change_grant(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    grant: bool,
) -> None:
    if message.from_user is None:
        return
    parts = (command.args or "").split()
    usage = (
        _("Usage: /grant USER_ID PROGRAMME_CODE admin|coordinator")
        if grant
        else _("Usage: /revoke USER_ID PROGRAMME_CODE admin|coordinator")
    )
    if len(parts) != 3 or not parts[0].isdigit():
        await message.answer(usage)
        return
    result = await roles.change_grant(
        session,
        actor_id=message.from_user.id,
        user_id=int(parts[0]),
        programme_code=parts[1],
        role_word=parts[2],
        grant=grant,
        settings=settings,
        now=clock.now(),
    )
    outcome = result.outcome
    if outcome in (roles.GrantOutcome.FORBIDDEN, roles.GrantOutcome.UNKNOWN_PROGRAMME):
        await message.answer(
            _(
                "You cannot change roles in programme {programme}: only its admins and the "
                "super-admins can."
            ).format(programme=h(parts[1]))
            if outcome == roles.GrantOutcome.FORBIDDEN
            else _("There is no programme {programme}.").format(programme=h(parts[1]))
        )
        return
    if outcome == roles.GrantOutcome.UNKNOWN_ROLE:
        await message.answer(usage)
        return
    role = _("admin") if result.role == roles.ROLE_ADMIN else _("coordinator")
    values = {"user": parts[0], "role": role, "programme": h(result.programme_code or "")}
    if outcome != roles.GrantOutcome.UNCHANGED and message.bot is not None:
        # Their private chat shows the admin commands while they organise anything.
        person = int(parts[0])
        organises = await roles.is_any_admin(session, person, settings)
        await set_chat_menu(message.bot, person, settings, admin=organises)
    if outcome == roles.GrantOutcome.UNCHANGED:
        await message.answer(_("Nothing to change."))
    elif grant:
        await message.answer(_("Done: {user} is now {role} of {programme}.").format(**values))
    else:
        await message.answer(_("Done: {user} is no longer {role} of {programme}.").format(**values))


async def cmd_grant(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    await _change_grant(message, command, session, settings, clock, grant=True)


async def cmd_revoke(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    await _change_grant(message, command, session, settings, clock, grant=False)


# --- a roster sent as a file ----------------------------------------------------------------


def _fmt_of(filename: str) -> str:
    return "xlsx" if filename.lower().endswith(".xlsx") else "csv"


async def on_roster_file(
    message: Message,
    session: AsyncSession,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
) -> None:
    if message.document is None:
        return
    document = message.document
    if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
        await message.answer(
            _("The file is larger than {limit} MB; split it into smaller files.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
        return
    cohorts = await reg_db.list_cohorts(session, admin_scope)
    if not cohorts:
        await message.answer(_("You organise no cohort yet, so there is nothing to import into."))
        return
    await state.update_data(
        roster_file_id=document.file_id, roster_file_name=document.file_name or "roster.csv"
    )
    caption = (message.caption or "").strip()
    chosen = [c for c in cohorts if c.code == caption] if caption else []
    if len(cohorts) == 1 or chosen:
        cohort = (chosen or cohorts)[0]
        if cohort.id is not None:
            await _preview(message, message.bot, session, state, cohort.id, cohort.code, clock)
        return
    rows = [
        [
            InlineKeyboardButton(
                text=f"{c.code} — {c.name}"[:60] if c.name else c.code,
                callback_data=RosterCohort(cohort_id=c.id).pack(),
            )
        ]
        for c in cohorts[:50]
        if c.id is not None
    ]
    await message.answer(
        _("Which cohort is this roster for?"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def _download(bot: Bot | None, file_id: str) -> bytes | None:
    if bot is None:
        return None
    buffer = io.BytesIO()
    try:
        await bot.download(file_id, destination=buffer)
    except (TelegramAPIError, OSError) as exc:
        log.warning("roster download failed: %s", exc)
        return None
    return buffer.getvalue()


async def _checked_cohort(
    session: AsyncSession, scope: set[int] | None, cohort_id: int
) -> str | None:
    cohort = await roles.cohort_by_id_in_scope(session, cohort_id, scope)
    return None if cohort is None else cohort.code


async def _preview(
    message: Message,
    bot: Bot | None,
    session: AsyncSession,
    state: FSMContext,
    cohort_id: int,
    cohort_code: str,
    clock: Clock,
) -> None:
    data = await state.get_data()
    file_id = data.get("roster_file_id")
    if not isinstance(file_id, str):
        await message.answer(_("Send the roster file again, please."))
        return
    content = await _download(bot, file_id)
    if content is None:
        await message.answer(_("I could not download the file; send it again, please."))
        return
    outcome = await roster_import.import_roster(
        session,
        cohort_id,
        content,
        str(data.get("roster_file_name", "roster.csv")),
        clock.now(),
        dry_run=True,
    )
    if outcome.result is None:
        await state.update_data(roster_file_id=None)
        await message.answer(h(roster_import.describe_errors(outcome.errors, MESSAGE_LIMIT - 200)))
        return
    await message.answer(
        h(roster_import.describe_result(outcome.result, cohort_code, done=False)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text="✅ " + _("Confirm"),
                        callback_data=RosterConfirm(cohort_id=cohort_id, confirm=True).pack(),
                    ),
                    InlineKeyboardButton(
                        text="✖ " + _("Cancel"),
                        callback_data=RosterConfirm(cohort_id=cohort_id, confirm=False).pack(),
                    ),
                ]
            ]
        ),
    )


async def on_roster_cohort(
    query: CallbackQuery,
    callback_data: RosterCohort,
    session: AsyncSession,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
) -> None:
    code = await _checked_cohort(session, admin_scope, callback_data.cohort_id)
    if code is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _preview(query.message, bot, session, state, callback_data.cohort_id, code, clock)


async def on_roster_confirm(
    query: CallbackQuery,
    callback_data: RosterConfirm,
    session: AsyncSession,
    settings: Settings,
    admin_scope: set[int] | None,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    code = await _checked_cohort(session, admin_scope, callback_data.cohort_id)
    data = await state.get_data()
    file_id = data.get("roster_file_id")
    if code is None or message is None or not isinstance(file_id, str):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    if not callback_data.confirm:
        await state.update_data(roster_file_id=None)
        await message.edit_text(_("Import cancelled; nothing was changed."))
        return
    content = await _download(bot, file_id)
    if content is None:
        await message.answer(_("I could not download the file; send it again, please."))
        return
    filename = str(data.get("roster_file_name", "roster.csv"))
    outcome = await roster_import.import_roster(
        session, callback_data.cohort_id, content, filename, clock.now()
    )
    await state.update_data(roster_file_id=None)
    if outcome.result is None:
        await message.edit_text(
            h(roster_import.describe_errors(outcome.errors, MESSAGE_LIMIT - 200))
        )
        return
    await message.edit_text(h(roster_import.describe_result(outcome.result, code, done=True)))
    username = await roster_import.bot_username(session, settings)
    if username is None:
        await message.answer(
            _("I do not know my own username yet, so I cannot make the personal links.")
        )
        return
    fmt = _fmt_of(filename)
    await message.answer_document(
        BufferedInputFile(
            roster_import.links_file(outcome.result.entries, username, fmt),
            filename=f"links-{code}.{fmt}",
        ),
        caption=_("Personal invite links for {cohort}: send each person their own.").format(
            cohort=h(code)
        ),
    )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="registration_admin")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(cmd_cohorts, Command("cohorts"))
    router.message.register(cmd_roster, Command("roster"))
    router.message.register(cmd_pending, Command("pending"))
    router.callback_query.register(on_decision, RequestDecision.filter())
    router.message.register(cmd_invite, Command("invite"))
    router.message.register(cmd_grant, Command("grant"))
    router.message.register(cmd_revoke, Command("revoke"))
    router.message.register(on_roster_file, F.document)
    router.callback_query.register(on_roster_cohort, RosterCohort.filter())
    router.callback_query.register(on_roster_confirm, RosterConfirm.filter())
    return router
