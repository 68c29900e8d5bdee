"""Cohort group chats: linking a group to a cohort, join requests, supergroup upgrades."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import ChatJoinRequest, ChatMemberUpdated, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import groups, roles
from handlers.text import h

log = logging.getLogger(__name__)

_GROUPS = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})
_PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR}
_CHAT_ADMINS = {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR}


async def on_added_to_group(event: ChatMemberUpdated) -> None:
    old, new = event.old_chat_member.status, event.new_chat_member.status
    if new not in _PRESENT or old in _PRESENT:
        return
    await event.answer(
        _(
            "Hello! I am the assistant of your training programme. To make this the group of a "
            "cohort, a group admin who organises the programme sends here:\n"
            "/link COHORT_CODE\n"
            "Make me an administrator with the right to invite users, so that I can send "
            "registered trainees their invitation and approve their join requests."
        )
    )


async def cmd_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    sender: groups.Waker | None = None,
) -> None:
    if message.from_user is None:
        return
    code = (command.args or "").strip()
    if not code:
        await message.reply(_("Usage: /link COHORT_CODE"))
        return
    try:
        member = await bot.get_chat_member(message.chat.id, message.from_user.id)
    except TelegramAPIError as exc:
        log.warning("getChatMember failed in %s: %s", message.chat.id, exc)
        await message.reply(_("I could not check your rights in this group; try again later."))
        return
    if member.status not in _CHAT_ADMINS:
        await message.reply(_("Only an administrator of this group can link it to a cohort."))
        return
    scope = await roles.admin_programme_ids(session, message.from_user.id, settings)
    if scope is not None and not scope:
        await message.reply(_("Only the programme's organisers can link a group to a cohort."))
        return
    outcome = await groups.link_group(
        session, code, message.chat.id, scope, clock, settings, sender
    )
    if outcome == groups.LinkOutcome.UNKNOWN:
        await message.reply(await roles.cohort_outside_scope(session, code, scope))
    elif outcome == groups.LinkOutcome.ALREADY:
        await message.reply(_("This group is already linked to {code}.").format(code=h(code)))
    else:
        await message.reply(
            _(
                "Done: this is now the group of {code}. Registered trainees get a personal "
                "invitation, and I approve join requests from them."
            ).format(code=h(code))
        )


async def on_migrated(message: Message, session: AsyncSession) -> None:
    if message.migrate_to_chat_id is not None:
        await groups.group_migrated(session, message.chat.id, message.migrate_to_chat_id)


async def on_join_request(request: ChatJoinRequest, session: AsyncSession) -> None:
    allowed = await groups.may_join_group(session, request.chat.id, request.from_user.id)
    if allowed is None:
        return
    try:
        if allowed:
            await request.approve()
        else:
            await request.decline()
    except TelegramAPIError as exc:
        log.warning("join request in %s not settled: %s", request.chat.id, exc)


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="groups")
    router.my_chat_member.register(on_added_to_group, _GROUPS)
    router.message.register(cmd_link, _GROUPS, Command("link"))
    router.message.register(on_migrated, F.migrate_to_chat_id)
    router.chat_join_request.register(on_join_request)
    return router
