"""Certificates for organisers: ``/certificates COHORT`` and ``/certificate_revoke``.

``/certificates COHORT`` previews what issuing would do (who gets one, who has one already,
who is refused and why) with the buttons Issue, Issue and send again (when some have one
already) and Cancel. Confirming plans again: when the cohort changed since the preview
(someone completed, or the certificates were issued meanwhile), nothing is issued and the
new preview comes instead, so a button pressed twice issues once. The trainees get their PDFs
through the outbox. ``/certificate_revoke CODE reason`` revokes one and tells its holder.
Only the organisers of the cohort's programme may; anyone else is refused.
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
from bot.i18n import ngettext
from bot.services import registration as reg
from bot.services import roles
from bot.services.certificates import codes, issuing
from bot.services.certificates.plans import describe_plan
from bot.services.certificates.render import FontsMissing
from handlers.text import MESSAGE_CHARS, h

#: How many of the organiser's cohorts the usage names at most.
MAX_COHORTS_LISTED = 50


class IssueButton(CallbackData, prefix="cri"):
    """Issue ("go"), issue and send again ("re") or cancel ("x") a cohort's preview; the
    token is the plan's digest as previewed (``cri:re:123456:0123456789ab``, 27 bytes)."""

    action: str
    cohort_id: int
    token: str


def _refusal() -> str:
    return _("Only the organisers of a programme can issue and revoke its certificates.")


async def _scope(session: AsyncSession, user_id: int, settings: Settings) -> set[int] | None:
    return await roles.admin_programme_ids(session, user_id, settings)


def _markup(plan: issuing.IssuePlan, cohort_id: int) -> InlineKeyboardMarkup | None:
    def button(text: str, action: str) -> InlineKeyboardButton:
        data = IssueButton(action=action, cohort_id=cohort_id, token=plan.token).pack()
        return InlineKeyboardButton(text=text, callback_data=data)

    rows: list[list[InlineKeyboardButton]] = []
    if plan.issue:
        rows.append([button("✅ " + _("Issue"), "go")])
    if plan.already:
        rows.append([button("🔁 " + _("Issue and send again to those already issued"), "re")])
    if not rows:
        return None
    rows.append([button("✖ " + _("Cancel"), "x")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _preview_text(plan: issuing.IssuePlan, heading: str) -> str:
    hint = _("the button below sends theirs again") if plan.already else None
    body = describe_plan(
        plan, True, html=True, limit=MESSAGE_CHARS - len(heading) - 1, already_hint=hint
    )
    return heading + "\n" + body


async def _preview(
    session: AsyncSession, settings: Settings, clock: Clock, code: str, *, reissue: bool = False
) -> issuing.IssuePlan:
    """What issuing would do now; the transaction ends before Telegram is called."""
    plan = await issuing.issue(session, settings, code, clock.now(), dry_run=True, reissue=reissue)
    await session.commit()
    return plan


async def cmd_certificates(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    if message.from_user is None:
        return
    scope = await _scope(session, message.from_user.id, settings)
    if scope is not None and not scope:
        await message.answer(_refusal())
        return
    words = (command.args or "").split()
    if len(words) != 1:
        cohorts = await reg.cohorts_in_scope(session, scope)
        usage = _("Usage: /certificates COHORT")
        if cohorts:
            usage += "\n" + _("Your cohorts: {codes}").format(
                codes=h(roles.listed([c.code for c in cohorts[:MAX_COHORTS_LISTED]]))
            )
        await message.answer(usage)
        return
    cohort = await reg.cohort_in_scope(session, words[0], scope)
    if cohort is None or cohort.id is None:
        await message.answer(await roles.cohort_outside_scope(session, words[0], scope))
        return
    cohort_id = cohort.id
    try:
        plan = await _preview(session, settings, clock, cohort.code)
    except issuing.IssueError as exc:
        await message.answer(h(str(exc)))
        return
    heading = _("Certificates of {cohort}: nothing is issued until you press Issue.").format(
        cohort=h(plan.cohort_code)
    )
    await message.answer(_preview_text(plan, heading), reply_markup=_markup(plan, cohort_id))


async def _changed(
    message: Message, session: AsyncSession, settings: Settings, clock: Clock, code: str, id_: int
) -> None:
    """The preview was out of date: nothing issued, the plan as it is now instead."""
    plan = await _preview(session, settings, clock, code)
    heading = _(
        "The certificates of {cohort} changed since that preview; nothing was issued. "
        "This is the plan now:"
    ).format(cohort=h(plan.cohort_code))
    await message.answer(_preview_text(plan, heading), reply_markup=_markup(plan, id_))


async def on_issue_button(
    query: CallbackQuery,
    callback_data: IssueButton,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    sender: issuing.Waker | None = None,
) -> None:
    scope = await _scope(session, query.from_user.id, settings)
    cohort = await roles.cohort_by_id_in_scope(session, callback_data.cohort_id, scope)
    message = query.message
    if cohort is None or cohort.id is None or not isinstance(message, Message):
        await session.commit()
        await query.answer(_refusal(), show_alert=True)
        return
    code, cohort_id = cohort.code, cohort.id
    await session.commit()
    if callback_data.action == "x":
        await query.answer()
        await message.edit_text(_("Cancelled. No certificate was issued."))
        return
    # Telegram wants the button answered within seconds; rendering may take longer.
    await query.answer(_("Issuing…"))
    reissue = callback_data.action == "re"

    async def started(plan: issuing.IssuePlan) -> None:
        count = len(plan.issue)
        await message.edit_text(
            ngettext(
                "Issuing {n} certificate for {cohort}…",
                "Issuing {n} certificates for {cohort}…",
                count,
            ).format(n=count, cohort=h(code))
        )

    try:
        plan = await issuing.issue(
            session,
            settings,
            code,
            clock.now(),
            reissue=reissue,
            sender=sender,
            expected=callback_data.token,
            on_start=started,
        )
    except issuing.PlanChanged:
        await _changed(message, session, settings, clock, code, cohort_id)
        return
    except FontsMissing as exc:
        await session.rollback()
        await message.edit_text(
            _(
                "No certificate was issued: a font the certificates need is missing. Ask the "
                "bot's administrator to install it: {missing}"
            ).format(missing=h(str(exc)))
        )
        return
    except issuing.IssueError as exc:
        await message.edit_text(h(str(exc)))
        return
    await message.edit_text(describe_plan(plan, False, html=True, limit=MESSAGE_CHARS))


async def _revocable(session: AsyncSession, code_text: str, scope: set[int]) -> bool:
    """Whether the code is malformed (revoking says so) or names a certificate of a programme
    in ``scope``; another programme's certificate is said to be unknown, like its cohorts."""
    if codes.normalise(code_text) is None:
        return True
    found = await issuing.certificate_by_code(session, code_text)
    programme_id = None if found is None else await issuing.programme_of(session, found)
    return programme_id is not None and programme_id in scope


async def cmd_revoke(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    sender: issuing.Waker | None = None,
) -> None:
    if message.from_user is None:
        return
    scope = await _scope(session, message.from_user.id, settings)
    if scope is not None and not scope:
        await message.answer(_refusal())
        return
    words = (command.args or "").split(maxsplit=1)
    if len(words) < 2:
        await message.answer(_("Usage: /certificate_revoke CODE reason"))
        return
    code_text, reason = words
    if scope is not None and not await _revocable(session, code_text, scope):
        await session.commit()
        await message.answer(
            _("There is no certificate {code} among the programmes you organise.").format(
                code=h(codes.shown(codes.normalise(code_text) or code_text))
            )
        )
        return
    try:
        certificate = await issuing.revoke(
            session, settings, code_text, reason, clock.now(), sender
        )
    except issuing.RevokeError as exc:
        await session.rollback()
        await message.answer(h(str(exc)))
        return
    await message.answer(
        _("Revoked certificate {code} of {name}; they are told why.").format(
            code=codes.shown(certificate.code), name=h(certificate.holder_name)
        )
    )


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="certificates.organiser")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_certificates, Command("certificates"))
    router.message.register(cmd_revoke, Command("certificate_revoke"))
    router.callback_query.register(on_issue_button, IssueButton.filter())
    return router
