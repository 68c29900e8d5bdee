"""Sending a finished announcement again to those it failed for, from its final report.

Only failures that may pass are tried again (a Telegram server error, a restart caught the
message mid-send); the confirmation says so, and warns when some of those people may already
have the message, since Telegram cannot tell.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.types import User as TgUser
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.services import announcements as ann
from handlers.announcements.common import Ann, button, organiser_scope


def report_buttons(campaign_id: int, mark: str, count: int) -> InlineKeyboardMarkup:
    """The final report's button: send again to the ``count`` chats it failed for."""
    label = ngettext("↻ Send again to {count}", "↻ Send again to {count}", count).format(
        count=count
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button(label, "rs", f"{campaign_id}.{mark}")]])


def _parsed(callback_data: Ann) -> tuple[int, str] | None:
    campaign_id, _sep, mark = callback_data.v.partition(".")
    if not campaign_id.isdigit() or not mark.isdigit():
        return None
    return int(campaign_id), mark


async def on_resend(
    query: CallbackQuery,
    callback_data: Ann,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
) -> None:
    parsed = _parsed(callback_data)
    if parsed is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer active."))
        return
    campaign_id, mark = parsed
    scope = organiser_scope(event_from_user, admin_scope)
    try:
        offer = await ann.resend_offer(session, campaign_id, scope, mark)
    except ann.NotAllowed:
        await query.answer(_("You may not send this announcement again."), show_alert=True)
        return
    except ann.AnnouncementError:
        await query.answer(_("This button is no longer active."))
        return
    if not offer.count:
        await query.answer(_("Nothing to send again."), show_alert=True)
        return
    await query.answer()
    value = f"{campaign_id}.{mark}"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [button("✅ " + _("Send again"), "rsy", value), button("✖ " + _("Cancel"), "rsn")]
        ]
    )
    await query.message.answer(ann.describe_resend(offer), reply_markup=markup)


async def on_resend_confirm(
    query: CallbackQuery,
    callback_data: Ann,
    session: AsyncSession,
    admin_scope: set[int] | None,
    event_from_user: TgUser,
    clock: Clock,
    sender: ann.Waker | None = None,
) -> None:
    parsed = _parsed(callback_data)
    if parsed is None:
        await query.answer(_("This button is no longer active."))
        return
    campaign_id, mark = parsed
    scope = organiser_scope(event_from_user, admin_scope)
    try:
        queued = await ann.resend_failed(session, campaign_id, scope, mark, clock)
    except ann.NotAllowed:
        await query.answer(_("You may not send this announcement again."), show_alert=True)
        return
    except ann.AnnouncementError:
        await query.answer(_("This button is no longer active."))
        return
    if not queued:
        # A second press (or a stale report's): the first one's answer stays on the message.
        await query.answer(_("Nothing to send again."), show_alert=True)
        return
    if sender is not None:
        sender.wake()
    queued_text = ngettext(
        "Queued again: {count} message.", "Queued again: {count} messages.", queued
    )
    await query.answer(queued_text.format(count=queued))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            ngettext(
                "📣 Announcement #{id}: {count} message queued again. "
                "Its report above shows the progress.",
                "📣 Announcement #{id}: {count} messages queued again. "
                "Its report above shows the progress.",
                queued,
            ).format(id=campaign_id, count=queued)
        )


async def on_resend_cancel(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was sent again."))
