"""The staff inbox, staff side: /link_staff in the staff group, a staff member's reply going
back to the trainee, the buttons under each question (Send this answer, Claim, Close, Add to
FAQ) and /inbox.

A reply counts in the trainee's forum topic, or as a reply to the bot's copy of a question
(in a group without topics, or in an admin's private chat when no staff group is linked).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import yaml
from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import gettext as _
from bot.services import roles
from bot.services.faq import inbox
from handlers.filters import IsAnyAdmin
from handlers.text import fit_lines, h

log = logging.getLogger(__name__)

_GROUPS = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})
_CHAT_ADMINS = {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR}


async def cmd_link_staff(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    bot: Bot,
) -> None:
    if message.from_user is None:
        return
    code = (command.args or "").strip()
    if not code:
        await message.reply(_("Usage: /link_staff PROGRAMME_CODE"))
        return
    try:
        member = await bot.get_chat_member(message.chat.id, message.from_user.id)
    except TelegramAPIError as exc:
        log.warning("getChatMember failed in %s: %s", message.chat.id, exc)
        await message.reply(_("I could not check your rights in this group; try again later."))
        return
    scope = await roles.admin_programme_ids(session, message.from_user.id, settings)
    if member.status not in _CHAT_ADMINS or (scope is not None and not scope):
        await message.reply(
            _("Only a programme admin who administers this group can make it the staff group.")
        )
        return
    has_topics = bool(message.chat.is_forum)
    outcome = await inbox.link_staff_chat(
        session, code, message.chat.id, has_topics, message.from_user.id, scope, clock
    )
    if outcome == inbox.LinkOutcome.UNKNOWN:
        await message.reply(
            _("There is no programme {code} among the programmes you organise.").format(
                code=h(code)
            )
        )
    elif outcome == inbox.LinkOutcome.ALREADY:
        await message.reply(
            _("This group is already the staff group of {code}.").format(code=h(code))
        )
    elif has_topics:
        await message.reply(
            _(
                "Done: trainees' questions for {code} arrive here, one topic per trainee. "
                "Reply in a topic and I pass the reply on."
            ).format(code=h(code))
        )
    else:
        await message.reply(
            _(
                "Done: trainees' questions for {code} arrive here. Reply to a question and I "
                "pass the reply on. Turn topics on and send /link_staff again for a topic per "
                "trainee."
            ).format(code=h(code))
        )


async def on_staff_message(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    sender: inbox.Waker | None = None,
) -> None:
    """A staff member wrote in a trainee's topic, or replied to a question's copy (in the
    staff group, or in an organiser's private chat)."""
    if message.from_user is None or message.from_user.is_bot or not message.text:
        raise SkipHandler
    reply = message.reply_to_message
    reply_to = (
        reply.message_id
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id
        else None
    )
    thread = message.message_thread_id if message.is_topic_message else None
    if reply_to is None and thread is None:
        raise SkipHandler
    copy_buttons = (
        [
            button.callback_data
            for row in reply.reply_markup.inline_keyboard
            for button in row
            if button.callback_data
        ]
        if reply_to is not None and reply is not None and reply.reply_markup is not None
        else []
    )
    question = await inbox.question_in(session, message.chat.id, thread, reply_to, copy_buttons)
    if question is None:
        raise SkipHandler
    sent = await inbox.answer_from_staff(
        session,
        settings,
        question,
        message.chat.id,
        message.message_id,
        message.text,
        clock,
        sender,
    )
    if sent:
        await message.reply(_("✓ Sent to the trainee."))
    else:
        await message.reply(_("This trainee has left and can no longer be reached."))


class _Refused(Exception):
    """A button pressed by someone who may not, or one that makes no sense."""


async def _scope_for(
    query: CallbackQuery, session: AsyncSession, settings: Settings, ids: list[int], size: int
) -> set[int] | None:
    """Who may press a question's buttons: anyone in the staff group it was posted in (all
    programmes: None), else the programme's organisers (their scope)."""
    if len(ids) != size:
        raise _Refused
    question = await inbox.question_for_staff(session, ids[0], None)
    if question is None:
        raise _Refused
    chat = query.message.chat.id if query.message is not None else None
    if chat is not None and chat == question.staff_chat_id and chat < 0:
        return None
    scope = await roles.admin_programme_ids(session, query.from_user.id, settings)
    if scope is not None and question.programme_id not in scope:
        raise _Refused
    return scope


def _ids(data: str | None) -> list[int]:
    try:
        return [int(part) for part in (data or "").split(":")[1:]]
    except ValueError:
        return []


async def on_send_entry(
    query: CallbackQuery,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    sender: inbox.Waker | None = None,
) -> None:
    ids = _ids(query.data)
    try:
        scope = await _scope_for(query, session, settings, ids, 2)
    except _Refused:
        scope, ids = set(), [0, 0]
    key = await inbox.send_entry(
        session, settings, ids[0], ids[1], query.from_user.id, scope, clock, sender
    )
    if key is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(_("Sent to the trainee."))
    if isinstance(query.message, Message):
        await query.message.reply(
            _("{name} sent the FAQ answer “{key}”.").format(
                name=h(query.from_user.full_name), key=h(key)
            )
        )


async def on_claim(query: CallbackQuery, session: AsyncSession, settings: Settings) -> None:
    ids = _ids(query.data)
    try:
        scope = await _scope_for(query, session, settings, ids, 1)
        question = await inbox.claim(session, ids[0], query.from_user.id, scope)
    except _Refused:
        question = None
    if question is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(_("It is yours."))
    if isinstance(query.message, Message):
        await query.message.reply(
            _("{name} is answering this question.").format(name=h(query.from_user.full_name))
        )


async def on_close(
    query: CallbackQuery, session: AsyncSession, settings: Settings, clock: Clock
) -> None:
    ids = _ids(query.data)
    try:
        scope = await _scope_for(query, session, settings, ids, 1)
        question = await inbox.close(session, ids[0], scope, clock)
    except _Refused:
        question = None
    if question is None:
        await query.answer(_("This button is no longer active."))
        return
    await query.answer(_("Closed."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.reply(
            _("{name} closed this question.").format(name=h(query.from_user.full_name))
        )


async def on_add_to_faq(query: CallbackQuery, session: AsyncSession, settings: Settings) -> None:
    ids = _ids(query.data)
    try:
        await _scope_for(query, session, settings, ids, 1)
        draft = await inbox.draft_entry(session, ids[0])
    except _Refused:
        draft = None
    if draft is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    await query.answer()
    text = yaml.safe_dump([draft], allow_unicode=True, sort_keys=False, width=80)
    await query.message.reply(
        fit_lines(
            [
                _(
                    "A draft entry for the FAQ: correct it, add other languages, put it in the "
                    "programme's FAQ file and import the file again."
                ),
                "",
                f"<pre>{h(text)}</pre>",
            ]
        )
    )


def age_text(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    if minutes < 48 * 60:
        return _("{hours} h").format(hours=minutes // 60)
    return _("{days} d").format(days=minutes // (24 * 60))


async def cmd_inbox(
    message: Message, session: AsyncSession, settings: Settings, clock: Clock
) -> None:
    if message.from_user is None:
        return
    scope = await roles.admin_programme_ids(session, message.from_user.id, settings)
    if message.chat.type != ChatType.PRIVATE:
        scope = await inbox.programmes_of_staff_chat(session, message.chat.id)
        if not scope:
            raise SkipHandler
    lines = await inbox.inbox(session, scope, clock.now())
    if not lines:
        await message.answer(_("No open questions. 🎉"))
        return
    shown = [_("Open questions ({count}), oldest first:").format(count=len(lines))]
    for line in lines:
        status = _("answered") if line.answered else _("waiting")
        if line.status == "claimed":
            status += ", " + _("claimed")
        text = line.text.replace("\n", " ")
        shown.append(
            f"#{line.question_id} · {age_text(line.age)} · {status} — {h(text[:120]) or '—'}"
        )
    await message.answer(fit_lines(shown))


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="faq.staff")
    router.message.register(cmd_link_staff, _GROUPS, Command("link_staff"))
    router.message.register(cmd_inbox, _GROUPS, Command("inbox"))
    router.message.register(on_staff_message, _GROUPS, F.text, ~F.text.startswith("/"))
    router.message.register(
        cmd_inbox, F.chat.type == ChatType.PRIVATE, Command("inbox"), IsAnyAdmin()
    )
    router.message.register(
        on_staff_message,
        F.chat.type == ChatType.PRIVATE,
        F.reply_to_message,
        F.text,
        ~F.text.startswith("/"),
        IsAnyAdmin(),
    )
    router.callback_query.register(on_send_entry, F.data.startswith(inbox.SEND_PREFIX + ":"))
    router.callback_query.register(on_claim, F.data.startswith(inbox.CLAIM_PREFIX + ":"))
    router.callback_query.register(on_close, F.data.startswith(inbox.CLOSE_PREFIX + ":"))
    router.callback_query.register(on_add_to_faq, F.data.startswith(inbox.ADD_PREFIX + ":"))
    return router
