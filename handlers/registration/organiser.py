"""Registration, organiser side: cohorts, requests awaiting approval, invitations and roles.

The router lets through anyone who organises something (a super-admin, or a programme admin
or coordinator of any programme); each command then checks that the programme in question is
inside the person's scope, and answers as if an outside cohort did not exist.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import programmes, roles
from bot.services import registration as reg
from bot.services.attendance import trainers
from bot.services.countries import country_name
from bot.services.roster import importing as roster_import
from handlers.filters import IsAnyAdmin
from handlers.menus import set_chat_menu
from handlers.registration.common import cohort_argument
from handlers.text import h

MESSAGE_LIMIT = 4096
#: At most this many requests are shown with buttons at once; /pending again shows the rest.
MAX_PENDING_SHOWN = 20


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
    sender: reg.Waker | None = None,
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
    cohort = await cohort_argument(
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
        _(
            "Usage: /grant USER_ID PROGRAMME_CODE admin|coordinator, or "
            "/grant USER_ID trainer COHORT_CODE"
        )
        if grant
        else _(
            "Usage: /revoke USER_ID PROGRAMME_CODE admin|coordinator, or "
            "/revoke USER_ID trainer COHORT_CODE"
        )
    )
    if (
        len(parts) == 3
        and parts[0].isdigit()
        and trainers.TRAINER_WORD
        in (
            parts[1].lower(),
            parts[2].lower(),
        )
    ):
        cohort_code = parts[2] if parts[1].lower() == trainers.TRAINER_WORD else parts[1]
        await _change_trainer(message, session, settings, clock, int(parts[0]), cohort_code, grant)
        return
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


async def _change_trainer(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    user_id: int,
    cohort_code: str,
    grant: bool,
) -> None:
    if message.from_user is None:
        return
    result = await trainers.change_trainer(
        session,
        actor_id=message.from_user.id,
        user_id=user_id,
        cohort_code=cohort_code,
        grant=grant,
        settings=settings,
        now=clock.now(),
    )
    values = {"user": user_id, "cohort": h(result.programme_code or cohort_code)}
    if result.outcome == roles.GrantOutcome.FORBIDDEN:
        await message.answer(
            _(
                "You cannot change the trainers of {cohort}: only its programme's admins and "
                "the super-admins can."
            ).format(**values)
        )
    elif result.outcome == roles.GrantOutcome.UNKNOWN_PROGRAMME:
        await message.answer(_("There is no cohort {cohort}.").format(**values))
    elif result.outcome == roles.GrantOutcome.UNCHANGED:
        await message.answer(_("Nothing to change."))
    elif grant:
        await message.answer(_("Done: {user} is now a trainer of {cohort}.").format(**values))
    else:
        await message.answer(_("Done: {user} is no longer a trainer of {cohort}.").format(**values))


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


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="registration.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE, IsAnyAdmin())
    router.callback_query.filter(IsAnyAdmin())
    router.message.register(cmd_cohorts, Command("cohorts"))
    router.message.register(cmd_pending, Command("pending"))
    router.callback_query.register(on_decision, RequestDecision.filter())
    router.message.register(cmd_invite, Command("invite"))
    router.message.register(cmd_grant, Command("grant"))
    router.message.register(cmd_revoke, Command("revoke"))
    return router
