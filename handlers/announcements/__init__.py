"""/announce (a wizard: audience, content per language, preview, time, confirm), /campaigns,
and sending a finished announcement again to those it failed for.

The router is filtered once: only organisers (super-admins, programme admins, coordinators)
reach it, after a cheap check that the update is about announcements at all.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, Filter, StateFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

from handlers.announcements.campaigns import cmd_campaigns, on_cancel_campaign
from handlers.announcements.common import Ann, AnnounceForm
from handlers.announcements.compose import (
    cmd_announce,
    cmd_cancel,
    on_add_version,
    on_audience_done,
    on_audience_toggle,
    on_cancel,
    on_filter_toggle,
    on_filters_done,
    on_first_version,
    on_main_language,
    on_other_version,
    on_stray_in_wizard,
)
from handlers.announcements.confirm import on_now, on_pin_toggle, on_preview, on_send, on_time_typed
from handlers.announcements.resend import on_resend, on_resend_cancel, on_resend_confirm
from handlers.filters import IsAnyAdmin


class _Relevant(Filter):
    """Cheap first check, so trainees' ordinary messages never cost a database query."""

    async def __call__(self, event: TelegramObject, raw_state: str | None = None) -> bool:
        if isinstance(event, CallbackQuery):
            return (event.data or "").startswith("an:")
        if isinstance(event, Message):
            if event.chat.type != ChatType.PRIVATE:
                return False
            if raw_state and raw_state.startswith("AnnounceForm:"):
                return True
            command = (event.text or "").split(maxsplit=1)[0].split("@", 1)[0] if event.text else ""
            return command in ("/announce", "/campaigns")
        return False


def build_router() -> Router:
    """A new router with this module's handlers, in the order they are tried."""
    router = Router(name="announcements")
    router.message.filter(_Relevant(), IsAnyAdmin())
    router.callback_query.filter(_Relevant(), IsAnyAdmin())
    router.message.register(cmd_announce, Command("announce"))
    router.message.register(cmd_cancel, Command("cancel"), StateFilter(AnnounceForm))
    router.callback_query.register(on_cancel, Ann.filter(F.a == "x"))
    router.callback_query.register(
        on_audience_toggle,
        StateFilter(AnnounceForm.audience),
        Ann.filter(F.a.in_({"c", "p", "all", "grp"})),
    )
    router.callback_query.register(
        on_audience_done, StateFilter(AnnounceForm.audience), Ann.filter(F.a == "done")
    )
    router.callback_query.register(
        on_filter_toggle, StateFilter(AnnounceForm.filters), Ann.filter(F.a.in_({"lang", "ctry"}))
    )
    router.callback_query.register(
        on_filters_done, StateFilter(AnnounceForm.filters), Ann.filter(F.a == "next")
    )
    router.callback_query.register(
        on_main_language, StateFilter(AnnounceForm.content), Ann.filter(F.a == "main")
    )
    router.message.register(
        on_first_version, StateFilter(AnnounceForm.content), ~F.text.startswith("/")
    )
    router.callback_query.register(
        on_add_version, StateFilter(AnnounceForm.versions), Ann.filter(F.a == "add")
    )
    router.message.register(
        on_other_version, StateFilter(AnnounceForm.version), ~F.text.startswith("/")
    )
    router.message.register(
        on_stray_in_wizard,
        StateFilter(AnnounceForm.versions, AnnounceForm.confirm),
        ~F.text.startswith("/"),
    )
    router.callback_query.register(
        on_preview, StateFilter(AnnounceForm.versions), Ann.filter(F.a == "prev")
    )
    router.message.register(
        on_time_typed, StateFilter(AnnounceForm.when), F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(on_now, StateFilter(AnnounceForm.when), Ann.filter(F.a == "now"))
    router.callback_query.register(
        on_pin_toggle, StateFilter(AnnounceForm.confirm), Ann.filter(F.a == "pin")
    )
    router.callback_query.register(
        on_send, StateFilter(AnnounceForm.confirm), Ann.filter(F.a == "send")
    )
    router.message.register(cmd_campaigns, Command("campaigns"))
    router.callback_query.register(on_cancel_campaign, Ann.filter(F.a == "cx"))
    router.callback_query.register(on_resend, Ann.filter(F.a == "rs"))
    router.callback_query.register(on_resend_confirm, Ann.filter(F.a == "rsy"))
    router.callback_query.register(on_resend_cancel, Ann.filter(F.a == "rsn"))
    return router
