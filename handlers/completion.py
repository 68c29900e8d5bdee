"""Completion for organisers: ``/completion [COHORT]`` and ``/completion_except``.

``/completion [COHORT]`` lists the cohort's active trainees against the programme's rule, those
at risk first, in one message ("…and N more" past Telegram's limit). Without a code, the
organiser's only cohort, else the list of their cohorts to name one.
``/completion_except COHORT NAME-OR-EMAIL | reason`` marks a trainee as completed by
exception; ``/completion_unexcept COHORT NAME-OR-EMAIL`` drops it. Only the organisers of the
cohort's programme may; anyone else is refused.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import registration as reg
from bot.services import roles
from bot.services.completion import exceptions, report
from bot.services.completion.standings import completion_of_code
from handlers.text import h


async def _scope(message: Message, session: AsyncSession, settings: Settings) -> set[int] | None:
    """The organiser's programmes (None: all); answers and raises nothing for others."""
    assert message.from_user is not None
    return await roles.admin_programme_ids(session, message.from_user.id, settings)


def _refusal() -> str:
    return _("Only the organisers of a programme can see and change its completion.")


async def cmd_completion(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    if message.from_user is None:
        return
    scope = await _scope(message, session, settings)
    if scope is not None and not scope:
        await message.answer(_refusal())
        return
    words = (command.args or "").split()
    if len(words) > 1:
        await message.answer(_("Usage: /completion [COHORT]"))
        return
    if not words:
        cohorts = await reg.cohorts_in_scope(session, scope)
        if not cohorts:
            await message.answer(_("You organise no cohort yet."))
            return
        if len(cohorts) > 1:
            await message.answer(
                _("Which cohort? Send /completion COHORT, one of: {codes}").format(
                    codes=h(roles.listed([c.code for c in cohorts[:50]]))
                )
            )
            return
        code = cohorts[0].code
    else:
        found = await reg.cohort_in_scope(session, words[0], scope)
        if found is None:
            await message.answer(await roles.cohort_outside_scope(session, words[0], scope))
            return
        code = found.code
    table = await completion_of_code(session, code, clock.now())
    await session.commit()  # a read: the transaction ends before Telegram is called
    if table is None:
        await message.answer(_("There is no cohort {code}.").format(code=h(code)))
        return
    await message.answer(report.fit_message(report.table_lines(table)))


async def _change(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    *,
    remove: bool,
) -> None:
    if message.from_user is None:
        return
    scope = await _scope(message, session, settings)
    if scope is not None and not scope:
        await message.answer(_refusal())
        return
    text = (command.args or "").strip()
    head, _bar, reason = text.partition("|")
    words = head.split(maxsplit=1)
    if len(words) < 2:
        await message.answer(
            _("Usage: /completion_unexcept COHORT NAME-OR-EMAIL")
            if remove
            else _("Usage: /completion_except COHORT NAME-OR-EMAIL | reason")
        )
        return
    cohort = await reg.cohort_in_scope(session, words[0], scope)
    if cohort is None:
        await message.answer(await roles.cohort_outside_scope(session, words[0], scope))
        return
    try:
        change = await exceptions.change_exception(
            session,
            cohort,
            words[1],
            reason,
            remove=remove,
            actor_id=message.from_user.id,
            interface="telegram",
            now=clock.now(),
        )
    except exceptions.ExceptionRefused as refused:
        await session.rollback()
        await message.answer(h(str(refused)))
        return
    await message.answer(h(exceptions.change_text(change)))


async def cmd_except(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    await _change(message, command, session, settings, clock, remove=False)


async def cmd_unexcept(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    await _change(message, command, session, settings, clock, remove=True)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="completion")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_completion, Command("completion"))
    router.message.register(cmd_except, Command("completion_except"))
    router.message.register(cmd_unexcept, Command("completion_unexcept"))
    return router
