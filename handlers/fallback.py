"""Last router: whatever no feature took gets a short hint, never silence or an error.

In a private chat: an unknown command, a command that works in a group chat only, a file from
someone who organises nothing (organisers' files are all taken by their routers), anything
else. In a group: a command of ours that works in a private chat only gets a one-line pointer
there; anything else stays unanswered, the group's talk is not ours.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.i18n import gettext as _
from handlers.menus import ADMIN_COMMANDS, TRAINEE_COMMANDS
from handlers.text import h

_ADMIN_NAMES = frozenset(name for name, _description in ADMIN_COMMANDS)
#: Our commands that only a group chat takes, and where they are used.
_GROUP_ONLY = frozenset({"link", "link_staff"})
_GROUPS = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})
#: Every command of ours; one that reaches this router from a group works in private only.
_OURS = _ADMIN_NAMES | {name for name, _description in TRAINEE_COMMANDS} | {"cancel"}


def _command(message: Message) -> tuple[str, str | None]:
    """The command's name (with its slash) and the bot it was addressed to, if any."""
    word = (message.text or "").split(maxsplit=1)[0]
    name, _at, mention = word.partition("@")
    return name[:40], mention or None


def _group_only_hint(command: str) -> str:
    if command == "/link_staff":
        return _(
            "Use /link_staff in the staff group: add me to the group, then send "
            "/link_staff PROGRAMME_CODE there."
        )
    return _(
        "Use {command} in the cohort's group chat: add me to the group, then send "
        "{command} COHORT_CODE there."
    ).format(command=h(command))


async def on_unknown_command(message: Message) -> None:
    command, _mention = _command(message)
    if command.removeprefix("/") in _GROUP_ONLY:
        await message.answer(_group_only_hint(command))
        return
    if command.removeprefix("/") in _ADMIN_NAMES:
        await message.answer(
            _("Sorry, {command} is only for the programme's organisers.").format(command=h(command))
        )
        return
    await message.answer(
        _("I do not know the command {command}. /help lists what I can do.").format(
            command=h(command)
        )
    )


async def on_private_command_in_group(message: Message, bot: Bot) -> None:
    command, mention = _command(message)
    if command.removeprefix("/") not in _OURS:
        return
    if mention is not None:
        me = await bot.me()
        if (me.username or "").casefold() != mention.casefold():
            return
    await message.reply(
        _("{command} works in a private chat with me: open the chat and send it there.").format(
            command=h(command)
        )
    )


async def on_document(message: Message) -> None:
    await message.answer(
        _(
            "Only the programme's organisers can import files. To ask something, write your "
            "question as a message."
        )
    )


async def on_stray_message(message: Message) -> None:
    await message.answer(
        _("I did not understand that. Use the menu or /help to see what I can do.")
    )


async def on_stale_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer active."))


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="fallback")
    router.message.register(
        on_unknown_command, F.chat.type == ChatType.PRIVATE, F.text.startswith("/")
    )
    router.message.register(on_private_command_in_group, _GROUPS, F.text.startswith("/"))
    router.message.register(on_document, F.chat.type == ChatType.PRIVATE, F.document)
    # The last handler: test_routing reads its private-chat filter.
    router.message.register(on_stray_message, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(on_stale_button)
    return router
